//! Every request's way in, the dev server's and each Lambda's (`runtime::lambda::run_route`)
//! alike: the request's span and trace, authorization under the route's
//! [`Access`](super::common::access::Access), the handler, the error as a problem document
//! (or as a page, for a browser), the security headers of a page, and the measurement.

use lambda_http::{Body, Request, RequestExt, Response};
use tracing::Instrument;

use super::common::access::{authorize, Caller};
use super::routes::Route;
use crate::app::AppContext;
use crate::http::{header, ApiError, ApiResult};
use crate::telemetry::trace::TraceContext;

/// The dev server's entrance: [`enter`] with the route's own handler.
pub async fn serve(route: Route, ctx: &AppContext, req: Request) -> Response<Body> {
    enter(route, ctx, req, |req, caller| {
        route.dispatch(ctx, req, caller)
    })
    .await
}

/// Runs `handler` for a request of `route`: inside the request's span
/// ([`crate::telemetry::request_span`]: Lambda's request id, or API Gateway's where no
/// Lambda runs, as in the dev server) and trace (the caller's `traceparent`, else Lambda's
/// X-Ray trace, else a new one: [`crate::telemetry::trace`]), measured
/// ([`crate::telemetry::request_served`]), after authorizing under the route's access,
/// with the caller it admitted; its result mapped to the response, which gets the
/// security headers of a page when it is one ([`crate::http::html::secure`]).
pub async fn enter<F, Fut>(
    route: Route,
    ctx: &AppContext,
    req: Request,
    handler: F,
) -> Response<Body>
where
    F: FnOnce(Request, Caller) -> Fut,
    Fut: std::future::Future<Output = ApiResult>,
{
    let started = std::time::Instant::now();
    let apigw_request_id = match req.request_context_ref() {
        Some(lambda_http::request::RequestContext::ApiGatewayV2(context)) => {
            context.request_id.clone().unwrap_or_default()
        }
        _ => String::new(),
    };
    let aws_request_id = req.lambda_context_ref().map_or_else(
        || apigw_request_id.clone(),
        |context| context.request_id.clone(),
    );
    let trace = header(&req, "traceparent")
        .and_then(TraceContext::parse)
        .or_else(|| {
            req.lambda_context_ref()
                .and_then(|context| context.xray_trace_id.as_deref())
                .and_then(TraceContext::from_xray)
        })
        .map_or_else(TraceContext::new_root, |parent| parent.child());
    // A browser (whose `Accept` puts HTML first) reads an error as a page; API clients
    // and `*/*` get the problem document.
    let wants_page = crate::http::preferred_media_type(
        &req,
        &["application/problem+json", "application/json", "text/html"],
    ) == Some("text/html");
    let error_response = move |error: ApiError| {
        if wants_page {
            error.to_page_response()
        } else {
            error.to_response()
        }
    };
    let spec = route.spec();
    let span =
        crate::telemetry::request_span(spec.binary, &aws_request_id, &apigw_request_id, &trace);
    let mut response = trace
        .scope(
            async move {
                match authorize(spec.access, ctx, &req).await {
                    Ok(caller) => handler(req, caller).await.unwrap_or_else(error_response),
                    Err(refused) => error_response(refused),
                }
            }
            .instrument(span.clone()),
        )
        .await;
    crate::http::html::secure(&mut response);
    let status = response.status().as_u16();
    span.in_scope(|| tracing::debug!(status, "served"));
    crate::telemetry::request_served(spec.binary, status, started.elapsed());
    response
}
