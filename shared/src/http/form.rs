//! HTML form posts: reading an `application/x-www-form-urlencoded` body, and the
//! cookie-less protection against cross-site request forgery (CSRF) of the public forms.
//!
//! # Why this design
//!
//! The forms are on public, CDN-cached pages and nobody is signed in: there is no session
//! to bind a token to and no cookie a forged request could ride on. What a forged post
//! could still do is make a visitor's browser submit a form of ours from another site
//! (clickjacking the form, or spending a visitor's address on someone else's behalf). Two
//! layers refuse that, neither needing server state:
//!
//! 1. **The browser says where the post comes from** ([`refuse_cross_site`]). Browsers set
//!    `Sec-Fetch-Site` (Fetch Metadata) and `Origin` on every form post, and no page script
//!    can forge either. A post whose `Sec-Fetch-Site` is anything but `same-origin`, or
//!    whose `Origin` is not the API's public origin (`null` included), is refused with a
//!    403 `cross_site_request`. This is the protection OWASP's CSRF cheat sheet lists for
//!    exactly this case ("Fetch Metadata" and "Verifying Origin With Standard Headers").
//!    Clients that send neither (curl, servers) are no browser acting for a visitor.
//! 2. **The form carries a token the server made** ([`FormTokens`]): an HMAC-SHA256 over
//!    the event's slug and the time the page was rendered, under a key derived from the
//!    attendee secret, valid for [`TOKEN_LIFETIME`]. It proves the post was made from a
//!    form this server rendered for this event, recently; it cannot be made per visitor
//!    (the page is shared by the CDN), so it is the second layer, not the first: anyone
//!    can fetch a fresh one, but not use it from a browser on another site.
//!
//! A double submit (a second click, a retry after a lost answer) is the idempotency key's
//! business: the form's hidden key, see `handlers::routes::event_page_register`.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use hmac::{Hmac, Mac as _};
use lambda_http::{Body, Request};
use sha2::Sha256;
use time::{Duration, OffsetDateTime};

use super::{header, ApiError};
use crate::tickets::{AttendeeKeys, MacKey};

/// The HKDF info under which the form-token key is derived; a new value voids all tokens.
const INFO_FORM_TOKEN_KEY: &[u8] = b"evreg form token key v1";
/// How long a rendered form may be sent: a page left open for a day still works, the CDN
/// serves a copy for minutes, and an old token is worth no more than a new one.
pub const TOKEN_LIFETIME: Duration = Duration::hours(24);
/// Clock skew between the function that rendered a page and the one that reads its post.
const SKEW: Duration = Duration::minutes(5);
/// HMAC-SHA256 truncated to 128 bits (RFC 2104 §5 allows half the output).
const TAG_LEN: usize = 16;

/// The fields of a form post, in order; a field given twice keeps its first value.
#[derive(Debug, Clone, Default)]
pub struct Form(Vec<(String, String)>);

impl Form {
    /// The body of `req` as `application/x-www-form-urlencoded` (the WHATWG URL standard's
    /// parser: `+` is a space, percent-escapes decoded, invalid UTF-8 replaced). A body
    /// that is no form reads as a form without fields.
    pub fn from_request(req: &Request) -> Self {
        let bytes: &[u8] = match req.body() {
            Body::Text(text) => text.as_bytes(),
            Body::Binary(bytes) => bytes,
            _ => b"",
        };
        Self(form_urlencoded::parse(bytes).into_owned().collect())
    }

    /// The value of `name`, if the form has the field.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(field, _)| field == name)
            .map(|(_, value)| value.as_str())
    }
}

/// Refuses (403 `cross_site_request`) a post a browser made from another site: its
/// `Sec-Fetch-Site` is not `same-origin`, or its `Origin` is not the origin of
/// `public_url` (the API's public base URL, whose pages hold the forms). See the module
/// docs for why this is the first layer of the CSRF protection.
pub fn refuse_cross_site(req: &Request, public_url: &str) -> Result<(), ApiError> {
    refuse_unless_same_origin(req, public_url, false)
}

/// [`refuse_cross_site`] for the forms of a page sent with `Referrer-Policy: no-referrer`
/// (the attendee's page, whose URL holds the manage token): browsers send `Origin: null`
/// on its posts (the Fetch standard serializes the origin of a `no-referrer` request as
/// `null`), so `null` passes here; `Sec-Fetch-Site`, which the policy leaves alone, still
/// has to say `same-origin`, and any other `Origin` has to be ours.
pub fn refuse_cross_site_no_referrer(req: &Request, public_url: &str) -> Result<(), ApiError> {
    refuse_unless_same_origin(req, public_url, true)
}

fn refuse_unless_same_origin(
    req: &Request,
    public_url: &str,
    null_origin: bool,
) -> Result<(), ApiError> {
    if header(req, "sec-fetch-site").is_some_and(|site| !site.eq_ignore_ascii_case("same-origin")) {
        return Err(ApiError::CrossSite);
    }
    match header(req, "origin") {
        Some("null") if null_origin => Ok(()),
        Some(origin) if !same_origin(origin, public_url) => Err(ApiError::CrossSite),
        _ => Ok(()),
    }
}

/// Whether `origin` (as the `Origin` header serializes one: `scheme://host[:port]`) is the
/// origin of `url`, compared case-insensitively (RFC 6454 §5).
fn same_origin(origin: &str, url: &str) -> bool {
    let Ok(uri) = url.parse::<http::Uri>() else {
        return false;
    };
    match (uri.scheme_str(), uri.authority()) {
        (Some(scheme), Some(authority)) => {
            origin.eq_ignore_ascii_case(&format!("{scheme}://{authority}"))
        }
        _ => false,
    }
}

/// Makes and checks the forms' tokens: `<issued unix seconds>.<tag>`, the tag being
/// unpadded base64url of HMAC-SHA256 (RFC 2104, truncated to 128 bits) over the
/// length-prefixed slug and the issue time. Cheap to build: derive one per request.
#[derive(Clone, Debug)]
pub struct FormTokens {
    key: MacKey,
}

impl FormTokens {
    /// The tokens whose key is derived from the attendee secret.
    pub fn new(secret: &AttendeeKeys) -> Self {
        Self {
            key: MacKey::derive(secret, INFO_FORM_TOKEN_KEY),
        }
    }

    /// A token for a form of the event `slug`, rendered at `now`.
    pub fn issue(&self, slug: &str, now: OffsetDateTime) -> String {
        let issued = now.unix_timestamp();
        let tag = self.mac(slug, issued).finalize().into_bytes();
        format!("{issued}.{}", URL_SAFE_NO_PAD.encode(&tag[..TAG_LEN]))
    }

    /// Whether `token` was issued by this server for `slug` at most [`TOKEN_LIFETIME`]
    /// before `now` (the tag compared in constant time).
    pub fn verify(&self, slug: &str, token: &str, now: OffsetDateTime) -> bool {
        let Some((issued, tag)) = token.split_once('.') else {
            return false;
        };
        let (Ok(issued), Ok(tag)) = (issued.parse::<i64>(), URL_SAFE_NO_PAD.decode(tag)) else {
            return false;
        };
        let Ok(issued_at) = OffsetDateTime::from_unix_timestamp(issued) else {
            return false;
        };
        tag.len() == TAG_LEN
            && self.mac(slug, issued).verify_truncated_left(&tag).is_ok()
            && issued_at <= now + SKEW
            && now - issued_at <= TOKEN_LIFETIME
    }

    fn mac(&self, slug: &str, issued: i64) -> Hmac<Sha256> {
        let mut mac = self.key.mac();
        // Length-prefixed, so (slug, time) pairs cannot be re-split.
        mac.update(&(slug.len() as u64).to_be_bytes());
        mac.update(slug.as_bytes());
        mac.update(&issued.to_be_bytes());
        mac
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn tokens() -> FormTokens {
        FormTokens::new(&AttendeeKeys::from_secret(&[7u8; 32]).unwrap())
    }

    const NOW: OffsetDateTime = datetime!(2027-03-01 12:00 UTC);

    #[test]
    fn a_token_holds_for_its_slug_within_its_lifetime() {
        let token = tokens().issue("rust-meetup", NOW);
        assert!(tokens().verify("rust-meetup", &token, NOW));
        assert!(tokens().verify("rust-meetup", &token, NOW + TOKEN_LIFETIME));
        assert!(!tokens().verify(
            "rust-meetup",
            &token,
            NOW + TOKEN_LIFETIME + Duration::SECOND
        ));
        assert!(!tokens().verify("rust-meetup", &token, NOW - Duration::hours(1)));
        assert!(
            !tokens().verify("other-event", &token, NOW),
            "bound to its slug"
        );
        let other_key = FormTokens::new(&AttendeeKeys::from_secret(&[8u8; 32]).unwrap());
        assert!(
            !other_key.verify("rust-meetup", &token, NOW),
            "bound to the secret"
        );
    }

    #[test]
    fn a_changed_or_malformed_token_is_refused() {
        let token = tokens().issue("a", NOW);
        let (issued, tag) = token.split_once('.').unwrap();
        let later = format!("{}.{tag}", issued.parse::<i64>().unwrap() + 60);
        for bad in [
            later.as_str(),
            "",
            ".",
            "x.y",
            issued,
            &format!("{issued}.{}", &tag[1..]),
            &format!("99999999999999999.{tag}"),
        ] {
            assert!(!tokens().verify("a", bad, NOW), "{bad:?}");
        }
    }

    fn post(headers: &[(&str, &str)]) -> Request {
        let mut builder = http::Request::builder().method("POST").uri("/e/a");
        for (name, value) in headers {
            builder = builder.header(*name, *value);
        }
        builder.body(Body::Empty).unwrap()
    }

    #[test]
    fn a_post_from_another_site_is_refused() {
        let url = "https://events.example.org";
        for allowed in [
            vec![],
            vec![("sec-fetch-site", "same-origin")],
            vec![("origin", "https://events.example.org")],
            vec![
                ("origin", "HTTPS://Events.Example.org"),
                ("sec-fetch-site", "same-origin"),
            ],
        ] {
            assert!(
                refuse_cross_site(&post(&allowed), url).is_ok(),
                "{allowed:?}"
            );
        }
        for refused in [
            vec![("sec-fetch-site", "cross-site")],
            vec![("sec-fetch-site", "same-site")],
            vec![("origin", "https://evil.example")],
            vec![("origin", "null")],
            vec![("origin", "http://events.example.org")],
            vec![("origin", "https://events.example.org:8443")],
            vec![
                ("origin", "https://evil.example"),
                ("sec-fetch-site", "same-origin"),
            ],
        ] {
            assert!(
                matches!(
                    refuse_cross_site(&post(&refused), url),
                    Err(ApiError::CrossSite)
                ),
                "{refused:?}"
            );
        }
    }

    #[test]
    fn a_no_referrer_page_may_post_with_a_null_origin_from_its_own_site_only() {
        let url = "https://events.example.org";
        let own = [("origin", "null"), ("sec-fetch-site", "same-origin")];
        assert!(refuse_cross_site_no_referrer(&post(&own), url).is_ok());
        assert!(refuse_cross_site(&post(&own), url).is_err());
        for refused in [
            vec![("origin", "null"), ("sec-fetch-site", "cross-site")],
            vec![("origin", "https://evil.example")],
            vec![("sec-fetch-site", "same-site")],
        ] {
            assert!(
                refuse_cross_site_no_referrer(&post(&refused), url).is_err(),
                "{refused:?}"
            );
        }
    }

    #[test]
    fn form_fields_are_decoded_first_value_first() {
        let req = http::Request::builder()
            .body(Body::Text(
                "full_name=Ann+L%C3%A9e&email=a%40b.org&email=x".into(),
            ))
            .unwrap();
        let form = Form::from_request(&req);
        assert_eq!(form.get("full_name"), Some("Ann Lée"));
        assert_eq!(form.get("email"), Some("a@b.org"));
        assert_eq!(form.get("phone"), None);
    }
}
