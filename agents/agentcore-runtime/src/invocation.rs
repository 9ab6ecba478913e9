//! What a handler is given and what it answers.

use std::pin::Pin;

use futures_util::{Stream, StreamExt};
use serde::Serialize;

use crate::error::HandlerError;
use crate::health::{BusyGuard, Health};

/// The context of one `POST /invocations`.
pub struct Invocation {
    pub(crate) session_id: Option<String>,
    pub(crate) request_id: String,
    pub(crate) health: Health,
}

impl Invocation {
    /// From the `X-Amzn-Bedrock-AgentCore-Runtime-Session-Id` header; AgentCore always sends
    /// one, a local caller may not.
    pub fn session_id(&self) -> Option<&str> {
        self.session_id.as_deref()
    }

    /// Unique per invocation; the client sees it in error bodies and the logs carry it.
    pub fn request_id(&self) -> &str {
        &self.request_id
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
