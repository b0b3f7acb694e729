//! Structured JSON logs (`tracing`) to stdout: CloudWatch in Lambda, the terminal locally.

/// Structured logs to stdout (CloudWatch in AWS). Each line carries the fields of the spans
/// it was logged in (`spans`: the request's route and ids, a worker's batch and the
/// message's ids; see [`crate::telemetry`]), so one request's or one message's lines are
/// found by its id.
///
/// Lambda's advanced logging controls are honoured (the template's `LoggingConfig`, which
/// Lambda hands over as `AWS_LAMBDA_LOG_FORMAT` and `AWS_LAMBDA_LOG_LEVEL`): format `JSON`
/// (the default) or `Text`; level `TRACE`, `DEBUG`, `INFO` (the default), `WARN`, `ERROR` or
/// `FATAL` (tracing has no fatal: errors only). `RUST_LOG`, when set, filters instead (per
/// crate, `tracing_subscriber`'s `EnvFilter` syntax).
pub fn init_json() {
    let level = std::env::var("AWS_LAMBDA_LOG_LEVEL").unwrap_or_default();
    let level = match level.to_ascii_uppercase().as_str() {
        "TRACE" => "trace",
        "DEBUG" => "debug",
        "WARN" => "warn",
        "ERROR" | "FATAL" => "error",
        _ => "info",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(level));
    let text = std::env::var("AWS_LAMBDA_LOG_FORMAT").is_ok_and(|f| f.eq_ignore_ascii_case("text"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .without_time()
        .with_ansi(false);
    let _ = if text {
        builder.try_init()
    } else {
        builder
            .json()
            .with_current_span(false)
            .with_span_list(true)
            .try_init()
    };
}
