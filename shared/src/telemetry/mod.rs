//! What evreg measures and how its log lines are scoped, in one place: the `metrics`
//! facade's names and labels (exported as CloudWatch EMF in Lambda, as Prometheus text
//! on the dev server's `/metrics`), and the `tracing` spans that put a request's or a
//! message's ids on every line logged inside it. Labels carry ids and outcomes, never an
//! attendee's data (names, emails, phones, tokens).
//!
//! Metric names follow Prometheus' conventions (a unit suffix, snake case) under the
//! `evreg_` prefix; durations in seconds.

pub mod trace;

use std::time::Duration;

use crate::domain::{Registration, RegistrationStatus};
use crate::http::ApiError;
use crate::ports::StoreError;
use crate::services::ServiceError;

/// `evreg_http_requests` (counter) and `evreg_http_request_duration_seconds` (histogram),
/// labelled `route` (the route's binary name) and `status` (its class: `2xx` … `5xx`).
pub fn request_served(route: &'static str, status: u16, elapsed: Duration) {
    let class = match status {
        100..=199 => "1xx",
        200..=299 => "2xx",
        300..=399 => "3xx",
        400..=499 => "4xx",
        _ => "5xx",
    };
    metrics::counter!("evreg_http_requests", "route" => route, "status" => class).increment(1);
    metrics::histogram!(
        "evreg_http_request_duration_seconds",
        "route" => route,
        "status" => class
    )
    .record(elapsed.as_secs_f64());
}

/// `evreg_registrations` (counter) by `outcome`: `confirmed`, `waitlisted`,
/// `pending_payment`, `full`, `duplicate`, `busy`, `closed` (the event refused) — nothing
/// for requests refused before they reached a seat (validation, unknown event).
pub fn registration(result: &Result<Registration, ServiceError>) {
    let outcome = match result {
        Ok(registration) => match registration.status {
            RegistrationStatus::Confirmed => "confirmed",
            RegistrationStatus::Waitlisted => "waitlisted",
            RegistrationStatus::PendingPayment => "pending_payment",
            _ => return,
        },
        Err(ServiceError::Store(StoreError::EventFull)) => "full",
        Err(ServiceError::Store(StoreError::DuplicateRegistration)) => "duplicate",
        Err(ServiceError::Busy) => "busy",
        Err(ServiceError::Refused(_)) => "closed",
        Err(_) => return,
    };
    metrics::counter!("evreg_registrations", "outcome" => outcome).increment(1);
}

/// `evreg_seat_race_retries` (counter): a waitlisting found a seat freed meanwhile (or
/// a seat was taken meanwhile) and went back for it.
pub fn seat_race_retry() {
    metrics::counter!("evreg_seat_race_retries").increment(1);
}

/// `evreg_checkins` (counter) by `outcome`: `admitted`, `already_checked_in`,
/// `refused` (cancelled, not confirmed, event closed or over), `forged`, `malformed`,
/// `wrong_event`.
pub fn checkin<T>(result: &Result<T, ApiError>) {
    let outcome = match result {
        Ok(_) => "admitted",
        Err(ApiError::Refused(crate::domain::Refusal::AlreadyCheckedIn(_))) => "already_checked_in",
        Err(ApiError::Refused(_)) => "refused",
        Err(ApiError::ForgedTicket) => "forged",
        Err(ApiError::MalformedTicket) => "malformed",
        Err(ApiError::WrongEvent) => "wrong_event",
        Err(_) => return,
    };
    metrics::counter!("evreg_checkins", "outcome" => outcome).increment(1);
}

/// `evreg_payments` (counter) by `outcome`: `confirmed`, `refunded` (late: the hold had
/// lapsed or was cancelled), `already_recorded` (a redelivery).
pub fn payment(outcome: &'static str) {
    metrics::counter!("evreg_payments", "outcome" => outcome).increment(1);
}

/// A worker's batch: `evreg_worker_messages` (counter, `worker`, `result`: `processed` or
/// `failed`), `evreg_worker_batch_size` (histogram, messages) and
/// `evreg_worker_message_age_seconds` (histogram: how long the oldest message of the
/// batch waited, from SQS's `SentTimestamp`).
pub fn worker_batch(worker: &'static str, size: usize, failed: usize, oldest: Option<Duration>) {
    let processed = size.saturating_sub(failed);
    metrics::counter!("evreg_worker_messages", "worker" => worker, "result" => "processed")
        .increment(processed as u64);
    metrics::counter!("evreg_worker_messages", "worker" => worker, "result" => "failed")
        .increment(failed as u64);
    metrics::histogram!("evreg_worker_batch_size", "worker" => worker).record(size as f64);
    if let Some(age) = oldest {
        metrics::histogram!("evreg_worker_message_age_seconds", "worker" => worker)
            .record(age.as_secs_f64());
    }
}

/// `evreg_outbox_swept` (counter): domain events the sweeper republished — each one a
/// publish that failed after its write.
pub fn outbox_swept(count: usize) {
    metrics::counter!("evreg_outbox_swept").increment(count as u64);
}

/// `evreg_outbox_oldest_age_seconds` (gauge): how long the oldest unpublished domain
/// event has waited, as the sweeper finds it (0 when none waits); alarmed above 2 min.
pub fn outbox_oldest_age(seconds: f64) {
    metrics::gauge!("evreg_outbox_oldest_age_seconds").set(seconds.max(0.0));
}

/// The CloudWatch namespace of evreg's EMF metrics (the template's alarms and dashboard
/// read them there).
pub const NAMESPACE: &str = "evreg";

/// `evreg_cold_starts` (counter) by `function`.
pub fn cold_start(function: &'static str) {
    metrics::counter!("evreg_cold_starts", "function" => function).increment(1);
}

/// The span every line logged while serving one request sits in: the route, Lambda's
/// request id (`aws_request_id`, also the dev server's), API Gateway's
/// (`apigw_request_id`), and the request's place in its trace (`trace_id`, `span_id`:
/// [`trace`]).
pub fn request_span(
    route: &'static str,
    aws_request_id: &str,
    apigw_request_id: &str,
    trace: &trace::TraceContext,
) -> tracing::Span {
    tracing::info_span!(
        "request",
        route,
        aws_request_id,
        apigw_request_id,
        trace_id = trace.trace_id(),
        span_id = trace.span_id()
    )
}

/// The span of one message of a worker's batch: SQS's message id, the message's place in
/// the trace of the request that published it (`trace_id`, `span_id`: [`trace`]), and the
/// domain event's type and envelope id once read.
pub fn message_span(message_id: &str, trace: &trace::TraceContext) -> tracing::Span {
    tracing::info_span!(
        "message",
        message_id,
        trace_id = trace.trace_id(),
        span_id = trace.span_id(),
        event_type = tracing::field::Empty,
        envelope_id = tracing::field::Empty
    )
}
