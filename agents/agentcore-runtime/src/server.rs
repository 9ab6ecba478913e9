//! The HTTP server: routes, request checks, streaming, shutdown.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use anyhow::Context as _;
use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::sse::{Event, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use futures_util::{Stream, StreamExt};
use serde::de::DeserializeOwned;
use tracing::Instrument;

use crate::config::{Config, HTTP_PORT};
use crate::error::{ApiError, HandlerError, Kind};
use crate::headers::{Platform, SESSION_HEADER};
use crate::health::{BusyGuard, Health};
use crate::invocation::{ChunkStream, Invocation, Reply};
use crate::telemetry;

/// An agent's server: its configuration and health; [`Runtime::serve`] runs it.
pub struct Runtime {
    pub(crate) config: Config,
    pub(crate) health: Health,
}

impl Runtime {
    pub fn new(config: Config) -> Runtime {
        Runtime {
            config,
            health: Health::default(),
        }
    }

    /// The health `/ping` reports; clone it to register background work.
    pub fn health(&self) -> Health {
        self.health.clone()
    }

    /// Serves `/ping` and `/invocations` until SIGTERM or SIGINT, then lets the requests in
    /// flight finish (streams included) and returns.
    ///
    /// `handler` gets each invocation's body, decoded as `T`, and its [`Invocation`].
    pub async fn serve<T, F, Fut>(self, handler: F) -> anyhow::Result<()>
    where
        T: DeserializeOwned + Send + 'static,
        F: Fn(T, Invocation) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<Reply, HandlerError>> + Send + 'static,
    {
        let app = router(self.config.clone(), self.health.clone(), handler);
        listen(&self.config, HTTP_PORT, app).await
    }
}

/// Serves `app` on the configured address (`default_port` when `PORT` is unset) until SIGTERM
/// or SIGINT, and returns once the requests in flight have finished (streams included).
pub(crate) async fn listen(config: &Config, default_port: u16, app: Router) -> anyhow::Result<()> {
    let addr = SocketAddr::new(config.host, config.port.unwrap_or(default_port));
    let listener = tokio::net::TcpListener::bind(addr).await.with_context(|| {
        format!("cannot listen on {addr}; set PORT to a free port (default {default_port})")
    })?;
    let local = listener.local_addr().unwrap_or(addr);
    tracing::info!(agent_id = %config.agent_id, addr = %local, "listening");
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown_signal())
        .await
        .context("the HTTP server failed")?;
    tracing::info!("stopped: every request in flight has finished");
    Ok(())
}

fn router<T, F, Fut>(config: Config, health: Health, handler: F) -> Router
where
    T: DeserializeOwned + Send + 'static,
    F: Fn(T, Invocation) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<Reply, HandlerError>> + Send + 'static,
{
    let shared = Arc::new(Shared {
        config,
        health,
        handler,
    });
    Router::new()
        .route("/ping", ping_route(shared.health.clone()))
        .route(
            "/invocations",
            post(move |headers: HeaderMap, body: Body| {
                let shared = shared.clone();
                async move { invoke(shared, headers, body).await }
            }),
        )
        .fallback(|| async {
            ApiError::new(
                StatusCode::NOT_FOUND,
                "not_found",
                "no such route; this agent serves GET /ping and POST /invocations",
            )
        })
        .method_not_allowed_fallback(|| async {
            ApiError::new(
                StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                "use GET /ping and POST /invocations",
            )
        })
}

struct Shared<F> {
    config: Config,
    health: Health,
    handler: F,
}

/// `GET /ping`: AgentCore's health check, the same for every protocol.
pub(crate) fn ping_route(health: Health) -> axum::routing::MethodRouter {
    get(move || {
        let (status, time) = health.status();
        async move {
            axum::Json(serde_json::json!({ "status": status, "time_of_last_update": time }))
                .into_response()
        }
    })
}

async fn invoke<T, F, Fut>(shared: Arc<Shared<F>>, headers: HeaderMap, body: Body) -> Response
where
    T: DeserializeOwned + Send + 'static,
    F: Fn(T, Invocation) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<Reply, HandlerError>> + Send + 'static,
{
    let started = Instant::now();
    let Platform {
        session_id,
        request_id,
        user_id,
    } = match Platform::read(&headers) {
        Ok(platform) => platform,
        Err(err) => {
            let response = err.into_response();
            telemetry::record_invocation("http", response.status().as_u16(), started.elapsed());
            return response;
        }
    };
    let span = tracing::info_span!(
        "invocation",
        otel.kind = "server",
        session_id = session_id.as_deref().unwrap_or("-"),
        request_id = %request_id,
    );
    telemetry::adopt(&span, &headers, session_id.as_deref());
    let guard = shared.health.busy();
    // A stream's invocation is counted when its last event is sent.
    let mut streaming = false;
    let mut response = async {
        let request: T = match decode(&headers, body, shared.config.max_body_bytes).await {
            Ok(request) => request,
            Err(err) => {
                tracing::info!(status = err.status.as_u16(), code = err.code, "rejected");
                return err.with_request_id(&request_id).into_response();
            }
        };
        let invocation = Invocation {
            session_id: session_id.clone(),
            request_id: request_id.clone(),
            user_id,
            headers,
            health: shared.health.clone(),
        };
        // Its own task, so that a panic in a handler is one failed request, not a dropped
        // connection; the span keeps the session id on everything it logs.
        let task = tokio::spawn((shared.handler)(request, invocation).in_current_span());
        let outcome = match task.await {
            Ok(outcome) => outcome,
            Err(err) => Err(HandlerError::internal(anyhow::anyhow!("the handler {err}"))),
        };
        match outcome {
            Ok(Reply::Json(value)) => {
                tracing::info!(status = 200, "answered");
                axum::Json(value).into_response()
            }
            Ok(Reply::Stream(chunks)) => {
                tracing::info!(status = 200, "streaming");
                streaming = true;
                // The guard travels with the stream: the agent stays busy until the last chunk.
                let events = sse_events(
                    chunks,
                    guard,
                    request_id.clone(),
                    tracing::Span::current(),
                    started,
                );
                Sse::new(events).into_response()
            }
            Err(err) => failure(err, &request_id),
        }
    }
    .instrument(span.clone())
    .await;
    if !streaming {
        telemetry::record_invocation("http", response.status().as_u16(), started.elapsed());
    }
    if let Some(id) = session_id.and_then(|id| HeaderValue::from_str(&id).ok()) {
        response.headers_mut().insert(SESSION_HEADER, id);
    }
    response
}

fn failure(err: HandlerError, request_id: &str) -> Response {
    match err.kind {
        Kind::Client(api) => {
            tracing::info!(status = api.status.as_u16(), code = api.code, message = %api.message, "rejected by the handler");
            api.with_request_id(request_id).into_response()
        }
        Kind::Internal(cause) => {
            tracing::error!(
                status = 500,
                error = format!("{cause:#}"),
                "the handler failed"
            );
            ApiError::internal(request_id).into_response()
        }
    }
}

fn sse_events(
    chunks: ChunkStream,
    guard: BusyGuard,
    request_id: String,
    span: tracing::Span,
    started: Instant,
) -> impl Stream<Item = Result<Event, std::convert::Infallible>> + Send {
    struct State {
        chunks: ChunkStream,
        _guard: BusyGuard,
        request_id: String,
        span: tracing::Span,
        started: Instant,
        done: bool,
    }
    let state = State {
        chunks,
        _guard: guard,
        request_id,
        span,
        started,
        done: false,
    };
    futures_util::stream::unfold(state, |mut state| async move {
        if state.done {
            return None;
        }
        let next = state.chunks.next().instrument(state.span.clone()).await;
        let event = match next {
            None => {
                state.span.in_scope(|| tracing::info!("stream finished"));
                telemetry::record_invocation("http", 200, state.started.elapsed());
                return None;
            }
            Some(Ok(chunk)) => Event::default().data(chunk.to_string()),
            Some(Err(err)) => {
                state.done = true;
                // The status was sent before the error: the caller got a 200 with an error event.
                telemetry::record_invocation("http", 200, state.started.elapsed());
                let api = state.span.in_scope(|| match err.kind {
                    Kind::Client(api) => api,
                    Kind::Internal(cause) => {
                        tracing::error!(error = format!("{cause:#}"), "the stream failed");
                        ApiError::internal(&state.request_id)
                    }
                });
                Event::default()
                    .event("error")
                    .data(api.with_request_id(&state.request_id).body().to_string())
            }
        };
        Some((Ok(event), state))
    })
}

/// Reads and decodes an invocation body, refusing what the handler should never see.
///
/// Every body is read as JSON, whatever its `Content-Type` says: InvokeAgentRuntime's content
/// type is optional and passed through as the caller set it, and the official SDK's server
/// parses the body regardless. A body that is not JSON gets the same 400 either way.
async fn decode<T: DeserializeOwned>(
    headers: &HeaderMap,
    body: Body,
    limit: usize,
) -> Result<T, ApiError> {
    let too_large = || {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            format!(
                "the payload is larger than this agent's limit of {limit} bytes (MAX_BODY_BYTES)"
            ),
        )
    };
    // A declared length over the limit is refused before reading a byte of it.
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > limit) {
        return Err(too_large());
    }
    let mut bytes = Vec::with_capacity(declared.unwrap_or(0));
    let mut stream = body.into_data_stream();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|err| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "unreadable_body",
                format!("could not read the request body: {err}"),
            )
        })?;
        if bytes.len() + chunk.len() > limit {
            return Err(too_large());
        }
        bytes.extend_from_slice(&chunk);
    }
    let malformed = |err: serde_json::Error| {
        let content_type = headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .filter(|v| !is_json(v));
        let sent_as = content_type
            .map(|v| format!(" (it was sent as `{v}`; every payload is read as JSON)"))
            .unwrap_or_default();
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "malformed_json",
            format!("the payload is not valid JSON: {err}{sent_as}"),
        )
    };
    match serde_json::from_slice(&bytes) {
        Ok(request) => Ok(request),
        Err(err) if err.classify() == serde_json::error::Category::Data => {
            // Syntax before shape: a truncated document whose first key the agent does not
            // take is still malformed JSON. Only a failed typed decode pays for this second pass.
            if let Err(syntax) = serde_json::from_slice::<serde::de::IgnoredAny>(&bytes) {
                return Err(malformed(syntax));
            }
            Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_payload",
                format!("the payload is JSON but not what this agent takes: {err}"),
            ))
        }
        Err(err) => Err(malformed(err)),
    }
}

fn is_json(content_type: &str) -> bool {
    let mime = content_type.split(';').next().unwrap_or("").trim();
    mime.eq_ignore_ascii_case("application/json")
        || mime
            .rsplit_once('+')
            .is_some_and(|(_, suffix)| suffix.eq_ignore_ascii_case("json"))
}

async fn shutdown_signal() {
    let interrupt = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(err) => {
                tracing::warn!(error = %err, "cannot listen for SIGTERM");
                std::future::pending::<()>().await
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => tracing::info!(signal = "SIGINT", "shutting down"),
        () = terminate => tracing::info!(signal = "SIGTERM", "shutting down"),
    }
}

#[cfg(test)]
mod tests {
    use super::is_json;

    #[test]
    fn json_content_types() {
        assert!(is_json("application/json"));
        assert!(is_json("Application/JSON; charset=utf-8"));
        assert!(is_json("application/vnd.api+json"));
        assert!(!is_json("text/plain"));
        assert!(!is_json(""));
        assert!(!is_json("application/x-www-form-urlencoded"));
    }
}
