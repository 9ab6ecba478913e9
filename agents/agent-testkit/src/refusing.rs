//! An AWS service that refuses every request with one error, on the wire format of the
//! rest-json services (AgentCore's data plane and control plane among them): the status,
//! `x-amzn-errortype`, `{"message"}`, a request id. No local implementation can be made to
//! throttle on demand, or to lose a runtime, so this is where a test sees what a client does
//! then: the requests it counts are the SDK's attempts.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;

use crate::in_process::InProcess;

pub struct Refusing {
    server: InProcess,
    requests: Arc<AtomicUsize>,
}

#[derive(Clone)]
struct Refusal {
    status: StatusCode,
    error_type: &'static str,
    message: &'static str,
    requests: Arc<AtomicUsize>,
}

impl Refusing {
    /// `429 ThrottlingException`, "Rate exceeded": what AgentCore answers over its quota.
    pub fn throttling() -> Refusing {
        Refusing::start(429, "ThrottlingException", "Rate exceeded")
    }

    /// Every request answered `status` with the error `error_type` and `message`.
    pub fn start(status: u16, error_type: &'static str, message: &'static str) -> Refusing {
        let requests = Arc::new(AtomicUsize::new(0));
        let refusal = Refusal {
            status: StatusCode::from_u16(status).expect("an HTTP status"),
            error_type,
            message,
            requests: requests.clone(),
        };
        let app = Router::new().fallback(refuse).with_state(refusal);
        Refusing {
            server: InProcess::serve(0, app).expect("start the refusing service"),
            requests,
        }
    }

    /// For `AWS_ENDPOINT_URL_<SERVICE>`.
    pub fn url(&self) -> &str {
        &self.server.url
    }

    /// How many requests it refused.
    pub fn requests(&self) -> usize {
        self.requests.load(Ordering::SeqCst)
    }
}

async fn refuse(State(refusal): State<Refusal>) -> impl IntoResponse {
    let n = refusal.requests.fetch_add(1, Ordering::SeqCst);
    (
        refusal.status,
        [
            ("x-amzn-errortype", refusal.error_type.to_string()),
            ("x-amzn-requestid", format!("refused-{n}")),
            ("content-type", "application/json".to_string()),
        ],
        serde_json::json!({ "message": refusal.message }).to_string(),
    )
}
