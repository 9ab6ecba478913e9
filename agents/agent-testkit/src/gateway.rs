//! A local stand-in for an AgentCore Gateway's MCP endpoint (no emulator serves one), as an
//! agent sees a gateway whose authorizer is `AWS_IAM`:
//! - `POST /mcp`, JSON-RPC over Streamable HTTP, answered with `application/json`;
//! - a request without a SigV4 `Authorization` for service `bedrock-agentcore` → 403;
//! - `initialize` negotiates down to the newest protocol version the gateway supports;
//! - `tools/list` is every target's tools named `<target>___<tool>`, and `tools/call` of such
//!   a name is the target's tool, called on the real MCP server behind it (through the
//!   official SDK's client), as the gateway calls its targets.
//!
//! Tests see every request and can make a tool hang (its call taken, never answered).

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use bytes::Bytes;
use rmcp::ServiceExt as _;
use rmcp::model::CallToolRequestParams;
use rmcp::transport::StreamableHttpClientTransport;
use serde_json::{Value, json};
use tokio::sync::watch;

use crate::in_process::InProcess;

/// How the gateway joins a target's name and its tool's.
pub const SEPARATOR: &str = "___";
/// The protocol versions the gateway speaks, newest last.
const VERSIONS: [&str; 2] = ["2025-03-26", "2025-06-18"];

/// One request the stand-in received.
#[derive(Debug, Clone)]
pub struct Recorded {
    /// The JSON-RPC method (`initialize`, `tools/list`, `tools/call`, a notification's).
    pub method: String,
    /// For `tools/call`: the gateway name of the tool and its arguments.
    pub tool: Option<String>,
    pub arguments: Value,
    pub authorization: String,
}

struct Shared {
    targets: Vec<(String, String)>,
    requests: Mutex<Vec<Recorded>>,
    hanging: Mutex<BTreeSet<String>>,
    /// Closed when the stand-in stops, so that hanging calls end and the server can stop.
    open: watch::Sender<bool>,
}

pub struct StandIn {
    server: Option<InProcess>,
    shared: Arc<Shared>,
}

impl StandIn {
    /// A gateway whose targets are `(name, MCP endpoint URL)` pairs.
    pub fn start(targets: &[(&str, &str)]) -> StandIn {
        let shared = Arc::new(Shared {
            targets: targets
                .iter()
                .map(|(name, url)| (name.to_string(), url.to_string()))
                .collect(),
            requests: Mutex::default(),
            hanging: Mutex::default(),
            open: watch::Sender::new(true),
        });
        let app = Router::new()
            .route("/mcp", post(mcp))
            .with_state(shared.clone());
        let server = InProcess::serve(0, app).expect("start the gateway stand-in");
        StandIn {
            server: Some(server),
            shared,
        }
    }

    /// For `AGENTCORE_GATEWAY_URL`.
    pub fn url(&self) -> String {
        let base = self.server.as_ref().map(|s| s.url.as_str()).unwrap_or("");
        format!("{base}/mcp")
    }

    /// Calls of `tool` (its gateway name) are taken and never answered.
    pub fn hang(&self, tool: &str) {
        self.shared.hanging.lock().unwrap().insert(tool.to_string());
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.shared.requests.lock().unwrap().clone()
    }

    /// The `tools/call` requests, in order.
    pub fn tool_calls(&self) -> Vec<Recorded> {
        let calls = self.requests().into_iter();
        calls.filter(|r| r.method == "tools/call").collect()
    }
}

impl Drop for StandIn {
    fn drop(&mut self) {
        self.shared.open.send_replace(false);
        drop(self.server.take());
    }
}

async fn mcp(State(shared): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> Response {
    let authorization = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let request: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let method = request["method"].as_str().unwrap_or("").to_string();
    let params = &request["params"];
    let tool = (method == "tools/call").then(|| params["name"].as_str().unwrap_or("").to_string());
    shared.requests.lock().unwrap().push(Recorded {
        method: method.clone(),
        tool: tool.clone(),
        arguments: params["arguments"].clone(),
        authorization: authorization.clone(),
    });
    if !signed(&authorization) {
        return (
            StatusCode::FORBIDDEN,
            axum::Json(
                json!({ "message": "Missing or invalid SigV4 signature for bedrock-agentcore" }),
            ),
        )
            .into_response();
    }
    let Some(id) = request.get("id").cloned() else {
        // A notification.
        return StatusCode::ACCEPTED.into_response();
    };
    let result = match method.as_str() {
        "initialize" => Ok(initialize(params)),
        "ping" => Ok(json!({})),
        "tools/list" => list(&shared).await,
        "tools/call" => call(&shared, tool.as_deref().unwrap_or(""), params).await,
        other => Err((-32601, format!("Method not found: {other}"))),
    };
    let answer = match result {
        Ok(result) => json!({ "jsonrpc": "2.0", "id": id, "result": result }),
        Err((code, message)) => {
            json!({ "jsonrpc": "2.0", "id": id, "error": { "code": code, "message": message } })
        }
    };
    Response::builder()
        .header("content-type", "application/json")
        .body(Body::from(answer.to_string()))
        .unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response())
}

/// A SigV4 signature for the service the gateway's IAM authorizer checks.
fn signed(authorization: &str) -> bool {
    authorization.starts_with("AWS4-HMAC-SHA256 ")
        && authorization.contains("/bedrock-agentcore/aws4_request")
        && authorization.contains("SignedHeaders=")
        && authorization.contains("Signature=")
}

fn initialize(params: &Value) -> Value {
    let asked = params["protocolVersion"].as_str().unwrap_or("");
    let version = VERSIONS
        .iter()
        .find(|v| **v == asked)
        .unwrap_or(&VERSIONS[VERSIONS.len() - 1]);
    json!({
        "protocolVersion": version,
        "capabilities": { "tools": { "listChanged": false } },
        "serverInfo": { "name": "standin-gateway", "version": "1.0.0" }
    })
}

type RpcResult = Result<Value, (i64, String)>;

async fn list(shared: &Shared) -> RpcResult {
    let mut tools = Vec::new();
    for (target, url) in &shared.targets {
        let client = connect(url).await?;
        let listed = client.list_all_tools().await.map_err(internal)?;
        let _ = client.cancel().await;
        for tool in listed {
            let mut tool = serde_json::to_value(tool).map_err(internal)?;
            let name = tool["name"].as_str().unwrap_or("").to_string();
            tool["name"] = json!(format!("{target}{SEPARATOR}{name}"));
            tools.push(tool);
        }
    }
    Ok(json!({ "tools": tools }))
}

async fn call(shared: &Shared, name: &str, params: &Value) -> RpcResult {
    if shared.hanging.lock().unwrap().contains(name) {
        let mut open = shared.open.subscribe();
        let _ = open.wait_for(|open| !*open).await;
        return Err((-32603, "the gateway stopped".into()));
    }
    let unknown = || (-32602, format!("Unknown tool: {name}"));
    let (target, tool) = name.split_once(SEPARATOR).ok_or_else(unknown)?;
    let url = shared
        .targets
        .iter()
        .find(|(t, _)| t == target)
        .map(|(_, url)| url)
        .ok_or_else(unknown)?;
    let client = connect(url).await?;
    let mut request = CallToolRequestParams::new(tool.to_string());
    request.arguments = params["arguments"].as_object().cloned();
    let result = client.call_tool(request).await;
    let _ = client.cancel().await;
    match result {
        Ok(result) => serde_json::to_value(result).map_err(internal),
        Err(rmcp::ServiceError::McpError(err)) => {
            Err((i64::from(err.code.0), err.message.to_string()))
        }
        Err(err) => Err(internal(err)),
    }
}

async fn connect(
    url: &str,
) -> Result<rmcp::service::RunningService<rmcp::RoleClient, ()>, (i64, String)> {
    ().serve(StreamableHttpClientTransport::from_uri(url.to_string()))
        .await
        .map_err(internal)
}

fn internal(err: impl std::fmt::Display) -> (i64, String) {
    (-32603, format!("the target failed: {err}"))
}
