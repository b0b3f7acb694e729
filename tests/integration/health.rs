//! `GET /health`: liveness for anyone; `?deep=1` readiness for an ADMIN, each dependency
//! checked within its timeout, in both modes.

use std::sync::Arc;

use async_trait::async_trait;
use evreg::domain::{DomainEvent, UserId};
use evreg::handlers::routes::health::CHECK_TIMEOUT;
use evreg::ports::{BlobError, Blobs};
use evreg::AppContext;
use evreg_tests::api::{new_admin, new_organizer, Api, LambdaApi};
use evreg_tests::apps::TestApp;
use evreg_tests::clock::LaterClock;
use evreg_tests::fixtures;
use serde_json::json;

evreg_tests::both_modes!("health":
    health => [
        liveness_is_public_and_touches_nothing,
        readiness_is_for_admins_and_checks_every_dependency,
        a_lagging_outbox_is_degraded,
        a_failing_or_silent_dependency_makes_it_unavailable,
    ],
);

async fn liveness_is_public_and_touches_nothing(app: TestApp) {
    for path in ["/health", "/health?deep=0"] {
        let reply = app.api.get(path, None).await;
        assert_eq!(reply.status, 200, "{path}: {:?}", reply.body);
        assert_eq!(reply.body["status"], "ok");
        assert!(
            reply.body.get("checks").is_none(),
            "{path}: {:?}",
            reply.body
        );
    }
    for path in ["/health?deep=yes", "/health?deep=1&deep=1"] {
        let reply = app.api.get(path, None).await;
        assert_eq!(
            (reply.status, reply.code()),
            (400, "invalid_query"),
            "{path}"
        );
    }
}

async fn readiness_is_for_admins_and_checks_every_dependency(app: TestApp) {
    let anonymous = app.api.get("/health?deep=1", None).await;
    assert_eq!(
        (anonymous.status, anonymous.code()),
        (401, "unauthenticated")
    );
    let organizer = new_organizer(app.api.as_ref()).await;
    let refused = app.api.get("/health?deep=1", Some(&organizer)).await;
    assert_eq!((refused.status, refused.code()), (403, "forbidden"));

    let (_, admin) = new_admin(&app.ctx).await;
    let reply = app.api.get("/health?deep=true", Some(&admin)).await;
    assert_eq!(reply.status, 200, "{:?}", reply.body);
    assert_eq!(reply.body["status"], "ok", "{:?}", reply.body);
    for check in ["store", "read_model", "blobs", "outbox"] {
        assert_eq!(
            reply.body["checks"][check]["status"], "ok",
            "{check}: {:?}",
            reply.body
        );
        assert!(reply.body["checks"][check]["latency_ms"].is_u64());
    }
}

/// A domain event written an hour ago and never published: the bus fails or lags.
async fn a_lagging_outbox_is_degraded(app: TestApp) {
    let (_, admin) = new_admin(&app.ctx).await;
    let earlier = AppContext {
        clock: Arc::new(LaterClock(time::Duration::hours(-1))),
        ..(*app.ctx).clone()
    };
    let user = fixtures::user(&fixtures::unique_email("lagging"));
    let envelope = evreg::domain::Envelope::new(
        DomainEvent::UserSignedUp {
            user_id: UserId::now_v7(),
        },
        earlier.clock.now(),
    );
    earlier
        .users
        .create_user(&user, std::slice::from_ref(&envelope))
        .await
        .expect("a write whose publish never happened")
        .unpublished();

    // Nothing sweeps the outbox here (the sweeper is a schedule, or the dev server's task).
    let reply = app.api.get("/health?deep=1", Some(&admin)).await;
    assert_eq!(reply.status, 200, "{:?}", reply.body);
    assert_eq!(reply.body["status"], "degraded", "{:?}", reply.body);
    let outbox = &reply.body["checks"]["outbox"];
    assert_eq!(outbox["status"], "degraded");
    assert!(
        outbox["oldest_age_seconds"].as_i64() >= Some(3600),
        "{outbox}"
    );
}

/// Blobs that fail, and blobs that never answer.
struct BrokenBlobs {
    silent: bool,
}

#[async_trait]
impl Blobs for BrokenBlobs {
    async fn put(&self, _: &str, _: &str, _: Vec<u8>) -> Result<(), BlobError> {
        Err(BlobError("refused".into()))
    }

    async fn get(&self, _: &str) -> Result<Option<Vec<u8>>, BlobError> {
        if self.silent {
            std::future::pending::<()>().await;
        }
        Err(BlobError("the bucket refused".into()))
    }
}

async fn a_failing_or_silent_dependency_makes_it_unavailable(app: TestApp) {
    let (_, admin) = new_admin(&app.ctx).await;
    for silent in [false, true] {
        let api = LambdaApi {
            ctx: Arc::new(AppContext {
                blobs: Arc::new(BrokenBlobs { silent }),
                ..(*app.ctx).clone()
            }),
        };
        let reply = api.get("/health?deep=1", Some(&admin)).await;
        assert_eq!(reply.status, 503, "{:?}", reply.body);
        assert_eq!(reply.header("retry-after"), Some("5"));
        assert_eq!(reply.body["status"], "unavailable");
        let blobs = &reply.body["checks"]["blobs"];
        assert_eq!(blobs["status"], "failing");
        let expected = if silent {
            format!("no answer within {} s", CHECK_TIMEOUT.as_secs())
        } else {
            "blob storage failed: the bucket refused".to_owned()
        };
        assert_eq!(blobs["error"], json!(expected));
        assert_eq!(reply.body["checks"]["store"]["status"], "ok");
    }
}
