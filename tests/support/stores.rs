//! The write-side ports and read model in either adapter, for conformance cases: the same
//! case runs against SQLite and against DynamoDB (real SDK, emulator, fresh tables from
//! template.yaml).

use std::sync::Arc;

use evreg::ports::{
    EventStore, IdempotencyStore, IdentityStore, Outbox, PaymentStore, ReadModel,
    RegistrationStore, UserStore,
};
use evreg::AppContext;

use crate::apps::AwsApp;

/// Every store port of one adapter, over one database.
pub struct Stores {
    pub events: Arc<dyn EventStore>,
    pub registrations: Arc<dyn RegistrationStore>,
    pub payment_records: Arc<dyn PaymentStore>,
    pub users: Arc<dyn UserStore>,
    pub identity: Arc<dyn IdentityStore>,
    pub idempotency: Arc<dyn IdempotencyStore>,
    pub outbox: Arc<dyn Outbox>,
    pub read: Arc<dyn ReadModel>,
}

impl Stores {
    /// The stores an application context runs on.
    pub fn of(ctx: &AppContext) -> Self {
        Self {
            events: ctx.events.clone(),
            registrations: ctx.registrations.clone(),
            payment_records: ctx.payment_records.clone(),
            users: ctx.users.clone(),
            identity: ctx.identity.clone(),
            idempotency: ctx.idempotency.clone(),
            outbox: ctx.outbox.clone(),
            read: ctx.read_model.clone(),
        }
    }
}

pub fn sqlite() -> Stores {
    let store = Arc::new(evreg::adapters::embedded::SqliteStore::in_memory().expect("sqlite"));
    Stores {
        events: store.clone(),
        registrations: store.clone(),
        payment_records: store.clone(),
        users: store.clone(),
        identity: store.clone(),
        idempotency: store.clone(),
        outbox: store.clone(),
        read: store,
    }
}

/// `None` when no emulator is configured (outside CI).
pub async fn dynamodb() -> Option<Stores> {
    let app = AwsApp::start("conformance").await?;
    Some(Stores::of(&app.ctx))
}

/// Runs each `case(stores: Stores)` as two tests, `sqlite::<case>` and `dynamodb::<case>`.
#[macro_export]
macro_rules! both_stores {
    ($($case:ident),* $(,)?) => {
        mod sqlite {
            $(#[tokio::test] async fn $case() { super::$case($crate::stores::sqlite()).await })*
        }
        mod dynamodb {
            $(#[tokio::test] async fn $case() {
                if let Some(stores) = $crate::stores::dynamodb().await { super::$case(stores).await }
            })*
        }
    };
}
