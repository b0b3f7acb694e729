//! Every secret a function needs: the JWT key ring, the attendee secret (tickets, manage
//! tokens, listing cursors) and, where it talks to Stripe, the payment provider's. SSM SecureString parameters in AWS
//! (`adapters::aws::load_secrets`), files under `.local/secrets/` in embedded mode
//! (`runtime::dev_server`); never in the repository.

use crate::auth::KeyRing;
use crate::tickets::AttendeeKeys;

/// The secrets, loaded once per cold start.
#[derive(Clone)]
pub struct Secrets {
    /// HMAC keys of access tokens, by key id.
    pub jwt: KeyRing,
    /// The one attendee secret everything attendees hold is derived from.
    pub attendee: AttendeeKeys,
    /// The payment provider's, where the function talks to it.
    pub payments: PaymentSecrets,
}

/// The payment provider's secrets; empty for functions that never talk to it.
#[derive(Clone, Default)]
pub struct PaymentSecrets {
    /// Stripe's secret API key (`sk_…`), for checkouts and refunds.
    pub secret_key: Option<String>,
    /// Every webhook signing secret accepted (`whsec_…`; two while one is rolled).
    pub webhook_secrets: Vec<String>,
}

impl std::fmt::Debug for PaymentSecrets {
    // Never print key material, even in a debug log.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PaymentSecrets").finish_non_exhaustive()
    }
}

impl PaymentSecrets {
    /// A fresh random webhook secret, as embedded mode's first start writes it.
    pub fn generated_webhook_secret() -> String {
        let bytes: [u8; 24] = rand::random();
        format!("whsec_dev_{}", hex::encode(bytes))
    }
}

impl Secrets {
    /// Fresh random secrets (tests; embedded mode's first start writes them to files).
    pub fn generate() -> Self {
        Self {
            jwt: KeyRing::generate("dev-1"),
            attendee: AttendeeKeys::generate(),
            payments: PaymentSecrets {
                secret_key: Some(format!(
                    "sk_test_{}",
                    hex::encode(rand::random::<[u8; 12]>())
                )),
                webhook_secrets: vec![PaymentSecrets::generated_webhook_secret()],
            },
        }
    }
}
