//! The application under test in either mode, built the way production builds it.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use aws_config::SdkConfig;
use std::path::PathBuf;

use evreg::adapters::embedded::{QueueSettings, SqliteStore};
use evreg::domain::RegistrationId;
use evreg::runtime::dev_server::Site;
use evreg::runtime::embedded::{Embedded, EmbeddedConfig};
use evreg::runtime::lambda::{aws_context, AwsResources};
use evreg::secrets::Secrets;
use evreg::AppContext;
use time::OffsetDateTime;

use crate::stripe::StripeStandIn;

use evreg::handlers::workers::{Worker, WORKERS};

use crate::api::{Api, LambdaApi};
use crate::emulator;
use crate::esm::EventSourceMapping;
use crate::faults::Faults;
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
    embedded_with(files, &Secrets::generate())
}

/// The embedded app keeping its tickets and mail under `files`, with `secrets`.
pub fn embedded_with(files: PathBuf, secrets: &Secrets) -> Embedded {
    let store = SqliteStore::in_memory().expect("in-memory sqlite");
    let config = EmbeddedConfig {
        files,
        public_url: TEST_PUBLIC_URL.to_owned(),
        queues: FAST_QUEUES,
    };
    Embedded::start(store, secrets, config).expect("embedded app")
}

/// evreg over the AWS adapters, against freshly provisioned emulator resources.
pub struct AwsApp {
    pub ctx: Arc<AppContext>,
    /// The same resources without injected faults (the test's own view); `ctx` itself
    /// when none are injected.
    pub observer: Arc<AppContext>,
    pub sdk: SdkConfig,
    pub resources: Provisioned,
    /// The Stripe stand-in this app's payments go to.
    pub stripe: StripeStandIn,
    /// The secrets it runs with (the webhook secret signs test webhooks).
    pub secrets: Secrets,
}

impl AwsApp {
    /// `None` when no emulator is configured (see [`emulator::sdk_config`]).
    pub async fn start(label: &str) -> Option<Self> {
        Self::start_with(label, &Secrets::generate(), None).await
    }

    /// As [`AwsApp::start`] with given secrets (a test that also puts them in SSM, for the
    /// functions), its SDK calls going through `faults` when given (the test's own calls,
    /// provisioning, the event source mappings' SQS calls and `observer`, do not).
    pub async fn start_with(
        label: &str,
        secrets: &Secrets,
        faults: Option<Faults>,
    ) -> Option<Self> {
        let sdk = emulator::sdk_config().await?;
        let resources = provision(&sdk, &emulator::unique_prefix(label))
            .await
            .expect("provisioning the emulator from template.yaml");
        let mail_from = format!("tickets@{}.evreg.test", resources.prefix.to_lowercase());
        crate::mailbox::verify_sender(&aws_sdk_ses::Client::new(&sdk), &mail_from).await;
        let names = AwsResources {
            write_table: resources.write_table().to_owned(),
            read_table: resources.read_table().to_owned(),
            topic_arn: resources.topic_arn.clone(),
            tickets_bucket: resources.tickets_bucket().to_owned(),
            mail_from,
            public_url: TEST_PUBLIC_URL.to_owned(),
            // None where the emulator has no CloudFront: the context then has `NoCdn`.
            distribution_id: resources.api_distribution().map(str::to_owned),
            stripe_api: String::new(),
        };
        let stripe =
            StripeStandIn::start(secrets.payments.secret_key.as_deref().unwrap_or_default()).await;
        let names = AwsResources {
            stripe_api: stripe.url.clone(),
            ..names
        };
        let observer = Arc::new(aws_context(&sdk, &names, secrets).expect("aws context"));
        let ctx = match faults {
            Some(faults) => {
                let faulty = sdk.to_builder().http_client(faults).build();
                Arc::new(aws_context(&faulty, &names, secrets).expect("aws context"))
            }
            None => observer.clone(),
        };
        Some(Self {
            ctx,
            observer,
            sdk,
            resources,
            stripe,
            secrets: secrets.clone(),
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

    /// The invalidations the emulator recorded for the API distribution, oldest first:
    /// (caller reference, paths); `None` where the emulator has no CloudFront.
    pub async fn invalidations(&self) -> Option<Vec<(String, BTreeSet<String>)>> {
        let distribution = self.resources.api_distribution()?;
        let cloudfront = aws_sdk_cloudfront::Client::new(&self.sdk);
        let listed = cloudfront
            .list_invalidations()
            .distribution_id(distribution)
            .send()
            .await
            .expect("list invalidations");
        let mut found = Vec::new();
        for summary in listed
            .invalidation_list()
            .map(|l| l.items().to_vec())
            .unwrap_or_default()
        {
            let invalidation = cloudfront
                .get_invalidation()
                .distribution_id(distribution)
                .id(summary.id())
                .send()
                .await
                .expect("get invalidation")
                .invalidation
                .expect("an invalidation");
            let batch = invalidation.invalidation_batch().expect("its batch");
            let paths = batch
                .paths()
                .map(|p| p.items().iter().cloned().collect())
                .unwrap_or_default();
            found.push((batch.caller_reference().to_owned(), paths));
        }
        Some(found)
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
    let (api, server) = serve_over_http(Site::from(&app)).await;
    (app, api, server)
}

/// `site` served by the dev server's `serve` on a free 127.0.0.1 port; abort the handle to
/// stop.
pub async fn serve_over_http(site: Site) -> (Arc<dyn Api>, Server) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a free port");
    let base_url = format!("http://{}", listener.local_addr().expect("bound"));
    let server = tokio::spawn(evreg::runtime::dev_server::serve(listener, site));
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
        app: Box<Embedded>,
        files: PathBuf,
        server: Server,
        secrets: Box<Secrets>,
    },
}

/// The product's JSON logs on stdout when `RUST_LOG` is set (to see why a route answered
/// 500), and silence otherwise: they bypass the test harness's capture.
fn logs_on_request() {
    if std::env::var_os("RUST_LOG").is_some() {
        evreg::runtime::logging::init_json();
    }
}

impl TestApp {
    /// Over the emulator (`None` when none is configured); `label` names its resources.
    pub async fn aws(label: &str) -> Option<Self> {
        logs_on_request();
        let app = AwsApp::start(label).await?;
        Some(Self {
            api: app.api(),
            ctx: app.ctx.clone(),
            mode: Mode::Aws(Box::new(app)),
        })
    }

    /// The embedded app over real HTTP, its files in a fresh scratch directory.
    pub async fn embedded(label: &str) -> Self {
        logs_on_request();
        let files = scratch_dir(label);
        let secrets = Secrets::generate();
        let app = embedded_with(files.clone(), &secrets);
        let (api, server) = serve_over_http(Site::from(&app)).await;
        Self {
            api,
            ctx: app.ctx.clone(),
            mode: Mode::Embedded {
                app: Box::new(app),
                files,
                server,
                secrets: Box::new(secrets),
            },
        }
    }

    /// Runs the workers until no queue holds anything: in AWS mode every worker's queue is
    /// drained through its event source mapping, again until a whole round finds nothing
    /// (a worker's output feeds another's queue). Without a CloudFront distribution (an
    /// emulator without CloudFront) the cdn worker has nothing to invalidate, as a stack
    /// without CloudFront has no cdn worker: its queue is left alone.
    pub async fn settle(&self) {
        match &self.mode {
            Mode::Aws(app) => loop {
                let cdn = app.resources.api_distribution().is_some();
                let mut handled = 0;
                for spec in WORKERS.iter().filter(|s| cdn || s.worker != Worker::Cdn) {
                    handled += app.mapping(spec.worker).await.drain().await;
                }
                if handled == 0 {
                    return;
                }
            },
            Mode::Embedded { app, .. } => app.bus.until_idle().await,
        }
    }

    /// Pays the checkout of the held registration `id` at the provider: the webhook the
    /// provider sends (its body and `Stripe-Signature`, signed at `at`), for the test to
    /// deliver to `/payments/webhook` — or not, or late, or twice.
    pub async fn pay(&self, id: RegistrationId, at: OffsetDateTime) -> (String, String) {
        let registration = self
            .ctx
            .registrations
            .registration(id)
            .await
            .expect("the store")
            .expect("a registration");
        let checkout_id = registration
            .hold
            .and_then(|hold| hold.checkout_id)
            .expect("a held registration with a checkout");
        match &self.mode {
            Mode::Aws(app) => {
                let body = app.stripe.complete(&checkout_id);
                let signature = evreg::payments::signature::sign(
                    &app.secrets.payments.webhook_secrets[0],
                    at.unix_timestamp(),
                    body.as_bytes(),
                );
                (body, signature)
            }
            Mode::Embedded { app, .. } => app
                .payments
                .pay(&checkout_id, at)
                .expect("an open dev checkout"),
        }
    }

    /// The paths of every CDN invalidation so far, oldest first: the embedded stand-in's
    /// record, or what the emulator's CloudFront recorded (`None` where it has none).
    pub async fn invalidated_paths(&self) -> Option<Vec<BTreeSet<String>>> {
        match &self.mode {
            Mode::Aws(app) => Some(
                app.invalidations()
                    .await?
                    .into_iter()
                    .map(|(_, paths)| paths)
                    .collect(),
            ),
            Mode::Embedded { app, .. } => Some(
                app.cdn
                    .invalidations()
                    .into_iter()
                    .map(|paths| paths.into_iter().collect())
                    .collect(),
            ),
        }
    }

    /// The webhook signing secret the app accepts.
    pub fn webhook_secret(&self) -> String {
        match &self.mode {
            Mode::Aws(app) => app.secrets.payments.webhook_secrets[0].clone(),
            Mode::Embedded { secrets, .. } => secrets.payments.webhook_secrets[0].clone(),
        }
    }

    /// Every refund the provider made: (payment id, amount in minor units).
    pub fn refunds(&self) -> Vec<(String, u64)> {
        match &self.mode {
            Mode::Aws(app) => app
                .stripe
                .refunds()
                .into_iter()
                .map(|r| (r.payment_intent, r.amount))
                .collect(),
            Mode::Embedded { app, .. } => app
                .payments
                .refunds()
                .into_iter()
                .map(|r| (r.payment_id, r.amount_cents))
                .collect(),
        }
    }

    /// Whether the provider's checkout `checkout_id` is still payable.
    pub fn checkout_open(&self, checkout_id: &str) -> bool {
        match &self.mode {
            Mode::Aws(app) => app
                .stripe
                .sessions()
                .iter()
                .any(|s| s.id == checkout_id && s.status == "open"),
            Mode::Embedded { app, .. } => app.payments.checkout(checkout_id).is_some_and(|c| {
                c.state == evreg::adapters::embedded::payments::CheckoutState::Open
            }),
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
            Mode::Embedded { app, .. } => {
                app.bus.dead_letters().await.expect("dead letters").len() as u64
            }
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
