//! A local stand-in for an AgentCore Gateway's MCP endpoint (no emulator serves one), as an
//! agent sees a gateway whose authorizer is `AWS_IAM`:
//! - `POST /mcp`, JSON-RPC over Streamable HTTP, answered with `application/json`;
//! - a request whose SigV4 signature (service `bedrock-agentcore`) does not verify → 403;
//! - `initialize` negotiates down to the newest protocol version the gateway supports
//!   (2025-11-25; 2026-07-28 only when a gateway is configured for it);
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

/// The secret of the credentials the tests give agents ([`crate::agent::bedrock_env`]).
pub const SECRET_ACCESS_KEY: &str = "testing";
/// What the gateway's IAM authorizer takes signatures for.
const SIGNING_NAME: &str = "bedrock-agentcore";
/// How the gateway joins a target's name and its tool's.
pub const SEPARATOR: &str = "___";
/// The protocol versions a gateway speaks unless configured otherwise (AgentCore developer
/// guide, "Use an AgentCore gateway"), newest last; `<target>___<tool>` is its "tool naming".
const VERSIONS: [&str; 3] = ["2025-03-26", "2025-06-18", "2025-11-25"];

/// One request the stand-in received.
#[derive(Debug, Clone)]
pub struct Recorded {
    /// The JSON-RPC method (`initialize`, `tools/list`, `tools/call`, a notification's).
    pub method: String,
    /// For `tools/call`: the gateway name of the tool and its arguments.
    pub tool: Option<String>,
    pub arguments: Value,
    pub authorization: String,
    /// The `MCP-Protocol-Version` header (none on `initialize`).
    pub protocol_version: Option<String>,
    /// Whether the SigV4 signature verified, and why not.
    pub signature: Result<(), String>,
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
    let host = headers
        .get("host")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let signature = verify(&headers, &format!("http://{host}/mcp"), &body);
    shared.requests.lock().unwrap().push(Recorded {
        signature: signature.clone(),
        protocol_version: headers
            .get("mcp-protocol-version")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string),
        method: method.clone(),
        tool: tool.clone(),
        arguments: params["arguments"].clone(),
        authorization: authorization.clone(),
    });
    if let Err(why) = &signature {
        let message = format!("Access denied: {why}");
        return (
            StatusCode::FORBIDDEN,
            axum::Json(json!({ "message": message })),
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

/// Checks the request's SigV4 signature as the gateway's IAM authorizer does: for service
/// `bedrock-agentcore`, recomputed over the signed headers and the body with the secret of
/// the tests' credentials ([`SECRET_ACCESS_KEY`]).
fn verify(headers: &HeaderMap, uri: &str, body: &[u8]) -> Result<(), String> {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let authorization = header("authorization").ok_or("no Authorization header")?;
    let fields = authorization
        .strip_prefix("AWS4-HMAC-SHA256 ")
        .ok_or("not a SigV4 signature")?;
    let field = |name: &str| {
        fields
            .split(", ")
            .find_map(|f| f.strip_prefix(name)?.strip_prefix('='))
            .ok_or(format!("no {name} in the signature"))
    };
    let credential: Vec<&str> = field("Credential")?.split('/').collect();
    let [access_key, _day, region, service, "aws4_request"] = credential[..] else {
        return Err(format!("a malformed credential scope: {credential:?}"));
    };
    if service != SIGNING_NAME {
        return Err(format!("signed for `{service}`, not `{SIGNING_NAME}`"));
    }
    let signed: Vec<&str> = field("SignedHeaders")?.split(';').collect();
    let amz_date = header("x-amz-date").ok_or("no X-Amz-Date header")?;
    let time = signing_time(amz_date).ok_or(format!("a malformed X-Amz-Date `{amz_date}`"))?;
    let mut request_headers = Vec::new();
    for name in &signed {
        let value = header(name).ok_or(format!("the signed header `{name}` is missing"))?;
        request_headers.push((*name, value));
    }
    let identity = aws_credential_types::Credentials::new(
        access_key,
        SECRET_ACCESS_KEY,
        None,
        None,
        "gateway-standin",
    )
    .into();
    let params = aws_sigv4::sign::v4::SigningParams::builder()
        .identity(&identity)
        .region(region)
        .name(SIGNING_NAME)
        .time(time)
        .settings(aws_sigv4::http_request::SigningSettings::default())
        .build()
        .map_err(|e| e.to_string())?
        .into();
    let signable = aws_sigv4::http_request::SignableRequest::new(
        "POST",
        uri,
        request_headers.into_iter(),
        aws_sigv4::http_request::SignableBody::Bytes(body),
    )
    .map_err(|e| e.to_string())?;
    let (_, expected) = aws_sigv4::http_request::sign(signable, &params)
        .map_err(|e| e.to_string())?
        .into_parts();
    if field("Signature")? == expected {
        Ok(())
    } else {
        Err("the signature does not match the request".into())
    }
}

/// `20261201T173000Z` as a time.
fn signing_time(amz_date: &str) -> Option<std::time::SystemTime> {
    let b = amz_date.as_bytes();
    if b.len() != 16 || b[8] != b'T' || b[15] != b'Z' {
        return None;
    }
    let iso = format!(
        "{}-{}-{}T{}:{}:{}Z",
        &amz_date[0..4],
        &amz_date[4..6],
        &amz_date[6..8],
        &amz_date[9..11],
        &amz_date[11..13],
        &amz_date[13..15]
    );
    let parsed =
        aws_smithy_types::DateTime::from_str(&iso, aws_smithy_types::date_time::Format::DateTime)
            .ok()?;
    std::time::SystemTime::try_from(parsed).ok()
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
