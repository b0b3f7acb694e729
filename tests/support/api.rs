//! Driving the HTTP API in either mode: as API Gateway invokes a route Lambda (a v2 event
//! through `lambda_http`), or over real HTTP against the dev server.

use std::sync::Arc;

use async_trait::async_trait;
use evreg::handlers::routes::{match_route, ROUTES};
use evreg::AppContext;
use http::Method;
use serde_json::{json, Value};

#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub body: Value,
}

impl Reply {
    /// The problem document's stable `code`, for error replies.
    pub fn code(&self) -> &str {
        self.body["code"].as_str().unwrap_or_default()
    }
}

#[async_trait]
pub trait Api: Send + Sync {
    async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Reply;

    async fn get(&self, path: &str, token: Option<&str>) -> Reply {
        self.call(Method::GET, path, token, None).await
    }

    async fn post(&self, path: &str, token: Option<&str>, body: Value) -> Reply {
        self.call(Method::POST, path, token, Some(body)).await
    }
}

/// The API Gateway HTTP API (payload v2) event for a request, as a Lambda receives it.
pub fn apigw_event(
    method: &Method,
    path_and_query: &str,
    token: Option<&str>,
    body: Option<&Value>,
) -> Value {
    let (path, query) = path_and_query
        .split_once('?')
        .unwrap_or((path_and_query, ""));
    let (route, params) = match_route(method, path).expect("the test calls a known route");
    let template = ROUTES
        .iter()
        .find(|r| r.route == route)
        .map(|r| r.path)
        .unwrap_or_default();
    let mut headers = json!({ "content-type": "application/json", "host": "api.test" });
    if let Some(token) = token {
        headers["authorization"] = json!(format!("Bearer {token}"));
    }
    let query_params: serde_json::Map<String, Value> = url_pairs(query)
        .into_iter()
        .map(|(k, v)| (k, Value::String(v)))
        .collect();
    json!({
        "version": "2.0",
        "routeKey": format!("{method} {template}"),
        "rawPath": path,
        "rawQueryString": query,
        "headers": headers,
        "queryStringParameters": if query_params.is_empty() { Value::Null } else { Value::Object(query_params) },
        "pathParameters": params.into_iter().map(|(k, v)| (k, Value::String(v))).collect::<serde_json::Map<_, _>>(),
        "requestContext": {
            "accountId": "000000000000",
            "apiId": "test",
            "domainName": "api.test",
            "http": { "method": method.as_str(), "path": path, "protocol": "HTTP/1.1", "sourceIp": "127.0.0.1", "userAgent": "evreg-tests" },
            "requestId": uuid::Uuid::new_v4().to_string(),
            "routeKey": format!("{method} {template}"),
            "stage": "$default",
            "timeEpoch": 0
        },
        "body": body.map(Value::to_string),
        "isBase64Encoded": false
    })
}

fn url_pairs(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}

/// Runs a Lambda response body back into JSON.
pub fn reply_of(response: http::Response<lambda_http::Body>) -> Reply {
    let status = response.status().as_u16();
    let body = match response.body() {
        lambda_http::Body::Text(text) => {
            serde_json::from_str(text).unwrap_or(Value::String(text.clone()))
        }
        lambda_http::Body::Binary(bytes) => serde_json::from_slice(bytes).unwrap_or(Value::Null),
        _ => Value::Null,
    };
    Reply { status, body }
}

/// Invokes the route handlers exactly as their Lambdas do, from API Gateway v2 events.
pub struct LambdaApi {
    pub ctx: Arc<AppContext>,
}

#[async_trait]
impl Api for LambdaApi {
    async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Reply {
        let event = apigw_event(&method, path, token, body.as_ref());
        let request = lambda_http::request::from_str(&event.to_string())
            .expect("a valid API Gateway v2 event");
        let bare_path = path.split('?').next().unwrap_or(path);
        let (route, _) = match_route(&method, bare_path).expect("known route");
        reply_of(route.handle(&self.ctx, request).await)
    }
}

/// Real HTTP to a running dev server.
pub struct HttpApi {
    pub base_url: String,
    pub client: reqwest::Client,
}

impl HttpApi {
    pub fn new(base_url: impl Into<String>) -> Self {
        Self {
            base_url: base_url.into(),
            client: reqwest::Client::new(),
        }
    }
}

#[async_trait]
impl Api for HttpApi {
    async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Reply {
        let mut request = self
            .client
            .request(method, format!("{}{path}", self.base_url));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("the dev server answers");
        let status = response.status().as_u16();
        let text = response.text().await.unwrap_or_default();
        Reply {
            status,
            body: serde_json::from_str(&text).unwrap_or(Value::String(text)),
        }
    }
}
