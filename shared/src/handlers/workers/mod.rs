//! The worker table: which worker consumes which domain events. The SNS filter policies in
//! `template.yaml` and the embedded bus's routing both follow it (a test checks the template).

pub mod cdn;
pub mod email;
pub mod projection;
pub mod tickets;

use std::future::Future;

use aws_lambda_events::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent};

use crate::app::AppContext;
use crate::domain::Envelope;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Worker {
    Projection,
    Tickets,
    Email,
    Cdn,
}

#[derive(Debug)]
pub struct WorkerSpec {
    pub worker: Worker,
    /// The binary under `functions/src/bin/`, and the queue's name stem.
    pub binary: &'static str,
    /// Domain event types (the SNS `type` attribute) this worker's queue subscribes to.
    pub consumes: &'static [&'static str],
}

pub const WORKERS: &[WorkerSpec] = &[
    WorkerSpec {
        worker: Worker::Projection,
        binary: "worker-projection",
        consumes: &[
            "EventCreated",
            "EventUpdated",
            "EventCancelled",
            "RegistrationConfirmed",
            "RegistrationWaitlisted",
            "RegistrationPromoted",
            "RegistrationCancelled",
            "CheckedIn",
        ],
    },
    WorkerSpec {
        worker: Worker::Tickets,
        binary: "worker-tickets",
        consumes: &["RegistrationConfirmed", "RegistrationPromoted"],
    },
    WorkerSpec {
        worker: Worker::Email,
        binary: "worker-email",
        consumes: &[
            "TicketIssued",
            "RegistrationWaitlisted",
            "RegistrationCancelled",
            "EventCancelled",
            "EventCancellationNoticesPending",
            "PasswordResetRequested",
        ],
    },
    WorkerSpec {
        worker: Worker::Cdn,
        binary: "worker-cdn",
        consumes: &["EventCreated", "EventUpdated", "EventCancelled"],
    },
];

impl Worker {
    pub async fn handle(self, ctx: &AppContext, batch: SqsEvent) -> SqsBatchResponse {
        match self {
            Self::Projection => projection::handle(ctx, batch).await,
            Self::Tickets => tickets::handle(ctx, batch).await,
            Self::Email => email::handle(ctx, batch).await,
            Self::Cdn => cdn::handle(ctx, batch).await,
        }
    }
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
        let outcome = match message
            .body
            .as_deref()
            .map(serde_json::from_str::<Envelope>)
        {
            Some(Ok(envelope)) => process(envelope).await.map_err(|e| e.to_string()),
            Some(Err(e)) => Err(format!("body is not a domain event: {e}")),
            None => Err("message has no body".to_owned()),
        };
        if let Err(error) = outcome {
            tracing::warn!(%message_id, %error, "message failed; it will be retried");
            let mut failure = BatchItemFailure::default();
            failure.item_identifier = message_id;
            failures.push(failure);
        }
    }
    let mut response = SqsBatchResponse::default();
    response.batch_item_failures = failures;
    response
}

/// One message as a queue delivers it, whoever the queue is (SQS, the embedded bus).
pub struct Delivery<'a> {
    pub message_id: &'a str,
    pub receipt_handle: &'a str,
    pub body: &'a str,
    /// The SNS `type` attribute, carried through raw message delivery.
    pub type_name: Option<&'a str>,
    pub receive_count: u32,
    pub queue_arn: &'a str,
}

/// The record Lambda's SQS event source mapping would hand the worker for `delivery`.
pub fn sqs_record(delivery: Delivery<'_>) -> aws_lambda_events::sqs::SqsMessage {
    use aws_lambda_events::sqs::{SqsMessage, SqsMessageAttribute};
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
    if let Some(type_name) = delivery.type_name {
        let mut attribute = SqsMessageAttribute::default();
        attribute.data_type = Some("String".to_owned());
        attribute.string_value = Some(type_name.to_owned());
        record
            .message_attributes
            .insert("type".to_owned(), attribute);
    }
    record
}
