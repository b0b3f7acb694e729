//! The dev server's checkout pages, standing in for Stripe Checkout in embedded mode:
//! `GET /_dev/checkout/<id>` shows what is paid for with "Pay" and "Fail";
//! `POST …/pay` sends the signed `checkout.session.completed` webhook Stripe would send to
//! the very `POST /payments/webhook` route, then returns the attendee to their
//! registration (303); `POST …/fail` closes the checkout.

use std::collections::HashMap;

use askama::Template;
use http::{Method, StatusCode};
use lambda_http::aws_lambda_events::apigw::ApiGatewayV2httpRequestContext;
use lambda_http::request::RequestContext;
use lambda_http::{Body, RequestExt, Response};

use crate::adapters::embedded::payments::CheckoutState;
use crate::adapters::embedded::DevPayments;
use crate::app::AppContext;
use crate::domain::payment::format_money;
use crate::handlers::entrance;
use crate::handlers::routes::payments_webhook::SIGNATURE_HEADER;
use crate::handlers::routes::Route;
use crate::http::ApiError;
use crate::ports::Payments;

/// The path the pages live under.
pub const PREFIX: &str = "/_dev/checkout/";

#[derive(Template)]
#[template(path = "dev_checkout.html")]
struct Page<'a> {
    id: &'a str,
    description: &'a str,
    email: &'a str,
    amount: String,
    open: bool,
    state: &'a str,
    return_url: &'a str,
}

fn redirect(to: &str) -> Response<Body> {
    Response::builder()
        .status(StatusCode::SEE_OTHER)
        .header(http::header::LOCATION, to)
        .body(Body::Empty)
        .unwrap_or_default()
}

/// Serves `rest` (the path after [`PREFIX`]) for `method`: the pages of `payments`'
/// checkouts, whose "Pay" enters `POST /payments/webhook` over `ctx`.
pub async fn handle(
    ctx: &AppContext,
    payments: &DevPayments,
    method: &Method,
    rest: &str,
) -> Response<Body> {
    let (id, action) = match rest.split_once('/') {
        Some((id, action)) => (id, Some(action)),
        None => (rest, None),
    };
    let Some(checkout) = payments.checkout(id) else {
        return ApiError::NotFound("checkout").to_response();
    };
    let return_url = checkout.request.return_url.clone();
    match (method, action) {
        (&Method::GET, None) => {
            let page = Page {
                id,
                description: &checkout.request.description,
                email: &checkout.request.customer_email,
                amount: format_money(checkout.request.amount_cents, &checkout.request.currency),
                open: checkout.state == CheckoutState::Open,
                state: match checkout.state {
                    CheckoutState::Open => "open",
                    CheckoutState::Complete => "paid",
                    CheckoutState::Expired => "expired",
                },
                return_url: &return_url,
            };
            match page.render() {
                Ok(html) => Response::builder()
                    .status(StatusCode::OK)
                    .header(http::header::CONTENT_TYPE, "text/html; charset=utf-8")
                    .header(http::header::CACHE_CONTROL, "no-store")
                    .body(Body::Text(html))
                    .unwrap_or_default(),
                Err(error) => ApiError::internal(error).to_response(),
            }
        }
        (&Method::POST, Some("pay")) => {
            let now = ctx.clock.now();
            let Some((body, signature)) = payments.pay(id, now) else {
                return redirect(&return_url);
            };
            let answer = entrance::serve(
                Route::PaymentsWebhook,
                ctx,
                webhook_request(body, &signature),
            )
            .await;
            if answer.status().is_success() {
                redirect(&return_url)
            } else {
                answer
            }
        }
        (&Method::POST, Some("fail")) => match payments.expire_checkout(id).await {
            Ok(()) => redirect(&return_url),
            Err(error) => ApiError::internal(error).to_response(),
        },
        _ => ApiError::NoRoute.to_response(),
    }
}

/// The webhook as API Gateway would hand it to `POST /payments/webhook`.
fn webhook_request(body: String, signature: &str) -> lambda_http::Request {
    let mut context = ApiGatewayV2httpRequestContext::default();
    context.request_id = Some(uuid::Uuid::new_v4().to_string());
    context.http.method = Method::POST;
    context.http.path = Some("/payments/webhook".to_owned());
    let mut request = lambda_http::Request::new(Body::Text(body));
    *request.method_mut() = Method::POST;
    *request.uri_mut() = http::Uri::from_static("/payments/webhook");
    if let Ok(value) = http::HeaderValue::from_str(signature) {
        request.headers_mut().insert(SIGNATURE_HEADER, value);
    }
    request
        .with_path_parameters(HashMap::<String, String>::new())
        .with_request_context(RequestContext::ApiGatewayV2(context))
}
