//! Structured logs: one JSON object per line on stdout, which AgentCore ships to CloudWatch.
//! Events inside an invocation carry its span, so every line has the session and request id.

use tracing_subscriber::filter::{LevelFilter, Targets};
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;

/// Installs the JSON logger; `RUST_LOG` filters it (default `info`). Safe to call twice.
///
/// `RUST_LOG` takes `level` and `target=level` directives (`warn,assistant=debug`): a
/// `Targets` filter, not `EnvFilter`, whose span and field matching would bring a regex engine
/// into every agent binary for nothing an agent's logs need.
pub fn init_logging() {
    let filter = std::env::var("RUST_LOG")
        .ok()
        .and_then(|directives| directives.parse::<Targets>().ok())
        .unwrap_or_else(|| Targets::new().with_default(LevelFilter::INFO));
    let _ = tracing_subscriber::fmt()
        .json()
        .flatten_event(true)
        .with_current_span(true)
        .with_span_list(false)
        .with_target(false)
        .with_writer(std::io::stdout)
        .finish()
        .with(filter)
        .try_init();
}
