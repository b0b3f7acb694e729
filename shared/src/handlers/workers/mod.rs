//! The worker table: every worker in one row — its handler module (and so its Lambda
//! binary and queue stem, `worker-<module>`), what its function reads at init
//! ([`Needs`]), and the domain event kinds its queue subscribes to. The SNS filter
//! policies in `template.yaml` and the embedded bus's routing both follow it (a test holds
//! the template to it). A worker's handler is `<module>.rs` here, with the one signature
//! `async fn handle(ctx: &AppContext, batch: SqsEvent) -> SqsBatchResponse`; [`once`]
//! holds what several of them share.

pub mod once;

use std::future::Future;

use aws_lambda_events::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent};

use super::declare::Needs;
use crate::app::AppContext;
use crate::domain::{DomainEventKind, Envelope, Event, EventId};
use crate::ports::BoxError;
use tracing::Instrument;

use crate::telemetry::trace::TraceContext;

/// One row of the worker table.
#[derive(Debug)]
pub struct WorkerSpec {
    /// Which worker.
    pub worker: Worker,
    /// The binary under `functions/src/bin/`, and the queue's name stem.
    pub binary: &'static str,
    /// What its Lambda function reads at init (workers never see a bearer token).
    pub needs: Needs,
    /// The domain event kinds (the SNS `type` attribute) its queue subscribes to.
    pub consumes: &'static [DomainEventKind],
}

macro_rules! workers {
    ($($worker:ident => $module:ident: $needs:ident, [$($kind:ident),* $(,)?];)*) => {
        $(pub mod $module;)*

        /// Every worker, one per row of [`WORKERS`], in its order.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum Worker {
            $(
                #[doc = concat!("[`", stringify!($module), "`].")]
                $worker,
            )*
        }

        /// The worker table.
        pub const WORKERS: &[WorkerSpec] = &[$(
            WorkerSpec {
                worker: Worker::$worker,
                binary: concat!("worker-", stringify!($module)),
                needs: Needs::$needs,
                consumes: &[$(DomainEventKind::$kind),*],
            },
        )*];

        impl Worker {
            /// The worker's handler around its entrance (the embedded bus calls this; a
            /// Lambda binary calls its own handler directly).
            pub async fn handle(self, ctx: &AppContext, batch: SqsEvent) -> SqsBatchResponse {
                self.instrumented(ctx, batch, |batch| async move {
                    match self {
                        $(Self::$worker => $module::handle(ctx, batch).await,)*
                    }
                })
                .await
            }
        }

        /// Each worker by its handler module's name: what a Lambda binary's one line
        /// ([`crate::worker_function!`]) names.
        #[allow(non_upper_case_globals)]
        pub mod by_module {
            use super::Worker;
            $(
                #[doc = concat!("[`Worker::", stringify!($worker), "`].")]
                pub const $module: Worker = Worker::$worker;
            )*
        }
    };
}

workers! {
    Projection => projection: READ_TABLE, [
        EventCreated, EventUpdated, EventCancelled, RegistrationConfirmed,
        RegistrationWaitlisted, RegistrationPromoted, RegistrationCancelled, CheckedIn,
        RegistrationHeld, WaitlistOffered, HoldExpired, PaymentReceived, RegistrationRefunded,
    ];
    // Signs tickets.
    Tickets => tickets: ATTENDEE, [RegistrationConfirmed, RegistrationPromoted];
    // Manage links in the mails.
    Email => email: ATTENDEE, [
        TicketIssued, RegistrationWaitlisted, RegistrationCancelled, EventCancelled,
        EventCancellationNoticesPending, PasswordResetRequested, HoldExpired,
        WaitlistOfferOpened, RegistrationRefunded,
    ];
    // A checkout's return URL is the registration's manage link.
    Payments => payments: ATTENDEE, [
        WaitlistOffered, HoldExpired, RegistrationCancelled, RefundRequested, EventCancelled,
        EventRefundsPending,
    ];
    Cdn => cdn: NOTHING, [EventCreated, EventUpdated, EventCancelled];
}

impl Worker {
    /// Its row of [`WORKERS`].
    pub fn spec(self) -> &'static WorkerSpec {
        &WORKERS[self as usize]
    }

    /// Its binary's name: the queue's stem and its metrics' label.
    pub fn binary(self) -> &'static str {
        self.spec().binary
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
