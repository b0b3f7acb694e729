//! API Gateway's HTTP API (payload 2.0) as the dev server plays it: a hyper request made
//! into the `lambda_http::Request` API Gateway would hand a Lambda — the route found in the
//! route table, path parameters percent-decoded, repeated headers joined, the body read
//! within a limit, a request context with an id and the source address — so that the very
//! handlers behind API Gateway serve it.

use std::collections::HashMap;
use std::net::SocketAddr;

use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;
use lambda_http::aws_lambda_events::apigw::ApiGatewayV2httpRequestContext;
use lambda_http::request::RequestContext;
use lambda_http::{Body, RequestExt};

use crate::handlers::routes::{match_route, Route};
use crate::http::ApiError;

/// API Gateway's payload limit is 10 MB; nothing evreg accepts comes near 1 MiB.
const MAX_BODY_BYTES: usize = 1024 * 1024;

/// The route of `req` and the request API Gateway would hand its Lambda, from `peer`: 404
/// or 405 when no route takes it, 400 when its body cannot be read.
pub async fn to_lambda_request(
    req: hyper::Request<Incoming>,
    peer: SocketAddr,
) -> Result<(Route, lambda_http::Request), ApiError> {
    let (route, path_params) = match_route(req.method(), req.uri().path())?;
    // API Gateway hands path parameters over percent-decoded.
    let path_params = path_params
        .into_iter()
        .map(|(name, value)| (name, percent_decoded(&value)))
        .collect::<Vec<_>>();
    let query = req.uri().query().unwrap_or_default().to_owned();
    let (mut parts, incoming) = req.into_parts();
    join_repeated_headers(&mut parts.headers);
    let bytes = Limited::new(incoming, MAX_BODY_BYTES)
        .collect()
        .await
        .map_err(|e| ApiError::MalformedBody(format!("body could not be read: {e}")))?
        .to_bytes();
    let body = if bytes.is_empty() {
        Body::Empty
    } else {
        match String::from_utf8(bytes.to_vec()) {
            Ok(text) => Body::Text(text),
            Err(e) => Body::Binary(e.into_bytes()),
        }
    };

    let mut query_params: HashMap<String, Vec<String>> = HashMap::new();
    for (key, value) in form_urlencoded::parse(query.as_bytes()) {
        query_params
            .entry(key.into_owned())
            .or_default()
            .push(value.into_owned());
    }
    let mut context = ApiGatewayV2httpRequestContext::default();
    context.request_id = Some(uuid::Uuid::new_v4().to_string());
    context.stage = Some("$default".to_owned());
    context.http.method = parts.method.clone();
    context.http.path = Some(parts.uri.path().to_owned());
    context.http.source_ip = Some(peer.ip().to_string());

    let request = lambda_http::Request::from_parts(parts, body)
        .with_path_parameters(path_params.into_iter().collect::<HashMap<_, _>>())
        .with_query_string_parameters(query_params)
        .with_request_context(RequestContext::ApiGatewayV2(context));
    Ok((route, request))
}

/// One value per header, as API Gateway's HTTP API hands them over: a repeated header's
/// values joined with commas, and cookies with `; ` (API Gateway puts them in `cookies`,
/// which `lambda_http` joins into one `Cookie` header).
fn join_repeated_headers(headers: &mut http::HeaderMap) {
    let names: Vec<http::HeaderName> = headers.keys().cloned().collect();
    for name in names {
        let values: Vec<&[u8]> = headers
            .get_all(&name)
            .iter()
            .map(|v| v.as_bytes())
            .collect();
        if values.len() < 2 {
            continue;
        }
        let separator: &[u8] = if name == http::header::COOKIE {
            b"; "
        } else {
            b","
        };
        let joined = values.join(separator);
        if let Ok(value) = http::HeaderValue::from_bytes(&joined) {
            headers.insert(name, value);
        }
    }
}

/// `%XX` sequences decoded (UTF-8; anything else is left as it was sent).
fn percent_decoded(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16).map(|d| d as u8);
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let (Some(high), Some(low)) = (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                out.push(high << 4 | low);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8(out).unwrap_or_else(|_| text.to_owned())
}

#[cfg(test)]
mod translation_tests {
    use super::*;

    #[test]
    fn path_parameters_are_percent_decoded_like_api_gateways() {
        assert_eq!(percent_decoded("0190d3a4%2D0000"), "0190d3a4-0000");
        assert_eq!(percent_decoded("caf%C3%A9"), "café");
        assert_eq!(percent_decoded("100%"), "100%");
        assert_eq!(percent_decoded("%zz%4"), "%zz%4");
    }

    #[test]
    fn repeated_headers_are_joined_like_api_gateways() {
        let mut headers = http::HeaderMap::new();
        headers.append("accept", "application/json".parse().unwrap());
        headers.append("accept", "text/csv;q=0.5".parse().unwrap());
        headers.append("cookie", "a=1".parse().unwrap());
        headers.append("cookie", "b=2".parse().unwrap());
        headers.append("x-one", "1".parse().unwrap());
        join_repeated_headers(&mut headers);
        assert_eq!(headers["accept"], "application/json,text/csv;q=0.5");
        assert_eq!(headers["cookie"], "a=1; b=2");
        assert_eq!(headers["x-one"], "1");
        assert_eq!(headers.get_all("accept").iter().count(), 1);
    }
}
