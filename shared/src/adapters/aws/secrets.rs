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
/// from SSM SecureString parameters in one round trip, once per cold start. The payment
/// parameters may be missing: a stack that sells no tickets needs no Stripe account (its
/// paid registrations then answer 503 `payment_provider_unavailable`). Fails when the JWT
/// or attendee parameter is missing or malformed.
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
    let optional = |name: &Option<String>| {
        let found = name.as_deref().map(|name| (name, value(name).ok()));
        if let Some((name, None)) = found {
            tracing::warn!(
                parameter = name,
                "no payment secret: paid registrations are off"
            );
        }
        found.and_then(|(_, value)| value)
    };
    let payment_secrets = PaymentSecrets {
        secret_key: optional(&payments.secret_key).map(|key| key.trim().to_owned()),
        webhook_secrets: optional(&payments.webhook_secrets)
            .map(|secrets| {
                secrets
                    .split(',')
                    .map(|secret| secret.trim().to_owned())
                    .filter(|secret| !secret.is_empty())
                    .collect()
            })
            .unwrap_or_default(),
    };
    Ok(Secrets {
        jwt: KeyRing::from_json(value(jwt_parameter)?)?,
        attendee: AttendeeKeys::from_base64(value(attendee_parameter)?)?,
        payments: payment_secrets,
    })
}
