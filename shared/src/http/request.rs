//! Reading requests as `lambda_http` hands them over: bodies, path and query parameters,
//! headers. Every failure is an [`ApiError`] with a 4xx status, never a panic.

use std::str::FromStr;

use lambda_http::{Body, Request, RequestExt};
use serde::de::DeserializeOwned;

use super::ApiError;

/// The JSON body as `T`: 400 when it is not JSON at all, 422 when it is JSON of the wrong
/// shape (a missing field, a wrong type), naming the problem.
pub fn json_body<T: DeserializeOwned>(req: &Request) -> Result<T, ApiError> {
    let bytes: &[u8] = match req.body() {
        Body::Empty => b"",
        Body::Text(text) => text.as_bytes(),
        Body::Binary(bytes) => bytes,
        _ => b"",
    };
    serde_json::from_slice(bytes).map_err(|e| match e.classify() {
        serde_json::error::Category::Data => ApiError::Invalid(vec![crate::domain::FieldError {
            field: "body",
            message: e.to_string(),
        }]),
        _ => ApiError::MalformedBody(e.to_string()),
    })
}

/// For `#[serde(default, deserialize_with = "present")]` on an optional field of a body
/// whose document allows leaving the field out but not `null`: absent is `None`, a value
/// is `Some`, and an explicit `null` is refused as the wrong type (serde's own
/// `Option<T>` would take it as absent), as in a JSON merge patch (RFC 7396) `null` would
/// ask to remove a field that cannot be removed.
pub fn present<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::Deserialize<'de>,
{
    T::deserialize(deserializer).map(Some)
}

/// A path parameter that must parse as the id type `I` (an
/// [`EventId`](crate::domain::EventId), say): anything else names no `resource`, so 404.
pub fn path_id<I: FromStr>(
    req: &Request,
    name: &str,
    resource: &'static str,
) -> Result<I, ApiError> {
    req.path_parameters_ref()
        .and_then(|params| params.first(name))
        .and_then(|raw| raw.parse().ok())
        .ok_or(ApiError::NotFound(resource))
}

/// The `limit` query parameter of a list: `default` when absent, 400 outside 1..=`max`.
pub fn page_limit(req: &Request, default: usize, max: usize) -> Result<usize, ApiError> {
    let limit = query_param::<usize>(req, "limit")?.unwrap_or(default);
    if (1..=max).contains(&limit) {
        Ok(limit)
    } else {
        Err(ApiError::BadQuery(format!(
            "limit must be between 1 and {max}"
        )))
    }
}

/// A header's value as text; absent or not visible ASCII is `None`.
pub fn header<'r>(req: &'r Request, name: &str) -> Option<&'r str> {
    req.headers().get(name).and_then(|v| v.to_str().ok())
}

/// An optional query parameter parsed as `T`; present but unparsable is a 400.
pub fn query_param<T: std::str::FromStr>(req: &Request, name: &str) -> Result<Option<T>, ApiError> {
    match req
        .query_string_parameters_ref()
        .and_then(|q| q.first(name))
    {
        None => Ok(None),
        Some(raw) => raw
            .parse()
            .map(Some)
            .map_err(|_| ApiError::BadQuery(format!("{name} is not valid"))),
    }
}
