//! MCP servers as AgentCore runs them (`protocol: MCP`): Streamable HTTP JSON-RPC at
//! `0.0.0.0:8000/mcp`, `GET /ping`, graceful SIGTERM — on the official Rust MCP SDK (`rmcp`),
//! which owns the protocol; this module owns only what AgentCore adds to it.
//!
//! - Stateless unless `MCP_SESSIONS=stateful` (the blueprint's `runtime.mcp_sessions`):
//!   AgentCore already routes a client's `Mcp-Session-Id` to one microVM, so a server needs no
//!   session of its own, and a stateless one survives the microVM being replaced. A stateless
//!   server accepts (and ignores) the `Mcp-Session-Id` header the platform sends.
//! - Plain JSON answers (`application/json`) for request/response tools; rmcp falls back to
//!   SSE when a tool sends notifications first.
//! - No `Host` allowlist: rmcp's default (loopback only) guards a server on a developer's
//!   laptop against DNS rebinding; behind AgentCore the Host is the platform's and callers are
//!   authenticated by it (SigV4 or the runtime's JWT authorizer).
//! - Every request is logged with AgentCore's request id and the MCP session, is a span (and
//!   a count in the invocation metrics) when telemetry is exported, and keeps `/ping` at
//!   `HealthyBusy` while it runs.

use std::time::Instant;

use axum::Router;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use crate::Runtime;
use crate::config::MCP_PORT;
use crate::headers::REQUEST_ID_HEADER;
use crate::health::Health;
use crate::server::{listen, ping_route};
use crate::telemetry;

/// The header through which MCP names a session (and AgentCore its runtime session).
pub const MCP_SESSION_HEADER: &str = "mcp-session-id";

impl Runtime {
    /// Serves an MCP server at `/mcp` and `/ping` until SIGTERM or SIGINT; requests in flight
    /// (tool calls included) finish first.
    ///
    /// `server` makes the handler for each session (stateful) or each request (stateless):
    /// cheap to call, sharing its state through `Arc`s.
    pub async fn serve_mcp<S>(
        self,
        server: impl Fn() -> S + Send + Sync + 'static,
    ) -> anyhow::Result<()>
    where
        S: rmcp::ServerHandler + Send + 'static,
    {
        let stop = CancellationToken::new();
        let mcp = StreamableHttpService::new(
            move || Ok(server()),
            LocalSessionManager::default().into(),
            StreamableHttpServerConfig::default()
                .with_legacy_session_mode(self.config.mcp_stateful)
                .with_json_response(true)
                .disable_allowed_hosts()
                .with_max_request_body_bytes(self.config.max_body_bytes)
                .with_cancellation_token(stop.child_token()),
        );
        let app = Router::new()
            .route_service("/mcp", mcp)
            .layer(axum::middleware::from_fn_with_state(
                self.health.clone(),
                observed,
            ))
            .route("/ping", ping_route(self.health.clone()));
        tracing::info!(stateful = self.config.mcp_stateful, "serving MCP at /mcp");
        let served = listen(&self.config, MCP_PORT, app).await;
        // Only now: cancelling earlier would cut the tool calls the shutdown waits for.
        stop.cancel();
        served
    }
}

/// One MCP request: busy while it runs, logged under AgentCore's request id and the session.
async fn observed(State(health): State<Health>, request: Request, next: Next) -> Response {
    // Owned values: a borrow of the request (not `Sync`) held across the await would make
    // this future `!Send`.
    let (request_id, session) = {
        let header = |name: &str| -> String {
            let value = request.headers().get(name).and_then(|v| v.to_str().ok());
            value.unwrap_or("-").to_string()
        };
        (header(REQUEST_ID_HEADER), header(MCP_SESSION_HEADER))
    };
    let span = tracing::info_span!(
        "mcp",
        otel.kind = "server",
        request_id = %request_id,
        mcp_session_id = %session,
    );
    let session = (session != "-").then_some(session);
    telemetry::adopt(&span, request.headers(), session.as_deref());
    let method = request.method().clone();
    let _busy = health.busy();
    let started = Instant::now();
    async move {
        let response = next.run(request).await;
        let status = response.status().as_u16();
        tracing::info!(%method, status, "mcp request");
        telemetry::record_invocation("mcp", status, started.elapsed());
        response
    }
    .instrument(span)
    .await
}
