//! Secrets from SSM Parameter Store (SecureString), read once per cold start.

use crate::auth::keys::KeyRing;
use crate::ports::BoxError;
use crate::secrets::Secrets;
use crate::tickets::AttendeeKeys;

/// Reads the JWT key ring and the attendee secret from SSM SecureString parameters in one
/// round trip, once per cold start.
pub async fn load_secrets(
    ssm: &aws_sdk_ssm::Client,
    jwt_parameter: &str,
    attendee_parameter: &str,
) -> Result<Secrets, BoxError> {
    let output = ssm
        .get_parameters()
        .names(jwt_parameter)
        .names(attendee_parameter)
        .with_decryption(true)
        .send()
        .await?;
    let value = |name: &str| {
        output
            .parameters()
            .iter()
            .find(|p| p.name() == Some(name))
            .and_then(|p| p.value())
            .ok_or_else(|| format!("SSM parameter {name} is missing or empty"))
    };
    Ok(Secrets {
        jwt: KeyRing::from_json(value(jwt_parameter)?)?,
        attendee: AttendeeKeys::from_base64(value(attendee_parameter)?)?,
    })
}
