//! `evreg-dev dead-letters list|redrive --aws [--prefix <stack>]` (built with the `aws`
//! feature): finds the dead-letter queues among the queues named with `--prefix` (the
//! stack's name: SAM names queues `<stack>-<LogicalId>-<suffix>`) as those that
//! `ListDeadLetterSourceQueues` names sources of, and redrives each with SQS's own
//! message-move task (`StartMessageMoveTask` without a destination: every message back to
//! the queue it came from).

use aws_sdk_sqs::types::{MessageSystemAttributeName, QueueAttributeName};
use evreg::ports::BoxError;

use super::{excerpt, Action};

/// Messages shown per dead-letter queue by `list --aws` (one receive).
const SHOWN: i32 = 10;

/// One dead-letter queue and what feeds it.
struct DeadLetterQueue {
    url: String,
    arn: String,
    sources: Vec<String>,
    waiting: u64,
}

fn name_of(url: &str) -> &str {
    url.rsplit('/').next().unwrap_or(url)
}

/// Every queue named `prefix…` that some queue's redrive policy names.
async fn dead_letter_queues(
    sqs: &aws_sdk_sqs::Client,
    prefix: Option<&str>,
) -> Result<Vec<DeadLetterQueue>, BoxError> {
    let urls: Vec<String> = sqs
        .list_queues()
        .set_queue_name_prefix(prefix.map(str::to_owned))
        .into_paginator()
        .items()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await?;
    let mut queues = Vec::new();
    for url in urls {
        let sources: Vec<String> = sqs
            .list_dead_letter_source_queues()
            .queue_url(&url)
            .into_paginator()
            .items()
            .send()
            .collect::<Result<Vec<_>, _>>()
            .await?;
        if sources.is_empty() {
            continue;
        }
        let attributes = sqs
            .get_queue_attributes()
            .queue_url(&url)
            .attribute_names(QueueAttributeName::QueueArn)
            .attribute_names(QueueAttributeName::ApproximateNumberOfMessages)
            .send()
            .await?
            .attributes
            .unwrap_or_default();
        queues.push(DeadLetterQueue {
            arn: attributes
                .get(&QueueAttributeName::QueueArn)
                .cloned()
                .ok_or_else(|| format!("{url} has no ARN"))?,
            waiting: attributes
                .get(&QueueAttributeName::ApproximateNumberOfMessages)
                .and_then(|n| n.parse().ok())
                .unwrap_or(0),
            sources,
            url,
        });
    }
    Ok(queues)
}

/// The dead-letter queues of the stack's queues (`prefix`), with the SDK's usual
/// configuration (credentials, region, `AWS_ENDPOINT_URL`).
pub async fn run(action: Action, prefix: Option<&str>) -> Result<(), BoxError> {
    let sdk = evreg::adapters::aws::load_sdk_config().await;
    let sqs = aws_sdk_sqs::Client::new(&sdk);
    let queues = dead_letter_queues(&sqs, prefix).await?;
    if queues.is_empty() {
        println!("no dead-letter queues found (prefix {prefix:?})");
    }
    for queue in queues {
        let sources: Vec<&str> = queue.sources.iter().map(|s| name_of(s)).collect();
        match action {
            Action::List => {
                println!(
                    "{} ({} messages) ← {}",
                    name_of(&queue.url),
                    queue.waiting,
                    sources.join(", ")
                );
                if queue.waiting > 0 {
                    show(&sqs, &queue.url).await?;
                }
            }
            Action::Redrive if queue.waiting == 0 => {
                println!("{}: nothing to redrive", name_of(&queue.url));
            }
            Action::Redrive => {
                let task = sqs
                    .start_message_move_task()
                    .source_arn(&queue.arn)
                    .send()
                    .await?;
                println!(
                    "{}: moving {} messages back to {} (task {})",
                    name_of(&queue.url),
                    queue.waiting,
                    sources.join(", "),
                    task.task_handle().unwrap_or("?")
                );
            }
        }
    }
    Ok(())
}

/// Prints up to [`SHOWN`] messages of the queue at `url` without taking them: received
/// with a visibility timeout of 0, so they stay where they are.
async fn show(sqs: &aws_sdk_sqs::Client, url: &str) -> Result<(), BoxError> {
    let received = sqs
        .receive_message()
        .queue_url(url)
        .max_number_of_messages(SHOWN)
        .visibility_timeout(0)
        .message_attribute_names("type")
        .message_system_attribute_names(MessageSystemAttributeName::ApproximateReceiveCount)
        .send()
        .await?;
    for message in received.messages() {
        let kind = message
            .message_attributes()
            .and_then(|a| a.get("type"))
            .and_then(|t| t.string_value())
            .unwrap_or("?");
        println!(
            "  {}\t{}\t{}",
            message.message_id().unwrap_or("?"),
            kind,
            excerpt(message.body().unwrap_or_default())
        );
    }
    Ok(())
}
