//! The route table: every route of the API in one row — the handler module (and so the
//! Lambda binary, named like it: `registrations_create` → `registrations-create`), its
//! method and path as API Gateway writes them, who may call it ([`Access`], enforced by
//! the entrance before the handler runs), its load-shedding class ([`Throttle`]), what its
//! function reads at init ([`Needs`]) and who may keep its answers ([`Cache`]). Everything
//! else follows from the rows (see [`crate::handlers::declare`]): the `mod` declarations,
//! [`Route`], [`ROUTES`], the dispatch, and [`by_module`], which a Lambda binary names.
//! Tests hold `template.yaml`, `openapi.yaml`, `events/` and `functions/src/bin/` to it.
//!
//! A route's handler is `<module>.rs` here, with the one signature
//! `async fn handle(ctx: &AppContext, req: Request, caller: Caller) -> ApiResult`.

use http::Method;
use lambda_http::Request;

pub use super::common::access::{authorize, Access, Caller};
pub use super::declare::{Cache, Needs, Throttle};
use crate::app::AppContext;
use crate::domain::Role;
use crate::http::{ApiError, ApiResult};

/// One row of the route table.
#[derive(Debug)]
pub struct RouteSpec {
    /// Which route.
    pub route: Route,
    /// Its HTTP method.
    pub method: Method,
    /// As API Gateway writes it: `{name}` segments are path parameters
    /// ([`crate::http::PathParam`]).
    pub path: &'static str,
    /// The binary under `functions/src/bin/` (and `BuildProperties.Binary` in the
    /// template): the handler module's name in kebab case.
    pub binary: &'static str,
    /// Who may call it, enforced by [`authorize`] at both entrances.
    pub access: Access,
    /// Its load-shedding class.
    pub throttle: Throttle,
    /// What its Lambda function reads at init.
    pub needs: Needs,
    /// Who may keep its answers.
    pub cache: Cache,
}

macro_rules! routes {
    ($(
        $route:ident => $module:ident: $method:ident $path:literal,
        $access:expr, $throttle:ident, $needs:ident, $cache:ident;
    )*) => {
        $(pub mod $module;)*

        /// Every route of the API, one per row of [`ROUTES`], in its order.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum Route {
            $(
                #[doc = concat!("`", stringify!($method), " ", $path, "`: [`", stringify!($module), "`].")]
                $route,
            )*
        }

        /// The route table, in the order [`Route`] declares its variants.
        pub const ROUTES: &[RouteSpec] = &[$(
            RouteSpec {
                route: Route::$route,
                method: Method::$method,
                path: $path,
                binary: crate::kebab!($module),
                access: {
                    #[allow(unused_imports)]
                    use Access::*;
                    $access
                },
                throttle: Throttle::$throttle,
                needs: Needs::$needs,
                cache: Cache::$cache,
            },
        )*];

        impl Route {
            /// The route's handler, for the dev server (which serves every route from one
            /// process; a Lambda binary calls its own handler directly).
            pub(crate) async fn dispatch(
                self,
                ctx: &AppContext,
                req: Request,
                caller: Caller,
            ) -> ApiResult {
                match self {
                    $(Self::$route => $module::handle(ctx, req, caller).await,)*
                }
            }
        }

        /// Each route by its handler module's name: what a Lambda binary's one line
        /// ([`crate::route_function!`]) names, so that it runs that route and no other.
        #[allow(non_upper_case_globals)]
        pub mod by_module {
            use super::Route;
            $(
                #[doc = concat!("[`Route::", stringify!($route), "`].")]
                pub const $module: Route = Route::$route;
            )*
        }
    };
}

routes! {
//  route                       handler module                method path
//      access                              throttle      init needs     cache
    Health                   => health:                      GET "/health",
        Public,                             Api,          TABLE,         Private;
    AuthSignup               => auth_signup:                 POST "/auth/signup",
        Public,                             Auth,         TABLE,         Private;
    AuthLogin                => auth_login:                  POST "/auth/login",
        Public,                             Auth,         JWT,           Private;
    AuthRefresh              => auth_refresh:                POST "/auth/refresh",
        Public,                             Auth,         JWT,           Private;
    AuthLogout               => auth_logout:                 POST "/auth/logout",
        Public,                             Api,          TABLE,         Private;
    AuthPasswordReset        => auth_password_reset:         POST "/auth/password-reset",
        Public,                             Auth,         TABLE,         Private;
    AuthPasswordResetConfirm => auth_password_reset_confirm: POST "/auth/password-reset/confirm",
        Public,                             Auth,         TABLE,         Private;
    Me                       => me:                          GET "/me",
        SignedIn,                           Api,          JWT,           Private;
    EventsCreate             => events_create:               POST "/events",
        Roles(&[Role::Organizer, Role::Admin]), Api,      JWT,           Private;
    EventsList               => events_list:                 GET "/events",
        Public,                             Api,          ATTENDEE,      Shared;
    // Public; an owner's bearer token (drafts) fetches the key ring on demand.
    EventsGet                => events_get:                  GET "/events/{id}",
        Public,                             Api,          TABLE,         Shared;
    EventsUpdate             => events_update:               PUT "/events/{id}",
        EventOwner,                         Api,          JWT,           Private;
    EventsCancel             => events_cancel:               DELETE "/events/{id}",
        Roles(&[Role::Admin]),              Api,          JWT,           Private;
    EventsReport             => events_report:               GET "/events/{id}/report",
        EventOwner,                         Api,          JWT,           Private;
    RegistrationsCreate      => registrations_create:        POST "/events/{id}/registrations",
        Public,                             Registration, ATTENDEE,      Private;
    EventsRegistrations      => events_registrations:        GET "/events/{id}/registrations",
        EventStaff,                         Api,          JWT,           Private;
    EventsTicketKey          => events_ticket_key:           GET "/events/{id}/ticket-key",
        Public,                             Api,          ATTENDEE,      Shared;
    EventsRevocations        => events_revocations:          GET "/events/{id}/revocations",
        EventStaff,                         Api,          JWT_ATTENDEE,  Private;
    RegistrationsGet         => registrations_get:           GET "/registrations/{id}",
        Attendee,                           Api,          JWT_ATTENDEE,  Private;
    RegistrationsCancel      => registrations_cancel:        DELETE "/registrations/{id}",
        Attendee,                           Api,          JWT_ATTENDEE,  Private;
    RegistrationsTicket      => registrations_ticket:        GET "/registrations/{id}/ticket",
        Attendee,                           Api,          JWT_ATTENDEE,  Private;
    RegistrationsUpdate      => registrations_update:        PUT "/registrations/{id}",
        Attendee,                           Api,          JWT_ATTENDEE,  Private;
    // Verifies the provider's signature (its webhook secrets: see `Needs`).
    PaymentsWebhook          => payments_webhook:            POST "/payments/webhook",
        Public,                             Api,          TABLE,         Private;
    CheckinsCreate           => checkins_create:             POST "/checkins",
        EventStaff,                         Api,          JWT_ATTENDEE,  Private;
    UsersCreate              => users_create:                POST "/users",
        Roles(&[Role::Admin]),              Api,          JWT,           Private;
    UsersList                => users_list:                  GET "/users",
        Roles(&[Role::Admin]),              Api,          JWT,           Private;
    UsersUpdate              => users_update:                PATCH "/users/{id}",
        Roles(&[Role::Admin]),              Api,          JWT,           Private;
    EventPage                => event_page:                  GET "/e/{slug}",
        Public,                             Api,          ATTENDEE,      Shared;
    EventPageRegister        => event_page_register:         POST "/e/{slug}",
        Public,                             Registration, ATTENDEE,      Private;
    RegistrationsForm        => registrations_form:          POST "/registrations/{id}",
        Attendee,                           Api,          JWT_ATTENDEE,  Private;
    Door                     => door:                        GET "/door",
        Public,                             Api,          TABLE,         Shared;
    DoorFile                 => door_file:                   GET "/door/{file}",
        Public,                             Api,          TABLE,         Shared;
}

impl Route {
    /// The route's row in [`ROUTES`], which lists the routes in declaration order (a test
    /// holds it to that).
    pub fn spec(self) -> &'static RouteSpec {
        &ROUTES[self as usize]
    }
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

    #[test]
    fn routes_that_admit_only_callers_with_credentials_load_the_key_ring() {
        for spec in ROUTES {
            if spec.access != Access::Public {
                assert!(spec.needs.jwt_keys, "{spec:?}");
            }
            if spec.access == Access::Attendee {
                assert!(spec.needs.attendee_secret, "{spec:?}");
            }
        }
    }

    #[test]
    fn every_path_parameter_is_one_a_handler_can_read() {
        use crate::http::{DoorFileName, EventSlug, PathParam};
        let known = [
            crate::domain::EventId::NAME,
            EventSlug::NAME,
            DoorFileName::NAME,
        ];
        for spec in ROUTES {
            for segment in spec.path.split('/') {
                if let Some(name) = segment.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                    assert!(known.contains(&name), "{spec:?}: {{{name}}}");
                }
            }
        }
    }
}
