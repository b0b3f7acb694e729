//! `make dev`: evreg's API and workers on 127.0.0.1:$PORT with no AWS.

use evreg::runtime::{dev_server, logging};

#[tokio::main]
async fn main() -> Result<(), dev_server::BoxError> {
    logging::init_json();
    dev_server::run(dev_server::DevSettings::from_env()?).await
}
