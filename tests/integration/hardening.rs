//! Faults other registration systems shipped, each as a kind, in both modes: an action on a
//! registration respects the state of the event above it (cancelled, unpublished, over).

use std::sync::Arc;

use evreg::domain::{EventId, RegistrationId, RegistrationStatus};
use evreg::AppContext;
use evreg_tests::api::{
    create_event, deliver_webhook, new_admin, new_organizer, Api, ApiRequest, LambdaApi, Reply,
};
use evreg_tests::apps::TestApp;
use evreg_tests::clock::LaterClock;
use evreg_tests::fixtures::unique_email;
use http::Method;
use serde_json::json;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

evreg_tests::both_modes!("hardening":
    events_cancel => [
        a_cancelled_events_registrations_are_frozen,
        a_cancelled_events_holds_close_and_their_payments_come_back,
    ],
    checkins_create => [an_event_that_is_over_takes_no_registrations_and_admits_nobody],
);

async fn register(api: &dyn Api, event_id: EventId, email: &str) -> Reply {
    api.post(
        &format!("/events/{event_id}/registrations"),
        None,
        json!({ "email": email, "full_name": "Ann Lee" }),
    )
    .await
}

fn id_of(reply: &Reply) -> RegistrationId {
    reply.body["id"]
        .as_str()
        .and_then(|id| id.parse().ok())
        .unwrap_or_else(|| panic!("a registration: {:?}", reply.body))
}

fn token_of(reply: &Reply) -> String {
    reply.body["manage_token"]
        .as_str()
        .expect("a manage token")
        .to_owned()
}

async fn status_of(ctx: &AppContext, id: RegistrationId) -> RegistrationStatus {
    ctx.registrations
        .registration(id)
        .await
        .expect("the store")
        .expect("the registration")
        .status
}

async fn cancel_event(app: &TestApp, event_id: EventId) {
    let (_, admin) = new_admin(&app.ctx).await;
    let cancelled = app
        .api
        .call(
            Method::DELETE,
            &format!("/events/{event_id}"),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(cancelled.status, 200, "{:?}", cancelled.body);
}

fn scan(ticket: &str, bearer: &str) -> ApiRequest {
    ApiRequest::new(Method::POST, "/checkins")
        .bearer(bearer)
        .json(json!({ "ticket": ticket }))
}

/// A cancelled event admits nobody at the door, takes no edits or cancellations of its
/// registrations and promotes nobody from its waitlist (that no ticket is issued after the
/// cancellation is the stores' conformance case: here the workers race the request).
async fn a_cancelled_events_registrations_are_frozen(app: TestApp) {
    let api = app.api.as_ref();
    let owner = new_organizer(api).await;
    let event_id = create_event(
        api,
        &owner,
        json!({ "max_capacity": 2, "waitlist_enabled": true }),
    )
    .await;
    let seated = register(api, event_id, &unique_email("seated")).await;
    app.settle().await;
    register(api, event_id, &unique_email("second")).await;
    let waiting = register(api, event_id, &unique_email("waiting")).await;
    assert_eq!(waiting.body["status"], "WAITLISTED");
    let ticket = app
        .ctx
        .registrations
        .ticket(id_of(&seated))
        .await
        .unwrap()
        .expect("issued before the cancellation");

    cancel_event(&app, event_id).await;
    app.settle().await;

    let at_the_door = api.send(scan(&ticket, &owner)).await;
    assert_eq!(
        (at_the_door.status, at_the_door.code()),
        (409, "event_closed")
    );
    let (id, token) = (id_of(&seated), token_of(&seated));
    let edit = ApiRequest::new(Method::PUT, format!("/registrations/{id}"))
        .header("x-manage-token", token.as_str())
        .json(json!({ "full_name": "Ann Other" }));
    let cancel = ApiRequest::new(Method::DELETE, format!("/registrations/{id}"))
        .header("x-manage-token", token.as_str());
    for request in [edit, cancel] {
        let reply = api.send(request).await;
        assert_eq!((reply.status, reply.code()), (409, "event_closed"));
    }
    assert_eq!(
        status_of(&app.ctx, id).await,
        RegistrationStatus::Confirmed,
        "unchanged"
    );
    assert_eq!(
        status_of(&app.ctx, id_of(&waiting)).await,
        RegistrationStatus::Waitlisted,
        "nobody promoted"
    );
    assert_eq!(app.dead_letters().await, 0);
}

/// A seat held for payment when its event is cancelled: the checkout is closed, and a
/// payment that still comes is refunded, never confirmed.
async fn a_cancelled_events_holds_close_and_their_payments_come_back(app: TestApp) {
    let api = app.api.as_ref();
    let owner = new_organizer(api).await;
    let event_id = create_event(
        api,
        &owner,
        json!({ "max_capacity": 5, "price_cents": 2500, "currency": "EUR" }),
    )
    .await;
    let held = register(api, event_id, &unique_email("held")).await;
    assert_eq!(held.body["status"], "PENDING_PAYMENT");
    let id = id_of(&held);
    let checkout_id = app
        .ctx
        .registrations
        .registration(id)
        .await
        .unwrap()
        .and_then(|r| r.hold)
        .and_then(|hold| hold.checkout_id)
        .expect("a checkout");
    // Paid at the provider a moment before; the webhook arrives after the cancellation.
    let webhook = app.pay(id, OffsetDateTime::now_utc()).await;

    cancel_event(&app, event_id).await;
    app.settle().await;
    let late = deliver_webhook(api, &webhook).await;
    assert_eq!(
        (late.status, &late.body["outcome"]),
        (200, &json!("refunded")),
        "{:?}",
        late.body
    );
    app.settle().await;
    assert_eq!(
        status_of(&app.ctx, id).await,
        RegistrationStatus::PendingPayment,
        "never confirmed"
    );
    assert_eq!(app.refunds().len(), 1, "refunded once");

    // A hold whose attendee had not paid yet: its checkout is closed.
    let other = create_event(
        api,
        &owner,
        json!({ "max_capacity": 5, "price_cents": 2500, "currency": "EUR" }),
    )
    .await;
    let unpaid = register(api, other, &unique_email("unpaid")).await;
    let unpaid_checkout = app
        .ctx
        .registrations
        .registration(id_of(&unpaid))
        .await
        .unwrap()
        .and_then(|r| r.hold)
        .and_then(|hold| hold.checkout_id)
        .expect("a checkout");
    assert!(app.checkout_open(&unpaid_checkout));
    cancel_event(&app, other).await;
    app.settle().await;
    assert!(!app.checkout_open(&unpaid_checkout));
    assert!(!app.checkout_open(&checkout_id));
    assert_eq!(app.dead_letters().await, 0);
}

/// Once an event is over (its end, or a day after its start), it takes no registration and
/// its door admits nobody — the handlers decide on the event they read, at the clock's now.
async fn an_event_that_is_over_takes_no_registrations_and_admits_nobody(app: TestApp) {
    let api = app.api.as_ref();
    let owner = new_organizer(api).await;
    let starts = OffsetDateTime::now_utc() + time::Duration::days(2);
    let event_id = create_event(
        api,
        &owner,
        json!({ "max_capacity": 5, "date": starts.format(&Rfc3339).unwrap() }),
    )
    .await;
    let seated = register(api, event_id, &unique_email("seated")).await;
    app.settle().await;
    let ticket = app
        .ctx
        .registrations
        .ticket(id_of(&seated))
        .await
        .unwrap()
        .expect("issued");

    // Three days on: a day after the start has passed.
    let later = LambdaApi {
        ctx: Arc::new(AppContext {
            clock: Arc::new(LaterClock(time::Duration::days(3))),
            ..(*app.ctx).clone()
        }),
    };
    let too_late = register(&later, event_id, &unique_email("too-late")).await;
    assert_eq!((too_late.status, too_late.code()), (409, "event_ended"));
    let at_the_door = later.send(scan(&ticket, &owner)).await;
    assert_eq!(
        (at_the_door.status, at_the_door.code()),
        (409, "event_ended")
    );
    // On the day itself, the door opens.
    let on_the_day = LambdaApi {
        ctx: Arc::new(AppContext {
            clock: Arc::new(LaterClock(time::Duration::days(2))),
            ..(*app.ctx).clone()
        }),
    };
    assert_eq!(on_the_day.send(scan(&ticket, &owner)).await.status, 200);
}
