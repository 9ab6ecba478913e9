//! Errors as the client sees them: JSON, with a status that says whose fault it was.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

/// What a handler returns when it cannot answer.
///
/// A client error ([`HandlerError::bad_request`]) reaches the client with its message. Anything
/// else (any `std::error::Error` or `anyhow::Error`, so `?` works) is internal: it is logged with
/// the request id, and the client gets a 500 that says only that, and the request id.
#[derive(Debug)]
pub struct HandlerError {
    pub(crate) kind: Kind,
}

#[derive(Debug)]
pub(crate) enum Kind {
    Client(ApiError),
    Internal(anyhow::Error),
}

impl HandlerError {
    /// The request itself is wrong; `message` is shown to the client.
    pub fn bad_request(message: impl Into<String>) -> HandlerError {
        HandlerError {
            kind: Kind::Client(ApiError::new(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                message,
            )),
        }
    }

    pub fn internal(err: impl Into<anyhow::Error>) -> HandlerError {
        HandlerError {
            kind: Kind::Internal(err.into()),
        }
    }
}

impl<E: Into<anyhow::Error>> From<E> for HandlerError {
    fn from(err: E) -> HandlerError {
        HandlerError::internal(err)
    }
}

/// The JSON body of every error response: `{"error": {"code", "message", "request_id"}}`.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct ApiError {
    #[serde(skip)]
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            code,
            message: message.into(),
            request_id: None,
        }
    }

    pub fn internal(request_id: &str) -> ApiError {
        ApiError {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            code: "internal_error",
            message: "the agent could not handle this invocation; its logs have the cause under \
                      this request id"
                .to_string(),
            request_id: Some(request_id.to_string()),
        }
    }

    pub fn with_request_id(mut self, request_id: &str) -> ApiError {
        self.request_id = Some(request_id.to_string());
        self
    }

    pub fn body(&self) -> serde_json::Value {
        serde_json::json!({ "error": self })
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, axum::Json(self.body())).into_response()
    }
}
