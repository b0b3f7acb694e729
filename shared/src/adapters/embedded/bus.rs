//! A stand-in for SNS → SQS → Lambda in the dev server's process, durable in its SQLite
//! database: each queue subscribes to the domain event kinds of its [`Subscription`] (as
//! an SNS filter policy does), publishing writes a copy per subscribed queue
//! (`queue_messages`, see `sqlite/queues.rs`), and a poller per queue hands batches of up
//! to ten to the [`Consumer`] as the SQS records Lambda would hand a worker; failed
//! messages come back after a visibility delay and, after `max_receive_count` deliveries,
//! stay as dead letters (logged, listed and redriven by `evreg-dev dead-letters`). A
//! message published before the process dies is delivered after it restarts. Which
//! worker serves which queue is the runtime's wiring, not the bus's business.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use aws_lambda_events::sqs::{SqsBatchResponse, SqsEvent, SqsMessage, SqsMessageAttribute};
use tokio::sync::Notify;

use super::sqlite::{QueuedMessage, Settlement, SqliteStore};
use crate::domain::{DomainEventKind, Envelope};
use crate::ports::{Bus, BusError, StoreError};

/// A queue subscribed to the topic, as `template.yaml` wires one per worker; `W` names
/// whoever consumes it (the runtime's worker), which the bus only passes back.
#[derive(Debug, Clone, Copy)]
pub struct Subscription<W> {
    /// The queue's name (the worker binary's, as in the template).
    pub queue: &'static str,
    /// The kinds its filter policy lets through.
    pub kinds: &'static [DomainEventKind],
    /// The queue's consumer, as the [`Consumer`] knows it.
    pub consumer: W,
}

/// What takes the queues' batches, as Lambda's SQS event source mapping invokes a
/// worker: the records it returns in `batch_item_failures` are delivered again.
#[async_trait]
pub trait Consumer<W>: Send + Sync {
    /// Handles one batch of the queue whose subscription names `consumer`.
    async fn consume(&self, consumer: W, batch: SqsEvent) -> SqsBatchResponse;
}

/// How the queues deliver, as the template's queue settings.
#[derive(Debug, Clone, Copy)]
pub struct QueueSettings {
    /// As the template's RedrivePolicy: deliveries before a message is dead-lettered.
    pub max_receive_count: u32,
    /// How long a failed message stays invisible before its next delivery.
    pub visibility_delay: Duration,
    /// Messages a consumer is handed at once (SQS: up to 10).
    pub batch_size: usize,
}

impl Default for QueueSettings {
    fn default() -> Self {
        Self {
            max_receive_count: 5,
            visibility_delay: Duration::from_secs(1),
            batch_size: 10,
        }
    }
}

/// A message held by a consumer stays hidden this long (the template's visibility
/// timeout); a consumer that dies with it leaves it to the next process's start.
const VISIBILITY_TIMEOUT: Duration = Duration::from_secs(60);
/// Pollers look at their queue at least this often, for messages redriven by another
/// process (`evreg-dev dead-letters redrive`) and after a store error.
const POLL_INTERVAL: Duration = Duration::from_secs(1);

/// A message that failed every delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeadLetter {
    /// The queue it came from.
    pub queue: String,
    /// Its message id.
    pub message_id: String,
    /// The envelope, as published.
    pub body: String,
}

impl From<QueuedMessage> for DeadLetter {
    fn from(message: QueuedMessage) -> Self {
        Self {
            queue: message.queue,
            message_id: message.id,
            body: message.body,
        }
    }
}

/// The publishing side: the [`Bus`] port, one topic fanned out to the queues.
pub struct EmbeddedBus {
    store: SqliteStore,
    routes: Vec<(&'static str, &'static [DomainEventKind])>,
    published: Arc<Notify>,
}

/// The consumer side of the bus, started once whatever consumes it (which may hold the
/// bus itself) exists.
pub struct Queues<W> {
    store: SqliteStore,
    subscriptions: Vec<Subscription<W>>,
    settings: QueueSettings,
    published: Arc<Notify>,
}

/// A handle on the running queues.
#[derive(Clone)]
pub struct BusMonitor {
    store: SqliteStore,
    settled: Arc<Notify>,
}

impl EmbeddedBus {
    /// A bus in `store` with one queue per subscription.
    pub fn new<W: Copy>(
        store: SqliteStore,
        settings: QueueSettings,
        subscriptions: &[Subscription<W>],
    ) -> (Self, Queues<W>) {
        let published = Arc::new(Notify::new());
        let bus = Self {
            store: store.clone(),
            routes: subscriptions.iter().map(|s| (s.queue, s.kinds)).collect(),
            published: published.clone(),
        };
        let queues = Queues {
            store,
            subscriptions: subscriptions.to_vec(),
            settings,
            published,
        };
        (bus, queues)
    }
}

#[async_trait]
impl Bus for EmbeddedBus {
    async fn publish(&self, outbox: &[Envelope]) -> Result<(), BusError> {
        let traceparent = crate::telemetry::trace::current().map(|trace| trace.traceparent());
        let mut messages = Vec::new();
        for envelope in outbox {
            let body = serde_json::to_string(envelope).map_err(|e| BusError(Box::new(e)))?;
            let kind = envelope.kind();
            for (queue, _) in self
                .routes
                .iter()
                .filter(|(_, kinds)| kinds.contains(&kind))
            {
                messages.push(QueuedMessage {
                    // Like SQS, every queue's copy is its own message with its own id.
                    id: uuid::Uuid::new_v4().to_string(),
                    queue: (*queue).to_owned(),
                    kind: kind.as_str().to_owned(),
                    body: body.clone(),
                    receive_count: 0,
                    sent_at_ms: now_ms(),
                    traceparent: traceparent.clone(),
                });
            }
        }
        self.store
            .enqueue(messages)
            .await
            .map_err(|e| BusError(Box::new(e)))?;
        self.published.notify_waiters();
        Ok(())
    }
}

/// Milliseconds since the Unix epoch.
fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

impl<W: Copy + Send + Sync + 'static> Queues<W> {
    /// Starts one poller per queue on the current tokio runtime, handing its batches to
    /// `consumer`.
    pub fn start(self, consumer: Arc<dyn Consumer<W>>) -> BusMonitor {
        let monitor = BusMonitor {
            store: self.store.clone(),
            settled: Arc::new(Notify::new()),
        };
        for subscription in self.subscriptions {
            let poller = Poller {
                queue: subscription.queue,
                target: subscription.consumer,
                settings: self.settings,
                consumer: consumer.clone(),
                published: self.published.clone(),
                monitor: monitor.clone(),
            };
            tokio::spawn(poller.run());
        }
        monitor
    }
}

/// One queue's event source mapping: batches in, failures back after the delay.
struct Poller<W> {
    queue: &'static str,
    target: W,
    settings: QueueSettings,
    consumer: Arc<dyn Consumer<W>>,
    published: Arc<Notify>,
    monitor: BusMonitor,
}

impl<W: Copy + Send + Sync + 'static> Poller<W> {
    async fn run(self) {
        let queue_arn = format!("arn:aws:sqs:local:000000000000:{}", self.queue);
        let store = &self.monitor.store;
        loop {
            // Registered before looking, so a publish in between is not missed.
            let published = self.published.notified();
            let now = now_ms();
            let hidden_until = now + VISIBILITY_TIMEOUT.as_millis() as i64;
            let batch = match store
                .receive(self.queue, self.settings.batch_size, now, hidden_until)
                .await
            {
                Ok(batch) => batch,
                Err(error) => {
                    tracing::warn!(queue = self.queue, %error, "receiving from the queue failed");
                    tokio::time::sleep(POLL_INTERVAL).await;
                    continue;
                }
            };
            if batch.is_empty() {
                let wait = match store.next_visible_at(self.queue).await {
                    Ok(Some(at)) => Duration::from_millis(at.saturating_sub(now).max(0) as u64)
                        .min(POLL_INTERVAL),
                    _ => POLL_INTERVAL,
                };
                tokio::select! {
                    _ = published => {}
                    _ = tokio::time::sleep(wait) => {}
                }
                continue;
            }
            let settlement = self.deliver(batch, &queue_arn).await;
            if let Err(error) = store.settle(settlement, now_ms()).await {
                // The batch stays hidden until its visibility timeout, then comes again.
                tracing::warn!(queue = self.queue, %error, "settling a batch failed");
            }
            self.monitor.settled.notify_waiters();
        }
    }

    /// Hands `batch` to the consumer; what to do with each message after.
    async fn deliver(&self, batch: Vec<QueuedMessage>, queue_arn: &str) -> Settlement {
        let mut event = SqsEvent::default();
        event.records = batch
            .iter()
            .map(|m| {
                sqs_record(Delivery {
                    message_id: &m.id,
                    receipt_handle: &m.id,
                    body: &m.body,
                    kind: m.kind.parse().ok(),
                    receive_count: m.receive_count,
                    sent_timestamp_ms: Some(m.sent_at_ms).filter(|&ms| ms > 0),
                    traceparent: m.traceparent.as_deref(),
                    queue_arn,
                })
            })
            .collect();
        let response = self.consumer.consume(self.target, event).await;
        let failed: HashSet<String> = response
            .batch_item_failures
            .into_iter()
            .map(|f| f.item_identifier)
            .collect();
        let mut settlement = Settlement::default();
        let retry_at = now_ms() + self.settings.visibility_delay.as_millis() as i64;
        for message in batch {
            if !failed.contains(&message.id) {
                settlement.done.push(message.id);
            } else if message.receive_count >= self.settings.max_receive_count {
                tracing::error!(
                    queue = self.queue,
                    message_id = %message.id,
                    receive_count = message.receive_count,
                    "message moved to the dead letters"
                );
                settlement.dead.push(message.id);
            } else {
                settlement.retry.push((message.id, retry_at));
            }
        }
        settlement
    }
}

impl BusMonitor {
    /// Waits until every published message has been handled or dead-lettered.
    pub async fn until_idle(&self) {
        loop {
            // Registered before counting, so a batch settled in between is not missed.
            let settled = self.settled.notified();
            match self.store.queued().await {
                Ok(0) => return,
                Ok(_) => settled.await,
                Err(error) => {
                    tracing::warn!(%error, "counting queued messages failed");
                    return;
                }
            }
        }
    }

    /// Every message dead-lettered and not redriven.
    pub async fn dead_letters(&self) -> Result<Vec<DeadLetter>, StoreError> {
        let dead = self.store.dead_letters(None).await?;
        Ok(dead.into_iter().map(DeadLetter::from).collect())
    }
}

/// One message as a queue delivers it, whoever the queue is (SQS, the embedded bus).
pub struct Delivery<'a> {
    /// The SQS message id.
    pub message_id: &'a str,
    /// The receipt handle (the embedded bus uses the message id).
    pub receipt_handle: &'a str,
    /// The envelope JSON.
    pub body: &'a str,
    /// The SNS `type` attribute, carried through raw message delivery.
    pub kind: Option<DomainEventKind>,
    /// Deliveries so far, this one included.
    pub receive_count: u32,
    /// When SQS took the message (`SentTimestamp`, unix ms), if known.
    pub sent_timestamp_ms: Option<i64>,
    /// The publisher's `traceparent` message attribute, if it had one.
    pub traceparent: Option<&'a str>,
    /// The queue's ARN.
    pub queue_arn: &'a str,
}

/// The record Lambda's SQS event source mapping would hand a worker for `delivery`.
pub fn sqs_record(delivery: Delivery<'_>) -> SqsMessage {
    let mut record = SqsMessage::default();
    record.message_id = Some(delivery.message_id.to_owned());
    record.receipt_handle = Some(delivery.receipt_handle.to_owned());
    record.body = Some(delivery.body.to_owned());
    record.event_source = Some("aws:sqs".to_owned());
    record.event_source_arn = Some(delivery.queue_arn.to_owned());
    record.attributes.insert(
        "ApproximateReceiveCount".to_owned(),
        delivery.receive_count.to_string(),
    );
    if let Some(sent) = delivery.sent_timestamp_ms {
        record
            .attributes
            .insert("SentTimestamp".to_owned(), sent.to_string());
    }
    let attributes = [
        ("type", delivery.kind.map(DomainEventKind::as_str)),
        ("traceparent", delivery.traceparent),
    ];
    for (name, value) in attributes {
        if let Some(value) = value {
            let mut attribute = SqsMessageAttribute::default();
            attribute.data_type = Some("String".to_owned());
            attribute.string_value = Some(value.to_owned());
            record.message_attributes.insert(name.to_owned(), attribute);
        }
    }
    record
}
