//! evreg integration tests: one binary, one module per area.

mod conformance;
mod e2e;
mod template;
