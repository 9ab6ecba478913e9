//! An AWS service that throttles every request, on the wire format of the rest-json services
//! (AgentCore's data plane among them): `429`, `x-amzn-errortype: ThrottlingException`,
//! `{"message"}`, a request id. No local implementation can be made to throttle on demand, so
//! this is where a test sees what a client does then: the requests it counts are the SDK's
//! attempts.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;

use crate::in_process::InProcess;

pub struct Throttled {
    server: InProcess,
    requests: Arc<AtomicUsize>,
}

impl Throttled {
    pub fn start() -> Throttled {
        let requests = Arc::new(AtomicUsize::new(0));
        let app = Router::new()
            .fallback(throttle)
            .with_state(requests.clone());
        Throttled {
            server: InProcess::serve(0, app).expect("start the throttled service"),
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

async fn throttle(State(requests): State<Arc<AtomicUsize>>) -> impl IntoResponse {
    let n = requests.fetch_add(1, Ordering::SeqCst);
    (
        StatusCode::TOO_MANY_REQUESTS,
        [
            ("x-amzn-errortype", "ThrottlingException".to_string()),
            ("x-amzn-requestid", format!("throttled-{n}")),
            ("content-type", "application/json".to_string()),
        ],
        r#"{"message":"Rate exceeded"}"#,
    )
}
