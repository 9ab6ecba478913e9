//! The service's errors as the AWS SDK reads them (rest-json): the HTTP status, the error's
//! name in `x-amzn-errortype`, and `{"message": …}`; with a request id, as every answer of the
//! service has one (botocore's error path reads it: Step Functions' interpreter fails without).

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

#[derive(Debug)]
pub struct ServiceError {
    status: StatusCode,
    kind: &'static str,
    message: String,
}

impl ServiceError {
    pub fn new(status: StatusCode, kind: &'static str, message: impl Into<String>) -> ServiceError {
        ServiceError {
            status,
            kind,
            message: message.into(),
        }
    }

    pub fn not_found(message: impl Into<String>) -> ServiceError {
        ServiceError::new(StatusCode::NOT_FOUND, "ResourceNotFoundException", message)
    }

    pub fn validation(message: impl Into<String>) -> ServiceError {
        ServiceError::new(StatusCode::BAD_REQUEST, "ValidationException", message)
    }

    /// The agent failed: it exited, did not start, did not answer, or answered an error.
    pub fn runtime_client(message: impl Into<String>) -> ServiceError {
        ServiceError::new(StatusCode::FAILED_DEPENDENCY, "RuntimeClientError", message)
    }

    pub fn internal(message: impl Into<String>) -> ServiceError {
        ServiceError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "InternalServerException",
            message,
        )
    }
}

impl IntoResponse for ServiceError {
    fn into_response(self) -> Response {
        let body = serde_json::json!({ "message": self.message }).to_string();
        (
            self.status,
            [
                ("x-amzn-errortype", self.kind.to_string()),
                ("x-amzn-requestid", crate::new_id()),
                ("content-type", "application/json".to_string()),
            ],
            body,
        )
            .into_response()
    }
}
