//! Secrets from SSM Parameter Store (SecureString), read once per cold start.

use crate::auth::keys::KeyRing;
use crate::ports::BoxError;
use crate::secrets::{PaymentSecrets, Secrets};
use crate::tickets::AttendeeKeys;

/// The SSM parameters the payment provider's secrets live in, for the functions that
/// talk to it.
#[derive(Debug, Clone, Default)]
pub struct PaymentParameters {
    /// Holds Stripe's secret key.
    pub secret_key: Option<String>,
    /// Holds the webhook signing secrets, comma-separated.
    pub webhook_secrets: Option<String>,
}

/// Reads the JWT key ring, the attendee secret and the payment secrets `payments` names
/// from SSM SecureString parameters in one round trip, once per cold start.
pub async fn load_secrets(
    ssm: &aws_sdk_ssm::Client,
    jwt_parameter: &str,
    attendee_parameter: &str,
    payments: &PaymentParameters,
) -> Result<Secrets, BoxError> {
    let output = ssm
        .get_parameters()
        .set_names(Some(
            [jwt_parameter, attendee_parameter]
                .into_iter()
                .chain(payments.secret_key.as_deref())
                .chain(payments.webhook_secrets.as_deref())
                .map(str::to_owned)
                .collect(),
        ))
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
    let payment_secrets = PaymentSecrets {
        secret_key: match &payments.secret_key {
            Some(name) => Some(value(name)?.trim().to_owned()),
            None => None,
        },
        webhook_secrets: match &payments.webhook_secrets {
            Some(name) => value(name)?
                .split(',')
                .map(|secret| secret.trim().to_owned())
                .filter(|secret| !secret.is_empty())
                .collect(),
            None => Vec::new(),
        },
    };
    Ok(Secrets {
        jwt: KeyRing::from_json(value(jwt_parameter)?)?,
        attendee: AttendeeKeys::from_base64(value(attendee_parameter)?)?,
        payments: payment_secrets,
    })
}
