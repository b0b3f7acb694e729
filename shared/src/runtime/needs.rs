//! What each Lambda function reads during its init phase, declared once per route and
//! worker: which secrets it fetches from SSM, and which table it opens its first DynamoDB
//! connection to. The rest of a function's context costs nothing until used: the SNS, S3,
//! SES and CloudFront clients are built on first use (`runtime::lambda`).
//!
//! The payment provider's secrets are not declared here: a function reads them where the
//! template names their parameters (`STRIPE_SECRET_KEY_PARAMETER` for registrations-create
//! and worker-payments, `STRIPE_WEBHOOK_SECRETS_PARAMETER` for payments-webhook), which is
//! also the only place its policies let them be read.
//!
//! A new route or worker does not compile until it has a row here (the matches are
//! exhaustive). `tests/integration/runtime.rs` checks every row against the function's
//! policies in `template.yaml` and runs every function through the Lambda runtime.

use crate::handlers::routes::Route;
use crate::handlers::workers::Worker;

/// Which table a function's init opens its DynamoDB connection with (a `GetItem`, which
/// the template's `DynamoDBReadPolicy` and `DynamoDBCrudPolicy` both allow). Every table is
/// served by the same endpoint, so one connection serves both.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Warm {
    /// `WRITE_TABLE`.
    WriteTable,
    /// `READ_TABLE` (the projection worker may touch nothing else).
    ReadTable,
    /// No table: the function has no DynamoDB access (the CDN worker).
    Nothing,
}

/// What a function needs at init.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Needs {
    /// The JWT key ring (`JWT_KEYS_PARAMETER`): routes that sign access tokens or admit
    /// only signed-in callers. A public route without it fetches the ring on the first
    /// request that carries a bearer token (`runtime::lambda::run_route`), so a token is
    /// checked exactly as everywhere else, and a start without tokens reads no SSM at all.
    pub jwt_keys: bool,
    /// The attendee secret (`ATTENDEE_SECRET_PARAMETER`): tickets, manage tokens, listing
    /// cursors. A function without it gets a random, unshared secret, so it must not use any
    /// of those.
    pub attendee_secret: bool,
    /// The table to open the first DynamoDB connection with, during init.
    pub warm: Warm,
}

impl Needs {
    /// Whether the init phase reads SSM at all.
    pub fn reads_secrets(self) -> bool {
        self.jwt_keys || self.attendee_secret
    }
}

const fn needs(jwt_keys: bool, attendee_secret: bool, warm: Warm) -> Needs {
    Needs {
        jwt_keys,
        attendee_secret,
        warm,
    }
}

/// Public, no caller, no attendee secret: no SSM at init.
const PUBLIC: Needs = needs(false, false, Warm::WriteTable);
/// Public, with the attendee secret (tickets, manage tokens, cursors).
const PUBLIC_ATTENDEE: Needs = needs(false, true, Warm::WriteTable);
/// Signs access tokens, or admits signed-in callers only.
const SIGNED: Needs = needs(true, false, Warm::WriteTable);
/// Signed-in callers, or an attendee's manage token, over tickets or registrations.
const SIGNED_ATTENDEE: Needs = needs(true, true, Warm::WriteTable);

/// What the function of `route` needs at init.
pub const fn route_needs(route: Route) -> Needs {
    match route {
        Route::Health
        | Route::Door
        | Route::DoorFile
        | Route::AuthSignup
        | Route::AuthLogout
        | Route::AuthPasswordReset
        | Route::AuthPasswordResetConfirm => PUBLIC,
        // Login and refresh sign access tokens.
        Route::AuthLogin | Route::AuthRefresh => SIGNED,
        // Listing cursors, manage tokens, ticket keys, the event page's form tokens.
        Route::EventsList
        | Route::RegistrationsCreate
        | Route::EventsTicketKey
        | Route::EventPage
        | Route::EventPageRegister => PUBLIC_ATTENDEE,
        // Public; an owner's bearer token (drafts) fetches the key ring on demand.
        Route::EventsGet => PUBLIC,
        Route::Me
        | Route::EventsCreate
        | Route::EventsUpdate
        | Route::EventsCancel
        | Route::EventsReport
        | Route::EventsRegistrations
        | Route::UsersCreate
        | Route::UsersList
        | Route::UsersUpdate => SIGNED,
        // Tickets (check-in), manage tokens (Access::Attendee), signed cursors (revocations).
        Route::CheckinsCreate
        | Route::EventsRevocations
        | Route::RegistrationsGet
        | Route::RegistrationsCancel
        | Route::RegistrationsForm
        | Route::RegistrationsTicket
        | Route::RegistrationsUpdate => SIGNED_ATTENDEE,
        // Verifies the provider's signature (its webhook secrets: see the module docs).
        Route::PaymentsWebhook => PUBLIC,
    }
}

/// What the function of `worker` needs at init. Workers never see a bearer token.
pub const fn worker_needs(worker: Worker) -> Needs {
    match worker {
        Worker::Projection => needs(false, false, Warm::ReadTable),
        // Signs tickets.
        Worker::Tickets => needs(false, true, Warm::WriteTable),
        // Manage links in the mails.
        Worker::Email => needs(false, true, Warm::WriteTable),
        Worker::Cdn => needs(false, false, Warm::Nothing),
        // A checkout's return URL is the registration's manage link.
        Worker::Payments => needs(false, true, Warm::WriteTable),
    }
}

/// What the outbox sweeper needs at init: the outbox, nothing secret.
pub const SWEEPER_NEEDS: Needs = needs(false, false, Warm::WriteTable);

/// What the holds expirer needs at init: the holds, nothing secret (the payments worker
/// closes the lapsed checkouts).
pub const HOLDS_EXPIRER_NEEDS: Needs = needs(false, false, Warm::WriteTable);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::handlers::common::access::Access;
    use crate::handlers::routes::ROUTES;

    #[test]
    fn routes_that_admit_only_callers_with_credentials_load_the_key_ring() {
        for spec in ROUTES {
            let needs = route_needs(spec.route);
            if spec.access != Access::Public {
                assert!(needs.jwt_keys, "{spec:?}");
            }
            if spec.access == Access::Attendee {
                assert!(needs.attendee_secret, "{spec:?}");
            }
        }
    }
}
