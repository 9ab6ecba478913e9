//! A stand-in for the AgentCore control plane's GetAgentRuntime (moto has no AgentCore): every
//! runtime asked for is in one status, answered in the service's rest-json wire format
//! (`GET /runtimes/{agentRuntimeId}/` in botocore's `bedrock-agentcore-control` 2023-06-05
//! model, without the `/` in the Rust SDK's; its required members, ISO-8601 timestamps). Records the runtime ids asked for.

use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::{Path, State};
use axum::routing::get;

use crate::in_process::InProcess;

pub struct ControlPlane {
    server: InProcess,
    asked: Arc<Mutex<Vec<String>>>,
}

#[derive(Clone)]
struct Runtimes {
    status: &'static str,
    failure_reason: Option<&'static str>,
    asked: Arc<Mutex<Vec<String>>>,
}

impl ControlPlane {
    /// Every runtime is in `status` (`READY`, `UPDATING`, `UPDATE_FAILED`…), with
    /// `failure_reason` when given.
    pub fn start(status: &'static str, failure_reason: Option<&'static str>) -> ControlPlane {
        let asked = Arc::new(Mutex::new(Vec::new()));
        let state = Runtimes {
            status,
            failure_reason,
            asked: asked.clone(),
        };
        let app = Router::new()
            // botocore's model has the trailing `/`, the Rust SDK's Smithy model does not.
            .route("/runtimes/{id}/", get(get_agent_runtime))
            .route("/runtimes/{id}", get(get_agent_runtime))
            .with_state(state);
        ControlPlane {
            server: InProcess::serve(0, app).expect("start the control plane stand-in"),
            asked,
        }
    }

    /// For `AWS_ENDPOINT_URL_BEDROCK_AGENTCORE_CONTROL`.
    pub fn url(&self) -> &str {
        &self.server.url
    }

    /// The runtime ids GetAgentRuntime was asked for, in order.
    pub fn asked(&self) -> Vec<String> {
        self.asked.lock().expect("lock").clone()
    }
}

async fn get_agent_runtime(
    State(runtimes): State<Runtimes>,
    Path(id): Path<String>,
) -> axum::Json<serde_json::Value> {
    runtimes.asked.lock().expect("lock").push(id.clone());
    let name = id.rsplit_once('-').map_or(id.as_str(), |(name, _)| name);
    let mut runtime = serde_json::json!({
        "agentRuntimeArn": format!("arn:aws:bedrock-agentcore:us-east-1:123456789012:runtime/{id}"),
        "agentRuntimeName": name,
        "agentRuntimeId": id,
        "agentRuntimeVersion": "2",
        "createdAt": "2026-12-01T10:00:00Z",
        "lastUpdatedAt": "2026-12-01T10:05:00Z",
        "roleArn": "arn:aws:iam::123456789012:role/agentcore-runtime",
        "networkConfiguration": { "networkMode": "PUBLIC" },
        "status": runtimes.status,
        "lifecycleConfiguration": { "idleRuntimeSessionTimeout": 900, "maxLifetime": 28800 },
    });
    if let Some(reason) = runtimes.failure_reason {
        runtime["failureReason"] = reason.into();
    }
    axum::Json(runtime)
}
