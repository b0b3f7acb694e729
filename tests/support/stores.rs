//! The store and read model in either adapter, for conformance cases: the same case runs
//! against SQLite and against DynamoDB (real SDK, emulator, fresh tables from template.yaml).

use std::sync::Arc;

use evreg::ports::{ReadModel, Store};

use crate::apps::AwsApp;

pub struct Stores {
    pub store: Arc<dyn Store>,
    pub read: Arc<dyn ReadModel>,
}

pub fn sqlite() -> Stores {
    let store = Arc::new(evreg::adapters::embedded::SqliteStore::in_memory().expect("sqlite"));
    Stores {
        store: store.clone(),
        read: store,
    }
}

/// `None` when no emulator is configured (outside CI).
pub async fn dynamodb() -> Option<Stores> {
    let app = AwsApp::start("conformance").await?;
    Some(Stores {
        store: app.ctx.store.clone(),
        read: app.ctx.read_model.clone(),
    })
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
