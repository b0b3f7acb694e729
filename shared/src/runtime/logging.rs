//! Structured JSON logs (`tracing`) to stdout: CloudWatch in Lambda, the terminal locally.

/// Structured JSON logs to stdout (CloudWatch in AWS), filtered by `RUST_LOG` (default
/// info). Each line carries the fields of the spans it was logged in (`spans`: the
/// request's route and ids, a worker's batch and the message's ids; see
/// [`crate::telemetry`]), so one request's or one message's lines are found by its id.
pub fn init_json() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .json()
        .with_env_filter(filter)
        .with_current_span(false)
        .with_span_list(true)
        .without_time()
        .try_init();
}
