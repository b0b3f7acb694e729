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
    /// The body as JSON (a JSON string for any other text, null for binary).
    pub body: Value,
    pub bytes: Vec<u8>,
    /// Lower-cased names.
    pub headers: Vec<(String, String)>,
}

impl Reply {
    /// The problem document's stable `code`, for error replies.
    pub fn code(&self) -> &str {
        self.body["code"].as_str().unwrap_or_default()
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn new(status: u16, headers: Vec<(String, String)>, bytes: Vec<u8>) -> Self {
        let body =
            serde_json::from_slice(&bytes).unwrap_or_else(|_| match std::str::from_utf8(&bytes) {
                Ok(text) => Value::String(text.to_owned()),
                Err(_) => Value::Null,
            });
        Self {
            status,
            body,
            bytes,
            headers,
        }
    }
}

/// A request with any headers (`call` covers the common bearer-token case).
#[derive(Debug, Clone)]
pub struct ApiRequest {
    pub method: Method,
    /// With the query string, if any.
    pub path: String,
    pub headers: Vec<(String, String)>,
    /// The body exactly as sent (JSON text for [`ApiRequest::json`]).
    pub body: Option<String>,
}

impl ApiRequest {
    pub fn new(method: Method, path: impl Into<String>) -> Self {
        Self {
            method,
            path: path.into(),
            headers: Vec::new(),
            body: None,
        }
    }

    pub fn header(mut self, name: &str, value: impl Into<String>) -> Self {
        self.headers.push((name.to_ascii_lowercase(), value.into()));
        self
    }

    pub fn bearer(self, token: &str) -> Self {
        self.header("authorization", format!("Bearer {token}"))
    }

    pub fn json(mut self, body: Value) -> Self {
        self.body = Some(body.to_string());
        self
    }

    /// An HTML form post's body (`application/x-www-form-urlencoded`) of `fields`.
    pub fn form(mut self, fields: &[(&str, &str)]) -> Self {
        let body = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(fields)
            .finish();
        self.body = Some(body);
        self.header("content-type", "application/x-www-form-urlencoded")
    }

    /// A body sent byte for byte as given (a signed webhook must not be re-serialized).
    pub fn text(mut self, body: impl Into<String>) -> Self {
        self.body = Some(body.into());
        self
    }
}

#[async_trait]
pub trait Api: Send + Sync {
    async fn send(&self, request: ApiRequest) -> Reply;

    async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Reply {
        let mut request = ApiRequest::new(method, path);
        if let Some(token) = token {
            request = request.bearer(token);
        }
        request.body = body.map(|body| body.to_string());
        self.send(request).await
    }

    async fn get(&self, path: &str, token: Option<&str>) -> Reply {
        self.call(Method::GET, path, token, None).await
    }

    async fn post(&self, path: &str, token: Option<&str>, body: Value) -> Reply {
        self.call(Method::POST, path, token, Some(body)).await
    }
}

/// The API Gateway HTTP API (payload v2) event for a request, as a Lambda receives it.
pub fn apigw_event(request: &ApiRequest) -> Value {
    let (method, path_and_query, body) = (
        &request.method,
        request.path.as_str(),
        request.body.as_ref(),
    );
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
    for (name, value) in &request.headers {
        headers[name.as_str()] = json!(value);
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
        "body": body,
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

/// A Lambda response as the client sees it.
pub fn reply_of(response: http::Response<lambda_http::Body>) -> Reply {
    let status = response.status().as_u16();
    let headers = header_pairs(response.headers());
    let bytes = match response.body() {
        lambda_http::Body::Text(text) => text.as_bytes().to_vec(),
        lambda_http::Body::Binary(bytes) => bytes.clone(),
        _ => Vec::new(),
    };
    Reply::new(status, headers, bytes)
}

fn header_pairs(headers: &http::HeaderMap) -> Vec<(String, String)> {
    headers
        .iter()
        .map(|(n, v)| {
            (
                n.as_str().to_owned(),
                v.to_str().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

/// Invokes the route handlers exactly as their Lambdas do, from API Gateway v2 events.
pub struct LambdaApi {
    pub ctx: Arc<AppContext>,
}

#[async_trait]
impl Api for LambdaApi {
    async fn send(&self, request: ApiRequest) -> Reply {
        let event = apigw_event(&request);
        let lambda_request = lambda_http::request::from_str(&event.to_string())
            .expect("a valid API Gateway v2 event");
        let bare_path = request.path.split('?').next().unwrap_or_default();
        let (route, _) = match_route(&request.method, bare_path).expect("known route");
        reply_of(evreg::handlers::entrance::serve(route, &self.ctx, lambda_request).await)
    }
}

/// Real HTTP to a running dev server.
pub struct HttpApi {
    pub base_url: String,
    pub client: reqwest::Client,
}

impl HttpApi {
    /// The client does not follow redirects: a test sees the 303 a form post answers.
    pub fn new(base_url: impl Into<String>) -> Self {
        Self {
            base_url: base_url.into(),
            client: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("an HTTP client"),
        }
    }
}

impl HttpApi {
    /// Sends `request`; an error when no whole answer came (the server died, say).
    pub async fn try_send(&self, request: ApiRequest) -> Result<Reply, reqwest::Error> {
        let mut http = self
            .client
            .request(request.method, format!("{}{}", self.base_url, request.path));
        for (name, value) in &request.headers {
            http = http.header(name, value);
        }
        if let Some(body) = request.body {
            if !request
                .headers
                .iter()
                .any(|(name, _)| name == "content-type")
            {
                http = http.header("content-type", "application/json");
            }
            http = http.body(body);
        }
        let response = http.send().await?;
        let status = response.status().as_u16();
        let headers = header_pairs(response.headers());
        let bytes = response.bytes().await?.to_vec();
        Ok(Reply::new(status, headers, bytes))
    }
}

#[async_trait]
impl Api for HttpApi {
    async fn send(&self, request: ApiRequest) -> Reply {
        self.try_send(request)
            .await
            .expect("the dev server answers")
    }
}

/// Signs up a fresh organizer and returns their access token.
pub async fn new_organizer(api: &dyn Api) -> String {
    let email = format!("organizer-{}@example.org", uuid::Uuid::new_v4().simple());
    let credentials = json!({ "email": email, "password": "correct horse battery" });
    assert_eq!(
        api.post("/auth/signup", None, credentials.clone())
            .await
            .status,
        201
    );
    let login = api.post("/auth/login", None, credentials).await;
    login.body["access_token"]
        .as_str()
        .expect("token")
        .to_owned()
}

/// `POST /payments/webhook` with a `(body, Stripe-Signature header)` pair, as the
/// payment provider delivers it (see `TestApp::pay`).
pub async fn deliver_webhook(api: &dyn Api, (body, signature): &(String, String)) -> Reply {
    api.send(
        ApiRequest::new(Method::POST, "/payments/webhook")
            .header("stripe-signature", signature.as_str())
            .text(body.as_str()),
    )
    .await
}

/// An ADMIN put straight into `ctx`'s user store (how the first one is made is the
/// `create-admin` tests' business), with an access token: `(id, token)`.
pub async fn new_admin(ctx: &AppContext) -> (evreg::domain::UserId, String) {
    let admin = evreg::domain::User {
        role: evreg::domain::Role::Admin,
        ..crate::fixtures::user(&crate::fixtures::unique_email("admin"))
    };
    ctx.users
        .create_user(&admin, &[])
        .await
        .expect("admin")
        .unpublished();
    let token = ctx
        .tokens
        .issue(admin.id, admin.role, crate::fixtures::now())
        .expect("token")
        .access_token;
    (admin.id, token)
}

/// Creates a PUBLISHED event as `token`'s organizer: a unique name (so a unique slug), a
/// date and a venue, with `fields` on top; returns its id.
pub async fn create_event(api: &dyn Api, token: &str, fields: Value) -> evreg::domain::EventId {
    let mut body = json!({
        "name": format!("Event {}", uuid::Uuid::new_v4().simple()),
        "date": "2027-03-01T18:00:00Z", "venue": "Hall A", "status": "PUBLISHED",
    });
    if let (Some(body), Value::Object(fields)) = (body.as_object_mut(), fields) {
        body.extend(fields);
    }
    let created = api.post("/events", Some(token), body).await;
    assert_eq!(created.status, 201, "{:?}", created.body);
    created.body["id"]
        .as_str()
        .and_then(|id| id.parse().ok())
        .expect("event id")
}
