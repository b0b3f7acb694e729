//! Lambda's SQS event source mapping, for tests: receive a batch, hand it to the worker
//! handler as Lambda would, delete what succeeded, leave the reported failures to become
//! visible again (and reach the DLQ by the queue's redrive policy).

use std::sync::Arc;

use aws_lambda_events::sqs::SqsEvent;
use aws_sdk_sqs::types::{
    DeleteMessageBatchRequestEntry, Message, MessageSystemAttributeName, QueueAttributeName,
};
use evreg::adapters::embedded::bus::{sqs_record, Delivery};
use evreg::handlers::workers::Worker;
use evreg::AppContext;

pub struct EventSourceMapping {
    sqs: aws_sdk_sqs::Client,
    queue_url: String,
    queue_arn: String,
    worker: Worker,
    ctx: Arc<AppContext>,
    immediate_retries: bool,
}

impl EventSourceMapping {
    pub async fn new(
        sdk: &aws_config::SdkConfig,
        queue_url: &str,
        worker: Worker,
        ctx: Arc<AppContext>,
    ) -> Self {
        let sqs = aws_sdk_sqs::Client::new(sdk);
        let queue_arn = queue_attribute(&sqs, queue_url, QueueAttributeName::QueueArn)
            .await
            .unwrap_or_default();
        Self {
            sqs,
            queue_url: queue_url.to_owned(),
            queue_arn,
            worker,
            ctx,
            immediate_retries: false,
        }
    }

    /// Makes reported failures visible again at once instead of after the queue's
    /// visibility timeout (60 s in the template): the test's stand-in for waiting.
    pub fn with_immediate_retries(mut self) -> Self {
        self.immediate_retries = true;
        self
    }

    /// One receive → invoke → delete cycle; returns (messages received, failures reported).
    pub async fn poll_once(&self) -> (usize, usize) {
        let messages = receive(&self.sqs, &self.queue_url).await;
        if messages.is_empty() {
            return (0, 0);
        }
        let batch = batch_of(&messages, &self.queue_arn);
        let response = self.worker.handle(&self.ctx, batch).await;
        let failed: Vec<&str> = response
            .batch_item_failures
            .iter()
            .map(|f| f.item_identifier.as_str())
            .collect();
        if self.immediate_retries {
            for message in messages
                .iter()
                .filter(|m| failed.contains(&m.message_id().unwrap_or_default()))
            {
                self.sqs
                    .change_message_visibility()
                    .queue_url(&self.queue_url)
                    .receipt_handle(message.receipt_handle().unwrap_or_default())
                    .visibility_timeout(0)
                    .send()
                    .await
                    .expect("change message visibility");
            }
        }
        delete(
            &self.sqs,
            &self.queue_url,
            messages
                .iter()
                .filter(|m| !failed.contains(&m.message_id().unwrap_or_default())),
        )
        .await;
        (messages.len(), failed.len())
    }

    /// Polls until the queue has no visible message left (failed ones that are waiting
    /// out their visibility timeout are not waited for). Returns the messages received.
    pub async fn drain(&self) -> usize {
        let mut handled = 0;
        loop {
            match self.poll_once().await {
                (0, _) if self.visible_messages().await == 0 => return handled,
                (received, _) => handled += received,
            }
        }
    }

    /// A short poll may come back empty while messages exist; the queue's count decides.
    async fn visible_messages(&self) -> u64 {
        visible_messages(&self.sqs, &self.queue_url).await
    }
}

/// The batch Lambda's event source mapping would build from received `messages`.
pub fn batch_of(messages: &[aws_sdk_sqs::types::Message], queue_arn: &str) -> SqsEvent {
    let mut batch = SqsEvent::default();
    batch.records = messages
        .iter()
        .map(|m| {
            sqs_record(Delivery {
                message_id: m.message_id().unwrap_or_default(),
                receipt_handle: m.receipt_handle().unwrap_or_default(),
                body: m.body().unwrap_or_default(),
                kind: m
                    .message_attributes()
                    .and_then(|a| a.get("type"))
                    .and_then(|t| t.string_value())
                    .and_then(|name| name.parse().ok()),
                receive_count: m
                    .attributes()
                    .and_then(|a| a.get(&MessageSystemAttributeName::ApproximateReceiveCount))
                    .and_then(|c| c.parse().ok())
                    .unwrap_or(1),
                traceparent: m
                    .message_attributes()
                    .and_then(|a| a.get("traceparent"))
                    .and_then(|t| t.string_value()),
                sent_timestamp_ms: m
                    .attributes()
                    .and_then(|a| a.get(&MessageSystemAttributeName::SentTimestamp))
                    .and_then(|t| t.parse().ok()),
                queue_arn,
            })
        })
        .collect();
    batch
}

/// Deletes the received `messages` (at most 10, one batch) from `queue_url`: what Lambda
/// does with the records a worker did not report as failed.
pub async fn delete<'m>(
    sqs: &aws_sdk_sqs::Client,
    queue_url: &str,
    messages: impl IntoIterator<Item = &'m Message>,
) {
    let entries: Vec<DeleteMessageBatchRequestEntry> = messages
        .into_iter()
        .enumerate()
        .map(|(i, m)| {
            DeleteMessageBatchRequestEntry::builder()
                .id(i.to_string())
                .receipt_handle(m.receipt_handle().unwrap_or_default())
                .build()
                .expect("delete entry")
        })
        .collect();
    if !entries.is_empty() {
        sqs.delete_message_batch()
            .queue_url(queue_url)
            .set_entries(Some(entries))
            .send()
            .await
            .expect("delete message batch");
    }
}

/// One short receive of up to 10 messages, with what an event source mapping hands on
/// (message attributes, and every system attribute: the receive count, `SentTimestamp`,
/// which the workers' message-age metric reads, …). Short polls: the test emulator serves one
/// request at a time, and a long poll would hold up every other test meanwhile.
pub async fn receive(
    sqs: &aws_sdk_sqs::Client,
    queue_url: &str,
) -> Vec<aws_sdk_sqs::types::Message> {
    sqs.receive_message()
        .queue_url(queue_url)
        .max_number_of_messages(10)
        .wait_time_seconds(0)
        .message_attribute_names("All")
        .message_system_attribute_names(MessageSystemAttributeName::All)
        .send()
        .await
        .expect("receive message")
        .messages
        .unwrap_or_default()
}

pub async fn queue_attribute(
    sqs: &aws_sdk_sqs::Client,
    queue_url: &str,
    name: QueueAttributeName,
) -> Option<String> {
    sqs.get_queue_attributes()
        .queue_url(queue_url)
        .attribute_names(name.clone())
        .send()
        .await
        .expect("queue attributes")
        .attributes()
        .and_then(|a| a.get(&name))
        .cloned()
}

/// Messages ready to receive (`ApproximateNumberOfMessages`).
pub async fn visible_messages(sqs: &aws_sdk_sqs::Client, queue_url: &str) -> u64 {
    queue_attribute(
        sqs,
        queue_url,
        QueueAttributeName::ApproximateNumberOfMessages,
    )
    .await
    .and_then(|n| n.parse().ok())
    .unwrap_or(0)
}
