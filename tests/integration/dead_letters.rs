//! `evreg-dev dead-letters list|redrive`, the binary itself, in both modes: a message
//! that failed every delivery is listed, and once redriven it is delivered again.

use std::collections::HashSet;
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use aws_lambda_events::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent};
use evreg::adapters::embedded::{Consumer, EmbeddedBus, SqliteStore, Subscription};
use evreg::domain::{DomainEvent, DomainEventKind, Envelope, UserId};
use evreg::ports::Bus;
use evreg_tests::apps::{AwsApp, FAST_QUEUES};
use time::OffsetDateTime;

/// The binary `make test` built; `None` (skipped) outside CI.
fn binary() -> Option<String> {
    evreg_tests::dev_server::binary_and_data_dir().map(|(binary, _)| binary)
}

/// Runs `evreg-dev dead-letters <args>` with `env`; its standard output.
fn dead_letters(binary: &str, args: &[&str], env: &[(&str, &str)]) -> String {
    let output = Command::new(binary)
        .arg("dead-letters")
        .args(args)
        .envs(env.iter().copied())
        .output()
        .expect("the command runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).expect("UTF-8")
}

/// A worker that fails every message while `broken`, and notes what it handled.
#[derive(Default)]
struct Worker {
    broken: AtomicBool,
    handled: Mutex<HashSet<String>>,
}

#[async_trait]
impl Consumer<()> for Worker {
    async fn consume(&self, _: (), batch: SqsEvent) -> SqsBatchResponse {
        let mut response = SqsBatchResponse::default();
        for record in batch.records {
            let id = record.message_id.unwrap_or_default();
            if self.broken.load(Ordering::SeqCst) {
                let mut failure = BatchItemFailure::default();
                failure.item_identifier = id;
                response.batch_item_failures.push(failure);
            } else {
                self.handled.lock().unwrap().insert(id);
            }
        }
        response
    }
}

#[tokio::test]
async fn embedded_dead_letters_are_listed_and_redriven_by_the_command() {
    let Some(binary) = binary() else {
        return;
    };
    let data_dir = evreg_tests::apps::scratch_dir("dead-letters");
    let store = SqliteStore::open(&data_dir.join("evreg.sqlite3")).expect("the database");
    let subscription = Subscription {
        queue: "worker-projection",
        kinds: &[DomainEventKind::UserSignedUp],
        consumer: (),
    };
    let (bus, queues) = EmbeddedBus::new(store.clone(), FAST_QUEUES, &[subscription]);
    let worker = Arc::new(Worker::default());
    worker.broken.store(true, Ordering::SeqCst);
    let monitor = queues.start(worker.clone());
    let poison = Envelope::new(
        DomainEvent::UserSignedUp {
            user_id: UserId::now_v7(),
        },
        OffsetDateTime::now_utc(),
    );
    bus.publish(std::slice::from_ref(&poison)).await.unwrap();
    monitor.until_idle().await;
    let dead = monitor.dead_letters().await.unwrap();
    assert_eq!(dead.len(), 1);

    let env = [("EVREG_DATA_DIR", data_dir.to_str().expect("UTF-8 path"))];
    let listed = dead_letters(&binary, &["list"], &env);
    assert!(listed.contains(&dead[0].message_id), "{listed}");
    assert!(listed.contains("UserSignedUp"), "{listed}");
    assert!(listed.contains(&poison.id.to_string()), "{listed}");
    assert!(listed.ends_with("1 dead letters\n"), "{listed}");
    let other_queue = dead_letters(&binary, &["list", "--queue", "worker-email"], &env);
    assert_eq!(other_queue, "0 dead letters\n");

    // The cause is fixed; the running bus delivers the redriven message.
    worker.broken.store(false, Ordering::SeqCst);
    let redriven = dead_letters(&binary, &["redrive"], &env);
    assert_eq!(redriven, "redrove 1 dead letters to their queues\n");
    monitor.until_idle().await;
    assert!(worker.handled.lock().unwrap().contains(&dead[0].message_id));
    assert!(monitor.dead_letters().await.unwrap().is_empty());
    assert_eq!(dead_letters(&binary, &["list"], &env), "0 dead letters\n");
}

#[tokio::test]
async fn aws_dead_letters_are_listed_and_moved_back_by_the_command() {
    let Some(binary) = binary() else {
        return;
    };
    let Some(app) = AwsApp::start("dlq-command").await else {
        return;
    };
    let sqs = aws_sdk_sqs::Client::new(&app.sdk);
    let queue = app.projection_queue().to_owned();
    sqs.send_message()
        .queue_url(&queue)
        .message_body("poison")
        .send()
        .await
        .expect("send");
    let esm = app.projection_mapping().await.with_immediate_retries();
    while esm.poll_once().await.0 > 0 {}
    let dlq = app
        .resources
        .queues
        .get("ProjectionDLQ")
        .expect("DLQ")
        .clone();
    assert_eq!(evreg_tests::esm::visible_messages(&sqs, &dlq).await, 1);

    let prefix = ["--aws", "--prefix", app.resources.prefix.as_str()];
    let listed = dead_letters(&binary, &[&["list"][..], &prefix[..]].concat(), &[]);
    let line = listed
        .lines()
        .find(|line| line.contains("ProjectionDLQ"))
        .unwrap_or_else(|| panic!("{listed}"));
    assert!(line.contains("(1 messages)"), "{line}");
    assert!(line.contains("ProjectionQueue"), "its source: {line}");
    assert!(listed.contains("poison"), "{listed}");
    assert_eq!(
        listed.matches("DLQ (").count(),
        5,
        "one dead-letter queue per worker: {listed}"
    );

    let redriven = dead_letters(&binary, &[&["redrive"][..], &prefix[..]].concat(), &[]);
    assert!(
        redriven.contains("ProjectionDLQ") && redriven.contains("moving 1 messages back"),
        "{redriven}"
    );
    assert_eq!(evreg_tests::esm::visible_messages(&sqs, &dlq).await, 0);
    assert_eq!(
        evreg_tests::esm::visible_messages(&sqs, &queue).await,
        1,
        "back in the queue it failed in, to be delivered again"
    );
}
