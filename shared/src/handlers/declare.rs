//! How the tables of what evreg runs are written: one row per route
//! ([`routes!`](crate::routes), in `routes/mod.rs`), per worker
//! ([`workers!`](crate::workers), in `workers/mod.rs`) and per scheduled job
//! ([`schedules!`](crate::schedules), in `schedules/mod.rs`). A row names its handler's
//! module and says everything else about it in one place — the Lambda binary, who may
//! call it, its load-shedding class, what its function reads at init, how its answers may
//! be cached — and the macro derives the rest: the `mod` declaration, the enum, the table
//! the dev server, the template tests and the authorization matrix read, and the dispatch.
//! A Lambda binary is one line naming the module ([`route_function!`](crate::route_function),
//! [`worker_function!`](crate::worker_function),
//! [`schedule_function!`](crate::schedule_function)), so it cannot run another handler.
//!
//! Every handler of a table has the one signature of its kind:
//! - route: `async fn handle(ctx: &AppContext, req: Request, caller: Caller) -> ApiResult`;
//! - worker: `async fn handle(ctx: &AppContext, batch: SqsEvent) -> SqsBatchResponse`;
//! - schedule: `async fn run(ctx: &AppContext) -> Result<usize, BoxError>` (how many
//!   things it did).
//!
//! A WebSocket API's routes (`$connect`, `$disconnect`, messages) would be a fourth table
//! of the same kind beside these, with its own signature over API Gateway's WebSocket
//! request and the same [`Access`](super::common::access::Access) and [`Needs`] columns.

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

/// What a Lambda function reads during its init phase: which secrets it fetches from SSM,
/// and which table it opens its first DynamoDB connection to. The rest of a function's
/// context costs nothing until used (the SNS, S3, SES and CloudFront clients are built on
/// first use: `runtime::lambda`). `tests/integration/runtime.rs` checks every row against
/// the function's policies in `template.yaml` and runs every function through the Lambda
/// runtime.
///
/// The payment provider's secrets are not declared here: a function reads them where the
/// template names their parameters (`STRIPE_SECRET_KEY_PARAMETER` for the routes that open
/// checkouts and the payments worker, `STRIPE_WEBHOOK_SECRETS_PARAMETER` for the webhook),
/// which is also the only place its policies let them be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Needs {
    /// The JWT key ring (`JWT_KEYS_PARAMETER`): routes that sign access tokens or admit
    /// only signed-in callers. A public route without it fetches the ring on the first
    /// request that carries a bearer token (`runtime::lambda::run_route`), so a token is
    /// checked exactly as everywhere else, and a start without tokens reads no SSM at all.
    pub jwt_keys: bool,
    /// The attendee secret (`ATTENDEE_SECRET_PARAMETER`): tickets, manage tokens, listing
    /// cursors, form tokens. A function without it gets a random, unshared secret, so it
    /// must not use any of those.
    pub attendee_secret: bool,
    /// The table to open the first DynamoDB connection with, during init.
    pub warm: Warm,
}

impl Needs {
    /// No secret; the write table.
    pub const TABLE: Self = Self::new(false, false, Warm::WriteTable);
    /// The attendee secret (tickets, manage tokens, cursors, form tokens); the write table.
    pub const ATTENDEE: Self = Self::new(false, true, Warm::WriteTable);
    /// The JWT key ring (signs access tokens, or admits signed-in callers only); the write
    /// table.
    pub const JWT: Self = Self::new(true, false, Warm::WriteTable);
    /// Both secrets (signed-in callers, or an attendee's manage token, over tickets or
    /// registrations); the write table.
    pub const JWT_ATTENDEE: Self = Self::new(true, true, Warm::WriteTable);
    /// No secret; the read table only.
    pub const READ_TABLE: Self = Self::new(false, false, Warm::ReadTable);
    /// Nothing at all: no secret, no table.
    pub const NOTHING: Self = Self::new(false, false, Warm::Nothing);

    const fn new(jwt_keys: bool, attendee_secret: bool, warm: Warm) -> Self {
        Self {
            jwt_keys,
            attendee_secret,
            warm,
        }
    }

    /// Whether the init phase reads SSM at all.
    pub fn reads_secrets(self) -> bool {
        self.jwt_keys || self.attendee_secret
    }
}

/// A route's load-shedding class at the edge: API Gateway's stage throttling in the
/// template (`DefaultRouteSettings` and one `RouteSettings` entry per stricter route), and
/// the dev server's per-source-address limiter with the same numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Throttle {
    /// Every other route: the stage's default.
    Api,
    /// Credentials and password resets: guessing and mail-bombing are the attacks, and
    /// argon2 makes each request cost ~20 MiB and tens of ms.
    Auth,
    /// Registering: what a crowd does at once when sales open.
    Registration,
}

impl Throttle {
    /// `(steady rate in requests per second, burst in requests)`: the token bucket's
    /// refill and size, as API Gateway's `ThrottlingRateLimit` / `ThrottlingBurstLimit`
    /// take them. The template's parameter defaults are these (a test holds them equal).
    pub fn limits(self) -> (u32, u32) {
        match self {
            Self::Api => (200, 400),
            Self::Auth => (10, 20),
            Self::Registration => (100, 200),
        }
    }
}

/// Who may keep a route's answers (RFC 9111): the CDN and browsers, or only the caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cache {
    /// The same for everyone (a published event, its page, the door app): the handler
    /// answers with public `Cache-Control` and an `ETag`
    /// ([`public_body`](crate::http::public_body)), and CloudFront may cache it.
    Shared,
    /// Personal or changing with every call (a registration, lists, reports, `/me`, every
    /// write): never stored by a shared cache.
    Private,
}

/// `name` with each `_` as `-`, as bytes: the binary of a handler module
/// (`registrations_create` → `registrations-create`), worked out while compiling (see
/// [`kebab!`](crate::kebab)).
pub const fn kebab_bytes<const N: usize>(name: &str) -> [u8; N] {
    let bytes = name.as_bytes();
    let mut out = [0u8; N];
    let mut i = 0;
    while i < N {
        out[i] = if bytes[i] == b'_' { b'-' } else { bytes[i] };
        i += 1;
    }
    out
}

/// The kebab-case name of a module identifier, as a `&'static str` constant
/// (`kebab!(auth_login)` is `"auth-login"`): the binary names of the tables' rows.
#[doc(hidden)]
#[macro_export]
macro_rules! kebab {
    ($module:ident) => {{
        const NAME: &str = stringify!($module);
        const BYTES: [u8; NAME.len()] =
            $crate::handlers::declare::kebab_bytes::<{ NAME.len() }>(NAME);
        match ::core::str::from_utf8(&BYTES) {
            Ok(name) => name,
            Err(_) => panic!("module names are ASCII"),
        }
    }};
}

#[cfg(test)]
mod tests {
    #[test]
    fn module_names_become_binary_names() {
        assert_eq!(crate::kebab!(registrations_create), "registrations-create");
        assert_eq!(crate::kebab!(health), "health");
        assert_eq!(
            crate::kebab!(auth_password_reset_confirm),
            "auth-password-reset-confirm"
        );
    }
}
