//! Structured logs: one JSON object per line on stdout, which AgentCore ships to CloudWatch.
//! Events inside an invocation carry its span, so every line has the session and request id.

use tracing_subscriber::EnvFilter;

/// Installs the JSON logger; `RUST_LOG` filters it (default `info`). Safe to call twice.
pub fn init_logging() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .json()
        .flatten_event(true)
        .with_current_span(true)
        .with_span_list(false)
        .with_target(false)
        .with_env_filter(filter)
        .with_writer(std::io::stdout)
        .try_init();
}
