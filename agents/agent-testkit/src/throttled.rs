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

pub struct Throttled {
    url: String,
    requests: Arc<AtomicUsize>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Throttled {
    pub fn start() -> Throttled {
        let listener = std::net::TcpListener::bind(("127.0.0.1", 0)).expect("bind");
        listener.set_nonblocking(true).expect("nonblocking");
        let url = format!("http://{}", listener.local_addr().expect("address"));
        let requests = Arc::new(AtomicUsize::new(0));
        let app = Router::new()
            .fallback(throttle)
            .with_state(requests.clone());
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let thread = std::thread::spawn(move || {
            runtime.block_on(async move {
                let Ok(listener) = tokio::net::TcpListener::from_std(listener) else {
                    return;
                };
                let _ = axum::serve(listener, app)
                    .with_graceful_shutdown(async {
                        let _ = stopped.await;
                    })
                    .await;
            });
        });
        Throttled {
            url,
            requests,
            stop: Some(stop),
            thread: Some(thread),
        }
    }

    /// For `AWS_ENDPOINT_URL_<SERVICE>`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// How many requests it refused.
    pub fn requests(&self) -> usize {
        self.requests.load(Ordering::SeqCst)
    }
}

impl Drop for Throttled {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
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
