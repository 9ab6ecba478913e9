//! The OTLP exporters, configured by the standard `OTEL_*` variables and nothing else.
//!
//! - No endpoint (`OTEL_EXPORTER_OTLP_ENDPOINT`, or `…_TRACES_ENDPOINT` / `…_METRICS_ENDPOINT`
//!   for one signal), `OTEL_SDK_DISABLED=true`, or `OTEL_TRACES_EXPORTER` /
//!   `OTEL_METRICS_EXPORTER=none`: no exporter, nothing leaves the process.
//! - OTLP over HTTP with protobuf (the protocol's default); `grpc` and `http/json` are refused
//!   at start with what to set instead, rather than dropping every span silently.
//! - Never on an invocation's path: spans wait in the SDK's batch processor (a bounded queue,
//!   `OTEL_BSP_MAX_QUEUE_SIZE`, full = dropped) and metrics in the periodic reader
//!   (`OTEL_METRIC_EXPORT_INTERVAL`); both export from their own thread, each request bounded
//!   by `OTEL_EXPORTER_OTLP_TIMEOUT` (10 s by default).
//! - HTTPS through the TLS the AWS SDK already links (hyper-rustls on rustls with aws-lc-rs,
//!   the platform's root certificates), so no second TLS stack ships in every agent.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context as _, bail};
use bytes::Bytes;
use opentelemetry::trace::TracerProvider as _;
use opentelemetry::{Key, KeyValue};
use opentelemetry_http::hyper::HyperClient;
use opentelemetry_http::{HttpClient, HttpError, Request, Response};
use opentelemetry_otlp::{WithExportConfig as _, WithHttpConfig as _};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::metrics::SdkMeterProvider;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::{SdkTracer, SdkTracerProvider};

/// The exporters an agent runs, if any.
pub(super) struct Exporters {
    traces: Option<SdkTracerProvider>,
    metrics: Option<SdkMeterProvider>,
}

/// One signal's variables: its own, then the general one.
struct Signal {
    name: &'static str,
    endpoint: &'static str,
    exporter: &'static str,
    protocol: &'static str,
    timeout: &'static str,
}

const TRACES: Signal = Signal {
    name: "traces",
    endpoint: "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
    exporter: "OTEL_TRACES_EXPORTER",
    protocol: "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL",
    timeout: "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT",
};

const METRICS: Signal = Signal {
    name: "metrics",
    endpoint: "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT",
    exporter: "OTEL_METRICS_EXPORTER",
    protocol: "OTEL_EXPORTER_OTLP_METRICS_PROTOCOL",
    timeout: "OTEL_EXPORTER_OTLP_METRICS_TIMEOUT",
};

/// The specification's default export timeout.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

impl Exporters {
    /// Reads the `OTEL_*` variables through `lookup`; exporters are built (not yet installed)
    /// for the signals that have an endpoint.
    pub fn from_env(
        service: &str,
        lookup: impl Fn(&str) -> Option<String>,
    ) -> anyhow::Result<Exporters> {
        let get = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());
        let none = Exporters::none();
        if get("OTEL_SDK_DISABLED").is_some_and(|v| v.trim().eq_ignore_ascii_case("true")) {
            return Ok(none);
        }
        let traces_on = wanted(&TRACES, &get)?;
        let metrics_on = wanted(&METRICS, &get)?;
        if !traces_on && !metrics_on {
            return Ok(none);
        }
        let runtime = tokio::runtime::Handle::try_current()
            .context("the OTLP exporters need the agent's Tokio runtime")?;
        let resource = resource(service);
        let traces = match traces_on {
            false => None,
            true => {
                let exporter = opentelemetry_otlp::SpanExporter::builder()
                    .with_http()
                    .with_protocol(opentelemetry_otlp::Protocol::HttpBinary)
                    .with_http_client(OnRuntime::new(&runtime, timeout(&TRACES, &get)?)?)
                    .build()
                    .context("cannot set up the OTLP trace exporter (OTEL_EXPORTER_OTLP_*)")?;
                Some(
                    SdkTracerProvider::builder()
                        .with_batch_exporter(exporter)
                        .with_resource(resource.clone())
                        .build(),
                )
            }
        };
        let metrics = match metrics_on {
            false => None,
            true => {
                let exporter = opentelemetry_otlp::MetricExporter::builder()
                    .with_http()
                    .with_protocol(opentelemetry_otlp::Protocol::HttpBinary)
                    .with_http_client(OnRuntime::new(&runtime, timeout(&METRICS, &get)?)?)
                    .build()
                    .context("cannot set up the OTLP metric exporter (OTEL_EXPORTER_OTLP_*)")?;
                Some(
                    SdkMeterProvider::builder()
                        .with_periodic_exporter(exporter)
                        .with_resource(resource)
                        .build(),
                )
            }
        };
        Ok(Exporters { traces, metrics })
    }

    pub fn none() -> Exporters {
        Exporters {
            traces: None,
            metrics: None,
        }
    }

    pub fn traces_enabled(&self) -> bool {
        self.traces.is_some()
    }

    pub fn metrics_enabled(&self) -> bool {
        self.metrics.is_some()
    }

    /// The tracer the `tracing` bridge sends its spans to.
    pub fn tracer(&self) -> Option<SdkTracer> {
        self.traces
            .as_ref()
            .map(|provider| provider.tracer("agentcore-runtime"))
    }

    /// Makes the meter provider the one [`opentelemetry::global::meter`] answers, and W3C
    /// trace context the propagator (a caller's `traceparent` becomes the invocation's parent).
    pub fn install_globals(&self) {
        opentelemetry::global::set_text_map_propagator(TraceContextPropagator::new());
        if let Some(provider) = &self.metrics {
            opentelemetry::global::set_meter_provider(provider.clone());
        }
    }

    /// Exports what is queued and stops; blocks its caller, each signal given half of `budget`
    /// (the metric reader may take longer: the caller bounds the whole).
    pub fn shutdown(&self, budget: Duration) -> anyhow::Result<()> {
        let each = budget / 2;
        let traces = self.traces.as_ref().map(|p| p.shutdown_with_timeout(each));
        let metrics = self.metrics.as_ref().map(|p| p.shutdown_with_timeout(each));
        for (signal, result) in [("traces", traces), ("metrics", metrics)] {
            if let Some(Err(err)) = result {
                bail!("{signal}: {err}");
            }
        }
        Ok(())
    }
}

/// Whether a signal is exported: an endpoint for it, and not switched off; only OTLP over
/// HTTP/protobuf is spoken.
fn wanted(signal: &Signal, get: &impl Fn(&str) -> Option<String>) -> anyhow::Result<bool> {
    match get(signal.exporter).as_deref().map(str::trim) {
        None | Some("otlp") => {}
        Some("none") => return Ok(false),
        Some(other) => bail!(
            "{}={other:?} is not supported by this agent: use `otlp` (the default) or `none`",
            signal.exporter
        ),
    }
    let protocol = get(signal.protocol).or_else(|| get("OTEL_EXPORTER_OTLP_PROTOCOL"));
    if let Some(protocol) = protocol.as_deref().map(str::trim)
        && protocol != "http/protobuf"
    {
        bail!(
            "OTLP protocol {protocol:?} ({} or OTEL_EXPORTER_OTLP_PROTOCOL) is not supported by \
             this agent: unset it or use `http/protobuf`, and point the endpoint at the \
             collector's OTLP/HTTP port (4318)",
            signal.protocol
        );
    }
    Ok(get(signal.endpoint).is_some() || get("OTEL_EXPORTER_OTLP_ENDPOINT").is_some())
}

/// `OTEL_EXPORTER_OTLP_{SIGNAL_}TIMEOUT`, in milliseconds as the specification says.
fn timeout(signal: &Signal, get: &impl Fn(&str) -> Option<String>) -> anyhow::Result<Duration> {
    let (name, value) = match get(signal.timeout) {
        Some(value) => (signal.timeout, value),
        None => match get("OTEL_EXPORTER_OTLP_TIMEOUT") {
            Some(value) => ("OTEL_EXPORTER_OTLP_TIMEOUT", value),
            None => return Ok(DEFAULT_TIMEOUT),
        },
    };
    let millis: u64 = value.trim().parse().with_context(|| {
        format!(
            "{name}={value:?} is not a number of milliseconds (the {} export timeout)",
            signal.name
        )
    })?;
    Ok(Duration::from_millis(millis))
}

/// The resource every span and metric carries: the SDK's (`service.name` from
/// `OTEL_SERVICE_NAME`, then `OTEL_RESOURCE_ATTRIBUTES`, the SDK's name and version), with
/// the agent's id as the service when neither names one.
///
/// What AgentCore observability reads from it (the AgentCore developer guide, "Enabling
/// observability in agent code"): `service.name` (the agent in the GenAI observability
/// page), `aws.log.group.names` and `cloud.resource_id` (the runtime's log group and ARN).
/// The runtime's ARN and log group are known only once it exists, so they come from the
/// platform through `OTEL_RESOURCE_ATTRIBUTES`, never from code; `cloud.provider` is ours.
fn resource(service: &str) -> Resource {
    let detected = Resource::builder().build();
    let named = detected
        .get(&Key::from_static_str("service.name"))
        .is_some_and(|name| !name.as_str().starts_with("unknown_service"));
    let builder = Resource::builder().with_attribute(KeyValue::new("cloud.provider", "aws"));
    match named {
        true => builder.build(),
        false => builder.with_service_name(service.to_string()).build(),
    }
}

/// A client of HTTPS (or plain HTTP, for a local endpoint) on the TLS the AWS SDK links, with
/// the platform's roots: the OTLP exporter's and the gateway's.
pub(crate) fn https_client(timeout: Duration) -> anyhow::Result<Arc<dyn HttpClient>> {
    let connector = hyper_rustls::HttpsConnectorBuilder::new()
        .with_native_roots()
        .context("cannot load the platform's root certificates for HTTPS")?
        .https_or_http()
        .enable_http1()
        .build();
    Ok(Arc::new(HyperClient::new(connector, timeout, None)))
}

/// A hyper client whose requests run on the agent's Tokio runtime: the SDK exports from its
/// own threads, where no runtime is current, and hyper's connections need one.
#[derive(Clone)]
struct OnRuntime {
    client: Arc<dyn HttpClient>,
    runtime: tokio::runtime::Handle,
}

impl OnRuntime {
    fn new(runtime: &tokio::runtime::Handle, timeout: Duration) -> anyhow::Result<OnRuntime> {
        Ok(OnRuntime {
            client: https_client(timeout)?,
            runtime: runtime.clone(),
        })
    }
}

impl fmt::Debug for OnRuntime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("OnRuntime")
    }
}

#[async_trait::async_trait]
impl HttpClient for OnRuntime {
    async fn send_bytes(&self, request: Request<Bytes>) -> Result<Response<Bytes>, HttpError> {
        let client = self.client.clone();
        self.runtime
            .spawn(async move { client.send_bytes(request).await })
            .await?
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: std::collections::HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |name| map.get(name).cloned()
    }

    #[test]
    fn no_endpoint_no_exporter() {
        let get = vars(&[("OTEL_SERVICE_NAME", "x")]);
        assert!(!wanted(&TRACES, &get).unwrap());
        assert!(!wanted(&METRICS, &get).unwrap());
    }

    #[test]
    fn a_signal_endpoint_or_the_general_one() {
        let get = vars(&[(
            "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
            "http://c:4318/v1/traces",
        )]);
        assert!(wanted(&TRACES, &get).unwrap());
        assert!(!wanted(&METRICS, &get).unwrap());
        let get = vars(&[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:4318"),
            ("OTEL_METRICS_EXPORTER", "none"),
        ]);
        assert!(wanted(&TRACES, &get).unwrap());
        assert!(!wanted(&METRICS, &get).unwrap());
    }

    #[test]
    fn grpc_is_refused_with_what_to_set() {
        let get = vars(&[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:4317"),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"),
        ]);
        let err = wanted(&TRACES, &get).unwrap_err().to_string();
        assert!(err.contains("http/protobuf"), "{err}");
    }

    #[test]
    fn a_timeout_in_milliseconds() {
        let get = vars(&[("OTEL_EXPORTER_OTLP_TIMEOUT", "2500")]);
        assert_eq!(timeout(&TRACES, &get).unwrap(), Duration::from_millis(2500));
        let get = vars(&[("OTEL_EXPORTER_OTLP_METRICS_TIMEOUT", "2s")]);
        let err = timeout(&METRICS, &get).unwrap_err().to_string();
        assert!(err.contains("milliseconds"), "{err}");
    }
}
