//! A local AgentCore data plane: `InvokeAgentRuntime` as the AWS SDK sends it, answered by the
//! agent's own process, so that `invoke --env`, smoke checks and workflows take the real path
//! (the SDK, its signing, its retries, its error types) without AWS.
//!
//! - The API is the service's (rest-json, botocore's `bedrock-agentcore` model):
//!   `POST /runtimes/{agentRuntimeArn}/invocations?qualifier=<endpoint>`, the payload as the
//!   body, the session, user, MCP and trace headers; the answer streamed back with its content
//!   type and the session id. Errors are the service's too: the status, `x-amzn-errortype` and
//!   `{"message"}` the SDK turns into `ResourceNotFoundException`, `ValidationException`,
//!   `RuntimeClientError`.
//! - One process per runtime session, as AgentCore gives each session its own microVM: started on
//!   the session's first invocation with the runtime's environment and a port of its own, ready
//!   when its `/ping` answers, stopped (SIGTERM, then SIGKILL) when idle for the runtime's idle
//!   timeout or older than its maximum lifetime.
//! - What the process prints is reported line by line as [`Event::Log`], for the caller to
//!   deliver where AgentCore would (CloudWatch Logs); this crate knows no AWS service.

mod errors;
mod sessions;

use std::collections::HashMap;
use std::ffi::OsString;
use std::pin::Pin;
use std::sync::{Arc, RwLock};
use std::time::{Duration, SystemTime};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{DefaultBodyLimit, Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse as _, Response};
use tokio::sync::mpsc::UnboundedSender;

use errors::ServiceError;
use sessions::{InFlight, Sessions};

/// The session header; the service requires 33 to 256 characters.
pub const SESSION_HEADER: &str = "x-amzn-bedrock-agentcore-runtime-session-id";
/// The request id the platform gives every invocation; agents log it.
pub const REQUEST_ID_HEADER: &str = "x-amzn-bedrock-agentcore-runtime-request-id";
/// The payload limit of the service (botocore: `Body`, max 100,000,000 bytes).
pub const MAX_PAYLOAD_BYTES: usize = 100_000_000;

/// What the agent's container serves: invocations (`/invocations`) or MCP (`/mcp`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    Http,
    Mcp,
}

impl Protocol {
    fn path(self) -> &'static str {
        match self {
            Protocol::Http => "/invocations",
            Protocol::Mcp => "/mcp",
        }
    }
}

/// One agent runtime, as the control plane knows it.
#[derive(Debug, Clone)]
pub struct Runtime {
    /// `arn:aws:bedrock-agentcore:<region>:<account>:runtime/<runtime id>`.
    pub arn: String,
    /// The endpoints it is invoked through (`DEFAULT` and the named ones); a qualifier outside
    /// this list is not found, as in the service.
    pub endpoints: Vec<String>,
    pub protocol: Protocol,
    /// The program and its arguments: the image's entrypoint, under qemu-user on a host that
    /// is not aarch64.
    pub command: Vec<OsString>,
    /// The whole environment of the process (nothing is inherited); `PORT` and `BIND_ADDRESS`
    /// are added per session.
    pub env: Vec<(String, String)>,
    pub idle_timeout: Duration,
    pub max_lifetime: Duration,
    /// How callers must prove who they are.
    pub authorizer: Authorizer,
}

/// A runtime's inbound auth, as its `authorizer_configuration` sets it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Authorizer {
    /// SigV4-signed requests (no authorizer configured).
    Iam,
    /// `Authorization: Bearer <JWT>`. The token is not verified here: there is no identity
    /// provider to verify it with; what the service refuses for its method is refused.
    Jwt,
}

impl Authorizer {
    /// The service's refusal of a request signed the other way.
    fn admits(self, headers: &HeaderMap) -> Result<(), ServiceError> {
        let scheme = headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split_whitespace().next())
            .unwrap_or_default();
        let bearer = scheme.eq_ignore_ascii_case("bearer");
        if bearer == (self == Authorizer::Jwt) {
            return Ok(());
        }
        Err(ServiceError::new(
            axum::http::StatusCode::FORBIDDEN,
            "AccessDeniedException",
            "Authorization method mismatch. The agent is configured for a different \
             authorization method than what was used in your request.",
        ))
    }
}

impl Runtime {
    /// The runtime id: the ARN's resource name.
    pub fn id(&self) -> &str {
        self.arn.rsplit('/').next().unwrap_or(&self.arn)
    }
}

/// What happened, for the caller to print or deliver.
#[derive(Debug, Clone)]
pub enum Event {
    /// A line the session's process printed.
    Log {
        runtime: String,
        endpoint: String,
        session: String,
        line: String,
        at: SystemTime,
    },
    Started {
        runtime: String,
        session: String,
        pid: u32,
        took: Duration,
    },
    Stopped {
        runtime: String,
        session: String,
        reason: &'static str,
    },
    Invoked {
        runtime: String,
        session: String,
        status: u16,
    },
}

/// The runtimes the data plane knows, shared with the caller, who may replace them while it
/// serves (a deploy changed an image): sessions already running keep the runtime they started
/// with, new sessions get the new one.
#[derive(Clone, Default)]
pub struct Runtimes(Arc<RwLock<HashMap<String, Arc<Runtime>>>>);

impl Runtimes {
    pub fn new(runtimes: Vec<Runtime>) -> Runtimes {
        let table = Runtimes::default();
        table.replace(runtimes);
        table
    }

    pub fn replace(&self, runtimes: Vec<Runtime>) {
        let table = runtimes
            .into_iter()
            .map(|r| (r.arn.clone(), Arc::new(r)))
            .collect();
        if let Ok(mut current) = self.0.write() {
            *current = table;
        }
    }

    fn get(&self, arn: &str) -> Option<Arc<Runtime>> {
        self.0.read().ok()?.get(arn).cloned()
    }
}

/// Brings the runtimes up to date (the caller reads where they come from again). Called before
/// every new session, so that a session started after a deploy runs what the deploy applied, as
/// AgentCore's endpoint does once the update returned.
pub type Refresh = Arc<dyn Fn() -> Pin<Box<dyn Future<Output = ()> + Send>> + Send + Sync>;

pub struct Options {
    pub runtimes: Runtimes,
    pub refresh: Option<Refresh>,
    pub events: Option<UnboundedSender<Event>>,
    /// How long a new session's process may take to answer `/ping`.
    pub startup_timeout: Duration,
}

struct Plane {
    runtimes: Runtimes,
    refresh: Option<Refresh>,
    sessions: Sessions,
    events: Option<UnboundedSender<Event>>,
    client: reqwest::Client,
}

impl Plane {
    fn emit(&self, event: Event) {
        if let Some(events) = &self.events {
            let _ = events.send(event);
        }
    }
}

/// Serves until `shutdown` completes, then stops every session's process.
pub async fn serve(
    listener: tokio::net::TcpListener,
    options: Options,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let client = reqwest::Client::builder()
        .no_proxy()
        .build()
        .map_err(|err| anyhow::anyhow!("cannot build the HTTP client: {err}"))?;
    let plane = Arc::new(Plane {
        runtimes: options.runtimes,
        refresh: options.refresh,
        sessions: Sessions::new(options.startup_timeout),
        events: options.events,
        client,
    });
    let reaper = tokio::spawn(sessions::reap(plane.clone()));
    let app = Router::new()
        .route("/runtimes/{arn}/invocations", axum::routing::post(invoke))
        .fallback(|| async {
            ServiceError::new(
                StatusCode::NOT_FOUND,
                "UnknownOperationException",
                "this local data plane serves InvokeAgentRuntime only",
            )
            .into_response()
        })
        .layer(DefaultBodyLimit::max(MAX_PAYLOAD_BYTES))
        .with_state(plane.clone());
    let served = axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await;
    reaper.abort();
    plane.sessions.stop_all(&plane).await;
    served.map_err(Into::into)
}

/// The headers of the request that reach the agent, as AgentCore passes them.
fn forwarded(name: &HeaderName) -> bool {
    let name = name.as_str();
    matches!(
        name,
        "content-type"
            | "accept"
            | "mcp-session-id"
            | "mcp-protocol-version"
            | "last-event-id"
            | "x-amzn-bedrock-agentcore-runtime-user-id"
            | "x-amzn-trace-id"
            | "traceparent"
            | "tracestate"
            | "baggage"
            | "authorization"
    ) || name.starts_with("x-amzn-bedrock-agentcore-runtime-custom-")
}

/// The headers of the agent's answer that reach the caller.
const ANSWER_HEADERS: [&str; 3] = ["content-type", "mcp-session-id", "mcp-protocol-version"];

async fn invoke(
    State(plane): State<Arc<Plane>>,
    Path(arn): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let qualifier = query.as_deref().and_then(qualifier);
    match invoke_inner(&plane, &arn, qualifier, &headers, body).await {
        Ok(response) => response,
        Err(err) => err.into_response(),
    }
}

async fn invoke_inner(
    plane: &Arc<Plane>,
    arn: &str,
    qualifier: Option<&str>,
    headers: &HeaderMap,
    body: Bytes,
) -> Result<Response, ServiceError> {
    let session_header = headers.get(SESSION_HEADER).and_then(|v| v.to_str().ok());
    if let Some(refresh) = &plane.refresh
        && !session_header.is_some_and(|id| plane.sessions.has(arn, id))
    {
        refresh().await;
    }
    let runtime = plane
        .runtimes
        .get(arn)
        .ok_or_else(|| ServiceError::not_found(format!("No agent runtime found with ARN {arn}")))?;
    runtime.authorizer.admits(headers)?;
    let endpoint = qualifier.unwrap_or("DEFAULT").to_string();
    if !runtime.endpoints.contains(&endpoint) {
        return Err(ServiceError::not_found(format!(
            "No endpoint `{endpoint}` for agent runtime {arn} (it has: {})",
            runtime.endpoints.join(", ")
        )));
    }
    let session = match headers.get(SESSION_HEADER).map(|v| v.to_str()) {
        None => new_id(),
        Some(Ok(id)) if (33..=256).contains(&id.len()) => id.to_string(),
        Some(_) => {
            return Err(ServiceError::validation(
                "1 validation error detected: Value at 'runtimeSessionId' failed to satisfy \
                 constraint: Member must have length between 33 and 256",
            ));
        }
    };
    let process = plane
        .sessions
        .process(plane, &runtime, &endpoint, &session)
        .await?;
    let flight = InFlight::enter(process.clone());

    let url = format!(
        "http://127.0.0.1:{}{}",
        process.port,
        runtime.protocol.path()
    );
    let mut request = plane.client.post(url).body(body);
    for (name, value) in headers.iter().filter(|(n, _)| forwarded(n)) {
        request = request.header(name, value);
    }
    let request_id = new_id();
    request = request
        .header(SESSION_HEADER, &session)
        .header(REQUEST_ID_HEADER, &request_id);
    let answer = request.send().await.map_err(|err| {
        ServiceError::runtime_client(format!(
            "The runtime's process did not answer ({err}). Please check your CloudWatch logs \
             for more information."
        ))
    })?;
    let status = answer.status();
    plane.emit(Event::Invoked {
        runtime: runtime.arn.clone(),
        session: session.clone(),
        status: status.as_u16(),
    });
    if !status.is_success() {
        // The service's words: the agent's own error body stays in its log.
        return Err(ServiceError::runtime_client(format!(
            "Received error ({}) from runtime. Please check your CloudWatch logs for more \
             information.",
            status.as_u16()
        )));
    }
    let mut response = Response::builder()
        .status(status.as_u16())
        .header(SESSION_HEADER, &session)
        .header("x-amzn-requestid", &request_id);
    for name in ANSWER_HEADERS {
        if let Some(value) = answer.headers().get(name) {
            response = response.header(name, value);
        }
    }
    if !answer.headers().contains_key("content-type") {
        response = response.header("content-type", HeaderValue::from_static("application/json"));
    }
    // The body is streamed as it arrives (SSE); the session stays busy until it ends.
    let stream =
        futures_util::stream::unfold((answer, Some(flight)), |(mut answer, flight)| async {
            match answer.chunk().await {
                Ok(Some(bytes)) => Some((Ok::<_, std::io::Error>(bytes), (answer, flight))),
                Ok(None) => None,
                Err(err) => Some((Err(std::io::Error::other(err)), (answer, None))),
            }
        });
    response
        .body(Body::from_stream(stream))
        .map_err(|err| ServiceError::internal(format!("cannot build the answer: {err}")))
}

/// The `qualifier` of a query string (endpoint names are letters, digits and `_`: nothing to
/// decode).
fn qualifier(query: &str) -> Option<&str> {
    query
        .split('&')
        .find_map(|pair| pair.strip_prefix("qualifier="))
        .filter(|q| !q.is_empty())
}

/// An id as the service generates one for a session or a request: a UUID's 36 characters.
pub(crate) fn new_id() -> String {
    let n = fastrand::u128(..);
    let hex = format!("{n:032x}");
    format!(
        "{}-{}-4{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[13..16],
        &hex[16..20],
        &hex[20..32]
    )
}

#[cfg(test)]
mod tests {

    #[test]
    fn a_runtime_admits_only_its_own_auth_method() {
        let signed = HeaderMap::from_iter([(
            axum::http::header::AUTHORIZATION,
            "AWS4-HMAC-SHA256 Credential=x".parse().expect("header"),
        )]);
        let bearer = HeaderMap::from_iter([(
            axum::http::header::AUTHORIZATION,
            "Bearer eyJ".parse().expect("header"),
        )]);
        assert!(Authorizer::Iam.admits(&signed).is_ok());
        assert!(Authorizer::Jwt.admits(&bearer).is_ok());
        assert!(Authorizer::Iam.admits(&bearer).is_err());
        assert!(Authorizer::Jwt.admits(&signed).is_err());
        assert!(Authorizer::Jwt.admits(&HeaderMap::new()).is_err());
    }
    use super::*;

    #[test]
    fn generated_session_ids_are_long_enough_for_the_service() {
        let id = new_id();
        assert_eq!(id.len(), 36, "{id}");
        assert_ne!(id, new_id());
    }

    #[test]
    fn only_the_platforms_headers_reach_the_agent() {
        for name in [
            "content-type",
            "x-amzn-bedrock-agentcore-runtime-custom-tenant",
            "traceparent",
        ] {
            assert!(forwarded(&HeaderName::from_static(name)), "{name}");
        }
        for name in ["host", "x-amz-date", "x-amz-security-token", "cookie"] {
            assert!(!forwarded(&HeaderName::from_static(name)), "{name}");
        }
    }
}
