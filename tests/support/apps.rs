//! The application under test in either mode, built the way production builds it.

use std::sync::Arc;
use std::time::Duration;

use aws_config::SdkConfig;
use evreg::adapters::embedded::{QueueSettings, SqliteStore};
use evreg::auth::KeyRing;
use evreg::runtime::dev_server::Embedded;
use evreg::runtime::lambda::{aws_context, AwsResources};
use evreg::AppContext;

use evreg::handlers::workers::Worker;

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

pub fn embedded() -> Embedded {
    let store = SqliteStore::in_memory().expect("in-memory sqlite");
    Embedded::start(store, &KeyRing::generate("test-1"), FAST_QUEUES).expect("embedded app")
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
        let names = AwsResources {
            write_table: resources.write_table().to_owned(),
            read_table: resources.read_table().to_owned(),
            topic_arn: resources.topic_arn.clone(),
        };
        let ctx = aws_context(&sdk, &names, &KeyRing::generate("test-1")).expect("aws context");
        Some(Self {
            ctx: Arc::new(ctx),
            sdk,
            resources,
        })
    }
}

impl AwsApp {
    pub fn projection_queue(&self) -> &str {
        self.resources
            .worker_queue("worker-projection")
            .expect("template.yaml has a projection queue")
    }

    /// The projection worker fed from its queue as Lambda's event source mapping would.
    pub async fn projection_mapping(&self) -> EventSourceMapping {
        EventSourceMapping::new(
            &self.sdk,
            self.projection_queue(),
            Worker::Projection,
            self.ctx.clone(),
        )
        .await
    }

    /// The HTTP API as API Gateway invokes the route Lambdas.
    pub fn api(&self) -> Arc<dyn Api> {
        Arc::new(LambdaApi {
            ctx: self.ctx.clone(),
        })
    }
}
