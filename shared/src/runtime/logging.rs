//! Structured JSON logs (`tracing`) to stdout: CloudWatch in Lambda, the terminal locally.

/// Structured JSON logs to stdout (CloudWatch in AWS), filtered by `RUST_LOG` (default info).
pub fn init_json() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .json()
        .with_env_filter(filter)
        .with_current_span(false)
        .without_time()
        .try_init();
}
