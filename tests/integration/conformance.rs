//! One conformance suite, two stores: every case runs against the SQLite adapter and against
//! the DynamoDB adapter (real SDK, emulator), each on its own fresh tables.

use std::sync::Arc;

use evreg::domain::{
    DomainEvent, Envelope, Event, EventStats, EventStatus, ProjectionChange, Registration,
    RegistrationStatus, Role, StatsDelta, User,
};
use evreg::ports::{ReadModel, Store, StoreError};
use evreg_tests::apps::AwsApp;
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

pub struct Stores {
    pub store: Arc<dyn Store>,
    pub read: Arc<dyn ReadModel>,
}

fn sqlite() -> Stores {
    let store = Arc::new(evreg::adapters::embedded::SqliteStore::in_memory().expect("sqlite"));
    Stores {
        store: store.clone(),
        read: store,
    }
}

async fn dynamodb() -> Option<Stores> {
    let app = AwsApp::start("conformance").await?;
    Some(Stores {
        store: app.ctx.store.clone(),
        read: app.ctx.read_model.clone(),
    })
}

macro_rules! conformance {
    ($($case:ident),* $(,)?) => {
        mod sqlite {
            $(#[tokio::test] async fn $case() { super::$case(super::sqlite()).await })*
        }
        mod dynamodb {
            $(#[tokio::test] async fn $case() {
                if let Some(stores) = super::dynamodb().await { super::$case(stores).await }
            })*
        }
    };
}

conformance!(
    users_are_unique_by_email,
    slugs_are_unique,
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
);

fn now() -> OffsetDateTime {
    OffsetDateTime::now_utc()
        .replace_nanosecond(0)
        .expect("valid")
}

fn user(email: &str) -> User {
    User {
        id: Uuid::now_v7(),
        email: email.to_owned(),
        password_hash: "$argon2id$stub".into(),
        role: Role::Organizer,
        active: true,
        created_at: now(),
    }
}

fn event(capacity: u32, status: EventStatus) -> Event {
    let id = Uuid::now_v7();
    Event {
        id,
        owner_id: Uuid::now_v7(),
        name: "Conformance".into(),
        slug: format!("conf-{}", id.simple()),
        description: String::new(),
        date: now() + Duration::days(30),
        end_date: None,
        venue: "Hall".into(),
        max_capacity: capacity,
        price_cents: 0,
        currency: "EUR".into(),
        status,
        waitlist_enabled: false,
        created_at: now(),
    }
}

fn registration(event_id: Uuid, email: &str) -> Registration {
    Registration {
        id: Uuid::now_v7(),
        event_id,
        email: email.to_owned(),
        full_name: "Ann Lee".into(),
        phone: None,
        status: RegistrationStatus::Confirmed,
        created_at: now(),
    }
}

fn confirmed(registration: &Registration) -> Vec<Envelope> {
    vec![Envelope::new(
        DomainEvent::RegistrationConfirmed {
            registration: registration.clone(),
        },
        registration.created_at,
    )]
}

async fn published_event(stores: &Stores, capacity: u32) -> Event {
    let event = event(capacity, EventStatus::Published);
    stores
        .store
        .create_event(&event, &[])
        .await
        .expect("create event");
    event
}

async fn users_are_unique_by_email(s: Stores) {
    let first = user("ann@example.org");
    let signed_up = [Envelope::new(
        DomainEvent::UserSignedUp { user_id: first.id },
        now(),
    )];
    s.store.create_user(&first, &signed_up).await.unwrap();
    assert_eq!(s.store.user(first.id).await.unwrap(), Some(first.clone()));
    assert_eq!(
        s.store.user_by_email("ann@example.org").await.unwrap(),
        Some(first.clone())
    );
    assert_eq!(
        s.store.user_by_email("nobody@example.org").await.unwrap(),
        None
    );

    let second = user("ann@example.org");
    let refused = s.store.create_user(&second, &[]).await;
    assert!(
        matches!(refused, Err(StoreError::EmailTaken)),
        "{refused:?}"
    );
    assert_eq!(
        s.store.user(second.id).await.unwrap(),
        None,
        "a refused user leaves nothing behind"
    );
    assert_eq!(s.store.unpublished(10).await.unwrap(), signed_up);
}

async fn slugs_are_unique(s: Stores) {
    let first = published_event(&s, 5).await;
    assert_eq!(s.store.event(first.id).await.unwrap(), Some(first.clone()));
    let mut clash = event(5, EventStatus::Published);
    clash.slug = first.slug.clone();
    assert!(matches!(
        s.store.create_event(&clash, &[]).await,
        Err(StoreError::SlugTaken)
    ));
    assert_eq!(s.store.event(clash.id).await.unwrap(), None);
}

async fn registration_takes_seats_until_full(s: Stores) {
    let event = published_event(&s, 2).await;
    for email in ["a@x.org", "b@x.org"] {
        let r = registration(event.id, email);
        s.store.register(&r, &confirmed(&r)).await.unwrap();
        assert_eq!(s.store.registration(r.id).await.unwrap(), Some(r));
    }
    let late = registration(event.id, "c@x.org");
    assert!(matches!(
        s.store.register(&late, &confirmed(&late)).await,
        Err(StoreError::EventFull)
    ));
    assert_eq!(s.store.registration(late.id).await.unwrap(), None);
    assert_eq!(s.store.confirmed_count(event.id).await.unwrap(), 2);
    assert_eq!(
        s.store.unpublished(10).await.unwrap().len(),
        2,
        "only committed writes have events"
    );
}

async fn a_duplicate_registration_takes_no_seat(s: Stores) {
    let event = published_event(&s, 3).await;
    let first = registration(event.id, "a@x.org");
    s.store.register(&first, &[]).await.unwrap();
    let again = registration(event.id, "a@x.org");
    assert!(matches!(
        s.store.register(&again, &[]).await,
        Err(StoreError::DuplicateRegistration)
    ));
    assert_eq!(s.store.confirmed_count(event.id).await.unwrap(), 1);

    // The same email at another event is a different registration.
    let other_event = published_event(&s, 3).await;
    s.store
        .register(&registration(other_event.id, "a@x.org"), &[])
        .await
        .unwrap();
}

async fn only_published_events_take_registrations(s: Stores) {
    let draft = event(5, EventStatus::Draft);
    s.store.create_event(&draft, &[]).await.unwrap();
    let refused = s
        .store
        .register(&registration(draft.id, "a@x.org"), &[])
        .await;
    assert!(
        matches!(refused, Err(StoreError::EventNotOpen)),
        "{refused:?}"
    );
    let unknown = s
        .store
        .register(&registration(Uuid::now_v7(), "a@x.org"), &[])
        .await;
    assert!(
        matches!(unknown, Err(StoreError::EventNotFound)),
        "{unknown:?}"
    );
    assert_eq!(s.store.confirmed_count(draft.id).await.unwrap(), 0);
}

async fn concurrent_registrations_never_oversell(s: Stores) {
    let event = published_event(&s, 7).await;
    let attempts = (0..30).map(|i| {
        let store = s.store.clone();
        let r = registration(event.id, &format!("p{i}@x.org"));
        tokio::spawn(async move { store.register(&r, &confirmed(&r)).await })
    });
    let mut accepted = 0;
    for attempt in attempts {
        match attempt.await.unwrap() {
            Ok(()) => accepted += 1,
            Err(StoreError::EventFull) => {}
            Err(other) => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(accepted, 7);
    assert_eq!(s.store.confirmed_count(event.id).await.unwrap(), 7);
}

async fn the_outbox_holds_what_committed_until_published(s: Stores) {
    let event = published_event(&s, 10).await;
    let mut written = Vec::new();
    for i in 0..3 {
        let r = registration(event.id, &format!("o{i}@x.org"));
        let events = confirmed(&r);
        s.store.register(&r, &events).await.unwrap();
        written.extend(events);
    }
    assert_eq!(
        s.store.unpublished(10).await.unwrap(),
        written,
        "oldest first"
    );
    s.store
        .mark_published(&[written[0].id, written[2].id])
        .await
        .unwrap();
    assert_eq!(
        s.store.unpublished(10).await.unwrap(),
        vec![written[1].clone()]
    );
    s.store.mark_published(&[written[1].id]).await.unwrap();
    assert!(s.store.unpublished(10).await.unwrap().is_empty());
}

fn count_one(event_id: Uuid) -> ProjectionChange {
    ProjectionChange::Counters {
        event_id,
        delta: StatsDelta {
            registered: 1,
            waitlisted: 0,
        },
    }
}

async fn projections_apply_once_per_event(s: Stores) {
    let event_id = Uuid::now_v7();
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
            waitlisted: 0
        }
    );
    assert_eq!(
        s.read.stats(Uuid::now_v7()).await.unwrap(),
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
            waitlisted: 0
        }
    );
    let page = s.read.published(10, None).await.unwrap();
    assert_eq!(
        page.items,
        vec![(
            event.clone(),
            EventStats {
                registered: 2,
                waitlisted: 0
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
        let page = s.read.published(2, cursor.as_deref()).await.unwrap();
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
        let result = s.read.published(2, Some(forged)).await;
        assert!(
            matches!(result, Err(StoreError::InvalidCursor)),
            "{forged}: {result:?}"
        );
    }
}

async fn the_waitlist_takes_only_a_full_event_with_its_waitlist_on(s: Stores) {
    let mut event = event(1, EventStatus::Published);
    event.waitlist_enabled = true;
    s.store.create_event(&event, &[]).await.unwrap();

    let early = registration(event.id, "early@x.org").waitlisted();
    let refused = s.store.waitlist(&early, &[]).await;
    assert!(
        matches!(refused, Err(StoreError::SeatAvailable)),
        "a free seat is taken, not queued: {refused:?}"
    );

    s.store
        .register(&registration(event.id, "seated@x.org"), &[])
        .await
        .unwrap();
    let queued = registration(event.id, "queued@x.org").waitlisted();
    let made = [queued.made(queued.created_at)];
    s.store.waitlist(&queued, &made).await.unwrap();
    assert_eq!(
        s.store.registration(queued.id).await.unwrap(),
        Some(queued.clone())
    );
    assert_eq!(s.store.unpublished(10).await.unwrap(), made);
    assert_eq!(
        s.store.confirmed_count(event.id).await.unwrap(),
        1,
        "the waitlist takes no seat"
    );

    for email in ["seated@x.org", "queued@x.org"] {
        let again = registration(event.id, email).waitlisted();
        assert!(matches!(
            s.store.waitlist(&again, &[]).await,
            Err(StoreError::DuplicateRegistration)
        ));
    }

    let no_waitlist = published_event(&s, 1).await;
    s.store
        .register(&registration(no_waitlist.id, "a@x.org"), &[])
        .await
        .unwrap();
    let closed = s
        .store
        .waitlist(&registration(no_waitlist.id, "b@x.org").waitlisted(), &[])
        .await;
    assert!(matches!(closed, Err(StoreError::EventFull)), "{closed:?}");

    let draft = event_with_waitlist(EventStatus::Draft);
    s.store.create_event(&draft, &[]).await.unwrap();
    let hidden = s
        .store
        .waitlist(&registration(draft.id, "a@x.org").waitlisted(), &[])
        .await;
    assert!(
        matches!(hidden, Err(StoreError::EventNotOpen)),
        "{hidden:?}"
    );
    let unknown = s
        .store
        .waitlist(&registration(Uuid::now_v7(), "a@x.org").waitlisted(), &[])
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
    let event_id = Uuid::now_v7();
    let waitlisted_one = ProjectionChange::Counters {
        event_id,
        delta: StatsDelta {
            registered: 0,
            waitlisted: 1,
        },
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
            waitlisted: 2
        }
    );
}
