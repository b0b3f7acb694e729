//! Paid events in both modes: a seat held while the attendee pays, the signed webhook that
//! confirms it, the expirer that releases lapsed holds and passes the seat to the waitlist as
//! an offer, late payments and refunds, attendee edits, money in the report — and the Stripe
//! adapter against its stand-in.

use std::collections::HashSet;
use std::sync::Arc;

use evreg::domain::{EventId, Registration, RegistrationId, RegistrationStatus};
use evreg::handlers::schedules::holds_expirer::run as expire_holds;
use evreg::AppContext;
use evreg_tests::api::{
    create_event, deliver_webhook, new_organizer, Api, ApiRequest, LambdaApi, Reply,
};
use evreg_tests::apps::TestApp;
use evreg_tests::clock::LaterClock;
use evreg_tests::fixtures::unique_email;
use evreg_tests::mailbox::text_part;
use http::Method;
use serde_json::{json, Value};
use time::format_description::well_known::Rfc3339;
use time::{Duration, OffsetDateTime};

evreg_tests::both_modes!("payments":
    payments_webhook => [
        a_paid_registration_holds_its_seat_until_the_webhook_confirms_it,
        forged_stale_and_replayed_webhooks_change_nothing,
        a_late_payment_is_refunded_and_the_attendee_mailed,
    ],
    holds_expirer => [
        webhook_and_expirer_racing_on_fifty_holds_end_one_way_each,
        lapsed_holds_pass_their_seats_to_the_waitlist_in_order,
    ],
    events_update => [a_capacity_raise_gives_the_new_seats_to_the_queue_first],
    registrations_cancel => [refunds_follow_the_policy_and_admins_may_always_refund],
    events_cancel => [cancelling_a_paid_event_refunds_everyone_once],
    registrations_update => [attendees_change_their_name_and_phone_but_not_their_email],
);

const PRICE: u64 = 1500;
/// Past every test event's payment window (30 minutes by default).
const AFTER_THE_WINDOW: Duration = Duration::minutes(31);

fn rfc3339(at: OffsetDateTime) -> String {
    at.format(&Rfc3339).expect("a time")
}

/// A published paid event of `owner`'s, `fields` on top.
async fn paid_event(api: &dyn Api, owner: &str, fields: Value) -> EventId {
    let mut body = json!({ "price_cents": PRICE, "currency": "EUR", "max_capacity": 10 });
    if let (Some(body), Value::Object(fields)) = (body.as_object_mut(), fields) {
        body.extend(fields);
    }
    create_event(api, owner, body).await
}

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
        .expect("a registration id")
}

async fn stored(ctx: &AppContext, id: RegistrationId) -> Registration {
    ctx.registrations
        .registration(id)
        .await
        .expect("the store")
        .expect("the registration")
}

/// `ctx` with its clock `by` ahead.
fn later(ctx: &Arc<AppContext>, by: Duration) -> Arc<AppContext> {
    Arc::new(AppContext {
        clock: Arc::new(LaterClock(by)),
        ..(**ctx).clone()
    })
}

/// The registrations of `event_id` in `status`, oldest first.
async fn in_status(
    ctx: &AppContext,
    event_id: EventId,
    status: RegistrationStatus,
) -> Vec<Registration> {
    ctx.registrations
        .registrations(event_id, Some(status), 1000, None)
        .await
        .expect("the listing")
        .items
}

async fn report(api: &dyn Api, owner: &str, event_id: EventId) -> Value {
    let report = api
        .get(&format!("/events/{event_id}/report"), Some(owner))
        .await;
    assert_eq!(report.status, 200, "{:?}", report.body);
    report.body
}

async fn a_paid_registration_holds_its_seat_until_the_webhook_confirms_it(app: TestApp) {
    let api = app.api.as_ref();
    let owner = new_organizer(api).await;
    let event_id = paid_event(api, &owner, json!({ "max_capacity": 1 })).await;
    let email = unique_email("paid");

    let before = OffsetDateTime::now_utc();
    let held = register(api, event_id, &email).await;
    assert_eq!(held.status, 201, "{:?}", held.body);
    assert_eq!(held.body["status"], "PENDING_PAYMENT");
    let checkout_url = held.body["checkout_url"].as_str().expect("a checkout url");
    assert!(checkout_url.starts_with("http"), "{checkout_url}");
    let expires = OffsetDateTime::parse(held.body["hold_expires_at"].as_str().unwrap(), &Rfc3339)
        .expect("an expiry");
    assert!(expires >= before + Duration::minutes(30) - Duration::seconds(1));
    assert!(expires <= OffsetDateTime::now_utc() + Duration::minutes(30));
    assert_eq!(held.body["hold"]["amount_cents"], PRICE);
    let id = id_of(&held);
    // The held seat is taken: nobody else gets it while the attendee pays.
    assert_eq!(
        register(api, event_id, &unique_email("late")).await.code(),
        "event_full"
    );

    let webhook = app.pay(id, OffsetDateTime::now_utc()).await;
    let paid = deliver_webhook(api, &webhook).await;
    assert_eq!(paid.status, 200, "{:?}", paid.body);
    assert_eq!(paid.body["outcome"], "confirmed");
    let registration = stored(&app.ctx, id).await;
    assert_eq!(registration.status, RegistrationStatus::Confirmed);
    let payment = registration.payment.expect("the payment");
    assert_eq!(
        (payment.amount_cents, payment.currency.as_str()),
        (PRICE, "EUR")
    );
    assert_eq!(app.ctx.events.confirmed_count(event_id).await.unwrap(), 1);

    app.settle().await;
    let mail = app.mail_to(&email).await;
    assert_eq!(mail.len(), 1, "one confirmation, with the ticket");
    assert!(text_part(&mail[0], "text/plain")
        .unwrap()
        .contains("You're registered"));
    assert!(app.ctx.registrations.ticket(id).await.unwrap().is_some());
    let figures = report(api, &owner, event_id).await;
    assert_eq!(
        (
            &figures["registered"],
            &figures["pending"],
            &figures["revenue_cents"],
            &figures["pending_cents"]
        ),
        (&json!(1), &json!(0), &json!(PRICE), &json!(0))
    );
    assert_eq!(app.dead_letters().await, 0);
}

async fn forged_stale_and_replayed_webhooks_change_nothing(app: TestApp) {
    let api = app.api.as_ref();
    let owner = new_organizer(api).await;
    let event_id = paid_event(api, &owner, json!({})).await;
    let id = id_of(&register(api, event_id, &unique_email("attack")).await);
    let now = OffsetDateTime::now_utc();
    let (body, signature) = app.pay(id, now).await;
    let secret = app.webhook_secret();
    let sign = |secret: &str, at: OffsetDateTime, body: &str| {
        evreg::payments::signature::sign(secret, at.unix_timestamp(), body.as_bytes())
    };

    let unsigned = api
        .send(ApiRequest::new(Method::POST, "/payments/webhook").text(body.as_str()))
        .await;
    let wrong_secret =
        deliver_webhook(api, &(body.clone(), sign("whsec_attacker", now, &body))).await;
    let stale = deliver_webhook(
        api,
        &(
            body.clone(),
            sign(&secret, now - Duration::seconds(301), &body),
        ),
    )
    .await;
    let tampered = body.replace(&PRICE.to_string(), "1");
    let changed = deliver_webhook(api, &(tampered, signature.clone())).await;
    let garbage = deliver_webhook(api, &(body.clone(), "t=oops".to_owned())).await;
    for (case, reply) in [
        ("unsigned", &unsigned),
        ("wrong secret", &wrong_secret),
        ("stale", &stale),
        ("changed after signing", &changed),
        ("garbage signature", &garbage),
    ] {
        assert_eq!(
            (reply.status, reply.code()),
            (400, "invalid_webhook"),
            "{case}"
        );
    }
    assert_eq!(
        stored(&app.ctx, id).await.status,
        RegistrationStatus::PendingPayment,
        "nothing changed"
    );

    // A header signed by the old and the new secret while one rolls: any match holds.
    let rotating = format!(
        "{},{}",
        sign("whsec_old", now, &body),
        signature.split(',').nth(1).expect("v1")
    );
    let paid = deliver_webhook(api, &(body.clone(), rotating)).await;
    assert_eq!(paid.body["outcome"], "confirmed", "{:?}", paid.body);
    let replayed = deliver_webhook(api, &(body, signature)).await;
    assert_eq!(replayed.status, 200, "{:?}", replayed.body);
    assert_eq!(replayed.body["handled"], true);
    assert_eq!(
        replayed.body.get("outcome"),
        None,
        "acknowledged, not acted on again"
    );

    let other = json!({ "id": "evt_other", "type": "customer.created", "data": { "object": {} } })
        .to_string();
    let ignored = deliver_webhook(api, &(other.clone(), sign(&secret, now, &other))).await;
    assert_eq!(
        (ignored.status, &ignored.body["handled"]),
        (200, &json!(false))
    );
    app.settle().await;
    let registration = stored(&app.ctx, id).await;
    assert_eq!(registration.status, RegistrationStatus::Confirmed);
    assert_eq!(registration.payment.unwrap().amount_cents, PRICE);
    assert!(app.refunds().is_empty(), "nothing refunded");
}

async fn a_late_payment_is_refunded_and_the_attendee_mailed(app: TestApp) {
    let api = app.api.as_ref();
    let owner = new_organizer(api).await;
    let event_id = paid_event(api, &owner, json!({})).await;
    let email = unique_email("slow");
    let id = id_of(&register(api, event_id, &email).await);
    // The attendee pays at the last moment; the webhook reaches evreg after the expirer ran
    // (Stripe retries deliveries for days).
    let webhook = app.pay(id, OffsetDateTime::now_utc()).await;

    let released = expire_holds(&later(&app.ctx, AFTER_THE_WINDOW))
        .await
        .expect("the expirer");
    assert_eq!(released, 1);
    assert_eq!(
        stored(&app.ctx, id).await.status,
        RegistrationStatus::Cancelled
    );
    assert_eq!(app.ctx.events.confirmed_count(event_id).await.unwrap(), 0);
    app.settle().await;

    let late = deliver_webhook(api, &webhook).await;
    assert_eq!(
        (late.status, &late.body["outcome"]),
        (200, &json!("refunded"))
    );
    app.settle().await;
    let registration = stored(&app.ctx, id).await;
    assert_eq!(
        registration.status,
        RegistrationStatus::Cancelled,
        "never confirmed"
    );
    let payment = registration.payment.expect("the money is on record");
    assert_eq!(payment.refunded_cents, PRICE);
    assert_eq!(app.refunds(), [(payment.payment_id, PRICE)]);
    let mail: Vec<String> = app
        .mail_to(&email)
        .await
        .iter()
        .filter_map(|raw| text_part(raw, "text/plain"))
        .collect();
    assert!(
        mail.iter()
            .any(|text| text.contains("was not paid in time")),
        "{mail:?}"
    );
    assert!(
        mail.iter().any(|text| text.contains("refunded 15.00 EUR")),
        "{mail:?}"
    );
    let figures = report(api, &owner, event_id).await;
    assert_eq!(
        (
            &figures["revenue_cents"],
            &figures["refunded_cents"],
            &figures["registered"]
        ),
        (&json!(0), &json!(PRICE), &json!(0))
    );
}

async fn webhook_and_expirer_racing_on_fifty_holds_end_one_way_each(app: TestApp) {
    const HOLDS: usize = 50;
    let api = app.api.as_ref();
    let owner = new_organizer(api).await;
    let event_id = paid_event(api, &owner, json!({ "max_capacity": HOLDS })).await;
    let mut ids = Vec::new();
    for i in 0..HOLDS {
        let held = register(api, event_id, &unique_email(&format!("race{i}"))).await;
        assert_eq!(held.status, 201, "{:?}", held.body);
        ids.push(id_of(&held));
    }
    // The webhook lands a moment before each hold lapses, the expirer a moment after:
    // both conditions can hold, and the store lets exactly one of them win.
    let webhook_ctx = later(&app.ctx, Duration::minutes(30) - Duration::seconds(3));
    let expirer_ctx = later(&app.ctx, Duration::minutes(30) + Duration::seconds(3));
    let webhook_api = Arc::new(LambdaApi {
        ctx: webhook_ctx.clone(),
    });
    let mut webhooks = Vec::new();
    for id in &ids {
        webhooks.push(app.pay(*id, webhook_ctx.clock.now()).await);
    }
    let deliveries = webhooks.into_iter().map(|webhook| {
        let api = webhook_api.clone();
        tokio::spawn(async move { deliver_webhook(api.as_ref(), &webhook).await })
    });
    let expirer = tokio::spawn(async move { expire_holds(&expirer_ctx).await });
    let mut outcomes = Vec::new();
    for delivery in deliveries.collect::<Vec<_>>() {
        let reply = delivery.await.expect("a delivery");
        assert_eq!(reply.status, 200, "{:?}", reply.body);
        outcomes.push(
            reply.body["outcome"]
                .as_str()
                .unwrap_or_default()
                .to_owned(),
        );
    }
    let released = expirer.await.expect("the expirer").expect("expired");
    app.settle().await;

    let mut confirmed = 0;
    for id in &ids {
        let registration = stored(&app.ctx, *id).await;
        let payment = registration
            .payment
            .clone()
            .expect("every webhook recorded its money");
        match registration.status {
            RegistrationStatus::Confirmed => {
                confirmed += 1;
                assert_eq!(payment.refunded_cents, 0, "confirmed and refunded: {id}");
            }
            RegistrationStatus::Cancelled => {
                assert_eq!(
                    payment.refunded_cents, PRICE,
                    "released but not refunded: {id}"
                )
            }
            other => panic!("{id} ended {other:?}"),
        }
    }
    assert_eq!(
        confirmed + released,
        HOLDS,
        "each hold ended exactly one way"
    );
    assert_eq!(
        outcomes.iter().filter(|o| *o == "confirmed").count(),
        confirmed
    );
    assert_eq!(
        app.ctx.events.confirmed_count(event_id).await.unwrap() as usize,
        confirmed,
        "no confirmed registration without a seat, no seat without one"
    );
    assert_eq!(
        app.refunds().len(),
        released,
        "every released hold's money went back"
    );
    assert_eq!(app.dead_letters().await, 0);
}

async fn lapsed_holds_pass_their_seats_to_the_waitlist_in_order(app: TestApp) {
    const SEATS: usize = 100;
    const WAITING: usize = 130;
    let api = app.api.as_ref();
    let owner = new_organizer(api).await;
    let event_id = paid_event(
        api,
        &owner,
        json!({ "max_capacity": SEATS, "waitlist_enabled": true }),
    )
    .await;
    let mut holders = Vec::new();
    for i in 0..SEATS {
        let held = register(api, event_id, &unique_email(&format!("hold{i}"))).await;
        assert_eq!(held.body["status"], "PENDING_PAYMENT", "{:?}", held.body);
        holders.push(id_of(&held));
    }
    let lapsing_checkout = stored(&app.ctx, holders[0])
        .await
        .hold
        .and_then(|hold| hold.checkout_id)
        .expect("a checkout");
    let mut queue = Vec::new();
    for i in 0..WAITING {
        let queued = register(api, event_id, &unique_email(&format!("wait{i}"))).await;
        assert_eq!(queued.body["status"], "WAITLISTED", "{:?}", queued.body);
        queue.push(id_of(&queued));
    }

    let started = std::time::Instant::now();
    let released = expire_holds(&later(&app.ctx, AFTER_THE_WINDOW))
        .await
        .expect("the expirer");
    let took = started.elapsed();
    eprintln!(
        "expired {released} holds in {:.2} s ({:.0}/s), each promoting the head of the waitlist",
        took.as_secs_f64(),
        released as f64 / took.as_secs_f64()
    );
    assert_eq!(released, SEATS);
    assert_eq!(
        app.ctx.events.confirmed_count(event_id).await.unwrap() as usize,
        SEATS,
        "the seats passed on, never above capacity"
    );
    let offered: HashSet<RegistrationId> =
        in_status(&app.ctx, event_id, RegistrationStatus::PendingPayment)
            .await
            .into_iter()
            .inspect(|r| assert!(r.hold.as_ref().is_some_and(|h| h.offer), "an offer: {r:?}"))
            .map(|r| r.id)
            .collect();
    let first_in_line: HashSet<RegistrationId> = queue[..SEATS].iter().copied().collect();
    assert_eq!(offered, first_in_line, "the first in line got the seats");
    let still_waiting: Vec<RegistrationId> =
        in_status(&app.ctx, event_id, RegistrationStatus::Waitlisted)
            .await
            .into_iter()
            .map(|r| r.id)
            .collect();
    assert_eq!(still_waiting, queue[SEATS..], "the rest keep their order");

    // Each offer gets its checkout, and its attendee the link; lapsed checkouts close.
    app.settle().await;
    assert!(!app.checkout_open(&lapsing_checkout));
    let first = stored(&app.ctx, queue[0]).await;
    let hold = first.hold.clone().expect("the offer");
    assert!(hold.checkout_url.is_some(), "{hold:?}");
    assert!(hold.expires_at > OffsetDateTime::now_utc() + Duration::hours(11));
    let mail = app.mail_to(&first.email).await;
    let texts: Vec<String> = mail
        .iter()
        .filter_map(|m| text_part(m, "text/plain"))
        .collect();
    assert!(
        texts.iter().any(
            |t| t.contains("held for you") && t.contains(hold.checkout_url.as_deref().unwrap())
        ),
        "{texts:?}"
    );
    assert_eq!(app.dead_letters().await, 0);
}

async fn a_capacity_raise_gives_the_new_seats_to_the_queue_first(app: TestApp) {
    let api = app.api.as_ref();
    let owner = new_organizer(api).await;
    for price in [0, PRICE] {
        let event_id = paid_event(
            api,
            &owner,
            json!({ "price_cents": price, "max_capacity": 2, "waitlist_enabled": true }),
        )
        .await;
        for i in 0..2 {
            assert_eq!(
                register(api, event_id, &unique_email(&format!("s{i}")))
                    .await
                    .status,
                201
            );
        }
        let mut queue = Vec::new();
        for i in 0..3 {
            let queued = register(api, event_id, &unique_email(&format!("q{i}"))).await;
            assert_eq!(queued.body["status"], "WAITLISTED");
            queue.push(id_of(&queued));
        }
        let event = api
            .get(&format!("/events/{event_id}"), Some(&owner))
            .await
            .body;
        let mut raised = event.clone();
        raised["max_capacity"] = json!(4);
        let put = api
            .call(
                Method::PUT,
                &format!("/events/{event_id}"),
                Some(&owner),
                Some(raised),
            )
            .await;
        assert_eq!(put.status, 200, "{:?}", put.body);
        let promoted_to = if price == 0 {
            RegistrationStatus::Confirmed
        } else {
            RegistrationStatus::PendingPayment
        };
        for id in &queue[..2] {
            assert_eq!(
                stored(&app.ctx, *id).await.status,
                promoted_to,
                "price {price}"
            );
        }
        assert_eq!(
            stored(&app.ctx, queue[2]).await.status,
            RegistrationStatus::Waitlisted
        );
        // A newcomer queues behind, even though the event has (held) room to spare.
        let newcomer = register(api, event_id, &unique_email("new")).await;
        assert_eq!(
            newcomer.body["status"], "WAITLISTED",
            "price {price}: {:?}",
            newcomer.body
        );
        assert_eq!(app.ctx.events.confirmed_count(event_id).await.unwrap(), 4);
    }
    app.settle().await;
    assert_eq!(app.dead_letters().await, 0);
}

/// A registration of `event_id` held and paid.
async fn paid_registration(app: &TestApp, event_id: EventId) -> (RegistrationId, String) {
    let held = register(app.api.as_ref(), event_id, &unique_email("paid")).await;
    assert_eq!(held.status, 201, "{:?}", held.body);
    let id = id_of(&held);
    let token = held.body["manage_token"]
        .as_str()
        .expect("a token")
        .to_owned();
    let webhook = app.pay(id, OffsetDateTime::now_utc()).await;
    assert_eq!(
        deliver_webhook(app.api.as_ref(), &webhook).await.body["outcome"],
        "confirmed"
    );
    (id, token)
}

async fn refunds_follow_the_policy_and_admins_may_always_refund(app: TestApp) {
    let api = app.api.as_ref();
    let owner = new_organizer(api).await;
    let (_, admin) = evreg_tests::api::new_admin(&app.ctx).await;
    let soon = paid_event(
        api,
        &owner,
        json!({ "date": rfc3339(OffsetDateTime::now_utc() + Duration::hours(12)) }),
    )
    .await;
    let later_event = paid_event(
        api,
        &owner,
        json!({ "date": rfc3339(OffsetDateTime::now_utc() + Duration::hours(48)) }),
    )
    .await;
    // 48 hours ahead, the default policy (24 hours) refunds the attendee.
    let (inside, token) = paid_registration(&app, later_event).await;
    cancel(api, inside, Some(token), None).await;
    // 12 hours ahead it does not…
    let (outside, token) = paid_registration(&app, soon).await;
    cancel(api, outside, Some(token), None).await;
    // …unless an ADMIN cancels.
    let (by_admin, _) = paid_registration(&app, soon).await;
    cancel(api, by_admin, None, Some(admin)).await;
    app.settle().await;

    let refunded = |registration: Registration| registration.payment.map(|p| p.refunded_cents);
    assert_eq!(refunded(stored(&app.ctx, inside).await), Some(PRICE));
    assert_eq!(refunded(stored(&app.ctx, outside).await), Some(0));
    assert_eq!(refunded(stored(&app.ctx, by_admin).await), Some(PRICE));
    assert_eq!(app.refunds().len(), 2);
    let figures = report(api, &owner, soon).await;
    assert_eq!(
        (&figures["revenue_cents"], &figures["refunded_cents"]),
        (&json!(PRICE), &json!(PRICE)),
        "kept the one outside the policy"
    );
}

/// `DELETE /registrations/{id}` with a manage token or as `bearer`; asserts the 200.
async fn cancel(api: &dyn Api, id: RegistrationId, token: Option<String>, bearer: Option<String>) {
    let mut request = ApiRequest::new(Method::DELETE, format!("/registrations/{id}"));
    if let Some(token) = token {
        request = request.header("x-manage-token", token);
    }
    if let Some(bearer) = bearer {
        request = request.bearer(&bearer);
    }
    let reply = api.send(request).await;
    assert_eq!(reply.status, 200, "{:?}", reply.body);
}

async fn cancelling_a_paid_event_refunds_everyone_once(app: TestApp) {
    const PAID: usize = 55;
    let api = app.api.as_ref();
    let owner = new_organizer(api).await;
    let (_, admin) = evreg_tests::api::new_admin(&app.ctx).await;
    let event_id = paid_event(api, &owner, json!({ "max_capacity": 60 })).await;
    for _ in 0..PAID {
        paid_registration(&app, event_id).await;
    }
    // One more only held: nothing to refund.
    let unpaid = id_of(&register(api, event_id, &unique_email("unpaid")).await);
    let cancelled = api
        .call(
            Method::DELETE,
            &format!("/events/{event_id}"),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(cancelled.status, 200, "{:?}", cancelled.body);
    app.settle().await;
    assert_eq!(
        app.refunds().len(),
        PAID,
        "every paid registration, in pages"
    );

    // A redelivery (here: the event's cancellation published again) refunds nobody twice.
    let event = app.ctx.events.event(event_id).await.unwrap().unwrap();
    let again = evreg::domain::Envelope::new(
        evreg::domain::DomainEvent::EventCancelled { event },
        OffsetDateTime::now_utc(),
    );
    app.ctx.bus.publish(&[again]).await.unwrap();
    app.settle().await;
    let refunds = app.refunds();
    assert_eq!(refunds.len(), PAID);
    let payments: HashSet<&String> = refunds.iter().map(|(payment, _)| payment).collect();
    assert_eq!(payments.len(), PAID, "each payment refunded once");
    assert!(stored(&app.ctx, unpaid).await.payment.is_none());
    let figures = report(api, &owner, event_id).await;
    assert_eq!(figures["revenue_cents"], 0);
    assert_eq!(figures["refunded_cents"], PRICE * PAID as u64);
    assert_eq!(app.dead_letters().await, 0);
}

async fn attendees_change_their_name_and_phone_but_not_their_email(app: TestApp) {
    let api = app.api.as_ref();
    let owner = new_organizer(api).await;
    let event_id = create_event(api, &owner, json!({ "max_capacity": 10 })).await;
    let email = unique_email("edit");
    let created = register(api, event_id, &email).await;
    let (id, token) = (
        id_of(&created),
        created.body["manage_token"].as_str().unwrap().to_owned(),
    );
    let put = |body: Value| {
        let request = ApiRequest::new(Method::PUT, format!("/registrations/{id}"))
            .header("x-manage-token", token.as_str())
            .json(body);
        app.api.send(request)
    };
    let changed = put(json!({ "full_name": " Ann Lee-Chen ", "phone": "+44 20 7946 0958", "email": email.to_uppercase() })).await;
    assert_eq!(changed.status, 200, "{:?}", changed.body);
    assert_eq!(
        (
            &changed.body["full_name"],
            &changed.body["phone"],
            &changed.body["email"]
        ),
        (
            &json!("Ann Lee-Chen"),
            &json!("+44 20 7946 0958"),
            &json!(email)
        )
    );
    let refused =
        put(json!({ "full_name": "", "phone": "call me", "email": "someone@else.org" })).await;
    assert_eq!(refused.status, 422, "{:?}", refused.body);
    let fields: Vec<&str> = refused.body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["email", "full_name", "phone"]);
    let unknown_field = put(json!({ "full_name": "A", "status": "CONFIRMED" })).await;
    assert_eq!(unknown_field.status, 422);
    let stranger = app
        .api
        .send(
            ApiRequest::new(Method::PUT, format!("/registrations/{id}"))
                .header("x-manage-token", "not-the-token")
                .json(json!({ "full_name": "Mallory" })),
        )
        .await;
    assert_eq!(stranger.status, 403);
    let export = app
        .api
        .send(
            ApiRequest::new(Method::GET, format!("/events/{event_id}/registrations"))
                .bearer(&owner)
                .header("accept", "text/csv"),
        )
        .await;
    let csv = String::from_utf8(export.bytes).unwrap();
    assert!(csv.contains("Ann Lee-Chen"), "{csv}");

    let cancel = app
        .api
        .send(
            ApiRequest::new(Method::DELETE, format!("/registrations/{id}"))
                .header("x-manage-token", token.as_str()),
        )
        .await;
    assert_eq!(cancel.status, 200);
    let after_cancel = put(json!({ "full_name": "Too Late" })).await;
    assert_eq!(
        (after_cancel.status, after_cancel.code()),
        (409, "registration_cancelled")
    );
    app.settle().await;
    assert_eq!(app.dead_letters().await, 0);
}

/// The Stripe adapter over HTTP against the stand-in: what it sends, and what it makes of
/// Stripe's answers.
mod stripe {
    use evreg::adapters::aws::StripePayments;
    use evreg::domain::{EventId, RegistrationId};
    use evreg::ports::{CheckoutRequest, Payments};
    use evreg_tests::stripe::StripeStandIn;
    use time::{Duration, OffsetDateTime};

    fn request(expires_in: Duration) -> CheckoutRequest {
        CheckoutRequest {
            registration_id: RegistrationId::now_v7(),
            event_id: EventId::now_v7(),
            description: "Rust Meetup".into(),
            amount_cents: 1500,
            currency: "EUR".into(),
            customer_email: "ann@example.org".into(),
            expires_at: OffsetDateTime::now_utc() + expires_in,
            return_url: "https://evreg.test/registrations/x?token=t".into(),
        }
    }

    #[tokio::test]
    async fn a_checkout_is_created_once_per_hold_and_expires_once() {
        let stand_in = StripeStandIn::start("sk_test_key").await;
        let stripe = StripePayments::new(&stand_in.url, "sk_test_key".into(), vec![]);
        let hold = request(Duration::minutes(10));
        let first = stripe.create_checkout(&hold).await.expect("a checkout");
        let retried = stripe
            .create_checkout(&hold)
            .await
            .expect("the same checkout");
        assert_eq!(
            first, retried,
            "the idempotency key replays the first session"
        );
        let sessions = stand_in.sessions();
        assert_eq!(sessions.len(), 1);
        assert_eq!(
            (sessions[0].amount, sessions[0].currency.as_str()),
            (1500, "eur")
        );
        let now = OffsetDateTime::now_utc().unix_timestamp();
        assert!(
            sessions[0].expires_at >= now + 1800,
            "a 10-minute hold still gets Stripe's 30-minute minimum"
        );
        let long = stripe
            .create_checkout(&request(Duration::days(3)))
            .await
            .unwrap();
        let long = stand_in
            .sessions()
            .into_iter()
            .find(|s| s.id == long.id)
            .unwrap();
        assert!(
            long.expires_at <= now + 86_400 + 60,
            "capped at Stripe's 24 hours"
        );

        stripe.expire_checkout(&first.id).await.expect("expired");
        stripe
            .expire_checkout(&first.id)
            .await
            .expect("expiring a closed session is fine");
        assert_eq!(stand_in.sessions()[0].status, "expired");
    }

    #[tokio::test]
    async fn refunds_are_made_once_per_key_and_refusals_are_errors() {
        let stand_in = StripeStandIn::start("sk_test_key").await;
        let stripe = StripePayments::new(&stand_in.url, "sk_test_key".into(), vec![]);
        let first = stripe
            .refund("pi_1", 1500, "refund-r1-cancelled")
            .await
            .unwrap();
        let again = stripe
            .refund("pi_1", 1500, "refund-r1-cancelled")
            .await
            .unwrap();
        assert_eq!(first, again);
        assert_eq!(stand_in.refunds().len(), 1);
        let reused = stripe.refund("pi_2", 100, "refund-r1-cancelled").await;
        assert!(
            reused.is_err(),
            "a key reused with other parameters is Stripe's error"
        );
        let wrong_key = StripePayments::new(&stand_in.url, "sk_wrong".into(), vec![]);
        let refused = wrong_key.refund("pi_1", 1, "k").await.unwrap_err();
        assert!(
            refused.0.to_string().contains("Invalid API Key"),
            "{refused:?}"
        );
    }
}
