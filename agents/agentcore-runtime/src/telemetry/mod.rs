//! What an agent tells about itself: JSON log lines on stdout (which AgentCore ships to
//! CloudWatch), and, when an OTLP endpoint is configured, traces and metrics over OTLP.
//!
//! Events inside an invocation carry its span, so every log line has the session and request
//! id; the same `tracing` spans become OpenTelemetry spans through `tracing-opentelemetry`.
//!
//! - [`export`]: the OTLP exporters, configured by the standard `OTEL_*` variables only;
//! - [`genai`]: the span and metrics of one model call ([`ModelCall`]), with the GenAI
//!   semantic conventions;
//! - [`metrics`]: the instruments (invocations, token usage, model call duration).

mod export;
mod genai;
mod metrics;

use std::time::Duration;

use axum::http::HeaderMap;
use opentelemetry_http::HeaderExtractor;
use tracing_opentelemetry::OpenTelemetrySpanExt as _;

use tracing_subscriber::filter::{LevelFilter, Targets};
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;

pub(crate) use export::https_client;
pub use genai::{BEDROCK, ModelCall, memory_span, tool_span};
pub(crate) use metrics::record_invocation;

/// How long a shutdown waits for the last spans and metrics to leave: AgentCore sends SIGKILL
/// some seconds after SIGTERM, and an unreachable collector must not keep the process alive.
const FLUSH_BUDGET: Duration = Duration::from_secs(3);

/// The telemetry of a running agent; [`Telemetry::shutdown`] flushes it.
#[must_use = "shut it down when the agent stops, or the last spans are lost"]
pub struct Telemetry {
    exporters: export::Exporters,
}

/// Installs the JSON logger and, when `OTEL_*` names an endpoint, the OTLP exporters.
/// `AGENT_ID` (or else `service`) names the agent when neither `OTEL_SERVICE_NAME` nor `OTEL_RESOURCE_ATTRIBUTES`
/// does. Safe to call twice (the second keeps the first's subscriber and exports nothing).
///
/// `RUST_LOG` takes `level` and `target=level` directives (`warn,assistant=debug`): a
/// `Targets` filter, not `EnvFilter`, whose span and field matching would bring a regex engine
/// into every agent binary for nothing an agent's logs need. It filters the spans exported too.
pub fn init(service: &str) -> anyhow::Result<Telemetry> {
    // The platform's name for the agent (`AGENT_ID`) before the binary's own.
    let agent_id = std::env::var("AGENT_ID")
        .ok()
        .filter(|id| !id.trim().is_empty());
    let service = agent_id.as_deref().unwrap_or(service);
    let filter = std::env::var("RUST_LOG")
        .ok()
        .and_then(|directives| directives.parse::<Targets>().ok())
        .unwrap_or_else(|| Targets::new().with_default(LevelFilter::INFO));
    // A configuration the exporters refuse still gets the logger, to say so on it.
    let (exporters, refused) =
        match export::Exporters::from_env(service, |name| std::env::var(name).ok()) {
            Ok(exporters) => (exporters, None),
            Err(err) => (export::Exporters::none(), Some(err)),
        };
    let json = tracing_subscriber::fmt::layer()
        .json()
        .flatten_event(true)
        .with_current_span(true)
        .with_span_list(false)
        .with_target(false)
        .with_writer(std::io::stdout);
    // A span's events (the log lines written inside it) become its span events, and an
    // `error!` inside it its error status.
    let otel = exporters.tracer().map(|tracer| {
        tracing_opentelemetry::layer()
            .with_tracer(tracer)
            .with_location(false)
            .with_threads(false)
    });
    let installed = tracing_subscriber::registry()
        .with(json)
        .with(otel)
        .with(filter)
        .try_init()
        .is_ok();
    if let Some(err) = refused {
        return Err(err);
    }
    if installed {
        exporters.install_globals();
    }
    tracing::info!(
        traces = exporters.traces_enabled(),
        metrics = exporters.metrics_enabled(),
        "telemetry ready"
    );
    Ok(Telemetry { exporters })
}

impl Telemetry {
    /// Sends what is still queued, within [`FLUSH_BUDGET`]: past it the agent stops anyway and
    /// what was not sent is lost, which is better than a stop that waits on a collector.
    pub async fn shutdown(self) {
        let exporters = self.exporters;
        if !exporters.traces_enabled() && !exporters.metrics_enabled() {
            return;
        }
        // The SDK's shutdown blocks its caller while the export runs on this runtime. A thread
        // of its own, not `spawn_blocking`: dropping the runtime waits for those, and an export
        // stuck on a silent collector would then keep the process from exiting.
        let (done, flushed) = tokio::sync::oneshot::channel();
        std::thread::spawn(move || {
            let _ = done.send(exporters.shutdown(FLUSH_BUDGET));
        });
        match tokio::time::timeout(FLUSH_BUDGET, flushed).await {
            Ok(Ok(Ok(()))) => tracing::info!("telemetry flushed"),
            Ok(Ok(Err(err))) => tracing::warn!(error = %err, "telemetry not flushed"),
            Ok(Err(_)) | Err(_) => tracing::warn!(
                budget_ms = FLUSH_BUDGET.as_millis() as u64,
                "telemetry not flushed in time; the rest is dropped"
            ),
        }
    }
}

/// Puts an invocation's span in the caller's trace (the W3C `traceparent` AgentCore passes on)
/// and names its session the OpenTelemetry way (`session.id`, which AgentCore's observability
/// groups traces by). Call it before the span is first entered.
pub(crate) fn adopt(span: &tracing::Span, headers: &HeaderMap, session_id: Option<&str>) {
    let parent = opentelemetry::global::get_text_map_propagator(|propagator| {
        propagator.extract(&HeaderExtractor(headers))
    });
    // Without the OpenTelemetry layer (no exporter) there is no trace to join.
    let _ = span.set_parent(parent);
    if let Some(id) = session_id {
        span.set_attribute("session.id", id.to_string());
    }
}
