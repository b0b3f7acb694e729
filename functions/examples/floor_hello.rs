//! The cold-start floor for `tests/examples/bench_cold_start.rs`: a hello-world
//! `lambda_runtime` function (a multi-threaded tokio runtime, as evreg's functions have, and
//! nothing else). Not deployed.

use lambda_http::lambda_runtime::{self, service_fn, LambdaEvent};
use serde_json::{json, Value};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    lambda_runtime::run(service_fn(|_: LambdaEvent<Value>| async {
        Ok::<_, lambda_runtime::Error>(json!({ "statusCode": 200, "body": "hello" }))
    }))
    .await
}
