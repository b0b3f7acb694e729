//! The embedded mode's application: every adapter of `adapters::embedded` wired into one
//! [`AppContext`] — SQLite for DynamoDB, an in-process bus for SNS → SQS whose queues
//! feed the worker table's handlers as Lambda's event source mappings do, files for S3,
//! `.eml` files for SES, a logging CDN, the dev checkout for Stripe — and the schedule
//! table's jobs on their intervals. The dev server (`dev_server`) serves it; the tests
//! start it in-process.

use std::path::PathBuf;
use std::sync::Arc;

use async_trait::async_trait;
use aws_lambda_events::sqs::{SqsBatchResponse, SqsEvent};

use crate::adapters::embedded::{
    BusMonitor, Consumer, DevPayments, EmbeddedBus, FileBlobs, LoggingCdn, MailboxDir,
    QueueSettings, Queues, SqliteStore, Subscription,
};
use crate::app::AppContext;
use crate::auth::{Passwords, TokenService};
use crate::handlers::schedules::{outbox_sweeper, SCHEDULES};
use crate::handlers::workers::{Worker, WORKERS};
use crate::http::CursorSigner;
use crate::ports::{BoxError, SystemClock};
use crate::secrets::Secrets;

/// A running embedded application: the context the routes use and a handle on its workers.
pub struct Embedded {
    /// What the routes and workers run against.
    pub ctx: Arc<AppContext>,
    /// The worker queues, to wait for quiet or read dead letters.
    pub bus: BusMonitor,
    /// The payment provider the dev checkout pages are served from.
    pub payments: Arc<DevPayments>,
    /// The stand-in CDN, which remembers what it was asked to invalidate.
    pub cdn: Arc<LoggingCdn>,
}

/// Where the embedded adapters keep files, and how they are reached.
pub struct EmbeddedConfig {
    /// Blobs (ticket images) under `<files>/blobs/`, mail under `<files>/mail/`.
    pub files: PathBuf,
    /// The base URL the API is reached on, for links in mail.
    pub public_url: String,
    /// How the in-process queues deliver.
    pub queues: QueueSettings,
}

/// The worker queues as the template wires them: one per worker, named for its binary,
/// subscribed to what the worker consumes.
pub fn worker_subscriptions() -> Vec<Subscription<Worker>> {
    WORKERS
        .iter()
        .map(|spec| Subscription {
            queue: spec.binary,
            kinds: spec.consumes,
            consumer: spec.worker,
        })
        .collect()
}

/// Starts the worker queues of [`worker_subscriptions`], each handing its batches to its
/// worker over `ctx`, as Lambda's event source mappings do.
pub fn start_workers(queues: Queues<Worker>, ctx: Arc<AppContext>) -> BusMonitor {
    queues.start(Arc::new(Workers(ctx)))
}

struct Workers(Arc<AppContext>);

#[async_trait]
impl Consumer<Worker> for Workers {
    async fn consume(&self, worker: Worker, batch: SqsEvent) -> SqsBatchResponse {
        worker.handle(&self.0, batch).await
    }
}

/// The sender of the embedded mailbox's `.eml` files.
const DEV_MAIL_FROM: &str = "evreg <no-reply@evreg.localhost>";

impl Embedded {
    /// Wires the embedded adapters and starts the worker consumers on the current runtime.
    pub fn start(
        store: SqliteStore,
        secrets: &Secrets,
        config: EmbeddedConfig,
    ) -> Result<Self, BoxError> {
        let (bus, queues) = EmbeddedBus::new(store.clone(), config.queues, &worker_subscriptions());
        let store = Arc::new(store);
        let webhook_secret = secrets
            .payments
            .webhook_secrets
            .first()
            .cloned()
            .ok_or("embedded mode needs a webhook secret for its dev checkout")?;
        let payments = Arc::new(DevPayments::new(&config.public_url, webhook_secret));
        let cdn = Arc::new(LoggingCdn::default());
        let ctx = Arc::new(AppContext {
            events: store.clone(),
            registrations: store.clone(),
            payment_records: store.clone(),
            users: store.clone(),
            identity: store.clone(),
            idempotency: store.clone(),
            outbox: store.clone(),
            read_model: store,
            payments: payments.clone(),
            bus: Arc::new(bus),
            blobs: Arc::new(FileBlobs::new(config.files.join("blobs"))),
            mailer: Arc::new(MailboxDir::new(config.files.join("mail"), DEV_MAIL_FROM)),
            cdn: cdn.clone(),
            clock: Arc::new(SystemClock),
            tokens: TokenService::new(&secrets.jwt)?,
            passwords: Passwords::default(),
            attendee_keys: secrets.attendee.clone(),
            cursors: CursorSigner::new(&secrets.attendee),
            public_url: config.public_url,
        });
        let bus = start_workers(queues, ctx.clone());
        Ok(Self {
            ctx,
            bus,
            payments,
            cdn,
        })
    }
}

/// Runs every job of the schedule table now and then on its `dev_every` interval, for as
/// long as the task lives — before them the outbox sweeper over everything written before
/// this process `started` (a previous one died before publishing it), without its grace
/// period.
pub async fn run_schedules(ctx: Arc<AppContext>, started: time::OffsetDateTime) {
    match outbox_sweeper::sweep_written_before(&ctx, started).await {
        Ok(0) => {}
        Ok(swept) => tracing::warn!(
            swept,
            "republished what a previous process left in the outbox"
        ),
        Err(error) => tracing::warn!(%error, "outbox sweep failed"),
    }
    let jobs = SCHEDULES.iter().map(|spec| {
        let ctx = ctx.clone();
        async move {
            let mut every = tokio::time::interval(spec.dev_every);
            loop {
                every.tick().await;
                match spec.schedule.run(&ctx).await {
                    Ok(0) => {}
                    Ok(count) => tracing::info!(schedule = spec.binary, count, "{}", spec.counts),
                    Err(error) => {
                        tracing::warn!(schedule = spec.binary, %error, "scheduled job failed")
                    }
                }
            }
        }
    });
    futures_util::future::join_all(jobs).await;
}
