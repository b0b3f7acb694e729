//! HTML responses: the pages' one stylesheet and the security headers every HTML answer
//! carries, whichever route, status or replay produced it (the route entrance adds them:
//! [`crate::handlers::routes::Route::instrumented`]).

use std::sync::LazyLock;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use http::header::{
    CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE, REFERRER_POLICY, X_CONTENT_TYPE_OPTIONS,
};
use http::{HeaderValue, StatusCode};
use lambda_http::{Body, Response};
use sha2::{Digest, Sha256};

use super::{ApiError, ApiResult};

/// The media type of every page.
pub const HTML: &str = "text/html; charset=utf-8";

/// The stylesheet of every page, inlined in its `<style>` element (one request per page,
/// nothing to cache separately). The policy admits exactly these bytes by their hash.
pub const PAGE_CSS: &str = include_str!("../../templates/pages.css");

/// Where a paid registration's form submission may be redirected: the provider's hosted
/// checkout (browsers apply `form-action` to the redirects that follow a submission).
const CHECKOUT_ORIGIN: &str = "https://checkout.stripe.com";

/// `Content-Security-Policy` of every page (CSP Level 3): nothing loads or runs but the
/// inline stylesheet ([`PAGE_CSS`], admitted by its SHA-256, so no `'unsafe-inline'`) and
/// images from the page's own origin or `data:` URLs (a ticket's QR code); no script at
/// all; forms post only to this origin (or continue to the checkout); no `<base>`
/// rewriting; and no framing (`frame-ancestors 'none'`, the modern `X-Frame-Options`).
pub static CONTENT_SECURITY_POLICY_VALUE: LazyLock<String> = LazyLock::new(|| {
    let style = STANDARD.encode(Sha256::digest(PAGE_CSS.as_bytes()));
    format!(
        "default-src 'none'; style-src 'sha256-{style}'; img-src 'self' data:; \
         form-action 'self' {CHECKOUT_ORIGIN}; base-uri 'none'; frame-ancestors 'none'"
    )
});

/// The `Referrer-Policy` of a page that sets none: `same-origin` keeps the page's URL from
/// other sites, while the page's own form posts still carry their `Origin` (with
/// `no-referrer`, browsers send `Origin: null` on a POST, which the cross-site check
/// refuses). A page whose URL holds a secret sets `no-referrer` itself.
const DEFAULT_REFERRER_POLICY: &str = "same-origin";

/// `html` as a page with `status`, for one viewer only (`private, no-store`): a form
/// re-rendered with what they typed.
pub fn private_html(status: StatusCode, html: String) -> ApiResult {
    Response::builder()
        .status(status)
        .header(CONTENT_TYPE, HTML)
        .header(CACHE_CONTROL, "private, no-store")
        .body(Body::Text(html))
        .map_err(ApiError::internal)
}

/// A 303 to `location` after a form post (the browser then GETs it), for one viewer only.
pub fn see_other(location: &str) -> ApiResult {
    Response::builder()
        .status(StatusCode::SEE_OTHER)
        .header(http::header::LOCATION, location)
        .header(CACHE_CONTROL, "private, no-store")
        .body(Body::Empty)
        .map_err(ApiError::internal)
}

/// Adds the security headers to `response` when it is HTML: the policy
/// ([`CONTENT_SECURITY_POLICY_VALUE`], unless the handler set its own, as the door app's
/// page does for its scripts and camera: `handlers::common::door`),
/// `X-Content-Type-Options: nosniff` (no content
/// sniffing a calendar or an image into a page) and a `Referrer-Policy` unless the
/// handler chose one. Anything else passes unchanged.
pub fn secure(response: &mut Response<Body>) {
    let is_html = response
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.starts_with("text/html"));
    if !is_html {
        return;
    }
    let headers = response.headers_mut();
    if let Ok(policy) = HeaderValue::from_str(&CONTENT_SECURITY_POLICY_VALUE) {
        headers.entry(CONTENT_SECURITY_POLICY).or_insert(policy);
    }
    headers.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers
        .entry(REFERRER_POLICY)
        .or_insert(HeaderValue::from_static(DEFAULT_REFERRER_POLICY));
}

#[derive(askama::Template)]
#[template(path = "error_page.html")]
struct ErrorPage<'a> {
    title: &'a str,
    detail: &'a str,
    retry: bool,
    css: &'static str,
}

/// The page of an error for a browser: `title` (the status's reason) and `detail` (the
/// problem's), escaped; `retry` adds that trying again soon may work. Errors only if the
/// template engine does.
pub fn error_page(title: &str, detail: &str, retry: bool) -> Result<String, askama::Error> {
    askama::Template::render(&ErrorPage {
        title,
        detail,
        retry,
        css: PAGE_CSS,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_gets_the_headers_and_nothing_else_does() {
        let mut page = private_html(StatusCode::OK, "<p>hi</p>".into()).unwrap();
        secure(&mut page);
        let policy = page.headers()[CONTENT_SECURITY_POLICY].to_str().unwrap();
        assert!(policy.contains("frame-ancestors 'none'"), "{policy}");
        assert!(!policy.contains("unsafe-inline") && !policy.contains("script-src"));
        assert_eq!(page.headers()[X_CONTENT_TYPE_OPTIONS], "nosniff");
        assert_eq!(page.headers()[REFERRER_POLICY], "same-origin");

        let mut chosen = private_html(StatusCode::OK, String::new()).unwrap();
        chosen
            .headers_mut()
            .insert(REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
        secure(&mut chosen);
        assert_eq!(chosen.headers()[REFERRER_POLICY], "no-referrer");

        let mut json = super::super::json(StatusCode::OK, &1).unwrap();
        secure(&mut json);
        assert!(json.headers().get(CONTENT_SECURITY_POLICY).is_none());
    }
}
