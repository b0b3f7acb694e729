//! The application under test in either mode, built the way production builds it.

use std::sync::Arc;
use std::time::Duration;

use aws_config::SdkConfig;
use std::path::PathBuf;

use evreg::adapters::embedded::{QueueSettings, SqliteStore};
use evreg::runtime::dev_server::{Embedded, EmbeddedConfig};
use evreg::runtime::lambda::{aws_context, AwsResources};
use evreg::secrets::Secrets;
use evreg::AppContext;

use evreg::handlers::workers::{Worker, WORKERS};

use crate::api::{Api, LambdaApi};
use crate::emulator;
use crate::esm::EventSourceMapping;
use crate::provision::{provision, Provisioned};

/// Retries come back quickly in tests; everything else is as in the dev server.
pub const FAST_QUEUES: QueueSettings = QueueSettings {
    max_receive_count: 5,
    visibility_delay: Duration::from_millis(20),
    batch_size: 10,
};

/// Links in test emails point here; nothing listens.
pub const TEST_PUBLIC_URL: &str = "https://evreg.test";

/// A fresh, empty directory for one test's files (tickets, mail), under `target/`.
pub fn scratch_dir(label: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../target/test-files")
        .join(crate::emulator::unique_prefix(label));
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir
}

pub fn embedded() -> Embedded {
    embedded_in(scratch_dir("embedded"))
}

/// The embedded app keeping its tickets and mail under `files`.
pub fn embedded_in(files: PathBuf) -> Embedded {
    let store = SqliteStore::in_memory().expect("in-memory sqlite");
    let config = EmbeddedConfig {
        files,
        public_url: TEST_PUBLIC_URL.to_owned(),
        queues: FAST_QUEUES,
    };
    Embedded::start(store, &Secrets::generate(), config).expect("embedded app")
}

/// evreg over the AWS adapters, against freshly provisioned emulator resources.
pub struct AwsApp {
    pub ctx: Arc<AppContext>,
    pub sdk: SdkConfig,
    pub resources: Provisioned,
}

impl AwsApp {
    /// `None` when no emulator is configured (see [`emulator::sdk_config`]).
    pub async fn start(label: &str) -> Option<Self> {
        let sdk = emulator::sdk_config().await?;
        let resources = provision(&sdk, &emulator::unique_prefix(label))
            .await
            .expect("provisioning the emulator from template.yaml");
        let mail_from = format!("tickets@{}.evreg.test", resources.prefix.to_lowercase());
        crate::mailbox::verify_sender(&aws_sdk_sesv2::Client::new(&sdk), &mail_from).await;
        let names = AwsResources {
            write_table: resources.write_table().to_owned(),
            read_table: resources.read_table().to_owned(),
            topic_arn: resources.topic_arn.clone(),
            tickets_bucket: resources.tickets_bucket().to_owned(),
            mail_from,
            public_url: TEST_PUBLIC_URL.to_owned(),
            distribution_id: Some(resources.api_distribution().to_owned()),
        };
        let ctx = aws_context(&sdk, &names, &Secrets::generate()).expect("aws context");
        Some(Self {
            ctx: Arc::new(ctx),
            sdk,
            resources,
        })
    }
}

impl AwsApp {
    /// The URL of `worker`'s queue.
    pub fn queue_of(&self, worker: Worker) -> &str {
        let binary = WORKERS
            .iter()
            .find(|spec| spec.worker == worker)
            .map(|spec| spec.binary)
            .expect("every worker is in WORKERS");
        self.resources
            .worker_queue(binary)
            .expect("template.yaml has a queue per worker")
    }

    pub fn projection_queue(&self) -> &str {
        self.queue_of(Worker::Projection)
    }

    /// `worker` fed from its queue as Lambda's event source mapping would.
    pub async fn mapping(&self, worker: Worker) -> EventSourceMapping {
        EventSourceMapping::new(&self.sdk, self.queue_of(worker), worker, self.ctx.clone()).await
    }

    pub async fn projection_mapping(&self) -> EventSourceMapping {
        self.mapping(Worker::Projection).await
    }

    /// The HTTP API as API Gateway invokes the route Lambdas.
    pub fn api(&self) -> Arc<dyn Api> {
        Arc::new(LambdaApi {
            ctx: self.ctx.clone(),
        })
    }
}

type Server = tokio::task::JoinHandle<Result<(), evreg::ports::BoxError>>;

/// The embedded app served by the dev server's own `serve` on a free 127.0.0.1 port.
pub async fn embedded_over_http() -> (Embedded, Arc<dyn Api>, Server) {
    let app = embedded();
    let (api, server) = serve_over_http(app.ctx.clone()).await;
    (app, api, server)
}

/// `ctx` served by the dev server's `serve` on a free 127.0.0.1 port; abort the handle to stop.
pub async fn serve_over_http(ctx: Arc<AppContext>) -> (Arc<dyn Api>, Server) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a free port");
    let base_url = format!("http://{}", listener.local_addr().expect("bound"));
    let server = tokio::spawn(evreg::runtime::dev_server::serve(listener, ctx));
    (Arc::new(crate::api::HttpApi::new(base_url)), server)
}

/// One application under test in either mode, with what a scenario needs from its mode:
/// the API, the context, a way to let every worker finish, and the mail sent so far.
pub struct TestApp {
    pub api: Arc<dyn Api>,
    pub ctx: Arc<AppContext>,
    mode: Mode,
}

enum Mode {
    Aws(Box<AwsApp>),
    Embedded {
        app: Embedded,
        files: PathBuf,
        server: Server,
    },
}

impl TestApp {
    /// Over the emulator (`None` when none is configured); `label` names its resources.
    pub async fn aws(label: &str) -> Option<Self> {
        let app = AwsApp::start(label).await?;
        Some(Self {
            api: app.api(),
            ctx: app.ctx.clone(),
            mode: Mode::Aws(Box::new(app)),
        })
    }

    /// The embedded app over real HTTP, its files in a fresh scratch directory.
    pub async fn embedded(label: &str) -> Self {
        let files = scratch_dir(label);
        let app = embedded_in(files.clone());
        let (api, server) = serve_over_http(app.ctx.clone()).await;
        Self {
            api,
            ctx: app.ctx.clone(),
            mode: Mode::Embedded { app, files, server },
        }
    }

    /// Runs the workers until no queue holds anything: in AWS mode every worker's queue is
    /// drained through its event source mapping, again until a whole round finds nothing
    /// (a worker's output feeds another's queue).
    pub async fn settle(&self) {
        match &self.mode {
            Mode::Aws(app) => loop {
                let mut handled = 0;
                for spec in WORKERS {
                    handled += app.mapping(spec.worker).await.drain().await;
                }
                if handled == 0 {
                    return;
                }
            },
            Mode::Embedded { app, .. } => app.bus.until_idle().await,
        }
    }

    /// How many messages were dead-lettered: in AWS mode, the messages waiting in every
    /// dead-letter queue (logical ids ending in `DLQ`) of this app's resources.
    pub async fn dead_letters(&self) -> u64 {
        match &self.mode {
            Mode::Aws(app) => {
                let sqs = aws_sdk_sqs::Client::new(&app.sdk);
                let mut count = 0;
                for (_, url) in app
                    .resources
                    .queues
                    .iter()
                    .filter(|(id, _)| id.ends_with("DLQ"))
                {
                    count += crate::esm::visible_messages(&sqs, url).await;
                }
                count
            }
            Mode::Embedded { app, .. } => app.bus.dead_letters().len() as u64,
        }
    }

    /// The raw MIME of every mail sent to `recipient`.
    pub async fn mail_to(&self, recipient: &str) -> Vec<String> {
        match &self.mode {
            Mode::Aws(_) => {
                let endpoint = std::env::var("AWS_ENDPOINT_URL").expect("the emulator's URL");
                crate::mailbox::sent_to(&endpoint, recipient)
                    .await
                    .into_iter()
                    .map(|mail| mail.raw)
                    .collect()
            }
            Mode::Embedded { files, .. } => {
                evreg::adapters::embedded::mailbox::read_all(&files.join("mail"))
                    .expect("the mailbox directory")
                    .into_iter()
                    .map(|(_, raw)| raw)
                    .filter(|raw| {
                        crate::mailbox::header(raw, "To").is_some_and(|to| to.contains(recipient))
                    })
                    .collect()
            }
        }
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Mode::Embedded { server, .. } = &self.mode {
            server.abort();
        }
    }
}

/// Runs each `scenario(app: TestApp)` as two tests, `aws::<name>` (against the emulator;
/// skipped without one outside CI) and `embedded::<name>`. With `route => [scenarios]`
/// groups, each group's tests sit in a module named like the route's handler
/// (`<file>::checkins_create::aws::<name>`), so `cargo test checkins_create` runs a
/// route's tests whatever file they are in.
#[macro_export]
macro_rules! both_modes {
    ($label:literal: $($route:ident => [$($scenario:ident),* $(,)?]),+ $(,)?) => {
        $(mod $route {
            #[allow(unused_imports)]
            use super::*;
            $crate::both_modes!($label: $($scenario),*);
        })+
    };
    ($label:literal: $($scenario:ident),* $(,)?) => {
        mod aws {
            $(#[tokio::test] async fn $scenario() {
                if let Some(app) = $crate::apps::TestApp::aws($label).await {
                    super::$scenario(app).await
                }
            })*
        }
        mod embedded {
            $(#[tokio::test] async fn $scenario() {
                super::$scenario($crate::apps::TestApp::embedded($label).await).await
            })*
        }
    };
}
