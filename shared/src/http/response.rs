//! Writing responses: JSON bodies, and the public cache headers CDN-cached GETs carry.

use http::header::{CACHE_CONTROL, CONTENT_TYPE, ETAG, IF_NONE_MATCH};
use http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::ApiError;

/// What every route handler returns: a response, or the error the one mapping in
/// [`ApiError::to_response`] turns into a problem document.
pub type ApiResult = Result<Response<Body>, ApiError>;

/// A handler's result as the response: an error becomes its problem document.
pub fn into_response(result: ApiResult) -> Response<Body> {
    result.unwrap_or_else(|error| error.to_response())
}

/// `value` as an `application/json` response with `status`.
pub fn json(status: StatusCode, value: &impl Serialize) -> ApiResult {
    let body = serde_json::to_string(value).map_err(ApiError::internal)?;
    Response::builder()
        .status(status)
        .header(http::header::CONTENT_TYPE, "application/json")
        .body(Body::Text(body))
        .map_err(ApiError::internal)
}

/// How long a CDN may serve a public answer without asking again, and how much longer it
/// may serve it stale while it asks. Short: the CDN worker invalidates on every change, so
/// this only bounds what a lost invalidation could leave stale.
pub const SHARED_MAX_AGE_SECONDS: u32 = 60;
const STALE_WHILE_REVALIDATE_SECONDS: u32 = 300;

/// A GET answer for anyone, as JSON: see [`public_body`].
pub fn public_json(req: &Request, value: &impl Serialize) -> ApiResult {
    let body = serde_json::to_string(value).map_err(ApiError::internal)?;
    public_body(req, "application/json", body)
}

/// A GET answer for anyone (`body` of `content_type`: JSON, an HTML page, a calendar):
/// `Cache-Control` a CDN understands (`s-maxage`, `stale-while-revalidate`; browsers
/// revalidate every time), an `ETag` of the body, and `304 Not Modified` when
/// `If-None-Match` already names it. A request carrying credentials may see more than the
/// public (a draft), so its answer is `private, no-store`.
pub fn public_body(req: &Request, content_type: &str, body: String) -> ApiResult {
    let digest = Sha256::digest(body.as_bytes());
    let etag = format!(
        "\"{}\"",
        digest[..16]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    );
    let cache_control = if req.headers().contains_key(http::header::AUTHORIZATION) {
        "private, no-store".to_owned()
    } else {
        format!(
            "public, max-age=0, s-maxage={SHARED_MAX_AGE_SECONDS}, \
             stale-while-revalidate={STALE_WHILE_REVALIDATE_SECONDS}"
        )
    };
    let unchanged = req
        .headers()
        .get(IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|tags| names_tag(tags, &etag));
    let (status, body) = if unchanged {
        (StatusCode::NOT_MODIFIED, Body::Empty)
    } else {
        (StatusCode::OK, Body::Text(body))
    };
    let mut response = Response::builder()
        .status(status)
        .header(ETAG, &etag)
        .header(CACHE_CONTROL, cache_control);
    if status == StatusCode::OK {
        response = response.header(CONTENT_TYPE, content_type);
    }
    response.body(body).map_err(ApiError::internal)
}

/// `If-None-Match` semantics (RFC 9110 13.1.2): `*`, or a list of tags compared weakly.
fn names_tag(header: &str, etag: &str) -> bool {
    header.split(',').map(str::trim).any(|candidate| {
        candidate == "*" || candidate.strip_prefix("W/").unwrap_or(candidate) == etag
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn get(headers: &[(&str, &str)]) -> Request {
        let mut builder = http::Request::builder().uri("/events");
        for (name, value) in headers {
            builder = builder.header(*name, *value);
        }
        builder.body(Body::Empty).unwrap()
    }

    #[test]
    fn a_public_answer_is_cacheable_and_revalidates_to_304() {
        let first = public_json(&get(&[]), &serde_json::json!({"a": 1})).unwrap();
        assert_eq!(first.status(), 200);
        let cache_control = first.headers()[CACHE_CONTROL].to_str().unwrap();
        assert!(cache_control.contains("s-maxage=60"));
        assert!(cache_control.contains("stale-while-revalidate"));
        let etag = first.headers()[ETAG].to_str().unwrap().to_owned();

        let again = public_json(
            &get(&[("if-none-match", &etag)]),
            &serde_json::json!({"a": 1}),
        );
        let again = again.unwrap();
        assert_eq!(again.status(), 304);
        assert_eq!(again.headers()[ETAG].to_str().unwrap(), etag);
        assert!(matches!(again.body(), Body::Empty));

        let weak = format!("\"other\", W/{etag}");
        let listed = public_json(
            &get(&[("if-none-match", &weak)]),
            &serde_json::json!({"a": 1}),
        );
        assert_eq!(listed.unwrap().status(), 304);
        let changed = public_json(
            &get(&[("if-none-match", &etag)]),
            &serde_json::json!({"a": 2}),
        );
        assert_eq!(changed.unwrap().status(), 200);
    }

    #[test]
    fn an_answer_to_credentials_is_private() {
        let response = public_json(
            &get(&[("authorization", "Bearer x")]),
            &serde_json::json!({}),
        )
        .unwrap();
        assert_eq!(response.headers()[CACHE_CONTROL], "private, no-store");
    }
}
