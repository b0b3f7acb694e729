//! Login throttling: failed attempts counted per account and per source IP in fixed
//! windows. The counters live in the store (DynamoDB items with TTL, SQLite rows), so every
//! Lambda instance sees the same counts.

use http::Request;
use lambda_http::request::RequestContext;
use lambda_http::RequestExt;
use time::OffsetDateTime;

/// The window failures are counted in.
pub const WINDOW_SECONDS: i64 = 15 * 60;
/// Failures per account per window: slows a guesser to 40 passwords an hour per account,
/// while a user mistyping a few times is never locked out for long.
pub const ACCOUNT_LIMIT: u32 = 10;
/// Failures per source IP per window, across accounts: password spraying from one address.
/// Higher than per account, since offices and carrier NAT put many users behind one IP.
pub const IP_LIMIT: u32 = 50;

/// One counter: which key, and the window `now` falls in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Window {
    /// What is counted: `login:account:<email>` or `login:ip:<address>`.
    pub key: String,
    /// Unix seconds the window starts at.
    pub start: i64,
    /// Unix seconds it ends at (the counter's TTL).
    pub end: i64,
}

impl Window {
    fn at(key: String, now: OffsetDateTime) -> Self {
        let now = now.unix_timestamp();
        let start = now - now.rem_euclid(WINDOW_SECONDS);
        Self {
            key,
            start,
            end: start + WINDOW_SECONDS,
        }
    }

    /// Seconds until the window ends, at least 1 (a `Retry-After` value).
    pub fn retry_after(&self, now: OffsetDateTime) -> u64 {
        u64::try_from(self.end - now.unix_timestamp())
            .unwrap_or(1)
            .max(1)
    }
}

/// The account's and the IP's windows at `now`, with their limits.
pub fn login_windows(email: &str, ip: &str, now: OffsetDateTime) -> [(Window, u32); 2] {
    [
        (
            Window::at(format!("login:account:{email}"), now),
            ACCOUNT_LIMIT,
        ),
        (Window::at(format!("login:ip:{ip}"), now), IP_LIMIT),
    ]
}

/// The caller's address as API Gateway saw it (`requestContext.http.sourceIp`; the dev
/// server fills it from the peer). Never a client-sent header, which anyone can forge.
pub fn source_ip<B>(req: &Request<B>) -> String {
    match req.request_context_ref() {
        Some(RequestContext::ApiGatewayV2(context)) => context.http.source_ip.clone(),
        _ => None,
    }
    .unwrap_or_else(|| "unknown".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn windows_are_aligned_and_say_when_they_end() {
        let now = datetime!(2027-01-01 10:07:30 UTC);
        let [(account, 10), (ip, 50)] = login_windows("a@b.c", "1.2.3.4", now) else {
            panic!("two windows");
        };
        assert_eq!(
            account.start,
            datetime!(2027-01-01 10:00 UTC).unix_timestamp()
        );
        assert_eq!(account.end - account.start, WINDOW_SECONDS);
        assert_eq!(account.retry_after(now), 7 * 60 + 30);
        assert_eq!(ip.key, "login:ip:1.2.3.4");
    }
}
