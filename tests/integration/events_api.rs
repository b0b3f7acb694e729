//! The organizer's events API: the store and read-model methods on both stores
//! (conformance), and the routes over the embedded dev server: updates and their
//! validation, the capacity-lowering race, cancellation notices to every registrant in
//! pages, listing filters and tamper-evident cursors, the report.

use evreg::domain::{Event, EventId, EventStatus, ProjectionChange, Registration, StatsDelta};
use evreg::ports::{ListingOrder, ListingQuery, StoreError, UpdateEventError};
use evreg_tests::api::{create_event, deliver_webhook, new_organizer, Api, ApiRequest};
use evreg_tests::apps::TestApp;
use evreg_tests::fixtures::{self, now};
use http::Method;
use serde_json::json;
use time::Duration;
use uuid::Uuid;

use evreg_tests::stores::Stores;

evreg_tests::both_stores!(
    capacity_is_never_lowered_below_the_seats_taken,
    a_slug_change_swaps_the_guard,
    listings_filter_sort_and_keep_the_newest_version,
    the_report_counts_registrations_per_day,
);

/// A published event named `name`, `days_ahead` days from now.
fn event(name: &str, days_ahead: i64) -> Event {
    Event {
        date: now() + Duration::days(days_ahead),
        ..fixtures::event(name)
    }
}

/// A confirmed registration for `event_id` with a fresh email.
fn registration(event_id: EventId) -> Registration {
    fixtures::registration(event_id, &fixtures::unique_email("reg"))
}

async fn capacity_is_never_lowered_below_the_seats_taken(s: Stores) {
    let ev = event("Capacity", 5);
    s.events.create_event(&ev, &[]).await.unwrap().unpublished();
    for _ in 0..3 {
        s.registrations
            .register(&registration(ev.id), &[])
            .await
            .unwrap()
            .unpublished();
    }
    let lower = Event {
        max_capacity: 2,
        ..ev.clone()
    };
    match s.events.update_event(&lower, &[]).await {
        Err(UpdateEventError::CapacityBelowConfirmed { confirmed }) => assert_eq!(confirmed, 3),
        other => panic!("expected a refusal, got {other:?}"),
    }
    let exact = Event {
        max_capacity: 3,
        name: "Renamed".into(),
        ..ev.clone()
    };
    s.events
        .update_event(&exact, &[])
        .await
        .unwrap()
        .unpublished();
    assert_eq!(
        s.events.event(ev.id).await.unwrap().unwrap().name,
        "Renamed"
    );
    assert_eq!(
        s.events.confirmed_count(ev.id).await.unwrap(),
        3,
        "seats stay"
    );
    assert!(matches!(
        s.registrations.register(&registration(ev.id), &[]).await,
        Err(StoreError::EventFull)
    ));
    let unknown = event("Unknown", 1);
    assert!(matches!(
        s.events.update_event(&unknown, &[]).await,
        Err(UpdateEventError::Store(StoreError::EventNotFound))
    ));
}

async fn a_slug_change_swaps_the_guard(s: Stores) {
    let (a, b) = (event("A", 1), event("B", 1));
    s.events.create_event(&a, &[]).await.unwrap().unpublished();
    s.events.create_event(&b, &[]).await.unwrap().unpublished();
    let taken = Event {
        slug: b.slug.clone(),
        ..a.clone()
    };
    assert!(matches!(
        s.events.update_event(&taken, &[]).await,
        Err(UpdateEventError::Store(StoreError::SlugTaken))
    ));
    let moved = Event {
        slug: format!("{}-moved", a.slug),
        ..a.clone()
    };
    s.events
        .update_event(&moved, &[])
        .await
        .unwrap()
        .unpublished();
    // The old slug is free again: another event may take it.
    let reuse = Event {
        slug: a.slug.clone(),
        ..event("C", 1)
    };
    s.events
        .create_event(&reuse, &[])
        .await
        .unwrap()
        .unpublished();
    let clash = Event {
        slug: moved.slug.clone(),
        ..event("D", 1)
    };
    assert!(matches!(
        s.events.create_event(&clash, &[]).await,
        Err(StoreError::SlugTaken)
    ));
}

async fn listings_filter_sort_and_keep_the_newest_version(s: Stores) {
    // A venue unique to this run keeps other cases' listings out of the way.
    let venue = format!("Venue {}", Uuid::new_v4().simple());
    let mut ids = Vec::new();
    for (i, name) in ["Rust Night", "Go Night", "RUST workshop"]
        .iter()
        .enumerate()
    {
        let ev = Event {
            venue: venue.clone(),
            created_at: now() + Duration::seconds(i as i64),
            ..event(name, 10 - i as i64)
        };
        let id = Uuid::now_v7();
        assert!(s
            .read
            .apply(id, &ProjectionChange::Listing(ev.clone()))
            .await
            .unwrap());
        ids.push(ev);
    }
    let query = |text: Option<&str>, order| ListingQuery {
        venue: Some(venue.to_uppercase()),
        text: text.map(str::to_owned),
        order,
        ..ListingQuery::default()
    };
    let names = |page: &evreg::ports::Page<(Event, evreg::domain::EventStats)>| {
        page.items
            .iter()
            .map(|(e, _)| e.name.clone())
            .collect::<Vec<_>>()
    };
    let by_date = s
        .read
        .listings(&query(None, ListingOrder::Date), 10, None)
        .await
        .unwrap();
    assert_eq!(names(&by_date), ["RUST workshop", "Go Night", "Rust Night"]);
    let rust = s
        .read
        .listings(&query(Some("rust"), ListingOrder::Newest), 1, None)
        .await
        .unwrap();
    assert_eq!(names(&rust), ["RUST workshop"]);
    let next = s
        .read
        .listings(
            &query(Some("rust"), ListingOrder::Newest),
            1,
            rust.next_cursor.as_deref(),
        )
        .await
        .unwrap();
    assert_eq!(names(&next), ["Rust Night"]);
    assert_eq!(next.next_cursor, None);
    let ranged = ListingQuery {
        from: Some(ids[1].date - Duration::hours(1)),
        to: Some(ids[1].date + Duration::hours(1)),
        ..query(None, ListingOrder::Date)
    };
    assert_eq!(
        names(&s.read.listings(&ranged, 10, None).await.unwrap()),
        ["Go Night"]
    );
    // A cancellation (newer) leaves the list; a stale EventCreated delivered late does not
    // bring it back.
    let first_version = Uuid::now_v7();
    let cancelled = Event {
        status: EventStatus::Cancelled,
        ..ids[1].clone()
    };
    s.read
        .apply(Uuid::now_v7(), &ProjectionChange::Listing(cancelled))
        .await
        .unwrap();
    s.read
        .apply(first_version, &ProjectionChange::Listing(ids[1].clone()))
        .await
        .unwrap();
    let after = s
        .read
        .listings(&query(None, ListingOrder::Date), 10, None)
        .await
        .unwrap();
    assert_eq!(names(&after), ["RUST workshop", "Rust Night"]);
    assert!(matches!(
        s.read
            .listings(&query(None, ListingOrder::Date), 10, Some("not-a-cursor"))
            .await,
        Err(StoreError::InvalidCursor)
    ));
}

async fn the_report_counts_registrations_per_day(s: Stores) {
    let ev = event("Report", 3);
    let day = |d: i64| (now() - Duration::days(d)).date();
    let changes = [(day(2), 1, 0), (day(1), 1, 0), (day(1), 0, 1)];
    for (on, registered, waitlisted) in changes {
        let change = ProjectionChange::Counters {
            event_id: ev.id,
            delta: StatsDelta {
                registered,
                waitlisted,
                ..StatsDelta::default()
            },
            registered_on: Some(on),
            money: None,
        };
        let id = Uuid::now_v7();
        assert!(s.read.apply(id, &change).await.unwrap());
        assert!(!s.read.apply(id, &change).await.unwrap(), "once per id");
    }
    let report = s.read.report(ev.id).await.unwrap();
    assert_eq!((report.stats.registered, report.stats.waitlisted), (2, 1));
    assert_eq!(report.per_day, [(day(2), 1), (day(1), 2)]);
}

// ------------------------------------------------------------------ the routes (embedded)

fn update_body(capacity: u32) -> serde_json::Value {
    json!({
        "name": "Rust Meetup", "date": "2027-03-01T18:00:00Z", "venue": "Hall B",
        "max_capacity": capacity, "price_cents": 1500, "currency": "EUR",
        "status": "PUBLISHED", "waitlist_enabled": true
    })
}

async fn register(api: &dyn Api, event_id: EventId, email: &str) -> u16 {
    api.post(
        &format!("/events/{event_id}/registrations"),
        None,
        json!({ "email": email, "full_name": "Ann Lee" }),
    )
    .await
    .status
}

evreg_tests::both_modes!("events":
    events_update => [
        updates_are_validated_authorized_and_capacity_checked,
        lowering_capacity_while_registrations_race_never_oversells,
    ],
    events_cancel => [a_cancelled_event_mails_every_registrant_in_pages],
    events_list => [listings_filter_and_refuse_tampered_cursors],
    events_report => [the_report_shows_counts_revenue_and_days],
);

async fn updates_are_validated_authorized_and_capacity_checked(app: TestApp) {
    let api = app.api.as_ref();
    let owner = new_organizer(api).await;
    let other = new_organizer(api).await;
    let id = create_event(api, &owner, json!({ "max_capacity": 5 })).await;
    let put = |token: String, id: EventId, body: serde_json::Value| {
        api.send(
            ApiRequest::new(Method::PUT, format!("/events/{id}"))
                .bearer(&token)
                .json(body),
        )
    };
    assert_eq!(put(other.clone(), id, update_body(5)).await.status, 403);
    assert_eq!(
        put(owner.clone(), EventId::now_v7(), update_body(5))
            .await
            .status,
        404
    );
    let mut bad = update_body(5);
    bad["currency"] = json!("XYZ");
    bad["end_date"] = json!("2027-03-01T17:00:00Z");
    bad["slug"] = json!("Not A Slug");
    let refused = put(owner.clone(), id, bad).await;
    assert_eq!(refused.status, 422);
    let fields: Vec<_> = refused.body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(fields, ["slug", "end_date", "currency"]);
    for i in 0..3 {
        assert_eq!(register(api, id, &format!("p{i}@example.org")).await, 201);
    }
    let lowered = put(owner.clone(), id, update_body(2)).await;
    assert_eq!(lowered.status, 422, "{:?}", lowered.body);
    assert_eq!(lowered.body["errors"][0]["field"], "max_capacity");
    let ok = put(owner.clone(), id, update_body(3)).await;
    assert_eq!(ok.status, 200, "{:?}", ok.body);
    assert_eq!(ok.body["venue"], "Hall B");
}

async fn lowering_capacity_while_registrations_race_never_oversells(app: TestApp) {
    let api = app.api.clone();
    let owner = new_organizer(api.as_ref()).await;
    let id = create_event(api.as_ref(), &owner, json!({ "max_capacity": 20 })).await;
    // Each registration answers CONFIRMED, WAITLISTED (201 both) or a refusal.
    let registrations = (0..20).map(|i| {
        let api = api.clone();
        tokio::spawn(async move {
            let reply = api
                .post(
                    &format!("/events/{id}/registrations"),
                    None,
                    json!({ "email": format!("r{i}@example.org"), "full_name": "Ann Lee" }),
                )
                .await;
            // The update makes the event paid: a held seat is taken too.
            reply.body["status"] == "CONFIRMED" || reply.body["status"] == "PENDING_PAYMENT"
        })
    });
    let lowering = {
        let (api, owner) = (api.clone(), owner.clone());
        tokio::spawn(async move {
            api.send(
                ApiRequest::new(Method::PUT, format!("/events/{id}"))
                    .bearer(&owner)
                    .json(update_body(8)),
            )
            .await
            .status
        })
    };
    let mut seated = 0u32;
    for registration in registrations.collect::<Vec<_>>() {
        seated += u32::from(registration.await.unwrap());
    }
    let lowered = lowering.await.unwrap();
    let event = app.ctx.events.event(id).await.unwrap().unwrap();
    let confirmed = app.ctx.events.confirmed_count(id).await.unwrap();
    assert!(
        confirmed <= event.max_capacity,
        "{confirmed} > {}",
        event.max_capacity
    );
    assert_eq!(seated, confirmed);
    assert!(lowered == 200 || lowered == 422, "{lowered}");
}

async fn a_cancelled_event_mails_every_registrant_in_pages(app: TestApp) {
    let api = app.api.as_ref();
    let owner = new_organizer(api).await;
    let (_, admin) = evreg_tests::api::new_admin(&app.ctx).await;
    let id = create_event(api, &owner, json!({ "max_capacity": 200 })).await;
    // Registered through the store: 120 registrants need three pages of notices, and the
    // store skips the tickets and confirmations this test is not about.
    let mut emails = Vec::new();
    for _ in 0..120 {
        let r = registration(id);
        app.ctx
            .registrations
            .register(&r, &[])
            .await
            .unwrap()
            .unpublished();
        emails.push(r.email);
    }
    let delete = |token: &str| {
        api.send(ApiRequest::new(Method::DELETE, format!("/events/{id}")).bearer(token))
    };
    assert_eq!(delete(&owner).await.status, 403, "ADMIN only");
    let cancelled = delete(&admin).await;
    assert_eq!(cancelled.status, 200, "{:?}", cancelled.body);
    assert_eq!(cancelled.body["status"], "CANCELLED");
    assert_eq!(delete(&admin).await.status, 409);
    app.settle().await;
    for email in &emails {
        let to_them = app
            .mail_to(email)
            .await
            .into_iter()
            .filter(|raw| raw.contains("Cancelled:"))
            .count();
        assert_eq!(to_them, 1, "{email}");
    }
    // Registration is closed, and the event left the public list.
    assert_eq!(register(api, id, "late@example.org").await, 404);
    let listed = api.get("/events?limit=100", None).await;
    assert!(!listed.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["id"] == id.to_string()));
}

async fn listings_filter_and_refuse_tampered_cursors(app: TestApp) {
    let api = app.api.as_ref();
    let owner = new_organizer(api).await;
    let venue = format!("Venue {}", Uuid::new_v4().simple());
    for (name, date) in [
        ("Rust Night", "2027-03-01T18:00:00Z"),
        ("Rust Day", "2027-04-01T18:00:00Z"),
        ("Go Night", "2027-05-01T18:00:00Z"),
    ] {
        create_event(
            api,
            &owner,
            json!({ "name": name, "date": date, "venue": venue, "max_capacity": 5 }),
        )
        .await;
    }
    app.settle().await;
    let v = venue.replace(' ', "%20");
    let first = api
        .get(&format!("/events?venue={v}&q=RUST&limit=1"), None)
        .await;
    assert_eq!(first.status, 200, "{:?}", first.body);
    assert_eq!(first.body["items"][0]["name"], "Rust Night");
    let cursor = first.body["next_cursor"].as_str().unwrap().to_owned();
    let second = api
        .get(
            &format!("/events?venue={v}&q=RUST&limit=1&cursor={cursor}"),
            None,
        )
        .await;
    assert_eq!(second.body["items"][0]["name"], "Rust Day");
    // The same cursor under another query, modified, or forged: 400, never a 500.
    let mut tampered = cursor.clone().into_bytes();
    let last = tampered.len() - 1;
    tampered[last] = if tampered[last] == b'A' { b'B' } else { b'A' };
    let tampered = String::from_utf8(tampered).unwrap();
    for query in [
        format!("venue={v}&q=rust&limit=1&cursor={tampered}"),
        format!("venue={v}&limit=1&cursor={cursor}"),
        "cursor=eyJrZXkiOiJ6eiIsImlkIjoiMCJ9".to_owned(),
    ] {
        let refused = api.get(&format!("/events?{query}"), None).await;
        assert_eq!(refused.status, 400, "{query}");
        assert_eq!(refused.code(), "invalid_query");
    }
    let newest = api
        .get(&format!("/events?venue={v}&sort=newest"), None)
        .await;
    assert_eq!(newest.body["items"][0]["name"], "Go Night");
    let ranged = api
        .get(
            &format!("/events?venue={v}&from=2027-03-15T00:00:00Z&to=2027-04-15T00:00:00Z"),
            None,
        )
        .await;
    assert_eq!(ranged.body["items"].as_array().unwrap().len(), 1);
    assert_eq!(ranged.body["items"][0]["name"], "Rust Day");
}

async fn the_report_shows_counts_revenue_and_days(app: TestApp) {
    let api = app.api.as_ref();
    let owner = new_organizer(api).await;
    let other = new_organizer(api).await;
    let id = create_event(
        api,
        &owner,
        json!({ "max_capacity": 2, "price_cents": 1500, "waitlist_enabled": true }),
    )
    .await;
    for i in 0..3 {
        assert_eq!(register(api, id, &format!("q{i}@example.org")).await, 201);
    }
    // Revenue is money received: the two held seats are paid for.
    let held = app
        .ctx
        .registrations
        .registrations(
            id,
            Some(evreg::domain::RegistrationStatus::PendingPayment),
            10,
            None,
        )
        .await
        .unwrap();
    for registration in &held.items {
        let webhook = app.pay(registration.id, now()).await;
        assert_eq!(deliver_webhook(api, &webhook).await.status, 200);
    }
    app.settle().await;
    let path = format!("/events/{id}/report");
    assert_eq!(api.get(&path, Some(&other)).await.status, 403);
    assert_eq!(api.get(&path, None).await.status, 401);
    let report = api.get(&path, Some(&owner)).await;
    assert_eq!(report.status, 200, "{:?}", report.body);
    assert_eq!(report.body["registered"], 2);
    assert_eq!(report.body["waitlisted"], 1);
    assert_eq!(report.body["revenue_cents"], 3000);
    let today = now().date().to_string();
    assert_eq!(
        report.body["registrations_per_day"],
        json!([{ "date": today, "registrations": 3 }])
    );
}
