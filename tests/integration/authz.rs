//! The authorization matrix: every route of `ROUTES` × every kind of caller, in both modes.
//! What each caller may do is read from the route's own `Access` entry — there is no
//! second table here — and every request is a real one (a real event of the owner, a real
//! registration, a valid ticket, valid bodies), so an allowed caller gets past
//! authorization and a refused one is refused by it: anonymous → 401, anyone else → 403.
//!
//! A new route needs a request builder in `request_for`; without one this test fails,
//! naming the route.

use std::sync::Arc;

use evreg::domain::{EventId, RegistrationId, Role, User, UserId};
use evreg::handlers::common::access::MANAGE_TOKEN_HEADER;
use evreg::handlers::common::attendee_page::form_subject;
use evreg::handlers::routes::{Access, RouteSpec, ROUTES};
use evreg::http::form::FormTokens;
use evreg::AppContext;
use evreg_tests::api::{create_event, Api, ApiRequest, LambdaApi};
use evreg_tests::apps::{embedded_over_http, AwsApp};
use serde_json::{json, Value};
use time::OffsetDateTime;
use uuid::Uuid;

const PASSWORD: &str = "correct horse battery";

#[tokio::test]
async fn aws_every_route_refuses_exactly_the_callers_its_access_excludes() {
    let Some(app) = AwsApp::start("authz").await else {
        return;
    };
    let api: Arc<dyn Api> = Arc::new(LambdaApi {
        ctx: app.ctx.clone(),
    });
    matrix(api, app.ctx.clone()).await;
}

#[tokio::test]
async fn embedded_every_route_refuses_exactly_the_callers_its_access_excludes() {
    let (app, api, server) = embedded_over_http().await;
    matrix(api, app.ctx.clone()).await;
    server.abort();
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Caller {
    Anonymous,
    Staff,
    /// The ORGANIZER who owns the route's event.
    Owner,
    /// An ORGANIZER who does not.
    OtherOrganizer,
    Admin,
    /// No account: the registration's manage token (routes with `Access::Attendee`).
    Attendee,
}

impl Caller {
    /// The callers a route is tried with; the attendee only where a manage token means
    /// something.
    fn for_access(access: Access) -> Vec<Self> {
        let mut callers = vec![
            Self::Anonymous,
            Self::Staff,
            Self::Owner,
            Self::OtherOrganizer,
            Self::Admin,
        ];
        if access == Access::Attendee {
            callers.push(Self::Attendee);
        }
        callers
    }
}

/// What `access` says about `caller`: `None` when allowed, else the refusal's status.
/// Exhaustive on purpose: a new `Access` variant does not compile until it is stated here.
fn refusal(access: Access, caller: Caller) -> Option<u16> {
    let allowed = match access {
        Access::Public => true,
        Access::SignedIn => caller != Caller::Anonymous,
        Access::Roles(roles) => role_of(caller).is_some_and(|role| roles.contains(&role)),
        Access::EventOwner => matches!(caller, Caller::Owner | Caller::Admin),
        Access::EventStaff => matches!(caller, Caller::Staff | Caller::Owner | Caller::Admin),
        Access::Attendee => matches!(caller, Caller::Attendee | Caller::Owner | Caller::Admin),
    };
    match (allowed, caller) {
        (true, _) => None,
        (false, Caller::Anonymous) => Some(401),
        (false, _) => Some(403),
    }
}

fn role_of(caller: Caller) -> Option<Role> {
    match caller {
        Caller::Anonymous | Caller::Attendee => None,
        Caller::Staff => Some(Role::Staff),
        Caller::Owner | Caller::OtherOrganizer => Some(Role::Organizer),
        Caller::Admin => Some(Role::Admin),
    }
}

/// The accounts, shared by every route (no route changes them: `PATCH /users/{id}` gets
/// an account of its own per route).
struct Accounts {
    staff: Account,
    owner: Account,
    other: Account,
    admin: Account,
}

struct Account {
    user: User,
    token: String,
}

/// What one route's requests work on, fresh per route, so a route that changes its
/// resource (a cancellation, a check-in) leaves the others' untouched.
struct Fixture {
    event_id: EventId,
    /// The event's slug (its page, `/e/{slug}`).
    slug: String,
    registration_id: RegistrationId,
    manage_token: String,
    ticket: String,
    /// An account for `PATCH /users/{id}` to change.
    target_user: UserId,
}

async fn account(ctx: &AppContext, role: Role, password_hash: &str) -> Account {
    let user = User {
        id: UserId::now_v7(),
        email: format!("{}@authz.example.org", Uuid::new_v4().simple()),
        password_hash: password_hash.to_owned(),
        role,
        active: true,
        created_at: OffsetDateTime::now_utc(),
    };
    ctx.users
        .create_user(&user, &[])
        .await
        .expect("an account")
        .unpublished();
    let token = ctx
        .tokens
        .issue(user.id, role, OffsetDateTime::now_utc())
        .expect("a token")
        .access_token;
    Account { user, token }
}

async fn fixture(api: &dyn Api, ctx: &AppContext, accounts: &Accounts, hash: &str) -> Fixture {
    let event_id = create_event(
        api,
        &accounts.owner.token,
        json!({ "max_capacity": 10, "waitlist_enabled": true }),
    )
    .await;
    let registered = api
        .post(
            &format!("/events/{event_id}/registrations"),
            None,
            json!({ "email": unique_email("attendee"), "full_name": "Ann Lee" }),
        )
        .await;
    assert_eq!(registered.status, 201, "{:?}", registered.body);
    let registration_id: RegistrationId = registered.body["id"]
        .as_str()
        .and_then(|id| id.parse().ok())
        .expect("a registration id");
    let slug = ctx
        .events
        .event(event_id)
        .await
        .expect("the store")
        .expect("the event")
        .slug;
    Fixture {
        event_id,
        slug,
        registration_id,
        manage_token: ctx.attendee_keys.manage_token(registration_id),
        ticket: ctx.attendee_keys.issue_ticket(event_id, registration_id),
        target_user: account(ctx, Role::Staff, hash).await.user.id,
    }
}

fn unique_email(who: &str) -> String {
    format!("{who}-{}@authz.example.org", Uuid::new_v4().simple())
}

fn event_body() -> Value {
    json!({
        "name": format!("Event {}", Uuid::new_v4().simple()),
        "date": "2027-03-01T18:00:00Z", "venue": "Hall A", "max_capacity": 10,
        "status": "PUBLISHED",
    })
}

/// A valid request for the route, by its method and path. `None`: nobody wrote one yet.
async fn request_for(spec: &RouteSpec, fx: &Fixture, env: &Env<'_>) -> Option<ApiRequest> {
    let (event, registration) = (fx.event_id, fx.registration_id);
    let at = |path: String| ApiRequest::new(spec.method.clone(), path);
    let request = match (spec.method.as_str(), spec.path) {
        ("GET", "/health") => at("/health".into()),
        ("POST", "/auth/signup") => at("/auth/signup".into())
            .json(json!({ "email": unique_email("signup"), "password": PASSWORD })),
        ("POST", "/auth/login") => {
            let email = env.fresh_account().await.user.email;
            at("/auth/login".into()).json(json!({ "email": email, "password": PASSWORD }))
        }
        ("POST", "/auth/refresh") | ("POST", "/auth/logout") => {
            let refresh_token = env.refresh_token().await;
            at(spec.path.into()).json(json!({ "refresh_token": refresh_token }))
        }
        ("POST", "/auth/password-reset") => {
            at(spec.path.into()).json(json!({ "email": env.accounts.owner.user.email }))
        }
        ("POST", "/auth/password-reset/confirm") => {
            at(spec.path.into()).json(json!({ "token": "not-a-reset-token", "password": PASSWORD }))
        }
        ("GET", "/me") => at("/me".into()),
        ("POST", "/events") => at("/events".into()).json(event_body()),
        ("GET", "/events") => at("/events".into()),
        ("GET", "/events/{id}") => at(format!("/events/{event}")),
        ("PUT", "/events/{id}") => at(format!("/events/{event}")).json(event_body()),
        ("DELETE", "/events/{id}") => at(format!("/events/{event}")),
        ("GET", "/events/{id}/report") => at(format!("/events/{event}/report")),
        ("POST", "/events/{id}/registrations") => at(format!("/events/{event}/registrations"))
            .json(json!({ "email": unique_email("reg"), "full_name": "Bo Chen" })),
        ("GET", "/events/{id}/registrations") => at(format!("/events/{event}/registrations")),
        ("GET", "/events/{id}/ticket-key") => at(format!("/events/{event}/ticket-key")),
        ("GET", "/events/{id}/revocations") => at(format!("/events/{event}/revocations")),
        ("GET", "/registrations/{id}")
        | ("DELETE", "/registrations/{id}")
        | ("GET", "/registrations/{id}/ticket") => {
            at(spec.path.replace("{id}", &registration.to_string()))
        }
        ("PUT", "/registrations/{id}") => at(format!("/registrations/{registration}"))
            .json(json!({ "full_name": "Ann Lee-Chen", "phone": "+44 20 7946 0958" })),
        // Unsigned: refused as a webhook (400), never as a caller.
        ("POST", "/payments/webhook") => at(spec.path.into()).json(json!({ "id": "evt_unsigned" })),
        ("POST", "/checkins") => {
            at("/checkins".into()).json(json!({ "ticket": fx.ticket, "event_id": event }))
        }
        ("POST", "/users") => at("/users".into()).json(json!({
            "email": unique_email("user"), "password": PASSWORD, "role": "STAFF",
        })),
        ("GET", "/users") => at("/users".into()),
        ("PATCH", "/users/{id}") => {
            at(format!("/users/{}", fx.target_user)).json(json!({ "role": "ORGANIZER" }))
        }
        ("POST", "/registrations/{id}") => {
            let token = FormTokens::new(&env.ctx.attendee_keys)
                .issue(&form_subject(registration), OffsetDateTime::now_utc());
            at(format!("/registrations/{registration}"))
                .form(&[("csrf_token", token.as_str()), ("action", "cancel")])
        }
        ("GET", "/e/{slug}") => at(format!("/e/{}", fx.slug)),
        ("GET", "/door") => at("/door".into()),
        ("GET", "/door/{file}") => at("/door/app.js".into()),
        ("POST", "/e/{slug}") => {
            let token =
                FormTokens::new(&env.ctx.attendee_keys).issue(&fx.slug, OffsetDateTime::now_utc());
            at(format!("/e/{}", fx.slug))
                .header("origin", env.ctx.public_url.clone())
                .form(&[
                    ("email", &unique_email("form")),
                    ("full_name", "Bo Chen"),
                    ("csrf_token", &token),
                ])
        }
        _ => return None,
    };
    Some(request)
}

/// What the request builders may use.
struct Env<'a> {
    api: &'a dyn Api,
    ctx: &'a AppContext,
    accounts: &'a Accounts,
    hash: &'a str,
}

impl Env<'_> {
    /// A new ORGANIZER who can log in: a login per account stays clear of any per-account
    /// login throttling.
    async fn fresh_account(&self) -> Account {
        account(self.ctx, Role::Organizer, self.hash).await
    }

    /// A refresh token from a fresh login (each use may rotate or revoke one).
    async fn refresh_token(&self) -> Value {
        let email = self.fresh_account().await.user.email;
        let login = self
            .api
            .post(
                "/auth/login",
                None,
                json!({ "email": email, "password": PASSWORD }),
            )
            .await;
        assert_eq!(login.status, 200, "{:?}", login.body);
        login.body["refresh_token"].clone()
    }
}

fn with_caller(
    request: ApiRequest,
    caller: Caller,
    accounts: &Accounts,
    fx: &Fixture,
) -> ApiRequest {
    let account = match caller {
        Caller::Anonymous => return request,
        Caller::Attendee => return request.header(MANAGE_TOKEN_HEADER, fx.manage_token.clone()),
        Caller::Staff => &accounts.staff,
        Caller::Owner => &accounts.owner,
        Caller::OtherOrganizer => &accounts.other,
        Caller::Admin => &accounts.admin,
    };
    request.bearer(&account.token)
}

async fn matrix(api: Arc<dyn Api>, ctx: Arc<AppContext>) {
    let api = api.as_ref();
    // One real hash for every account, so logins work (hashing is the slow part).
    let hash = ctx
        .passwords
        .hash(PASSWORD.to_owned())
        .await
        .expect("a hash");
    let accounts = Accounts {
        staff: account(&ctx, Role::Staff, &hash).await,
        owner: account(&ctx, Role::Organizer, &hash).await,
        other: account(&ctx, Role::Organizer, &hash).await,
        admin: account(&ctx, Role::Admin, &hash).await,
    };

    let env = Env {
        api,
        ctx: &ctx,
        accounts: &accounts,
        hash: &hash,
    };
    let mut failures = Vec::new();
    let mut table = Vec::new();
    let mut cells = 0;
    for spec in ROUTES {
        let route = format!("{} {} ({:?})", spec.method, spec.path, spec.access);
        let fx = fixture(api, &ctx, &accounts, &hash).await;
        // Refused callers first: they must change nothing the allowed ones then act on.
        let mut callers = Caller::for_access(spec.access);
        callers.sort_by_key(|caller| refusal(spec.access, *caller).is_none());
        let mut row = Vec::new();
        for caller in callers {
            let Some(request) = request_for(spec, &fx, &env).await else {
                panic!(
                    "{route}: no request builder in tests/integration/authz.rs `request_for`; \
                     add one for the new route"
                );
            };
            let reply = api.send(with_caller(request, caller, &accounts, &fx)).await;
            cells += 1;
            row.push(format!("{caller:?} {}", reply.status));
            let expected = refusal(spec.access, caller);
            let ok = match expected {
                Some(status) => reply.status == status,
                None => ![401, 403].contains(&reply.status) && reply.status < 500,
            };
            if !ok {
                failures.push(format!(
                    "{route} as {caller:?}: expected {}, got {} {}",
                    expected.map_or("allowed (not 401/403/5xx)".to_owned(), |s| s.to_string()),
                    reply.status,
                    reply.body
                ));
            }
        }
        table.push(format!("{route}: {}", row.join(", ")));
    }
    // The whole matrix in the test's output (`--nocapture`), in one piece, for review.
    println!(
        "authz matrix: {} routes, {cells} (route, caller) cells\n{}",
        ROUTES.len(),
        table.join("\n")
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn every_access_variant_is_refused_to_someone_or_public() {
    // The expectations come from `refusal`; a sanity check that it refuses anonymous
    // callers everywhere but on public routes, and lets an ADMIN do everything.
    for spec in ROUTES {
        let anonymous = refusal(spec.access, Caller::Anonymous);
        assert_eq!(
            anonymous.is_none(),
            spec.access == Access::Public,
            "{} {}",
            spec.method,
            spec.path
        );
        assert_eq!(
            refusal(spec.access, Caller::Admin),
            None,
            "{} {}: ADMIN",
            spec.method,
            spec.path
        );
    }
}
