//! One conformance suite, two stores: every case runs against the SQLite adapter and against
//! the DynamoDB adapter (real SDK, emulator), each on its own fresh tables.

use evreg::domain::{
    DomainEvent, Envelope, Event, EventId, EventStats, EventStatus, ProjectionChange, Refusal,
    Registration, RegistrationId, RegistrationStatus, Revocation, StatsDelta,
};
use evreg::ports::ListingQuery;
use evreg::ports::StoreError;
use evreg_tests::fixtures::{self, confirmed, free_release, now, registration, user};
use evreg_tests::stores::Stores;
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

evreg_tests::both_stores!(
    users_are_unique_by_email,
    slugs_are_unique,
    a_slug_finds_its_event_until_renamed,
    registration_takes_seats_until_full,
    a_duplicate_registration_takes_no_seat,
    only_published_events_take_registrations,
    concurrent_registrations_never_oversell,
    the_outbox_holds_what_committed_until_published,
    projections_apply_once_per_event,
    counters_survive_any_delivery_order,
    listings_page_by_date_with_cursors,
    the_waitlist_takes_only_a_full_event_with_its_waitlist_on,
    waitlisted_counts_beside_registered,
    cancelling_a_seat_nobody_waits_for_frees_it,
    cancelling_a_seat_promotes_the_waitlist_in_order,
    cancelling_a_waitlisted_registration_keeps_the_seats,
    cancelled_registrations_list_as_revocations_in_order,
    a_registration_checks_in_once,
    a_ticket_is_recorded_once,
    registrations_list_by_event_with_filter_and_cursor,
    idempotency_claims_run_once,
    a_cancelled_events_registrations_change_no_more,
);

/// An event of the conformance cases: `capacity` seats, in `status`.
fn event(capacity: u32, status: EventStatus) -> Event {
    Event {
        max_capacity: capacity,
        status,
        ..fixtures::event("Conformance")
    }
}

async fn published_event(stores: &Stores, capacity: u32) -> Event {
    let event = event(capacity, EventStatus::Published);
    stores
        .events
        .create_event(&event, &[])
        .await
        .expect("create event")
        .unpublished();
    event
}

async fn users_are_unique_by_email(s: Stores) {
    let first = user("ann@example.org");
    let signed_up = [Envelope::new(
        DomainEvent::UserSignedUp { user_id: first.id },
        now(),
    )];
    s.users
        .create_user(&first, &signed_up)
        .await
        .unwrap()
        .unpublished();
    assert_eq!(s.users.user(first.id).await.unwrap(), Some(first.clone()));
    assert_eq!(
        s.users.user_by_email("ann@example.org").await.unwrap(),
        Some(first.clone())
    );
    assert_eq!(
        s.users.user_by_email("nobody@example.org").await.unwrap(),
        None
    );

    let second = user("ann@example.org");
    let refused = s.users.create_user(&second, &[]).await;
    assert!(
        matches!(refused, Err(StoreError::EmailTaken)),
        "{refused:?}"
    );
    assert_eq!(
        s.users.user(second.id).await.unwrap(),
        None,
        "a refused user leaves nothing behind"
    );
    assert_eq!(s.outbox.unpublished(10).await.unwrap(), signed_up);
}

async fn slugs_are_unique(s: Stores) {
    let first = published_event(&s, 5).await;
    assert_eq!(s.events.event(first.id).await.unwrap(), Some(first.clone()));
    let mut clash = event(5, EventStatus::Published);
    clash.slug = first.slug.clone();
    assert!(matches!(
        s.events.create_event(&clash, &[]).await,
        Err(StoreError::SlugTaken)
    ));
    assert_eq!(s.events.event(clash.id).await.unwrap(), None);
}

async fn a_slug_finds_its_event_until_renamed(s: Stores) {
    let mut first = published_event(&s, 5).await;
    first.timezone = chrono_tz::America::New_York;
    s.events
        .update_event(&first, &[])
        .await
        .unwrap()
        .unpublished();
    let old_slug = first.slug.clone();
    assert_eq!(
        s.events.event_by_slug(&old_slug).await.unwrap(),
        Some(first.clone()),
        "the event, every field as stored (its time zone too)"
    );
    assert_eq!(s.events.event_by_slug("no-such-slug").await.unwrap(), None);

    let renamed = Event {
        slug: format!("{old_slug}-renamed"),
        ..first.clone()
    };
    s.events
        .update_event(&renamed, &[])
        .await
        .unwrap()
        .unpublished();
    assert_eq!(s.events.event_by_slug(&old_slug).await.unwrap(), None);
    assert_eq!(
        s.events.event_by_slug(&renamed.slug).await.unwrap(),
        Some(renamed)
    );
}

async fn registration_takes_seats_until_full(s: Stores) {
    let event = published_event(&s, 2).await;
    for email in ["a@x.org", "b@x.org"] {
        let r = registration(event.id, email);
        s.registrations
            .register(&r, &confirmed(&r))
            .await
            .unwrap()
            .unpublished();
        assert_eq!(s.registrations.registration(r.id).await.unwrap(), Some(r));
    }
    let late = registration(event.id, "c@x.org");
    assert!(matches!(
        s.registrations.register(&late, &confirmed(&late)).await,
        Err(StoreError::EventFull)
    ));
    assert_eq!(s.registrations.registration(late.id).await.unwrap(), None);
    assert_eq!(s.events.confirmed_count(event.id).await.unwrap(), 2);
    assert_eq!(
        s.outbox.unpublished(10).await.unwrap().len(),
        2,
        "only committed writes have events"
    );
}

async fn a_duplicate_registration_takes_no_seat(s: Stores) {
    let event = published_event(&s, 3).await;
    let first = registration(event.id, "a@x.org");
    s.registrations
        .register(&first, &[])
        .await
        .unwrap()
        .unpublished();
    let again = registration(event.id, "a@x.org");
    assert!(matches!(
        s.registrations.register(&again, &[]).await,
        Err(StoreError::DuplicateRegistration)
    ));
    assert_eq!(s.events.confirmed_count(event.id).await.unwrap(), 1);

    // The same email at another event is a different registration.
    let other_event = published_event(&s, 3).await;
    s.registrations
        .register(&registration(other_event.id, "a@x.org"), &[])
        .await
        .unwrap()
        .unpublished();
}

async fn only_published_events_take_registrations(s: Stores) {
    let draft = event(5, EventStatus::Draft);
    s.events
        .create_event(&draft, &[])
        .await
        .unwrap()
        .unpublished();
    let refused = s
        .registrations
        .register(&registration(draft.id, "a@x.org"), &[])
        .await;
    assert!(
        matches!(refused, Err(StoreError::EventNotOpen)),
        "{refused:?}"
    );
    let unknown = s
        .registrations
        .register(&registration(EventId::now_v7(), "a@x.org"), &[])
        .await;
    assert!(
        matches!(unknown, Err(StoreError::EventNotFound)),
        "{unknown:?}"
    );
    assert_eq!(s.events.confirmed_count(draft.id).await.unwrap(), 0);
}

async fn concurrent_registrations_never_oversell(s: Stores) {
    let event = published_event(&s, 7).await;
    let attempts = (0..30).map(|i| {
        let registrations = s.registrations.clone();
        let r = registration(event.id, &format!("p{i}@x.org"));
        tokio::spawn(async move { registrations.register(&r, &confirmed(&r)).await })
    });
    let mut accepted = 0;
    for attempt in attempts {
        match attempt.await.unwrap() {
            Ok(_) => accepted += 1,
            Err(StoreError::EventFull) => {}
            Err(other) => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(accepted, 7);
    assert_eq!(s.events.confirmed_count(event.id).await.unwrap(), 7);
}

async fn the_outbox_holds_what_committed_until_published(s: Stores) {
    let event = published_event(&s, 10).await;
    let mut written = Vec::new();
    for i in 0..3 {
        let r = registration(event.id, &format!("o{i}@x.org"));
        let events = confirmed(&r);
        s.registrations
            .register(&r, &events)
            .await
            .unwrap()
            .unpublished();
        written.extend(events);
    }
    assert_eq!(
        s.outbox.unpublished(10).await.unwrap(),
        written,
        "oldest first"
    );
    s.outbox
        .mark_published(&[written[0].id, written[2].id])
        .await
        .unwrap();
    assert_eq!(
        s.outbox.unpublished(10).await.unwrap(),
        vec![written[1].clone()]
    );
    s.outbox.mark_published(&[written[1].id]).await.unwrap();
    assert!(s.outbox.unpublished(10).await.unwrap().is_empty());
}

fn count_one(event_id: EventId) -> ProjectionChange {
    ProjectionChange::Counters {
        event_id,
        delta: StatsDelta {
            registered: 1,
            ..StatsDelta::default()
        },
        registered_on: None,
        money: None,
    }
}

async fn projections_apply_once_per_event(s: Stores) {
    let event_id = EventId::now_v7();
    let delivery = Uuid::now_v7();
    assert!(s.read.apply(delivery, &count_one(event_id)).await.unwrap());
    assert!(
        !s.read.apply(delivery, &count_one(event_id)).await.unwrap(),
        "a redelivery changes nothing"
    );
    assert!(s
        .read
        .apply(Uuid::now_v7(), &count_one(event_id))
        .await
        .unwrap());
    assert_eq!(
        s.read.stats(event_id).await.unwrap(),
        EventStats {
            registered: 2,
            waitlisted: 0,
            ..EventStats::default()
        }
    );
    assert_eq!(
        s.read.stats(EventId::now_v7()).await.unwrap(),
        EventStats::default()
    );
}

async fn counters_survive_any_delivery_order(s: Stores) {
    let event = event(5, EventStatus::Published);
    s.read
        .apply(Uuid::now_v7(), &count_one(event.id))
        .await
        .unwrap();
    s.read
        .apply(Uuid::now_v7(), &ProjectionChange::Listing(event.clone()))
        .await
        .unwrap();
    s.read
        .apply(Uuid::now_v7(), &count_one(event.id))
        .await
        .unwrap();
    assert_eq!(
        s.read.stats(event.id).await.unwrap(),
        EventStats {
            registered: 2,
            waitlisted: 0,
            ..EventStats::default()
        }
    );
    let page = s
        .read
        .listings(&ListingQuery::default(), 10, None)
        .await
        .unwrap();
    assert_eq!(
        page.items,
        vec![(
            event.clone(),
            EventStats {
                registered: 2,
                waitlisted: 0,
                ..EventStats::default()
            }
        )]
    );
}

async fn listings_page_by_date_with_cursors(s: Stores) {
    let mut expected = Vec::new();
    for day in [5, 1, 3, 4, 2] {
        let mut e = event(5, EventStatus::Published);
        e.date = now() + Duration::days(day);
        s.read
            .apply(Uuid::now_v7(), &ProjectionChange::Listing(e.clone()))
            .await
            .unwrap();
        expected.push((day, e.id));
    }
    let draft = event(5, EventStatus::Draft);
    s.read
        .apply(Uuid::now_v7(), &ProjectionChange::Listing(draft.clone()))
        .await
        .unwrap();
    expected.sort();

    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let page = s
            .read
            .listings(&ListingQuery::default(), 2, cursor.as_deref())
            .await
            .unwrap();
        pages += 1;
        seen.extend(page.items.iter().map(|(listing, _)| listing.id));
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    assert_eq!(pages, 3);
    assert_eq!(
        seen,
        expected.iter().map(|(_, id)| *id).collect::<Vec<_>>(),
        "soonest first, drafts hidden"
    );

    for forged in ["garbage", "eyJ4IjoxfQ", ""] {
        let result = s
            .read
            .listings(&ListingQuery::default(), 2, Some(forged))
            .await;
        assert!(
            matches!(result, Err(StoreError::InvalidCursor)),
            "{forged}: {result:?}"
        );
    }
}

async fn the_waitlist_takes_only_a_full_event_with_its_waitlist_on(s: Stores) {
    let mut event = event(1, EventStatus::Published);
    event.waitlist_enabled = true;
    s.events
        .create_event(&event, &[])
        .await
        .unwrap()
        .unpublished();

    let early = registration(event.id, "early@x.org").waitlisted();
    let refused = s.registrations.waitlist(&early, &[]).await;
    assert!(
        matches!(refused, Err(StoreError::SeatAvailable)),
        "a free seat is taken, not queued: {refused:?}"
    );

    s.registrations
        .register(&registration(event.id, "seated@x.org"), &[])
        .await
        .unwrap()
        .unpublished();
    let queued = registration(event.id, "queued@x.org").waitlisted();
    let made = [queued.made(queued.created_at)];
    s.registrations
        .waitlist(&queued, &made)
        .await
        .unwrap()
        .unpublished();
    assert_eq!(
        s.registrations.registration(queued.id).await.unwrap(),
        Some(queued.clone())
    );
    assert_eq!(s.outbox.unpublished(10).await.unwrap(), made);
    assert_eq!(
        s.events.confirmed_count(event.id).await.unwrap(),
        1,
        "the waitlist takes no seat"
    );

    for email in ["seated@x.org", "queued@x.org"] {
        let again = registration(event.id, email).waitlisted();
        assert!(matches!(
            s.registrations.waitlist(&again, &[]).await,
            Err(StoreError::DuplicateRegistration)
        ));
    }

    let no_waitlist = published_event(&s, 1).await;
    s.registrations
        .register(&registration(no_waitlist.id, "a@x.org"), &[])
        .await
        .unwrap()
        .unpublished();
    let closed = s
        .registrations
        .waitlist(&registration(no_waitlist.id, "b@x.org").waitlisted(), &[])
        .await;
    assert!(matches!(closed, Err(StoreError::EventFull)), "{closed:?}");

    let draft = event_with_waitlist(EventStatus::Draft);
    s.events
        .create_event(&draft, &[])
        .await
        .unwrap()
        .unpublished();
    let hidden = s
        .registrations
        .waitlist(&registration(draft.id, "a@x.org").waitlisted(), &[])
        .await;
    assert!(
        matches!(hidden, Err(StoreError::EventNotOpen)),
        "{hidden:?}"
    );
    let unknown = s
        .registrations
        .waitlist(
            &registration(EventId::now_v7(), "a@x.org").waitlisted(),
            &[],
        )
        .await;
    assert!(
        matches!(unknown, Err(StoreError::EventNotFound)),
        "{unknown:?}"
    );
}

fn event_with_waitlist(status: EventStatus) -> Event {
    Event {
        waitlist_enabled: true,
        ..event(1, status)
    }
}

async fn waitlisted_counts_beside_registered(s: Stores) {
    let event_id = EventId::now_v7();
    let waitlisted_one = ProjectionChange::Counters {
        event_id,
        delta: StatsDelta {
            waitlisted: 1,
            ..StatsDelta::default()
        },
        registered_on: None,
        money: None,
    };
    s.read
        .apply(Uuid::now_v7(), &count_one(event_id))
        .await
        .unwrap();
    s.read.apply(Uuid::now_v7(), &waitlisted_one).await.unwrap();
    s.read.apply(Uuid::now_v7(), &waitlisted_one).await.unwrap();
    assert_eq!(
        s.read.stats(event_id).await.unwrap(),
        EventStats {
            registered: 1,
            waitlisted: 2,
            ..EventStats::default()
        }
    );
}

/// `registration` made `seconds` after `base`, so FIFO order is explicit.
fn made_at(event_id: EventId, email: &str, base: OffsetDateTime, seconds: i64) -> Registration {
    Registration {
        created_at: base + Duration::seconds(seconds),
        ..registration(event_id, email)
    }
}

async fn seat(s: &Stores, registration: &Registration) {
    s.registrations
        .register(registration, &confirmed(registration))
        .await
        .expect("seat")
        .unpublished();
}

async fn queue(s: &Stores, registration: &Registration) -> Registration {
    let waitlisted = registration.waitlisted();
    s.registrations
        .waitlist(&waitlisted, &[waitlisted.made(now())])
        .await
        .expect("waitlist")
        .unpublished();
    waitlisted
}

async fn status_of(s: &Stores, id: RegistrationId) -> RegistrationStatus {
    s.registrations
        .registration(id)
        .await
        .unwrap()
        .expect("registration")
        .status
}

async fn outbox_types(s: &Stores) -> Vec<&'static str> {
    s.outbox
        .unpublished(1000)
        .await
        .unwrap()
        .iter()
        .map(|envelope| envelope.kind().as_str())
        .collect()
}

async fn cancelling_a_seat_nobody_waits_for_frees_it(s: Stores) {
    let event = published_event(&s, 1).await;
    let ann = registration(event.id, "ann@example.org");
    seat(&s, &ann).await;
    let cancellation = s
        .registrations
        .cancel(ann.id, now(), &free_release())
        .await
        .unwrap()
        .unpublished();
    assert_eq!(cancellation.cancelled.status, RegistrationStatus::Cancelled);
    assert_eq!(cancellation.promoted, None);
    assert_eq!(s.events.confirmed_count(event.id).await.unwrap(), 0);
    assert_eq!(status_of(&s, ann.id).await, RegistrationStatus::Cancelled);
    assert!(outbox_types(&s).await.contains(&"RegistrationCancelled"));
    assert!(matches!(
        s.registrations.cancel(ann.id, now(), &free_release()).await,
        Err(StoreError::Refused(Refusal::AlreadyCancelled))
    ));
    assert!(matches!(
        s.registrations
            .cancel(RegistrationId::now_v7(), now(), &free_release())
            .await,
        Err(StoreError::RegistrationNotFound)
    ));
    // The seat and the email are free again.
    let again = registration(event.id, "ann@example.org");
    seat(&s, &again).await;
    assert_eq!(s.events.confirmed_count(event.id).await.unwrap(), 1);
}

async fn cancelled_registrations_list_as_revocations_in_order(s: Stores) {
    let door = published_event(&s, 5).await;
    let other = published_event(&s, 5).await;
    let [ann, bo, cy] =
        ["ann", "bo", "cy"].map(|name| registration(door.id, &format!("{name}@example.org")));
    let dee = registration(other.id, "dee@example.org");
    for registration in [&ann, &bo, &cy, &dee] {
        seat(&s, registration).await;
    }
    let start = now();
    let cancel = |id: RegistrationId, minutes: i64| {
        let s = &s;
        async move {
            s.registrations
                .cancel(id, start + Duration::minutes(minutes), &free_release())
                .await
                .expect("cancel")
                .unpublished();
        }
    };
    // Cancelled in another order than registered: the list follows the cancellations.
    cancel(bo.id, 1).await;
    cancel(ann.id, 2).await;
    cancel(dee.id, 1).await;
    let revoked = |registration: &Registration, minutes: i64| Revocation {
        revoked_at: start + Duration::minutes(minutes),
        registration_id: registration.id,
    };

    let all = s
        .registrations
        .revocations(door.id, None, 10)
        .await
        .unwrap();
    assert_eq!(
        all,
        [revoked(&bo, 1), revoked(&ann, 2)],
        "cy is live, dee elsewhere"
    );
    assert_eq!(
        s.registrations
            .revocations(door.id, Some(all[0]), 10)
            .await
            .unwrap(),
        [revoked(&ann, 2)],
        "strictly after the cursor"
    );
    assert_eq!(
        s.registrations.revocations(door.id, None, 1).await.unwrap(),
        [revoked(&bo, 1)]
    );
    assert_eq!(
        s.registrations
            .revocations(door.id, Some(all[1]), 10)
            .await
            .unwrap(),
        []
    );
    assert_eq!(
        s.registrations
            .revocations(other.id, None, 10)
            .await
            .unwrap(),
        [revoked(&dee, 1)]
    );
    // The registration as read says when, too.
    let read = s.registrations.registration(ann.id).await.unwrap().unwrap();
    assert_eq!(read.cancelled_at, Some(start + Duration::minutes(2)));
}

async fn cancelling_a_seat_promotes_the_waitlist_in_order(s: Stores) {
    let event = event_with_waitlist(EventStatus::Published);
    s.events
        .create_event(&event, &[])
        .await
        .unwrap()
        .unpublished();
    let base = now();
    let holder = made_at(event.id, "holder@example.org", base, 0);
    seat(&s, &holder).await;
    // Queued out of order: the earlier creation time is first in line.
    let second = queue(&s, &made_at(event.id, "second@example.org", base, 2)).await;
    let first = queue(&s, &made_at(event.id, "first@example.org", base, 1)).await;

    let cancellation = s
        .registrations
        .cancel(holder.id, now(), &free_release())
        .await
        .unwrap()
        .unpublished();
    let promoted = cancellation.promoted.expect("a promotion");
    assert_eq!(promoted.id, first.id);
    assert_eq!(promoted.status, RegistrationStatus::Confirmed);
    assert_eq!(status_of(&s, first.id).await, RegistrationStatus::Confirmed);
    assert_eq!(
        status_of(&s, second.id).await,
        RegistrationStatus::Waitlisted
    );
    assert_eq!(s.events.confirmed_count(event.id).await.unwrap(), 1);
    assert!(outbox_types(&s).await.contains(&"RegistrationPromoted"));

    let next = s
        .registrations
        .cancel(first.id, now(), &free_release())
        .await
        .unwrap()
        .unpublished();
    assert_eq!(next.promoted.map(|r| r.id), Some(second.id));
    let last = s
        .registrations
        .cancel(second.id, now(), &free_release())
        .await
        .unwrap()
        .unpublished();
    assert_eq!(last.promoted, None);
    assert_eq!(s.events.confirmed_count(event.id).await.unwrap(), 0);
}

async fn cancelling_a_waitlisted_registration_keeps_the_seats(s: Stores) {
    let event = event_with_waitlist(EventStatus::Published);
    s.events
        .create_event(&event, &[])
        .await
        .unwrap()
        .unpublished();
    let base = now();
    let holder = made_at(event.id, "holder@example.org", base, 0);
    seat(&s, &holder).await;
    let leaving = queue(&s, &made_at(event.id, "leaving@example.org", base, 1)).await;
    let staying = queue(&s, &made_at(event.id, "staying@example.org", base, 2)).await;
    let cancellation = s
        .registrations
        .cancel(leaving.id, now(), &free_release())
        .await
        .unwrap()
        .unpublished();
    assert_eq!(cancellation.promoted, None);
    assert_eq!(s.events.confirmed_count(event.id).await.unwrap(), 1);
    // The one who left is out of the line: the next seat goes to the one who stayed.
    let next = s
        .registrations
        .cancel(holder.id, now(), &free_release())
        .await
        .unwrap()
        .unpublished();
    assert_eq!(next.promoted.map(|r| r.id), Some(staying.id));
}

async fn a_registration_checks_in_once(s: Stores) {
    let event = event_with_waitlist(EventStatus::Published);
    s.events
        .create_event(&event, &[])
        .await
        .unwrap()
        .unpublished();
    let ann = registration(event.id, "ann@example.org");
    seat(&s, &ann).await;
    let queued = queue(&s, &registration(event.id, "queued@example.org")).await;
    let scan = |id: RegistrationId, event_id: EventId, at: OffsetDateTime| {
        let registrations = s.registrations.clone();
        async move {
            let events = [Envelope::new(
                DomainEvent::CheckedIn {
                    registration_id: id,
                    event_id,
                    at,
                },
                at,
            )];
            registrations.check_in(id, event_id, at, &events).await
        }
    };
    let first_scan = now();
    let checked_in = scan(ann.id, event.id, first_scan)
        .await
        .unwrap()
        .unpublished();
    assert_eq!(checked_in.status, RegistrationStatus::CheckedIn);
    assert_eq!(checked_in.checked_in_at, Some(first_scan));
    assert_eq!(checked_in.full_name, "Ann Lee");
    match scan(ann.id, event.id, first_scan + Duration::minutes(5)).await {
        Err(StoreError::Refused(Refusal::AlreadyCheckedIn(Some(at)))) => assert_eq!(at, first_scan),
        other => panic!("expected already checked in, got {other:?}"),
    }
    assert!(outbox_types(&s).await.contains(&"CheckedIn"));
    assert!(matches!(
        scan(ann.id, EventId::now_v7(), now()).await,
        Err(StoreError::RegistrationNotFound)
    ));
    assert!(matches!(
        scan(queued.id, event.id, now()).await,
        Err(StoreError::Refused(Refusal::NotConfirmed))
    ));
    assert!(matches!(
        s.registrations.cancel(ann.id, now(), &free_release()).await,
        Err(StoreError::Refused(Refusal::AlreadyCheckedIn(Some(_))))
    ));
    s.registrations
        .cancel(queued.id, now(), &free_release())
        .await
        .unwrap()
        .unpublished();
    assert!(matches!(
        scan(queued.id, event.id, now()).await,
        Err(StoreError::Refused(Refusal::Cancelled))
    ));
}

async fn a_ticket_is_recorded_once(s: Stores) {
    let event = published_event(&s, 2).await;
    let ann = registration(event.id, "ann@example.org");
    seat(&s, &ann).await;
    assert_eq!(s.registrations.ticket(ann.id).await.unwrap(), None);
    assert!(s
        .registrations
        .record_ticket(&ann, "EVR1.first", &[])
        .await
        .unwrap()
        .unpublished());
    assert!(!s
        .registrations
        .record_ticket(&ann, "EVR1.second", &[])
        .await
        .unwrap()
        .unpublished());
    assert_eq!(
        s.registrations.ticket(ann.id).await.unwrap().as_deref(),
        Some("EVR1.first")
    );
    let gone = registration(event.id, "gone@example.org");
    seat(&s, &gone).await;
    s.registrations
        .cancel(gone.id, now(), &free_release())
        .await
        .unwrap()
        .unpublished();
    assert!(
        !s.registrations
            .record_ticket(&gone, "EVR1.x", &[])
            .await
            .unwrap()
            .unpublished(),
        "a cancelled registration gets no ticket"
    );
}

async fn registrations_list_by_event_with_filter_and_cursor(s: Stores) {
    let event = event_with_waitlist(EventStatus::Published);
    let event = Event {
        max_capacity: 3,
        ..event
    };
    s.events
        .create_event(&event, &[])
        .await
        .unwrap()
        .unpublished();
    let other = published_event(&s, 5).await;
    seat(&s, &registration(other.id, "elsewhere@example.org")).await;
    let base = now();
    let mut made = Vec::new();
    for i in 0..5 {
        let r = made_at(event.id, &format!("p{i}@example.org"), base, i);
        if i < 3 {
            seat(&s, &r).await;
            made.push(r);
        } else {
            made.push(queue(&s, &r).await);
        }
    }
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let page = s
            .registrations
            .registrations(event.id, None, 2, cursor.as_deref())
            .await
            .unwrap();
        assert!(page.items.len() <= 2);
        seen.extend(page.items.into_iter().map(|r| r.id));
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    assert_eq!(seen, made.iter().map(|r| r.id).collect::<Vec<_>>());
    let waitlisted = s
        .registrations
        .registrations(event.id, Some(RegistrationStatus::Waitlisted), 1, None)
        .await
        .unwrap();
    assert_eq!(waitlisted.items.len(), 1);
    assert_eq!(waitlisted.items[0].id, made[3].id);
    let rest = s
        .registrations
        .registrations(
            event.id,
            Some(RegistrationStatus::Waitlisted),
            1,
            waitlisted.next_cursor.as_deref(),
        )
        .await
        .unwrap();
    assert_eq!(
        rest.items.iter().map(|r| r.id).collect::<Vec<_>>(),
        [made[4].id]
    );
    assert_eq!(rest.next_cursor, None);
    assert!(matches!(
        s.registrations
            .registrations(event.id, None, 2, Some("forged"))
            .await,
        Err(StoreError::InvalidCursor)
    ));
}

async fn idempotency_claims_run_once(s: Stores) {
    use evreg::ports::Claim;
    let key = format!("test:{}", Uuid::now_v7());
    let (lease, ttl) = (Duration::seconds(30), Duration::hours(24));
    let t0 = now();
    assert_eq!(
        s.idempotency
            .claim(&key, "body-a", t0, lease, ttl)
            .await
            .unwrap(),
        Claim::Acquired
    );
    assert_eq!(
        s.idempotency
            .claim(&key, "body-a", t0, lease, ttl)
            .await
            .unwrap(),
        Claim::InFlight {
            fingerprint: "body-a".into()
        }
    );
    s.idempotency.complete(&key, "the answer").await.unwrap();
    assert_eq!(
        s.idempotency
            .claim(&key, "body-b", t0, lease, ttl)
            .await
            .unwrap(),
        Claim::Completed {
            fingerprint: "body-a".into(),
            outcome: "the answer".into()
        }
    );
    // Released claims run again; abandoned ones are taken over after their lease;
    // every record is forgotten after its TTL.
    let released = format!("test:{}", Uuid::now_v7());
    s.idempotency
        .claim(&released, "f", t0, lease, ttl)
        .await
        .unwrap();
    s.idempotency.release(&released).await.unwrap();
    assert_eq!(
        s.idempotency
            .claim(&released, "f", t0, lease, ttl)
            .await
            .unwrap(),
        Claim::Acquired
    );
    assert_eq!(
        s.idempotency
            .claim(&released, "f", t0 + lease, lease, ttl)
            .await
            .unwrap(),
        Claim::Acquired
    );
    assert_eq!(
        s.idempotency
            .claim(&key, "body-b", t0 + ttl, lease, ttl)
            .await
            .unwrap(),
        Claim::Acquired
    );
}

/// Everything done to a registration is conditioned on its event being PUBLISHED, in the
/// write itself: once the event is cancelled nothing admits, edits, cancels, tickets,
/// confirms a payment, or promotes; a lapsed hold still frees its seat (nobody promoted).
async fn a_cancelled_events_registrations_change_no_more(s: Stores) {
    let open = Event {
        max_capacity: 2,
        price_cents: 1500,
        ..event_with_waitlist(EventStatus::Published)
    };
    s.events
        .create_event(&open, &[])
        .await
        .unwrap()
        .unpublished();
    let ann = registration(open.id, "ann@example.org");
    seat(&s, &ann).await;
    let held = Registration {
        hold: open.hold_at(now() - Duration::hours(1)),
        ..registration(open.id, "held@example.org")
    }
    .with_status(RegistrationStatus::PendingPayment);
    seat(&s, &held).await;
    let queued = queue(&s, &registration(open.id, "queued@example.org")).await;
    s.events
        .update_event(&open.cancelled().unwrap(), &[])
        .await
        .unwrap()
        .unpublished();

    let closed = |result: Result<_, StoreError>| {
        matches!(result, Err(StoreError::Refused(Refusal::EventClosed)))
    };
    assert!(closed(
        s.registrations
            .check_in(ann.id, open.id, now(), &[])
            .await
            .map(drop)
    ));
    let renamed = Registration {
        full_name: "Ann Other".into(),
        ..ann.clone()
    };
    assert!(closed(
        s.registrations
            .update_details(&renamed, &[])
            .await
            .map(drop)
    ));
    assert!(closed(
        s.registrations
            .cancel(ann.id, now(), &free_release())
            .await
            .map(drop)
    ));
    assert!(!s
        .registrations
        .record_ticket(&ann, "EVR1.late", &[])
        .await
        .unwrap()
        .unpublished());
    assert_eq!(s.registrations.ticket(ann.id).await.unwrap(), None);
    assert_eq!(
        s.registrations
            .promote(open.id, &evreg::domain::Promotion::Confirm, now())
            .await
            .unwrap(),
        None
    );

    // The lapsed hold frees its seat; the queue stays as it is.
    let expired = s
        .payment_records
        .expire_hold(held.id, now(), &evreg::domain::Promotion::Confirm)
        .await
        .unwrap()
        .expect("released")
        .unpublished();
    assert_eq!(expired.promoted, None);
    assert_eq!(
        status_of(&s, queued.id).await,
        RegistrationStatus::Waitlisted
    );
    assert_eq!(s.events.confirmed_count(open.id).await.unwrap(), 1);
    // A payment for it comes back; it confirms nothing.
    let payment = evreg::domain::Payment {
        payment_id: "pi_late".into(),
        amount_cents: 1500,
        currency: "EUR".into(),
        paid_at: now(),
        refunded_cents: 0,
        refund_ids: Vec::new(),
    };
    let outcome = s
        .payment_records
        .record_payment(held.id, &payment, now())
        .await
        .unwrap()
        .unpublished();
    assert!(
        matches!(outcome, evreg::domain::PaymentOutcome::Late(_)),
        "{outcome:?}"
    );
}

/// Registrations written before items carried a `version` (the releases before paid
/// events) are still cancelled, and then versioned like any other.
#[tokio::test]
async fn dynamodb_registrations_from_before_versions_are_still_replaced() {
    let Some(app) = evreg_tests::apps::AwsApp::start("unversioned").await else {
        return;
    };
    let s = Stores::of(&app.ctx);
    let event = published_event(&s, 1).await;
    let ann = registration(event.id, "ann@example.org");
    seat(&s, &ann).await;
    let key = evreg::adapters::aws::keys::registration(ann.id);
    aws_sdk_dynamodb::Client::new(&app.sdk)
        .update_item()
        .table_name(app.resources.write_table())
        .set_key(Some(key.item()))
        .update_expression("REMOVE version")
        .send()
        .await
        .expect("an item as older releases wrote it");
    let cancellation = s
        .registrations
        .cancel(ann.id, now(), &free_release())
        .await
        .expect("cancelled")
        .unpublished();
    assert_eq!(cancellation.cancelled.status, RegistrationStatus::Cancelled);
    assert_eq!(s.events.confirmed_count(event.id).await.unwrap(), 0);
}
