//! Projection worker: keeps the read model (listings and per-event counters) in step with
//! the domain events, once per event id whatever the delivery count or order.

use aws_lambda_events::sqs::{SqsBatchResponse, SqsEvent};

use super::for_each_envelope;
use crate::app::AppContext;
use crate::domain::{Envelope, ProjectionChange};
use crate::ports::StoreError;

/// Applies each domain event of `batch` to the read model once; returns the messages that
/// failed, for SQS to redeliver.
pub async fn handle(ctx: &AppContext, batch: SqsEvent) -> SqsBatchResponse {
    for_each_envelope(batch, |envelope| project(ctx, envelope)).await
}

async fn project(ctx: &AppContext, envelope: Envelope) -> Result<(), StoreError> {
    let Some(change) = ProjectionChange::for_event(&envelope.event) else {
        return Ok(());
    };
    if !ctx.read_model.apply(envelope.id, &change).await? {
        tracing::info!(event_id = %envelope.id, "duplicate delivery ignored");
    }
    Ok(())
}
