//! The embedded bus keeps SNS → SQS → Lambda semantics: routing by type, partial batch
//! failures, retries, dead letters; and the outbox sweeper delivers what a failed publish
//! left behind.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use evreg::adapters::embedded::{BusMonitor, EmbeddedBus, SqliteStore};
use evreg::domain::{DomainEvent, Envelope, Event, EventId, EventStats, ProjectionChange, UserId};
use evreg::ports::ListingQuery;
use evreg::ports::{Bus, BusError, Page, ReadModel, StoreError};
use evreg::runtime::embedded::{start_workers, worker_subscriptions};
use evreg::AppContext;
use evreg_tests::apps::FAST_QUEUES;
use evreg_tests::clock::LaterClock;
use evreg_tests::fixtures;
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

/// A read model that fails `apply` for chosen event ids a chosen number of times first.
struct FlakyReadModel {
    inner: SqliteStore,
    failures_left: Mutex<HashMap<Uuid, u32>>,
    attempts: Mutex<HashMap<Uuid, u32>>,
}

impl FlakyReadModel {
    fn new(inner: SqliteStore) -> Self {
        Self {
            inner,
            failures_left: Mutex::default(),
            attempts: Mutex::default(),
        }
    }

    fn fail(&self, event_id: Uuid, times: u32) {
        self.failures_left.lock().unwrap().insert(event_id, times);
    }

    fn attempts(&self, event_id: Uuid) -> u32 {
        self.attempts
            .lock()
            .unwrap()
            .get(&event_id)
            .copied()
            .unwrap_or(0)
    }
}

#[async_trait]
impl ReadModel for FlakyReadModel {
    async fn apply(&self, dedupe_id: Uuid, change: &ProjectionChange) -> Result<bool, StoreError> {
        *self.attempts.lock().unwrap().entry(dedupe_id).or_default() += 1;
        if let Some(left) = self.failures_left.lock().unwrap().get_mut(&dedupe_id) {
            if *left > 0 {
                *left -= 1;
                return Err(StoreError::Unavailable("injected failure".into()));
            }
        }
        self.inner.apply(dedupe_id, change).await
    }

    async fn stats(&self, event_id: EventId) -> Result<EventStats, StoreError> {
        self.inner.stats(event_id).await
    }

    async fn listings(
        &self,
        query: &evreg::ports::ListingQuery,
        limit: usize,
        cursor: Option<&str>,
    ) -> Result<Page<(Event, EventStats)>, StoreError> {
        self.inner.listings(query, limit, cursor).await
    }

    async fn report(&self, event_id: EventId) -> Result<evreg::domain::EventReport, StoreError> {
        self.inner.report(event_id).await
    }
}

struct Harness {
    ctx: Arc<AppContext>,
    read: Arc<FlakyReadModel>,
    monitor: BusMonitor,
}

fn harness() -> Harness {
    let store = SqliteStore::in_memory().unwrap();
    let read = Arc::new(FlakyReadModel::new(store.clone()));
    let (bus, queues) = EmbeddedBus::new(store.clone(), FAST_QUEUES, &worker_subscriptions());
    let store = Arc::new(store);
    let ctx = Arc::new(AppContext {
        events: store.clone(),
        registrations: store.clone(),
        users: store.clone(),
        identity: store.clone(),
        idempotency: store.clone(),
        outbox: store,
        read_model: read.clone(),
        bus: Arc::new(bus),
        ..(*evreg_tests::apps::embedded().ctx).clone()
    });
    let monitor = start_workers(queues, ctx.clone());
    Harness { ctx, read, monitor }
}

fn confirmed(event_id: EventId) -> Envelope {
    let registration = fixtures::registration(event_id, &fixtures::unique_email("bus"));
    Envelope::new(
        DomainEvent::RegistrationConfirmed { registration },
        OffsetDateTime::now_utc(),
    )
}

#[tokio::test]
async fn events_reach_only_the_queues_subscribed_to_their_type() {
    let h = harness();
    let signed_up = Envelope::new(
        DomainEvent::UserSignedUp {
            user_id: UserId::now_v7(),
        },
        OffsetDateTime::now_utc(),
    );
    let event_id = EventId::now_v7();
    let registration = confirmed(event_id);
    h.ctx
        .bus
        .publish(&[signed_up.clone(), registration.clone()])
        .await
        .unwrap();
    h.monitor.until_idle().await;
    assert_eq!(
        h.read.attempts(signed_up.id),
        0,
        "the projection queue does not subscribe to UserSignedUp"
    );
    assert_eq!(h.read.attempts(registration.id), 1);
    assert_eq!(
        h.ctx.read_model.stats(event_id).await.unwrap().registered,
        1
    );
}

#[tokio::test]
async fn a_failed_message_is_retried_alone_until_it_succeeds() {
    let h = harness();
    let event_id = EventId::now_v7();
    let (flaky, steady) = (confirmed(event_id), confirmed(event_id));
    h.read.fail(flaky.id, 2);
    h.ctx
        .bus
        .publish(&[flaky.clone(), steady.clone()])
        .await
        .unwrap();
    h.monitor.until_idle().await;
    assert_eq!(h.read.attempts(flaky.id), 3, "two failures, then success");
    assert_eq!(
        h.read.attempts(steady.id),
        1,
        "its batch-mate was not redelivered"
    );
    assert_eq!(
        h.ctx.read_model.stats(event_id).await.unwrap().registered,
        2
    );
    assert!(h.monitor.dead_letters().await.unwrap().is_empty());
}

#[tokio::test]
async fn a_message_that_keeps_failing_is_dead_lettered_after_max_receives() {
    let h = harness();
    let poison = confirmed(EventId::now_v7());
    h.read.fail(poison.id, u32::MAX);
    h.ctx
        .bus
        .publish(std::slice::from_ref(&poison))
        .await
        .unwrap();
    h.monitor.until_idle().await;
    assert_eq!(h.read.attempts(poison.id), FAST_QUEUES.max_receive_count);
    let dead = h.monitor.dead_letters().await.unwrap();
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0].queue, "worker-projection");
    assert!(dead[0].body.contains(&poison.id.to_string()));
}

#[tokio::test]
async fn a_redelivered_event_is_projected_once() {
    let h = harness();
    let event_id = EventId::now_v7();
    let registration = confirmed(event_id);
    h.ctx
        .bus
        .publish(std::slice::from_ref(&registration))
        .await
        .unwrap();
    h.ctx.bus.publish(&[registration]).await.unwrap();
    h.monitor.until_idle().await;
    assert_eq!(
        h.ctx.read_model.stats(event_id).await.unwrap().registered,
        1
    );
}

/// A bus that refuses to publish while `down` is set.
struct OutageBus {
    inner: Arc<dyn Bus>,
    down: AtomicBool,
}

#[async_trait]
impl Bus for OutageBus {
    async fn publish(&self, events: &[Envelope]) -> Result<(), BusError> {
        if self.down.load(Ordering::SeqCst) {
            return Err(BusError("injected outage".into()));
        }
        self.inner.publish(events).await
    }
}

#[tokio::test]
async fn the_sweeper_delivers_events_whose_publish_failed_after_the_write() {
    let h = harness();
    let outage = Arc::new(OutageBus {
        inner: h.ctx.bus.clone(),
        down: AtomicBool::new(true),
    });
    let ctx = AppContext {
        bus: outage.clone(),
        ..(*h.ctx).clone()
    };
    let event = fixtures::event("Swept");
    let created = [Envelope::new(
        DomainEvent::EventCreated {
            event: event.clone(),
        },
        OffsetDateTime::now_utc(),
    )];
    let write = ctx.events.create_event(&event, &created).await.unwrap();
    ctx.publish(write).await;
    assert_eq!(
        ctx.outbox.unpublished(10).await.unwrap(),
        created,
        "the write committed; the event waits"
    );

    outage.down.store(false, Ordering::SeqCst);
    assert_eq!(
        evreg::handlers::schedules::outbox_sweeper::run(&ctx)
            .await
            .unwrap(),
        0,
        "fresh entries are left to their request"
    );
    let later = AppContext {
        clock: Arc::new(LaterClock(
            evreg::handlers::schedules::outbox_sweeper::SWEEP_GRACE + Duration::seconds(1),
        )),
        ..ctx
    };
    assert_eq!(
        evreg::handlers::schedules::outbox_sweeper::run(&later)
            .await
            .unwrap(),
        1
    );
    h.monitor.until_idle().await;
    assert!(later.outbox.unpublished(10).await.unwrap().is_empty());
    let listed = later
        .read_model
        .listings(&ListingQuery::default(), 10, None)
        .await
        .unwrap();
    assert_eq!(
        listed.items[0].0.id, event.id,
        "the swept event reached the projection"
    );
}
