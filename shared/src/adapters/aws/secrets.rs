//! Secrets from SSM Parameter Store (SecureString), read once per cold start: only the ones
//! the function needs, in one `GetParameters` call.

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

/// The secrets one function asked for; `None` (or empty payment secrets) where it did not
/// ask.
#[derive(Clone, Default)]
pub struct SomeSecrets {
    /// The JWT key ring, if asked for.
    pub jwt: Option<KeyRing>,
    /// The attendee secret, if asked for.
    pub attendee: Option<AttendeeKeys>,
    /// The payment provider's, those asked for and present.
    pub payments: PaymentSecrets,
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
    let loaded =
        load_some_secrets(ssm, Some(jwt_parameter), Some(attendee_parameter), payments).await?;
    match (loaded.jwt, loaded.attendee) {
        (Some(jwt), Some(attendee)) => Ok(Secrets {
            jwt,
            attendee,
            payments: loaded.payments,
        }),
        _ => Err("SSM answered without a requested parameter".into()),
    }
}

/// Reads the named parameters (those given) in one `GetParameters` call; with none named,
/// nothing is read. A missing, empty or malformed JWT or attendee parameter is an error
/// naming it; a missing payment parameter leaves that secret out (see [`load_secrets`]).
pub async fn load_some_secrets(
    ssm: &aws_sdk_ssm::Client,
    jwt_parameter: Option<&str>,
    attendee_parameter: Option<&str>,
    payments: &PaymentParameters,
) -> Result<SomeSecrets, BoxError> {
    let names: Vec<String> = [
        jwt_parameter,
        attendee_parameter,
        payments.secret_key.as_deref(),
        payments.webhook_secrets.as_deref(),
    ]
    .into_iter()
    .flatten()
    .map(str::to_owned)
    .collect();
    if names.is_empty() {
        return Ok(SomeSecrets::default());
    }
    let output = ssm
        .get_parameters()
        .set_names(Some(names))
        .with_decryption(true)
        .send()
        .await
        .map_err(|e| {
            format!(
                "reading SSM parameters: {}",
                aws_sdk_ssm::error::DisplayErrorContext(e)
            )
        })?;
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
    Ok(SomeSecrets {
        jwt: jwt_parameter
            .map(|name| {
                KeyRing::from_json(value(name)?).map_err(|e| format!("SSM parameter {name}: {e}"))
            })
            .transpose()?,
        attendee: attendee_parameter
            .map(|name| {
                AttendeeKeys::from_base64(value(name)?)
                    .map_err(|e| format!("SSM parameter {name}: {e}"))
            })
            .transpose()?,
        payments: payment_secrets,
    })
}
