//! What the platform tells an invocation through its headers.
//!
//! AgentCore sends the session id, its own request id (the one its logs and traces carry), the
//! caller's user id when the caller named one, the caller's `X-Amzn-Bedrock-AgentCore-Runtime-Custom-*`
//! headers, and the W3C trace context (`traceparent`, `tracestate`, `baggage`). The runtime's
//! request-header allowlist already decided what reaches the microVM, so handlers get every
//! header as received, with these named ones parsed.

use axum::http::{HeaderMap, HeaderValue, StatusCode};

use crate::error::ApiError;

/// The header through which AgentCore names the session of an invocation.
pub const SESSION_HEADER: &str = "x-amzn-bedrock-agentcore-runtime-session-id";
/// AgentCore's id of one invocation: in its logs, so in ours and in every error body.
pub const REQUEST_ID_HEADER: &str = "x-amzn-bedrock-agentcore-runtime-request-id";
/// The `runtimeUserId` the caller passed to InvokeAgentRuntime.
pub const USER_ID_HEADER: &str = "x-amzn-bedrock-agentcore-runtime-user-id";
/// The prefix of the caller's own headers that the platform passes through.
pub const CUSTOM_HEADER_PREFIX: &str = "x-amzn-bedrock-agentcore-runtime-custom-";

/// The platform's headers of one request, checked.
pub(crate) struct Platform {
    pub session_id: Option<String>,
    /// The platform's id, or one of ours when the caller is not AgentCore (a local run).
    pub request_id: String,
    pub user_id: Option<String>,
}

impl Platform {
    /// Reads the named headers; a session id that is not visible ASCII is the caller's error
    /// (it names the microVM the platform routes to, so it cannot be guessed at).
    pub fn read(headers: &HeaderMap) -> Result<Platform, ApiError> {
        let request_id = text(headers, REQUEST_ID_HEADER)
            .ok()
            .flatten()
            .unwrap_or_else(local_request_id);
        let session_id = text(headers, SESSION_HEADER).map_err(|()| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "invalid_session_id",
                "the session id header must be visible ASCII",
            )
            .with_request_id(&request_id)
        })?;
        Ok(Platform {
            session_id,
            user_id: text(headers, USER_ID_HEADER).ok().flatten(),
            request_id,
        })
    }
}

/// The header's value when it is present, non-empty and visible ASCII; `Err` when it is not text.
fn text(headers: &HeaderMap, name: &str) -> Result<Option<String>, ()> {
    match headers.get(name).map(HeaderValue::to_str) {
        None => Ok(None),
        Some(Ok(value)) if value.trim().is_empty() => Ok(None),
        Some(Ok(value)) => Ok(Some(value.trim().to_string())),
        Some(Err(_)) => Err(()),
    }
}

/// Unique per process and time, for requests that did not come through AgentCore.
fn local_request_id() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let started = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_micros() as u64)
        .unwrap_or(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    format!("local-{started:x}-{:x}-{n:x}", std::process::id())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, HeaderValue::from_str(value).unwrap());
        }
        map
    }

    #[test]
    fn the_platforms_request_id_is_kept() {
        let platform = Platform::read(&headers(&[
            (REQUEST_ID_HEADER, "0f6c2a1e-req"),
            (SESSION_HEADER, "s-1"),
            (USER_ID_HEADER, "alice"),
        ]))
        .unwrap();
        assert_eq!(platform.request_id, "0f6c2a1e-req");
        assert_eq!(platform.session_id.as_deref(), Some("s-1"));
        assert_eq!(platform.user_id.as_deref(), Some("alice"));
    }

    #[test]
    fn without_one_a_local_id_is_made_and_never_repeats() {
        let a = Platform::read(&HeaderMap::new()).unwrap().request_id;
        let b = Platform::read(&headers(&[(REQUEST_ID_HEADER, " ")]))
            .unwrap()
            .request_id;
        assert!(a.starts_with("local-"), "{a}");
        assert_ne!(a, b);
    }

    #[test]
    fn a_session_id_that_is_not_text_is_refused_with_the_request_id() {
        let mut map = headers(&[(REQUEST_ID_HEADER, "req-9")]);
        map.insert(SESSION_HEADER, HeaderValue::from_bytes(b"s\xff").unwrap());
        let err = Platform::read(&map).err().unwrap();
        assert_eq!(err.status, StatusCode::BAD_REQUEST);
        assert_eq!(err.request_id.as_deref(), Some("req-9"));
    }
}
