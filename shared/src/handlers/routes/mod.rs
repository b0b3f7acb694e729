//! The route table: the one place that says which method and path runs which handler,
//! which Lambda binary serves it, and who may call it. The dev server dispatches from it,
//! both entrances enforce its [`Access`] column, and tests keep `template.yaml`,
//! `openapi.yaml` and `functions/src/bin/` in step with it. A route's handler is the file
//! named like its binary (`POST /events/{id}/registrations` → `registrations_create.rs`).

pub mod auth_login;
pub mod auth_logout;
pub mod auth_password_reset;
pub mod auth_password_reset_confirm;
pub mod auth_refresh;
pub mod auth_signup;
pub mod checkins_create;
pub mod door;
pub mod door_file;
pub mod event_page;
pub mod event_page_register;
pub mod events_cancel;
pub mod events_create;
pub mod events_get;
pub mod events_list;
pub mod events_registrations;
pub mod events_report;
pub mod events_revocations;
pub mod events_ticket_key;
pub mod events_update;
pub mod health;
pub mod me;
pub mod payments_webhook;
pub mod registrations_cancel;
pub mod registrations_create;
pub mod registrations_form;
pub mod registrations_get;
pub mod registrations_ticket;
pub mod registrations_update;
pub mod users_create;
pub mod users_list;
pub mod users_update;

use http::Method;
use lambda_http::{Body, Request, RequestExt, Response};
use tracing::Instrument;

pub use super::common::access::{authorize, Access, Caller};
use crate::app::AppContext;
use crate::domain::Role;
use crate::http::{header, ApiError, ApiResult};
use crate::telemetry::trace::TraceContext;

/// Every route of the API, one per row of [`ROUTES`].
#[allow(missing_docs)] // each is named for its binary; ROUTES gives method, path and access
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    Health,
    AuthSignup,
    AuthLogin,
    AuthRefresh,
    AuthLogout,
    AuthPasswordReset,
    AuthPasswordResetConfirm,
    Me,
    EventsCreate,
    EventsList,
    EventsGet,
    EventsUpdate,
    EventsCancel,
    EventsReport,
    RegistrationsCreate,
    EventsRegistrations,
    EventsTicketKey,
    EventsRevocations,
    RegistrationsGet,
    RegistrationsCancel,
    RegistrationsTicket,
    RegistrationsUpdate,
    PaymentsWebhook,
    CheckinsCreate,
    UsersCreate,
    UsersList,
    UsersUpdate,
    EventPage,
    EventPageRegister,
    RegistrationsForm,
    Door,
    DoorFile,
}

/// One row of the route table.
#[derive(Debug)]
pub struct RouteSpec {
    /// Which route.
    pub route: Route,
    /// Its HTTP method.
    pub method: Method,
    /// As API Gateway writes it: `{name}` segments are path parameters.
    pub path: &'static str,
    /// The binary under `functions/src/bin/` (and `BuildProperties.Binary` in the template).
    pub binary: &'static str,
    /// Who may call it, enforced by [`authorize`] at both entrances.
    pub access: Access,
}

const fn spec(
    route: Route,
    method: Method,
    path: &'static str,
    binary: &'static str,
    access: Access,
) -> RouteSpec {
    RouteSpec {
        route,
        method,
        path,
        binary,
        access,
    }
}

/// The route table, in the order [`Route`] declares its variants.
pub const ROUTES: &[RouteSpec] = &[
    spec(
        Route::Health,
        Method::GET,
        "/health",
        "health",
        Access::Public,
    ),
    spec(
        Route::AuthSignup,
        Method::POST,
        "/auth/signup",
        "auth-signup",
        Access::Public,
    ),
    spec(
        Route::AuthLogin,
        Method::POST,
        "/auth/login",
        "auth-login",
        Access::Public,
    ),
    spec(
        Route::AuthRefresh,
        Method::POST,
        "/auth/refresh",
        "auth-refresh",
        Access::Public,
    ),
    spec(
        Route::AuthLogout,
        Method::POST,
        "/auth/logout",
        "auth-logout",
        Access::Public,
    ),
    spec(
        Route::AuthPasswordReset,
        Method::POST,
        "/auth/password-reset",
        "auth-password-reset",
        Access::Public,
    ),
    spec(
        Route::AuthPasswordResetConfirm,
        Method::POST,
        "/auth/password-reset/confirm",
        "auth-password-reset-confirm",
        Access::Public,
    ),
    spec(Route::Me, Method::GET, "/me", "me", Access::SignedIn),
    spec(
        Route::EventsCreate,
        Method::POST,
        "/events",
        "events-create",
        Access::Roles(&[Role::Organizer, Role::Admin]),
    ),
    spec(
        Route::EventsList,
        Method::GET,
        "/events",
        "events-list",
        Access::Public,
    ),
    spec(
        Route::EventsGet,
        Method::GET,
        "/events/{id}",
        "events-get",
        Access::Public,
    ),
    spec(
        Route::EventsUpdate,
        Method::PUT,
        "/events/{id}",
        "events-update",
        Access::EventOwner,
    ),
    spec(
        Route::EventsCancel,
        Method::DELETE,
        "/events/{id}",
        "events-cancel",
        Access::Roles(&[Role::Admin]),
    ),
    spec(
        Route::EventsReport,
        Method::GET,
        "/events/{id}/report",
        "events-report",
        Access::EventOwner,
    ),
    spec(
        Route::RegistrationsCreate,
        Method::POST,
        "/events/{id}/registrations",
        "registrations-create",
        Access::Public,
    ),
    spec(
        Route::EventsRegistrations,
        Method::GET,
        "/events/{id}/registrations",
        "events-registrations",
        Access::EventStaff,
    ),
    spec(
        Route::EventsTicketKey,
        Method::GET,
        "/events/{id}/ticket-key",
        "events-ticket-key",
        Access::Public,
    ),
    spec(
        Route::EventsRevocations,
        Method::GET,
        "/events/{id}/revocations",
        "events-revocations",
        Access::EventStaff,
    ),
    spec(
        Route::RegistrationsGet,
        Method::GET,
        "/registrations/{id}",
        "registrations-get",
        Access::Attendee,
    ),
    spec(
        Route::RegistrationsCancel,
        Method::DELETE,
        "/registrations/{id}",
        "registrations-cancel",
        Access::Attendee,
    ),
    spec(
        Route::RegistrationsTicket,
        Method::GET,
        "/registrations/{id}/ticket",
        "registrations-ticket",
        Access::Attendee,
    ),
    spec(
        Route::RegistrationsUpdate,
        Method::PUT,
        "/registrations/{id}",
        "registrations-update",
        Access::Attendee,
    ),
    spec(
        Route::PaymentsWebhook,
        Method::POST,
        "/payments/webhook",
        "payments-webhook",
        Access::Public,
    ),
    spec(
        Route::CheckinsCreate,
        Method::POST,
        "/checkins",
        "checkins-create",
        Access::EventStaff,
    ),
    spec(
        Route::UsersCreate,
        Method::POST,
        "/users",
        "users-create",
        Access::Roles(&[Role::Admin]),
    ),
    spec(
        Route::UsersList,
        Method::GET,
        "/users",
        "users-list",
        Access::Roles(&[Role::Admin]),
    ),
    spec(
        Route::UsersUpdate,
        Method::PATCH,
        "/users/{id}",
        "users-update",
        Access::Roles(&[Role::Admin]),
    ),
    spec(
        Route::EventPage,
        Method::GET,
        "/e/{slug}",
        "event-page",
        Access::Public,
    ),
    spec(
        Route::EventPageRegister,
        Method::POST,
        "/e/{slug}",
        "event-page-register",
        Access::Public,
    ),
    spec(
        Route::RegistrationsForm,
        Method::POST,
        "/registrations/{id}",
        "registrations-form",
        Access::Attendee,
    ),
    spec(Route::Door, Method::GET, "/door", "door", Access::Public),
    spec(
        Route::DoorFile,
        Method::GET,
        "/door/{file}",
        "door-file",
        Access::Public,
    ),
];

/// A route's load-shedding class at the edge: API Gateway's stage throttling in the
/// template (`DefaultRouteSettings` and one `RouteSettings` entry per stricter route), and
/// the dev server's per-source-address limiter with the same numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Throttle {
    /// Every other route: the stage's default.
    Api,
    /// Credentials and password resets: guessing and mail-bombing are the attacks, and
    /// argon2 makes each request cost ~20 MiB and tens of ms.
    Auth,
    /// Registering: what a crowd does at once when sales open.
    Registration,
}

impl Throttle {
    /// `(steady rate in requests per second, burst in requests)`: the token bucket's
    /// refill and size, as API Gateway's `ThrottlingRateLimit` / `ThrottlingBurstLimit`
    /// take them. The template's parameter defaults are these (a test holds them equal).
    pub fn limits(self) -> (u32, u32) {
        match self {
            Self::Api => (200, 400),
            Self::Auth => (10, 20),
            Self::Registration => (100, 200),
        }
    }
}

impl Route {
    /// The route's load-shedding class (see [`Throttle`]).
    pub fn throttle(self) -> Throttle {
        match self {
            Self::AuthSignup
            | Self::AuthLogin
            | Self::AuthRefresh
            | Self::AuthPasswordReset
            | Self::AuthPasswordResetConfirm => Throttle::Auth,
            Self::RegistrationsCreate | Self::EventPageRegister => Throttle::Registration,
            _ => Throttle::Api,
        }
    }

    /// The route's row in [`ROUTES`], which lists the routes in declaration order (a test
    /// holds it to that).
    pub fn spec(self) -> &'static RouteSpec {
        &ROUTES[self as usize]
    }

    /// The dev server's entrance: [`Route::instrumented`] around the route's handler.
    pub async fn handle(self, ctx: &AppContext, req: Request) -> Response<Body> {
        self.instrumented(ctx, req, |req, caller| self.dispatch(ctx, req, caller))
            .await
    }

    /// Every route's entrance, the dev server's and each Lambda's `run_route`: inside the
    /// request's span ([`crate::telemetry::request_span`]: Lambda's request id, or API
    /// Gateway's where no Lambda runs, as the dev server) and trace (the caller's
    /// `traceparent`, else Lambda's X-Ray trace, else a new one:
    /// [`crate::telemetry::trace`]), measured
    /// ([`crate::telemetry::request_served`]), authorizes under the route's [`Access`],
    /// then runs `handler` with the caller and maps its result to the response, which
    /// gets the security headers of a page when it is one ([`crate::http::html::secure`]).
    pub async fn instrumented<F, Fut>(
        self,
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
        let route = self.spec().binary;
        let span =
            crate::telemetry::request_span(route, &aws_request_id, &apigw_request_id, &trace);
        let access = self.spec().access;
        let mut response = trace
            .scope(
                async move {
                    match authorize(access, ctx, &req).await {
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
        crate::telemetry::request_served(route, status, started.elapsed());
        response
    }

    /// The route's handler (the dev server serves every route from one process).
    async fn dispatch(self, ctx: &AppContext, req: Request, caller: Caller) -> ApiResult {
        match self {
            Self::Health => health::handle(ctx, req, caller).await,
            Self::AuthSignup => auth_signup::handle(ctx, req).await,
            Self::AuthLogin => auth_login::handle(ctx, req).await,
            Self::AuthRefresh => auth_refresh::handle(ctx, req).await,
            Self::AuthLogout => auth_logout::handle(ctx, req).await,
            Self::AuthPasswordReset => auth_password_reset::handle(ctx, req).await,
            Self::AuthPasswordResetConfirm => auth_password_reset_confirm::handle(ctx, req).await,
            Self::Me => me::handle(ctx, req, caller).await,
            Self::EventsCreate => events_create::handle(ctx, req, caller).await,
            Self::EventsList => events_list::handle(ctx, req).await,
            Self::EventsGet => events_get::handle(ctx, req, caller).await,
            Self::EventsUpdate => events_update::handle(ctx, req, caller).await,
            Self::EventsCancel => events_cancel::handle(ctx, req).await,
            Self::EventsReport => events_report::handle(ctx, req, caller).await,
            Self::RegistrationsCreate => registrations_create::handle(ctx, req).await,
            Self::EventsRegistrations => events_registrations::handle(ctx, req, caller).await,
            Self::EventsTicketKey => events_ticket_key::handle(ctx, req).await,
            Self::EventsRevocations => events_revocations::handle(ctx, req, caller).await,
            Self::RegistrationsGet => registrations_get::handle(ctx, req, caller).await,
            Self::RegistrationsCancel => registrations_cancel::handle(ctx, req, caller).await,
            Self::RegistrationsTicket => registrations_ticket::handle(ctx, req, caller).await,
            Self::RegistrationsUpdate => registrations_update::handle(ctx, req, caller).await,
            Self::PaymentsWebhook => payments_webhook::handle(ctx, req).await,
            Self::CheckinsCreate => checkins_create::handle(ctx, req, caller).await,
            Self::UsersCreate => users_create::handle(ctx, req).await,
            Self::UsersList => users_list::handle(ctx, req).await,
            Self::UsersUpdate => users_update::handle(ctx, req, caller).await,
            Self::EventPage => event_page::handle(ctx, req).await,
            Self::EventPageRegister => event_page_register::handle(ctx, req).await,
            Self::RegistrationsForm => registrations_form::handle(ctx, req, caller).await,
            Self::Door => door::handle(req).await,
            Self::DoorFile => door_file::handle(req).await,
        }
    }
}

/// A handler's result as the response: an error becomes its problem document.
pub fn into_response(result: ApiResult) -> Response<Body> {
    result.unwrap_or_else(|error| error.to_response())
}

/// Finds the route for a method and a path, with its path parameters: 404 `no_route` for
/// a path no route has, 405 with the path's methods for one it has with other methods.
pub fn match_route(
    method: &Method,
    path: &str,
) -> Result<(Route, Vec<(String, String)>), ApiError> {
    let mut allow: Vec<&str> = Vec::new();
    for spec in ROUTES {
        if let Some(params) = match_template(spec.path, path) {
            if spec.method == *method {
                return Ok((spec.route, params));
            }
            allow.push(spec.method.as_str());
        }
    }
    if allow.is_empty() {
        Err(ApiError::NoRoute)
    } else {
        Err(ApiError::MethodNotAllowed {
            allow: allow.join(", "),
        })
    }
}

fn match_template(template: &str, path: &str) -> Option<Vec<(String, String)>> {
    let mut template_parts = template.trim_matches('/').split('/');
    let mut path_parts = path
        .trim_end_matches('/')
        .trim_start_matches('/')
        .split('/');
    let mut params = Vec::new();
    loop {
        match (template_parts.next(), path_parts.next()) {
            (None, None) => return Some(params),
            (Some(t), Some(p)) => {
                if let Some(name) = t.strip_prefix('{').and_then(|t| t.strip_suffix('}')) {
                    if p.is_empty() {
                        return None;
                    }
                    params.push((name.to_owned(), p.to_owned()));
                } else if t != p {
                    return None;
                }
            }
            _ => return None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_match_with_their_parameters() {
        let (route, params) = match_route(&Method::POST, "/events/abc/registrations").unwrap();
        assert_eq!(route, Route::RegistrationsCreate);
        assert_eq!(params, [("id".to_owned(), "abc".to_owned())]);
        assert_eq!(
            match_route(&Method::GET, "/events/").unwrap().0,
            Route::EventsList
        );
        assert_eq!(
            match_route(&Method::GET, "/events").unwrap().0,
            Route::EventsList
        );
        assert_eq!(
            match_route(&Method::POST, "/events").unwrap().0,
            Route::EventsCreate
        );
    }

    #[test]
    fn unknown_paths_and_methods_do_not_match() {
        for (method, path) in [
            (Method::GET, "/nope"),
            (Method::DELETE, "/health"),
            (Method::GET, "/events/a/b"),
            (Method::GET, "/events//registrations"),
        ] {
            assert!(match_route(&method, path).is_err(), "{method} {path}");
        }
    }

    #[test]
    fn a_known_path_with_another_method_is_405_listing_its_methods() {
        let Err(ApiError::MethodNotAllowed { allow }) = match_route(&Method::TRACE, "/events/x")
        else {
            panic!("expected 405");
        };
        assert_eq!(allow, "GET, PUT, DELETE");
        assert!(matches!(
            match_route(&Method::GET, "/nope"),
            Err(ApiError::NoRoute)
        ));
        let response = ApiError::MethodNotAllowed { allow }.to_response();
        assert_eq!(response.status(), 405);
        assert_eq!(response.headers()["allow"], "GET, PUT, DELETE");
    }

    #[test]
    fn every_route_finds_its_own_row() {
        for spec in ROUTES {
            assert_eq!(spec.route.spec().route, spec.route, "{spec:?}");
        }
    }

    #[test]
    fn every_route_is_unique_and_has_its_own_binary() {
        for (i, a) in ROUTES.iter().enumerate() {
            for b in &ROUTES[i + 1..] {
                assert!(a.route != b.route && a.binary != b.binary, "{a:?} / {b:?}");
                assert!(!(a.method == b.method && a.path == b.path), "{a:?} / {b:?}");
            }
        }
    }
}
