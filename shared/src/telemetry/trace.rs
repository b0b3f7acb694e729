//! One trace across the fan-out, as W3C Trace Context's `traceparent`
//! (<https://www.w3.org/TR/trace-context/>, version `00`): a request's trace comes from
//! its `traceparent` header, else from Lambda's X-Ray trace id (the same 128-bit id, so
//! the logs and X-Ray name one trace alike), else it starts there; the domain events the
//! request publishes carry it as the SNS message attribute `traceparent` (the embedded bus
//! keeps it beside each queued message), SQS hands it to the worker, and the worker's
//! message span continues it, and so on for what the worker publishes. Every log line in a
//! request's or a message's span carries `trace_id`, so one registration's lines, from the
//! API call to the mail, are found by one id.
//!
//! Written here rather than taken from OpenTelemetry: the format is one fixed 55-character
//! string, and the W3C propagator ships in `opentelemetry_sdk`, which would link the SDK's
//! exporters and processors into every function for it while evreg exports no spans (they
//! go to the log).

use std::future::Future;

/// A position in a trace: the trace's id, the current span's id, and the sampled flag.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TraceContext {
    trace_id: u128,
    span_id: u64,
    sampled: bool,
}

tokio::task_local! {
    static CURRENT: TraceContext;
}

impl TraceContext {
    /// A new trace, its first span.
    pub fn new_root() -> Self {
        Self {
            trace_id: nonzero_u128(),
            span_id: nonzero_u64(),
            sampled: false,
        }
    }

    /// Parses a `traceparent` value (`00-<32 hex trace id>-<16 hex parent id>-<2 hex flags>`;
    /// a later version is read by its first four fields, as the specification asks). `None`
    /// for anything else, version `ff`, or an all-zero id.
    pub fn parse(traceparent: &str) -> Option<Self> {
        let value = traceparent.trim();
        let mut fields = value.split('-');
        let (version, trace, parent, flags) = (
            fields.next()?,
            fields.next()?,
            fields.next()?,
            fields.next()?,
        );
        let exact = fields.next().is_none();
        if version.len() != 2 || version.eq_ignore_ascii_case("ff") || !is_hex(version) {
            return None;
        }
        if version == "00" && !exact {
            return None;
        }
        if trace.len() != 32 || parent.len() != 16 || flags.len() != 2 {
            return None;
        }
        if ![trace, parent, flags]
            .iter()
            .all(|field| is_lower_hex(field))
        {
            return None;
        }
        let trace_id = u128::from_str_radix(trace, 16).ok()?;
        let span_id = u64::from_str_radix(parent, 16).ok()?;
        let flags = u8::from_str_radix(flags, 16).ok()?;
        (trace_id != 0 && span_id != 0).then_some(Self {
            trace_id,
            span_id,
            sampled: flags & 1 == 1,
        })
    }

    /// Reads X-Ray's trace header as Lambda hands it over
    /// (`Root=1-<8 hex time>-<24 hex>;Parent=<16 hex>;Sampled=<0|1>`): the trace id is the
    /// root's 32 hex digits, as AWS maps X-Ray ids to W3C's. A missing `Parent` starts a
    /// span of its own.
    pub fn from_xray(header: &str) -> Option<Self> {
        let mut root = None;
        let mut parent = None;
        let mut sampled = false;
        for part in header.split(';') {
            match part.trim().split_once('=') {
                Some(("Root", value)) => root = Some(value),
                Some(("Parent", value)) => parent = Some(value),
                Some(("Sampled", value)) => sampled = value == "1",
                _ => {}
            }
        }
        let mut root_fields = root?.split('-');
        let (version, time, unique) = (
            root_fields.next()?,
            root_fields.next()?,
            root_fields.next()?,
        );
        if version != "1" || time.len() != 8 || unique.len() != 24 || root_fields.next().is_some() {
            return None;
        }
        let trace = format!("{time}{unique}").to_ascii_lowercase();
        if !is_lower_hex(&trace) {
            return None;
        }
        let trace_id = u128::from_str_radix(&trace, 16).ok()?;
        let span_id = match parent {
            Some(parent) if parent.len() == 16 && is_hex(parent) => {
                u64::from_str_radix(parent, 16).ok()?
            }
            _ => nonzero_u64(),
        };
        (trace_id != 0 && span_id != 0).then_some(Self {
            trace_id,
            span_id,
            sampled,
        })
    }

    /// A new span in the same trace (this one its parent).
    pub fn child(&self) -> Self {
        Self {
            span_id: nonzero_u64(),
            ..*self
        }
    }

    /// The `traceparent` value naming this span (version `00`).
    pub fn traceparent(&self) -> String {
        format!(
            "00-{:032x}-{:016x}-{:02x}",
            self.trace_id,
            self.span_id,
            u8::from(self.sampled)
        )
    }

    /// The trace's id, 32 lowercase hex digits (the log lines' `trace_id`).
    pub fn trace_id(&self) -> String {
        format!("{:032x}", self.trace_id)
    }

    /// This span's id, 16 lowercase hex digits.
    pub fn span_id(&self) -> String {
        format!("{:016x}", self.span_id)
    }

    /// Runs `work` with this as the current trace context ([`current`]).
    pub async fn scope<F: Future>(self, work: F) -> F::Output {
        CURRENT.scope(self, work).await
    }
}

/// The trace context of the request or message being handled on this task, if any (the
/// sweeper's republishing has none).
pub fn current() -> Option<TraceContext> {
    CURRENT.try_with(|context| *context).ok()
}

fn is_hex(text: &str) -> bool {
    text.bytes().all(|b| b.is_ascii_hexdigit())
}

fn is_lower_hex(text: &str) -> bool {
    text.bytes()
        .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

fn nonzero_u128() -> u128 {
    uuid::Uuid::new_v4().as_u128().max(1)
}

fn nonzero_u64() -> u64 {
    (uuid::Uuid::new_v4().as_u128() as u64).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

    #[test]
    fn the_specifications_example_round_trips() {
        let context = TraceContext::parse(SAMPLE).expect("valid");
        assert_eq!(context.trace_id(), "4bf92f3577b34da6a3ce929d0e0e4736");
        assert_eq!(context.span_id(), "00f067aa0ba902b7");
        assert_eq!(context.traceparent(), SAMPLE);
    }

    #[test]
    fn invalid_values_are_refused() {
        for value in [
            "",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
            "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",
            "0-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e47zz-00f067aa0ba902b7-01",
        ] {
            assert_eq!(TraceContext::parse(value), None, "{value}");
        }
        // A later version with more fields is read by its first four.
        assert!(TraceContext::parse(
            "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-later"
        )
        .is_some());
    }

    #[test]
    fn an_xray_header_names_the_same_trace() {
        let context = TraceContext::from_xray(
            "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1",
        )
        .expect("valid");
        assert_eq!(context.trace_id(), "5759e988bd862e3fe1be46a994272793");
        assert_eq!(context.span_id(), "53995c3f42cd8ad8");
        assert!(context.traceparent().ends_with("-01"));
        assert_eq!(
            TraceContext::from_xray("Root=2-5759e988-bd86;Parent=1"),
            None
        );
        assert_eq!(TraceContext::from_xray("Sampled=1"), None);
    }

    #[test]
    fn a_child_keeps_the_trace_and_takes_a_new_span() {
        let parent = TraceContext::parse(SAMPLE).unwrap();
        let child = parent.child();
        assert_eq!(child.trace_id(), parent.trace_id());
        assert_ne!(child.span_id(), parent.span_id());
    }

    #[tokio::test]
    async fn the_current_context_is_the_scopes() {
        assert_eq!(current(), None);
        let context = TraceContext::new_root();
        let inside = context.scope(async { current() }).await;
        assert_eq!(inside, Some(context));
    }
}
