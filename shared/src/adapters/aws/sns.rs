//! [`Bus`] on SNS: one topic for every domain event, fanned out to the workers' SQS queues
//! by subscription filter policies on the `type` message attribute.

use async_trait::async_trait;
use aws_sdk_sns::types::{MessageAttributeValue, PublishBatchRequestEntry};
use aws_sdk_sns::Client;

use crate::domain::Envelope;
use crate::ports::{Bus, BusError};

/// SNS's PublishBatch limit.
const BATCH: usize = 10;

/// Publishes envelopes to the one domain-event topic with a `type` message attribute, which
/// the queues' filter policies route on (and raw delivery hands to the workers).
pub struct SnsBus {
    client: Client,
    topic_arn: String,
}

impl SnsBus {
    /// Publishes to the topic `topic_arn` through `client`.
    pub fn new(client: Client, topic_arn: impl Into<String>) -> Self {
        Self {
            client,
            topic_arn: topic_arn.into(),
        }
    }
}

fn bus_error(e: impl std::error::Error + Send + Sync + 'static) -> BusError {
    BusError(Box::new(e))
}

#[async_trait]
impl Bus for SnsBus {
    async fn publish(&self, outbox: &[Envelope]) -> Result<(), BusError> {
        // The publishing request's or message's trace, continued by the workers.
        let traceparent = crate::telemetry::trace::current()
            .map(|trace| {
                MessageAttributeValue::builder()
                    .data_type("String")
                    .string_value(trace.traceparent())
                    .build()
            })
            .transpose()
            .map_err(bus_error)?;
        for chunk in outbox.chunks(BATCH) {
            let entries = chunk
                .iter()
                .map(|envelope| {
                    let type_attribute = MessageAttributeValue::builder()
                        .data_type("String")
                        .string_value(envelope.kind().as_str())
                        .build()
                        .map_err(bus_error)?;
                    let mut entry = PublishBatchRequestEntry::builder()
                        .id(envelope.id.simple().to_string())
                        .message(serde_json::to_string(envelope).map_err(bus_error)?)
                        .message_attributes("type", type_attribute);
                    if let Some(traceparent) = &traceparent {
                        entry = entry.message_attributes("traceparent", traceparent.clone());
                    }
                    entry.build().map_err(bus_error)
                })
                .collect::<Result<Vec<_>, _>>()?;
            let output = self
                .client
                .publish_batch()
                .topic_arn(&self.topic_arn)
                .set_publish_batch_request_entries(Some(entries))
                .send()
                .await
                .map_err(bus_error)?;
            if let Some(failed) = output.failed.filter(|f| !f.is_empty()) {
                let ids: Vec<_> = failed.iter().map(|f| f.id.as_str()).collect();
                return Err(BusError(format!("SNS refused entries {ids:?}").into()));
            }
        }
        Ok(())
    }
}
