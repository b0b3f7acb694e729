//! The SDK floor for `tests/examples/bench_cold_start.rs`: the hello-world `lambda_runtime`
//! function plus what any function on the AWS SDK does at init — `aws_config::load_defaults`
//! and two clients (DynamoDB and SSM), no request. Not deployed.

use lambda_http::lambda_runtime::{self, service_fn, LambdaEvent};
use serde_json::{json, Value};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    let sdk = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    let dynamodb = aws_sdk_dynamodb::Client::new(&sdk);
    let ssm = aws_sdk_ssm::Client::new(&sdk);
    lambda_runtime::run(service_fn(move |_: LambdaEvent<Value>| {
        // The clients live as long as the function, as a real function's do.
        let _clients = (&dynamodb, &ssm);
        async { Ok::<_, lambda_runtime::Error>(json!({ "statusCode": 200, "body": "hello" })) }
    }))
    .await
}
