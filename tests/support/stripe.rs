//! A stand-in for the part of Stripe's API evreg uses, so the Stripe adapter is tested over
//! HTTP with the real client: `POST /v1/checkout/sessions`, `POST
//! /v1/checkout/sessions/{id}/expire` and `POST /v1/refunds`, form-encoded, authorized by
//! a secret key, with Stripe's error shape (`{"error": {"type", "code", "message"}}`) and
//! its idempotency (a repeated `Idempotency-Key` replays the first answer; the same key with
//! other parameters is an `idempotency_error`). It also makes the
//! `checkout.session.completed` event Stripe would send when a session is paid. Each test
//! app starts its own on a free 127.0.0.1 port.

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use serde_json::{json, Value};
use time::OffsetDateTime;

/// A Checkout Session as the stand-in keeps it.
#[derive(Debug, Clone)]
pub struct Session {
    /// `cs_test_<n>`.
    pub id: String,
    /// `open`, `complete` or `expired`.
    pub status: String,
    /// The registration it pays.
    pub client_reference_id: String,
    /// In the currency's minor unit.
    pub amount: u64,
    /// Lower case, as Stripe writes it.
    pub currency: String,
    /// Unix seconds.
    pub expires_at: i64,
    /// Where the attendee returns to (`success_url`).
    pub return_url: String,
}

/// A refund the stand-in made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refund {
    /// `re_test_<n>`.
    pub id: String,
    /// The payment refunded.
    pub payment_intent: String,
    /// In the currency's minor unit.
    pub amount: u64,
}

/// The first request made with an `Idempotency-Key`, and its answer.
struct Replay {
    params: Vec<(String, String)>,
    status: u16,
    answer: Value,
}

#[derive(Default)]
struct State {
    sessions: Vec<Session>,
    refunds: Vec<Refund>,
    replays: HashMap<String, Replay>,
}

/// A running stand-in.
#[derive(Clone)]
pub struct StripeStandIn {
    /// Its base URL (`http://127.0.0.1:<port>`).
    pub url: String,
    secret_key: String,
    state: Arc<Mutex<State>>,
}

fn error(status: u16, kind: &str, message: &str) -> (u16, Value) {
    (
        status,
        json!({ "error": { "type": kind, "message": message } }),
    )
}

impl StripeStandIn {
    /// Starts one accepting `secret_key`, on the current tokio runtime.
    pub async fn start(secret_key: &str) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a free port");
        let url = format!("http://{}", listener.local_addr().expect("bound"));
        let stand_in = Self {
            url,
            secret_key: secret_key.to_owned(),
            state: Arc::default(),
        };
        let server = stand_in.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let server = server.clone();
                tokio::spawn(async move {
                    let service = service_fn(move |req| {
                        let server = server.clone();
                        async move { Ok::<_, Infallible>(server.serve(req).await) }
                    });
                    let _ = http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        stand_in
    }

    /// Every session created so far, oldest first.
    pub fn sessions(&self) -> Vec<Session> {
        self.state.lock().expect("state").sessions.clone()
    }

    /// Every refund made so far, oldest first.
    pub fn refunds(&self) -> Vec<Refund> {
        self.state.lock().expect("state").refunds.clone()
    }

    /// The session that pays `registration_id`, newest first.
    pub fn session_of(&self, registration_id: &str) -> Option<Session> {
        self.sessions()
            .into_iter()
            .rev()
            .find(|s| s.client_reference_id == registration_id)
    }

    /// Marks the session `id` paid and returns the `checkout.session.completed` event body
    /// Stripe would send for it.
    pub fn complete(&self, id: &str) -> String {
        let mut state = self.state.lock().expect("state");
        let session = state
            .sessions
            .iter_mut()
            .find(|s| s.id == id)
            .expect("a session of this stand-in");
        session.status = "complete".into();
        json!({
            "id": format!("evt_test_{}", uuid::Uuid::new_v4().simple()),
            "object": "event",
            "type": "checkout.session.completed",
            "data": { "object": {
                "id": session.id,
                "object": "checkout.session",
                "client_reference_id": session.client_reference_id,
                "payment_intent": format!("pi_test_{}", &session.id["cs_test_".len()..]),
                "payment_status": "paid",
                "amount_total": session.amount,
                "currency": session.currency,
            }}
        })
        .to_string()
    }

    async fn serve(&self, req: hyper::Request<Incoming>) -> hyper::Response<Full<Bytes>> {
        let (status, body) = self.answer(req).await;
        hyper::Response::builder()
            .status(status)
            .header("content-type", "application/json")
            .body(Full::new(Bytes::from(body.to_string())))
            .expect("a response")
    }

    async fn answer(&self, req: hyper::Request<Incoming>) -> (u16, Value) {
        let authorized = req
            .headers()
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            == Some(&format!("Bearer {}", self.secret_key));
        if !authorized {
            return error(401, "invalid_request_error", "Invalid API Key provided");
        }
        let key = req
            .headers()
            .get("idempotency-key")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let path = req.uri().path().to_owned();
        let method = req.method().clone();
        let body = req.into_body().collect().await.expect("body").to_bytes();
        let params: Vec<(String, String)> = form_urlencoded::parse(&body).into_owned().collect();
        let mut state = self.state.lock().expect("state");
        if let Some(key) = &key {
            if let Some(replay) = state.replays.get(key) {
                if replay.params != params {
                    return error(
                        400,
                        "idempotency_error",
                        "Keys for idempotent requests can only be used with the same parameters they were first used with.",
                    );
                }
                return (replay.status, replay.answer.clone());
            }
        }
        let (status, answer) = match (method.as_str(), path.as_str()) {
            ("POST", "/v1/checkout/sessions") => create_session(&mut state, &params),
            ("POST", "/v1/refunds") => create_refund(&mut state, &params),
            ("POST", path)
                if path.starts_with("/v1/checkout/sessions/") && path.ends_with("/expire") =>
            {
                let id = &path["/v1/checkout/sessions/".len()..path.len() - "/expire".len()];
                expire_session(&mut state, id)
            }
            _ => error(404, "invalid_request_error", "Unrecognized request URL"),
        };
        if let Some(key) = key {
            state.replays.insert(
                key,
                Replay {
                    params,
                    status,
                    answer: answer.clone(),
                },
            );
        }
        (status, answer)
    }
}

fn param<'a>(params: &'a [(String, String)], name: &str) -> Option<&'a str> {
    params
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

fn create_session(state: &mut State, params: &[(String, String)]) -> (u16, Value) {
    let now = OffsetDateTime::now_utc().unix_timestamp();
    let expires_at: i64 = param(params, "expires_at")
        .and_then(|v| v.parse().ok())
        .unwrap_or(now + 86_400);
    // Stripe: "The `expires_at` timestamp must be between 30 minutes and 24 hours from now".
    if !(now + 1800 - 60..=now + 86_400 + 60).contains(&expires_at) {
        return error(400, "invalid_request_error", "expires_at is out of range");
    }
    let (Some(mode), Some(reference), Some(amount), Some(currency)) = (
        param(params, "mode"),
        param(params, "client_reference_id"),
        param(params, "line_items[0][price_data][unit_amount]").and_then(|v| v.parse().ok()),
        param(params, "line_items[0][price_data][currency]"),
    ) else {
        return error(400, "invalid_request_error", "Missing required param");
    };
    let Some(return_url) = param(params, "success_url").filter(|_| mode == "payment") else {
        return error(
            400,
            "invalid_request_error",
            "Invalid mode or missing success_url",
        );
    };
    let id = format!("cs_test_{}", state.sessions.len() + 1);
    state.sessions.push(Session {
        id: id.clone(),
        status: "open".into(),
        client_reference_id: reference.to_owned(),
        amount,
        currency: currency.to_owned(),
        expires_at,
        return_url: return_url.to_owned(),
    });
    (
        200,
        json!({
            "id": id, "object": "checkout.session", "status": "open",
            "url": format!("https://checkout.stripe.test/c/pay/{id}"),
            "client_reference_id": reference, "amount_total": amount, "currency": currency,
            "expires_at": expires_at
        }),
    )
}

fn expire_session(state: &mut State, id: &str) -> (u16, Value) {
    let Some(session) = state.sessions.iter_mut().find(|s| s.id == id) else {
        return error(404, "invalid_request_error", "No such checkout.session");
    };
    if session.status != "open" {
        return error(
            400,
            "invalid_request_error",
            "Only Checkout Sessions with a status in [\"open\"] can be expired.",
        );
    }
    session.status = "expired".into();
    (
        200,
        json!({ "id": id, "object": "checkout.session", "status": "expired" }),
    )
}

fn create_refund(state: &mut State, params: &[(String, String)]) -> (u16, Value) {
    let (Some(payment_intent), Some(amount)) = (
        param(params, "payment_intent"),
        param(params, "amount").and_then(|v| v.parse::<u64>().ok()),
    ) else {
        return error(400, "invalid_request_error", "Missing required param");
    };
    let id = format!("re_test_{}", state.refunds.len() + 1);
    state.refunds.push(Refund {
        id: id.clone(),
        payment_intent: payment_intent.to_owned(),
        amount,
    });
    (
        200,
        json!({ "id": id, "object": "refund", "amount": amount, "status": "succeeded" }),
    )
}
