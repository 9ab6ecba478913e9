//! What a handler is given and what it answers.

use std::pin::Pin;

use axum::http::HeaderMap;
use futures_util::{Stream, StreamExt};
use serde::Serialize;

use crate::error::HandlerError;
use crate::headers::CUSTOM_HEADER_PREFIX;
use crate::health::{BusyGuard, Health};

/// The context of one `POST /invocations`.
pub struct Invocation {
    pub(crate) session_id: Option<String>,
    pub(crate) request_id: String,
    pub(crate) user_id: Option<String>,
    pub(crate) headers: HeaderMap,
    pub(crate) health: Health,
}

impl Invocation {
    /// From the `X-Amzn-Bedrock-AgentCore-Runtime-Session-Id` header; AgentCore always sends
    /// one, a local caller may not.
    pub fn session_id(&self) -> Option<&str> {
        self.session_id.as_deref()
    }

    /// AgentCore's request id (`X-Amzn-Bedrock-AgentCore-Runtime-Request-Id`), so that the
    /// agent's logs match the platform's; a local one when the caller is not AgentCore. Error
    /// bodies and every log line of the invocation carry it.
    pub fn request_id(&self) -> &str {
        &self.request_id
    }

    /// The `runtimeUserId` the caller gave InvokeAgentRuntime, if any.
    pub fn user_id(&self) -> Option<&str> {
        self.user_id.as_deref()
    }

    /// A caller's own header, by the name after `X-Amzn-Bedrock-AgentCore-Runtime-Custom-`
    /// (any case): `custom_header("tenant")` reads `…-Custom-Tenant`.
    pub fn custom_header(&self, name: &str) -> Option<&str> {
        let full = format!("{CUSTOM_HEADER_PREFIX}{}", name.to_ascii_lowercase());
        self.headers.get(full).and_then(|v| v.to_str().ok())
    }

    /// Every header of the request as received: the W3C trace context (`traceparent`,
    /// `tracestate`, `baggage`), `Authorization` when the runtime passes it, the custom ones.
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// Keeps `/ping` at `HealthyBusy` for work that outlives this request.
    pub fn background_task(&self) -> BusyGuard {
        self.health.busy()
    }

    pub fn health(&self) -> &Health {
        &self.health
    }
}

pub(crate) type ChunkStream =
    Pin<Box<dyn Stream<Item = Result<serde_json::Value, HandlerError>> + Send + 'static>>;

/// A handler's answer: one JSON document, or a stream of JSON chunks sent as server-sent
/// events (`data: <chunk>`), each as soon as the handler yields it.
pub enum Reply {
    Json(serde_json::Value),
    Stream(ChunkStream),
}

impl Reply {
    pub fn json(value: &impl Serialize) -> Result<Reply, HandlerError> {
        Ok(Reply::Json(serde_json::to_value(value)?))
    }

    /// An error in the stream ends it with an `event: error` (internals are not sent).
    pub fn stream<S, T>(chunks: S) -> Reply
    where
        S: Stream<Item = Result<T, HandlerError>> + Send + 'static,
        T: Serialize,
    {
        Reply::Stream(Box::pin(chunks.map(|chunk| {
            chunk.and_then(|c| serde_json::to_value(c).map_err(HandlerError::from))
        })))
    }
}
