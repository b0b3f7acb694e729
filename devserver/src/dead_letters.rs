//! `evreg-dev dead-letters list|redrive`: the messages every delivery failed, and sending
//! them back once the cause is fixed — the operator's answer to a DLQ alarm.
//!
//! Embedded mode works on the dev server's database (`EVREG_DATA_DIR`), also while the
//! server runs (its pollers pick redriven messages up within a second); `--aws`, in a build
//! with the `aws` feature, on the stack's SQS queues (`aws.rs`).

use evreg::adapters::embedded::SqliteStore;
use evreg::ports::BoxError;

#[cfg(feature = "aws")]
pub mod aws;

/// Characters of a message body shown.
const EXCERPT: usize = 160;

/// What to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Print the dead letters.
    List,
    /// Send them back to their queues.
    Redrive,
}

fn excerpt(body: &str) -> String {
    let mut text: String = body.chars().take(EXCERPT).collect();
    if text.len() < body.len() {
        text.push('…');
    }
    text
}

/// The dead letters of the dev server's database, of `queue` or every queue.
pub async fn embedded(
    store: &SqliteStore,
    action: Action,
    queue: Option<&str>,
) -> Result<(), BoxError> {
    match action {
        Action::List => {
            let dead = store.dead_letters(queue).await?;
            for message in &dead {
                println!(
                    "{}\t{}\t{}\treceived {} times\t{}",
                    message.queue,
                    message.id,
                    message.kind,
                    message.receive_count,
                    excerpt(&message.body)
                );
            }
            println!("{} dead letters", dead.len());
        }
        Action::Redrive => {
            let moved = store.redrive(queue).await?;
            println!("redrove {moved} dead letters to their queues");
        }
    }
    Ok(())
}
