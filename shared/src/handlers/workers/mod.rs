//! The worker table: which worker consumes which domain events. The SNS filter policies in
//! `template.yaml` and the embedded bus's routing both follow it (a test checks the template).

pub mod cdn;
pub mod email;
pub mod once;
pub mod payments;
pub mod projection;
pub mod tickets;

use std::future::Future;

use aws_lambda_events::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent};

use crate::app::AppContext;
use crate::domain::{DomainEventKind, Envelope, Event, EventId};
use crate::ports::BoxError;
use tracing::Instrument;

use crate::telemetry::trace::TraceContext;

/// Every worker, one per row of [`WORKERS`].
#[allow(missing_docs)] // each is named for its file and binary
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Worker {
    Projection,
    Tickets,
    Email,
    Cdn,
    Payments,
}

/// One row of the worker table.
#[derive(Debug)]
pub struct WorkerSpec {
    /// Which worker.
    pub worker: Worker,
    /// The binary under `functions/src/bin/`, and the queue's name stem.
    pub binary: &'static str,
    /// The domain event kinds (the SNS `type` attribute) its queue subscribes to.
    pub consumes: &'static [DomainEventKind],
}

/// The worker table.
pub const WORKERS: &[WorkerSpec] = &[
    WorkerSpec {
        worker: Worker::Projection,
        binary: "worker-projection",
        consumes: &[
            DomainEventKind::EventCreated,
            DomainEventKind::EventUpdated,
            DomainEventKind::EventCancelled,
            DomainEventKind::RegistrationConfirmed,
            DomainEventKind::RegistrationWaitlisted,
            DomainEventKind::RegistrationPromoted,
            DomainEventKind::RegistrationCancelled,
            DomainEventKind::CheckedIn,
            DomainEventKind::RegistrationHeld,
            DomainEventKind::WaitlistOffered,
            DomainEventKind::HoldExpired,
            DomainEventKind::PaymentReceived,
            DomainEventKind::RegistrationRefunded,
        ],
    },
    WorkerSpec {
        worker: Worker::Tickets,
        binary: "worker-tickets",
        consumes: &[
            DomainEventKind::RegistrationConfirmed,
            DomainEventKind::RegistrationPromoted,
        ],
    },
    WorkerSpec {
        worker: Worker::Email,
        binary: "worker-email",
        consumes: &[
            DomainEventKind::TicketIssued,
            DomainEventKind::RegistrationWaitlisted,
            DomainEventKind::RegistrationCancelled,
            DomainEventKind::EventCancelled,
            DomainEventKind::EventCancellationNoticesPending,
            DomainEventKind::PasswordResetRequested,
            DomainEventKind::HoldExpired,
            DomainEventKind::WaitlistOfferOpened,
            DomainEventKind::RegistrationRefunded,
        ],
    },
    WorkerSpec {
        worker: Worker::Payments,
        binary: "worker-payments",
        consumes: &[
            DomainEventKind::WaitlistOffered,
            DomainEventKind::HoldExpired,
            DomainEventKind::RegistrationCancelled,
            DomainEventKind::RefundRequested,
            DomainEventKind::EventCancelled,
            DomainEventKind::EventRefundsPending,
        ],
    },
    WorkerSpec {
        worker: Worker::Cdn,
        binary: "worker-cdn",
        consumes: &[
            DomainEventKind::EventCreated,
            DomainEventKind::EventUpdated,
            DomainEventKind::EventCancelled,
        ],
    },
];

impl Worker {
    /// Its binary's name (its row of [`WORKERS`]): the queue's stem and its metrics' label.
    pub fn binary(self) -> &'static str {
        WORKERS
            .iter()
            .find(|spec| spec.worker == self)
            .map_or("worker", |spec| spec.binary)
    }

    /// Handles one SQS batch, reporting the messages that failed (partial batch response):
    /// [`Worker::instrumented`] around the worker's handler (the embedded bus's entrance).
    pub async fn handle(self, ctx: &AppContext, batch: SqsEvent) -> SqsBatchResponse {
        self.instrumented(ctx, batch, |batch| async move {
            match self {
                Self::Projection => projection::handle(ctx, batch).await,
                Self::Tickets => tickets::handle(ctx, batch).await,
                Self::Email => email::handle(ctx, batch).await,
                Self::Cdn => cdn::handle(ctx, batch).await,
                Self::Payments => payments::handle(ctx, batch).await,
            }
        })
        .await
    }

    /// Every worker's entrance, the embedded bus's and each Lambda's `run_worker`: runs
    /// `process` on the batch inside the batch's span (worker, size) and measures it
    /// ([`crate::telemetry::worker_batch`]: messages processed and failed, batch size, the
    /// oldest message's wait).
    pub async fn instrumented<F, Fut>(
        self,
        ctx: &AppContext,
        batch: SqsEvent,
        process: F,
    ) -> SqsBatchResponse
    where
        F: FnOnce(SqsEvent) -> Fut,
        Fut: Future<Output = SqsBatchResponse>,
    {
        let worker = self.binary();
        let size = batch.records.len();
        let oldest = oldest_wait(&batch, ctx.clock.now());
        let span = tracing::info_span!("batch", worker, size);
        let response = process(batch).instrument(span).await;
        crate::telemetry::worker_batch(worker, size, response.batch_item_failures.len(), oldest);
        response
    }
}

/// The event `id`, which a domain event about it names, so it exists (an error otherwise:
/// the message is retried, then dead-lettered, visibly).
async fn event_of(ctx: &AppContext, id: EventId) -> Result<Event, BoxError> {
    Ok(ctx
        .events
        .event(id)
        .await?
        .ok_or_else(|| format!("event {id} does not exist"))?)
}

/// How long the batch's oldest message waited since SQS took it (its `SentTimestamp`
/// attribute, Unix milliseconds), if any message says.
fn oldest_wait(batch: &SqsEvent, now: time::OffsetDateTime) -> Option<std::time::Duration> {
    let now_ms = now.unix_timestamp_nanos() / 1_000_000;
    batch
        .records
        .iter()
        .filter_map(|message| {
            message
                .attributes
                .get("SentTimestamp")?
                .parse::<i128>()
                .ok()
        })
        .min()
        .and_then(|sent| u64::try_from(now_ms - sent).ok())
        .map(std::time::Duration::from_millis)
}

/// Runs `process` on each message's envelope and reports the ones that failed, so that
/// only those are retried (SQS partial batch response). A body that is not an envelope
/// fails too: after the queue's retries it lands in the dead-letter queue, visible.
pub async fn for_each_envelope<F, Fut, E>(batch: SqsEvent, mut process: F) -> SqsBatchResponse
where
    F: FnMut(Envelope) -> Fut,
    Fut: Future<Output = Result<(), E>>,
    E: std::fmt::Display,
{
    let mut failures = Vec::new();
    for message in batch.records {
        let message_id = message.message_id.clone().unwrap_or_default();
        let trace = message
            .message_attributes
            .get("traceparent")
            .and_then(|attribute| attribute.string_value.as_deref())
            .and_then(TraceContext::parse)
            .map_or_else(TraceContext::new_root, |parent| parent.child());
        let span = crate::telemetry::message_span(&message_id, &trace);
        let outcome = match message
            .body
            .as_deref()
            .map(serde_json::from_str::<Envelope>)
        {
            Some(Ok(envelope)) => {
                span.record("event_type", envelope.kind().as_str());
                span.record("envelope_id", tracing::field::display(envelope.id));
                let processed = trace
                    .scope(process(envelope).instrument(span.clone()))
                    .await;
                span.in_scope(|| tracing::debug!(ok = processed.is_ok(), "processed"));
                processed.map_err(|e| e.to_string())
            }
            Some(Err(e)) => Err(format!("body is not a domain event: {e}")),
            None => Err("message has no body".to_owned()),
        };
        if let Err(error) = outcome {
            let _inside = span.enter();
            tracing::warn!(%error, "message failed; it will be retried");
            let mut failure = BatchItemFailure::default();
            failure.item_identifier = message_id;
            failures.push(failure);
        }
    }
    let mut response = SqsBatchResponse::default();
    response.batch_item_failures = failures;
    response
}
