//! An in-process stand-in for SNS → SQS → Lambda: each worker has a queue subscribed to the
//! event types in [`WORKERS`]; batches of up to ten go to the very worker handler Lambda
//! runs; failed messages come back after a visibility delay and, after
//! `max_receive_count` deliveries, move to the dead letters (logged, never dropped).

use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use aws_lambda_events::sqs::SqsEvent;
use tokio::sync::{mpsc, Notify};

use crate::app::AppContext;
use crate::domain::Envelope;
use crate::handlers::workers::{sqs_record, Delivery, WorkerSpec, WORKERS};
use crate::ports::{Bus, BusError};

#[derive(Debug, Clone, Copy)]
pub struct QueueSettings {
    /// As the template's RedrivePolicy: deliveries before a message is dead-lettered.
    pub max_receive_count: u32,
    /// How long a failed message stays invisible before its next delivery.
    pub visibility_delay: Duration,
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
    type_name: String,
    body: String,
    receive_count: u32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeadLetter {
    pub worker: &'static str,
    pub message_id: String,
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

struct Subscription {
    consumes: &'static [&'static str],
    queue: mpsc::UnboundedSender<Message>,
}

pub struct EmbeddedBus {
    subscriptions: Vec<Subscription>,
    in_flight: Arc<InFlight>,
}

/// The consumer side of the bus, started once the [`AppContext`] that holds the bus exists.
pub struct Queues {
    queues: Vec<(
        &'static WorkerSpec,
        mpsc::UnboundedSender<Message>,
        mpsc::UnboundedReceiver<Message>,
    )>,
    settings: QueueSettings,
    in_flight: Arc<InFlight>,
    dead_letters: Arc<Mutex<Vec<DeadLetter>>>,
}

/// A handle on the running consumers.
#[derive(Clone)]
pub struct BusMonitor {
    in_flight: Arc<InFlight>,
    dead_letters: Arc<Mutex<Vec<DeadLetter>>>,
}

impl EmbeddedBus {
    pub fn new(settings: QueueSettings) -> (Self, Queues) {
        let in_flight = Arc::new(InFlight::default());
        let mut subscriptions = Vec::new();
        let mut queues = Vec::new();
        for spec in WORKERS {
            let (sender, receiver) = mpsc::unbounded_channel();
            subscriptions.push(Subscription {
                consumes: spec.consumes,
                queue: sender.clone(),
            });
            queues.push((spec, sender, receiver));
        }
        let bus = Self {
            subscriptions,
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
    async fn publish(&self, events: &[Envelope]) -> Result<(), BusError> {
        for envelope in events {
            let body = serde_json::to_string(envelope).map_err(|e| BusError(Box::new(e)))?;
            let type_name = envelope.type_name();
            for subscription in self
                .subscriptions
                .iter()
                .filter(|s| s.consumes.contains(&type_name))
            {
                self.in_flight.add(1);
                let message = Message {
                    // Like SQS, every queue's copy is its own message with its own id.
                    id: uuid::Uuid::new_v4().to_string(),
                    type_name: type_name.to_owned(),
                    body: body.clone(),
                    receive_count: 0,
                };
                if subscription.queue.send(message).is_err() {
                    self.in_flight.done();
                    return Err(BusError("embedded queue consumer has stopped".into()));
                }
            }
        }
        Ok(())
    }
}

impl Queues {
    /// Starts one consumer task per worker queue on the current tokio runtime.
    pub fn start(self, ctx: Arc<AppContext>) -> BusMonitor {
        let monitor = BusMonitor {
            in_flight: self.in_flight.clone(),
            dead_letters: self.dead_letters.clone(),
        };
        for (spec, sender, receiver) in self.queues {
            let consumer = Consumer {
                spec,
                requeue: sender,
                settings: self.settings,
                ctx: ctx.clone(),
                monitor: monitor.clone(),
            };
            tokio::spawn(consumer.run(receiver));
        }
        monitor
    }
}

struct Consumer {
    spec: &'static WorkerSpec,
    requeue: mpsc::UnboundedSender<Message>,
    settings: QueueSettings,
    ctx: Arc<AppContext>,
    monitor: BusMonitor,
}

impl Consumer {
    async fn run(self, mut receiver: mpsc::UnboundedReceiver<Message>) {
        let queue_arn = format!("arn:aws:sqs:local:000000000000:{}", self.spec.binary);
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
                        type_name: Some(&m.type_name),
                        receive_count: m.receive_count,
                        queue_arn: &queue_arn,
                    })
                })
                .collect();
            let response = self.spec.worker.handle(&self.ctx, event).await;
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
            worker = self.spec.binary,
            message_id = %message.id,
            receive_count = message.receive_count,
            "message moved to the dead-letter queue"
        );
        if let Ok(mut dead) = self.monitor.dead_letters.lock() {
            dead.push(DeadLetter {
                worker: self.spec.binary,
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

    pub fn dead_letters(&self) -> Vec<DeadLetter> {
        self.dead_letters
            .lock()
            .map(|d| d.clone())
            .unwrap_or_default()
    }
}
