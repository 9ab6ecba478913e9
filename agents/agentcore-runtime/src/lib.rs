//! The Amazon Bedrock AgentCore Runtime HTTP contract, written once for every agent here.
//!
//! Owns: the routes, the checks of a request before a handler sees it, streaming, health,
//! shutdown, errors as the client sees them, logs. Knows nothing of any one agent or of
//! Bedrock's API, and reads no blueprint: an agent brings its handler, and the model settings
//! its `build.rs` compiled in arrive as plain values ([`ModelConfig`]).
//!
//! An agent is a binary that builds its state, then hands a handler to [`Runtime::serve`] (or,
//! for an MCP server, its tools to [`Runtime::serve_mcp`]):
//!
//! ```no_run
//! use agentcore_runtime::{Config, HandlerError, Invocation, Reply, Runtime};
//!
//! #[derive(serde::Deserialize)]
//! struct Request { prompt: String }
//!
//! #[tokio::main]
//! async fn main() -> std::process::ExitCode {
//!     agentcore_runtime::run_agent("echo", run()).await
//! }
//!
//! async fn run() -> anyhow::Result<()> {
//!     let config = Config::from_env("echo")?;
//!     Runtime::new(config)
//!         .serve(|req: Request, _inv: Invocation| async move {
//!             Reply::json(&serde_json::json!({ "echo": req.prompt }))
//!         })
//!         .await
//! }
//! ```
//!
//! What the runtime gets, as AgentCore expects it:
//! - `GET /ping` → `{"status":"Healthy"|"HealthyBusy","time_of_last_update":<unix seconds>}`,
//!   busy while an invocation or a registered background task ([`Health::busy`]) runs;
//! - `POST /invocations` → the handler's JSON, or a `text/event-stream` with one `data:` event
//!   per chunk when the handler answers with [`Reply::stream`];
//! - every body read as JSON whatever its `Content-Type` (the platform's is optional), up to
//!   100 MiB (InvokeAgentRuntime's limit is 100 MB);
//! - the platform's headers as [`Invocation`] reads them: session id, AgentCore's request id,
//!   user id, the caller's custom headers, the W3C trace context;
//! - JSON errors with a 4xx status for bad input (syntax checked before shape), and a 500 that
//!   names no internals when the handler fails (the cause goes to the log, with the request id
//!   the client also sees);
//! - JSON logs on stdout, each with the session and request ids of its invocation;
//! - traces and metrics over OTLP/HTTP when the standard `OTEL_*` variables name an endpoint
//!   ([`telemetry`]): a span per invocation, a child per model call ([`ModelCall`]);
//! - graceful shutdown on SIGTERM/SIGINT: no new connections, in-flight requests finish.

mod config;
pub mod document;
mod error;
mod exit;
pub mod gateway;
mod headers;
mod health;
mod invocation;
mod mcp;
pub mod memory;
mod server;
pub mod telemetry;

pub use config::{Config, GatewayTargets, HTTP_PORT, MCP_PORT, ModelConfig, ModelDefaults};
pub use error::HandlerError;
pub use exit::run_agent;
pub use headers::{CUSTOM_HEADER_PREFIX, REQUEST_ID_HEADER, SESSION_HEADER, USER_ID_HEADER};
pub use health::{BusyGuard, Health, Status};
pub use invocation::{Invocation, Reply};
pub use mcp::MCP_SESSION_HEADER;
pub use server::Runtime;
pub use telemetry::{ModelCall, Telemetry};
