//! Metrics out of a Lambda function: the `metrics` facade's recorder is
//! `metrics_cloudwatch_embedded`'s, which writes CloudWatch Embedded Metric Format
//! documents (one JSON line per label set; CloudWatch Logs turns them into metrics in the
//! [`NAMESPACE`](crate::telemetry::NAMESPACE) namespace, labels becoming dimensions) to
//! stdout. They are flushed at the end of every invocation, before its answer goes back:
//! Lambda may freeze the process right after, and what it has not written by then waits
//! for the next invocation, or is lost with the environment.
//!
//! The first invocation of a process is its cold start: it is counted
//! ([`crate::telemetry::cold_start`]) and logged with the init's duration.

use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use lambda_http::lambda_runtime::Context;
use metrics_cloudwatch_embedded::Collector;

/// One function process's invocations, as its metrics and its log see them.
pub struct Invocations {
    function: &'static str,
    /// `None` where a recorder was installed already (a test process running several).
    collector: Option<&'static Collector>,
    cold: AtomicBool,
    init: Duration,
}

impl Invocations {
    /// Installs the EMF recorder for `function` (a binary's name, e.g. `events-create`),
    /// whose init began at `started`.
    pub fn start(function: &'static str, started: Instant) -> Self {
        let collector = metrics_cloudwatch_embedded::Builder::new()
            .cloudwatch_namespace(crate::telemetry::NAMESPACE)
            .init()
            .ok();
        Self {
            function,
            collector,
            cold: AtomicBool::new(true),
            init: started.elapsed(),
        }
    }

    /// Before an invocation's handler: on the process's first, the cold start's mark (a
    /// log line with the invocation's request id and the init's milliseconds).
    pub fn begin(&self, context: &Context) {
        if self.cold.swap(false, Ordering::Relaxed) {
            crate::telemetry::cold_start(self.function);
            tracing::info!(
                function = self.function,
                aws_request_id = context.request_id,
                cold_start = true,
                init_ms = u64::try_from(self.init.as_millis()).unwrap_or(u64::MAX),
                "cold start"
            );
        }
    }

    /// After an invocation's handler, before its answer: the metrics it recorded, as EMF
    /// documents on stdout, with Lambda's request id and X-Ray's trace id as properties
    /// (searchable in CloudWatch Logs, not dimensions).
    pub fn end(&self, context: &Context) {
        let Some(collector) = self.collector else {
            return;
        };
        collector.set_property("requestId", context.request_id.clone());
        match &context.xray_trace_id {
            Some(trace) => collector.set_property("traceId", trace.clone()),
            None => collector.remove_property("traceId"),
        };
        let mut out = std::io::stdout().lock();
        if let Err(error) = collector.flush(&mut out).and_then(|()| out.flush()) {
            tracing::warn!(%error, "writing the metrics failed");
        }
    }
}
