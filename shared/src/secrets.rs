//! Every secret a function needs: the JWT key ring and the attendee secret (tickets, manage
//! tokens, listing cursors). SSM SecureString parameters in AWS
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
}

impl Secrets {
    /// Fresh random secrets (tests; embedded mode's first start writes them to files).
    pub fn generate() -> Self {
        Self {
            jwt: KeyRing::generate("dev-1"),
            attendee: AttendeeKeys::generate(),
        }
    }
}
