//! Reading requests as `lambda_http` hands them over: bodies, path and query parameters,
//! headers. Every failure is an [`ApiError`] with a 4xx status, never a panic.
//!
//! What `lambda_http` 1.x makes of an API Gateway HTTP API (payload 2.0) event, and so what
//! these helpers read:
//!
//! - **body**: `isBase64Encoded` bodies (form posts, `curl -d`, binary types) arrive decoded
//!   as [`Body::Binary`], the rest as [`Body::Text`]; both are read as bytes.
//! - **query**: parsed from `rawQueryString` (still percent-encoded, as sent), not from
//!   `queryStringParameters`, where API Gateway joins a repeated key's values with commas
//!   (and a value's own comma is indistinguishable). `+` is a space, as in HTML forms.
//! - **path parameters**: `pathParameters`, which API Gateway has already percent-decoded
//!   (it decodes `rawPath` too). The URI's path keeps a named stage's prefix
//!   (`/prod/events/…`), so nothing here routes by it.
//! - **headers**: API Gateway joins a repeated header's values with commas; `cookies` become
//!   one `Cookie` header joined with `; `.

use lambda_http::{Body, Request, RequestExt};
use serde::de::DeserializeOwned;

use super::ApiError;
use crate::domain::{EventId, RegistrationId, UserId};

/// The JSON body as `T`: 400 when it is not JSON at all, 422 when it is JSON of the wrong
/// shape (a missing field, a wrong type), naming the problem. The content type is not
/// checked (`curl -d '{…}'` sends JSON labelled as a form), but a body that is not JSON
/// says which type it came as.
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
        _ => match header(req, "content-type")
            .map(|t| t.split(';').next().unwrap_or_default().trim())
            .filter(|t| !t.eq_ignore_ascii_case("application/json"))
        {
            Some(content_type) => ApiError::MalformedBody(format!(
                "{e}; the body came as {content_type}, and this API takes application/json"
            )),
            None => ApiError::MalformedBody(e.to_string()),
        },
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

/// A route's path parameter, typed: which `{name}` of its path in the route table it is,
/// and what it names, for the 404 a value that does not parse gets (a malformed id names
/// nothing). Handlers read it with [`path`].
pub trait PathParam: Sized {
    /// Its name in the route table's path templates (`id` of `/events/{id}`).
    const NAME: &'static str;
    /// What a value names, for the 404 (`event`: "no such event").
    const RESOURCE: &'static str;
    /// The value `raw` holds, if it is one.
    fn parse(raw: &str) -> Option<Self>;
}

macro_rules! id_path_param {
    ($($id:ty => $resource:literal),* $(,)?) => {$(
        impl PathParam for $id {
            const NAME: &'static str = "id";
            const RESOURCE: &'static str = $resource;
            fn parse(raw: &str) -> Option<Self> {
                raw.parse().ok()
            }
        }
    )*};
}

id_path_param!(EventId => "event", RegistrationId => "registration", UserId => "user");

/// `{slug}` of `/e/{slug}`: an event's slug as the public page's URL has it (any text; an
/// unknown one names no event).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventSlug(pub String);

impl PathParam for EventSlug {
    const NAME: &'static str = "slug";
    const RESOURCE: &'static str = "event";
    fn parse(raw: &str) -> Option<Self> {
        Some(Self(raw.to_owned()))
    }
}

/// `{file}` of `/door/{file}`: the name of one of the door app's files (any text; an
/// unknown one names no file).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DoorFileName(pub String);

impl PathParam for DoorFileName {
    const NAME: &'static str = "file";
    const RESOURCE: &'static str = "door app file";
    fn parse(raw: &str) -> Option<Self> {
        Some(Self(raw.to_owned()))
    }
}

/// The path parameter `P` of this request: 404 naming `P::RESOURCE` when it is missing or
/// does not parse.
pub fn path<P: PathParam>(req: &Request) -> Result<P, ApiError> {
    req.path_parameters_ref()
        .and_then(|params| params.first(P::NAME))
        .and_then(P::parse)
        .ok_or(ApiError::NotFound(P::RESOURCE))
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

/// A header's value as text (UTF-8, which API Gateway's JSON events always are); `None`
/// when absent. A repeated header comes joined with commas, as API Gateway joins it.
pub fn header<'r>(req: &'r Request, name: &str) -> Option<&'r str> {
    req.headers()
        .get(name)
        .and_then(|v| std::str::from_utf8(v.as_bytes()).ok())
}

/// An optional query parameter parsed as `T` (percent-decoded); present but unparsable is a
/// 400, and so is a parameter given more than once (`?status=A&status=B`): each one this
/// API reads has a single value, and picking one of several would answer another question
/// than the one asked.
pub fn query_param<T: std::str::FromStr>(req: &Request, name: &str) -> Result<Option<T>, ApiError> {
    let values = req
        .query_string_parameters_ref()
        .and_then(|q| q.all(name))
        .unwrap_or_default();
    match values.as_slice() {
        [] => Ok(None),
        [raw] => raw
            .parse()
            .map(Some)
            .map_err(|_| ApiError::BadQuery(format!("{name} is not valid"))),
        _ => Err(ApiError::BadQuery(format!(
            "{name} is given {} times; give it once",
            values.len()
        ))),
    }
}

/// Content negotiation (RFC 9110 §12.5.1): which of `offered` media types the `Accept`
/// header prefers — the highest quality, the earlier offer on a tie — or the first offer
/// when there is no `Accept` header. `None` when it accepts none of them. A repeated
/// `Accept` header comes joined with commas, which is the same list.
pub fn preferred_media_type<'o>(req: &Request, offered: &[&'o str]) -> Option<&'o str> {
    let Some(accept) = header(req, "accept") else {
        return offered.first().copied();
    };
    let ranges: Vec<(String, f32)> = accept
        .split(',')
        .filter_map(|range| {
            let mut parts = range.split(';').map(str::trim);
            let media = parts.next()?.to_ascii_lowercase();
            if media.is_empty() {
                return None;
            }
            let quality = parts
                .filter_map(|p| p.strip_prefix("q=").or_else(|| p.strip_prefix("Q=")))
                .find_map(|q| q.parse::<f32>().ok())
                .unwrap_or(1.0);
            Some((media, quality))
        })
        .collect();
    let quality_of = |offer: &str| -> f32 {
        let offer = offer.to_ascii_lowercase();
        let kind = offer.split('/').next().unwrap_or_default();
        // The most specific matching range decides.
        ranges
            .iter()
            .filter_map(|(media, quality)| {
                let specificity = if *media == offer {
                    3
                } else if media.strip_suffix("/*") == Some(kind) {
                    2
                } else if media == "*/*" {
                    1
                } else {
                    return None;
                };
                Some((specificity, *quality))
            })
            .max_by_key(|(specificity, _)| *specificity)
            .map_or(0.0, |(_, quality)| quality)
    };
    let mut best: Option<(&'o str, f32)> = None;
    for offer in offered {
        let quality = quality_of(offer);
        if quality > 0.0 && best.is_none_or(|(_, q)| quality > q) {
            best = Some((offer, quality));
        }
    }
    best.map(|(offer, _)| offer)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(event: serde_json::Value) -> Request {
        lambda_http::request::from_str(&event.to_string()).expect("an API Gateway v2 event")
    }

    fn event(raw_query: &str, headers: serde_json::Value) -> serde_json::Value {
        serde_json::json!({
            "version": "2.0",
            "routeKey": "GET /events",
            "rawPath": "/events",
            "rawQueryString": raw_query,
            "headers": headers,
            "requestContext": {
                "http": { "method": "GET", "path": "/events", "protocol": "HTTP/1.1",
                          "sourceIp": "203.0.113.10", "userAgent": "test" },
                "stage": "$default", "requestId": "r", "routeKey": "GET /events",
                "accountId": "1", "apiId": "a", "domainName": "a.example", "time": "", "timeEpoch": 0
            },
            "isBase64Encoded": false
        })
    }

    #[test]
    fn query_parameters_come_decoded_from_the_raw_query_string() {
        let req = request(event(
            "q=caf%C3%A9%2C%20bar&venue=Hall+A&from=2027-03-01T00%3A00%3A00%2B01%3A00",
            serde_json::json!({}),
        ));
        assert_eq!(
            query_param::<String>(&req, "q").unwrap().as_deref(),
            Some("café, bar")
        );
        assert_eq!(
            query_param::<String>(&req, "venue").unwrap().as_deref(),
            Some("Hall A")
        );
        assert_eq!(
            query_param::<String>(&req, "from").unwrap().as_deref(),
            Some("2027-03-01T00:00:00+01:00")
        );
        assert_eq!(query_param::<String>(&req, "absent").unwrap(), None);
    }

    #[test]
    fn a_repeated_query_parameter_is_refused() {
        let req = request(event(
            "status=CONFIRMED&status=WAITLISTED",
            serde_json::json!({}),
        ));
        assert!(matches!(
            query_param::<String>(&req, "status"),
            Err(ApiError::BadQuery(_))
        ));
    }

    #[test]
    fn headers_may_be_utf8() {
        let req = request(event(
            "",
            serde_json::json!({ "idempotency-key": "anmeldung-für-ann" }),
        ));
        assert_eq!(header(&req, "idempotency-key"), Some("anmeldung-für-ann"));
    }

    #[test]
    fn accept_is_negotiated_by_quality() {
        let offered = ["application/json", "text/csv"];
        let accepting = |accept: Option<&str>| {
            let headers = match accept {
                Some(accept) => serde_json::json!({ "accept": accept }),
                None => serde_json::json!({}),
            };
            preferred_media_type(&request(event("", headers)), &offered)
        };
        assert_eq!(accepting(None), Some("application/json"));
        assert_eq!(accepting(Some("text/csv")), Some("text/csv"));
        assert_eq!(accepting(Some("Text/CSV")), Some("text/csv"));
        assert_eq!(accepting(Some("*/*")), Some("application/json"));
        assert_eq!(
            accepting(Some("application/json,text/csv;q=0.5")),
            Some("application/json")
        );
        assert_eq!(
            accepting(Some("text/csv, application/json;q=0.9")),
            Some("text/csv")
        );
        assert_eq!(accepting(Some("text/*;q=0.8, */*;q=0.1")), Some("text/csv"));
        assert_eq!(accepting(Some("image/png")), None);
    }

    #[test]
    fn a_form_post_is_told_to_send_json() {
        use base64::Engine;
        let mut form = event(
            "",
            serde_json::json!({ "content-type": "application/x-www-form-urlencoded" }),
        );
        form["body"] = serde_json::json!(
            base64::engine::general_purpose::STANDARD.encode("email=a%40b.example&password=x")
        );
        form["isBase64Encoded"] = serde_json::json!(true);
        let error = json_body::<serde_json::Value>(&request(form)).unwrap_err();
        assert!(
            error
                .to_string()
                .contains("application/x-www-form-urlencoded"),
            "{error}"
        );

        let mut curl = event(
            "",
            serde_json::json!({ "content-type": "application/x-www-form-urlencoded" }),
        );
        curl["body"] =
            serde_json::json!(base64::engine::general_purpose::STANDARD.encode(r#"{"a":1}"#));
        curl["isBase64Encoded"] = serde_json::json!(true);
        let body: serde_json::Value = json_body(&request(curl)).unwrap();
        assert_eq!(body["a"], 1);
    }
}
