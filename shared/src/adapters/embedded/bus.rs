//! An in-process stand-in for SNS → SQS → Lambda: each queue subscribes to the domain
//! event kinds of its [`Subscription`] (as an SNS filter policy does); batches of up to ten
//! go to the [`Consumer`] as the SQS records Lambda would hand a worker; failed messages
//! come back after a visibility delay and, after `max_receive_count` deliveries, move to
//! the dead letters (logged, never dropped). Which worker serves which queue is the
//! runtime's wiring, not the bus's business.

use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use aws_lambda_events::sqs::{SqsBatchResponse, SqsEvent, SqsMessage, SqsMessageAttribute};
use tokio::sync::{mpsc, Notify};

use crate::domain::{DomainEventKind, Envelope};
use crate::ports::{Bus, BusError};

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

#[derive(Debug, Clone)]
struct Message {
    id: String,
    kind: DomainEventKind,
    body: String,
    receive_count: u32,
}

/// A message that failed every delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeadLetter {
    /// The queue it came from.
    pub queue: &'static str,
    /// Its SQS message id.
    pub message_id: String,
    /// The envelope, as published.
    pub body: String,
}

/// Counts messages published but not yet finished (handled or dead-lettered), so tests
/// and shutdown can wait for quiet instead of sleeping.
#[derive(Default)]
struct InFlight {
    count: AtomicUsize,
    idle: Notify,
}

impl InFlight {
    fn add(&self, n: usize) {
        self.count.fetch_add(n, Ordering::SeqCst);
    }

    fn done(&self) {
        if self.count.fetch_sub(1, Ordering::SeqCst) == 1 {
            self.idle.notify_waiters();
        }
    }
}

struct Topic {
    kinds: &'static [DomainEventKind],
    queue: mpsc::UnboundedSender<Message>,
}

/// The publishing side: the [`Bus`] port, one topic fanned out to the queues.
pub struct EmbeddedBus {
    topics: Vec<Topic>,
    in_flight: Arc<InFlight>,
}

/// The consumer side of the bus, started once whatever consumes it (which may hold the
/// bus itself) exists.
pub struct Queues<W> {
    queues: Vec<(
        Subscription<W>,
        mpsc::UnboundedSender<Message>,
        mpsc::UnboundedReceiver<Message>,
    )>,
    settings: QueueSettings,
    in_flight: Arc<InFlight>,
    dead_letters: Arc<Mutex<Vec<DeadLetter>>>,
}

/// A handle on the running queues.
#[derive(Clone)]
pub struct BusMonitor {
    in_flight: Arc<InFlight>,
    dead_letters: Arc<Mutex<Vec<DeadLetter>>>,
}

impl EmbeddedBus {
    /// A bus with one queue per subscription.
    pub fn new<W: Copy>(
        settings: QueueSettings,
        subscriptions: &[Subscription<W>],
    ) -> (Self, Queues<W>) {
        let in_flight = Arc::new(InFlight::default());
        let mut topics = Vec::new();
        let mut queues = Vec::new();
        for subscription in subscriptions {
            let (sender, receiver) = mpsc::unbounded_channel();
            topics.push(Topic {
                kinds: subscription.kinds,
                queue: sender.clone(),
            });
            queues.push((*subscription, sender, receiver));
        }
        let bus = Self {
            topics,
            in_flight: in_flight.clone(),
        };
        let queues = Queues {
            queues,
            settings,
            in_flight,
            dead_letters: Arc::default(),
        };
        (bus, queues)
    }
}

#[async_trait]
impl Bus for EmbeddedBus {
    async fn publish(&self, outbox: &[Envelope]) -> Result<(), BusError> {
        for envelope in outbox {
            let body = serde_json::to_string(envelope).map_err(|e| BusError(Box::new(e)))?;
            let kind = envelope.kind();
            for topic in self.topics.iter().filter(|t| t.kinds.contains(&kind)) {
                self.in_flight.add(1);
                let message = Message {
                    // Like SQS, every queue's copy is its own message with its own id.
                    id: uuid::Uuid::new_v4().to_string(),
                    kind,
                    body: body.clone(),
                    receive_count: 0,
                };
                if topic.queue.send(message).is_err() {
                    self.in_flight.done();
                    return Err(BusError("embedded queue consumer has stopped".into()));
                }
            }
        }
        Ok(())
    }
}

impl<W: Copy + Send + Sync + 'static> Queues<W> {
    /// Starts one task per queue on the current tokio runtime, handing its batches to
    /// `consumer`.
    pub fn start(self, consumer: Arc<dyn Consumer<W>>) -> BusMonitor {
        let monitor = BusMonitor {
            in_flight: self.in_flight.clone(),
            dead_letters: self.dead_letters.clone(),
        };
        for (subscription, sender, receiver) in self.queues {
            let poller = Poller {
                queue: subscription.queue,
                target: subscription.consumer,
                requeue: sender,
                settings: self.settings,
                consumer: consumer.clone(),
                monitor: monitor.clone(),
            };
            tokio::spawn(poller.run(receiver));
        }
        monitor
    }
}

/// One queue's event source mapping: batches in, failures back after the delay.
struct Poller<W> {
    queue: &'static str,
    target: W,
    requeue: mpsc::UnboundedSender<Message>,
    settings: QueueSettings,
    consumer: Arc<dyn Consumer<W>>,
    monitor: BusMonitor,
}

impl<W: Copy + Send + Sync + 'static> Poller<W> {
    async fn run(self, mut receiver: mpsc::UnboundedReceiver<Message>) {
        let queue_arn = format!("arn:aws:sqs:local:000000000000:{}", self.queue);
        while let Some(first) = receiver.recv().await {
            let mut batch = vec![first];
            while batch.len() < self.settings.batch_size {
                match receiver.try_recv() {
                    Ok(message) => batch.push(message),
                    Err(_) => break,
                }
            }
            for message in &mut batch {
                message.receive_count += 1;
            }
            let mut event = SqsEvent::default();
            event.records = batch
                .iter()
                .map(|m| {
                    sqs_record(Delivery {
                        message_id: &m.id,
                        receipt_handle: &m.id,
                        body: &m.body,
                        kind: Some(m.kind),
                        receive_count: m.receive_count,
                        queue_arn: &queue_arn,
                    })
                })
                .collect();
            let response = self.consumer.consume(self.target, event).await;
            let failed: HashSet<String> = response
                .batch_item_failures
                .into_iter()
                .map(|f| f.item_identifier)
                .collect();
            for message in batch {
                if !failed.contains(&message.id) {
                    self.monitor.in_flight.done();
                } else if message.receive_count >= self.settings.max_receive_count {
                    self.dead_letter(message);
                } else {
                    self.retry_later(message);
                }
            }
        }
    }

    fn retry_later(&self, message: Message) {
        let requeue = self.requeue.clone();
        let delay = self.settings.visibility_delay;
        let in_flight = self.monitor.in_flight.clone();
        tokio::spawn(async move {
            tokio::time::sleep(delay).await;
            if requeue.send(message).is_err() {
                in_flight.done();
            }
        });
    }

    fn dead_letter(&self, message: Message) {
        tracing::error!(
            queue = self.queue,
            message_id = %message.id,
            receive_count = message.receive_count,
            "message moved to the dead-letter queue"
        );
        if let Ok(mut dead) = self.monitor.dead_letters.lock() {
            dead.push(DeadLetter {
                queue: self.queue,
                message_id: message.id,
                body: message.body,
            });
        }
        self.monitor.in_flight.done();
    }
}

impl BusMonitor {
    /// Waits until every published message has been handled or dead-lettered.
    pub async fn until_idle(&self) {
        loop {
            let notified = self.in_flight.idle.notified();
            if self.in_flight.count.load(Ordering::SeqCst) == 0 {
                return;
            }
            notified.await;
        }
    }

    /// Every message dead-lettered so far.
    pub fn dead_letters(&self) -> Vec<DeadLetter> {
        self.dead_letters
            .lock()
            .map(|d| d.clone())
            .unwrap_or_default()
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
    if let Some(kind) = delivery.kind {
        let mut attribute = SqsMessageAttribute::default();
        attribute.data_type = Some("String".to_owned());
        attribute.string_value = Some(kind.as_str().to_owned());
        record
            .message_attributes
            .insert("type".to_owned(), attribute);
    }
    record
}
