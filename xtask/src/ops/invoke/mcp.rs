//! An MCP server's tools, listed or called: the Streamable HTTP exchange a client has with it
//! (`initialize`, `notifications/initialized`, then one request), each message either straight
//! to a local server's `/mcp` or through InvokeAgentRuntime, which passes MCP to the runtime
//! with its `Mcp-Session-Id` and `Mcp-Protocol-Version` headers.
//!
//! Hand-written on purpose: the official Rust SDK's client (rmcp) brings its own HTTP
//! transport, which cannot be made to go through the AWS SDK's signed InvokeAgentRuntime; the
//! messages themselves are three JSON-RPC objects. The server side is rmcp, checked against the
//! official Python client (agents/toolbox/tests/mcp.rs).

use anyhow::{Context as _, bail};
use serde_json::{Value, json};

use super::sse::SseParser;
use super::{InvokeOptions, invoke};
use crate::ops::deployed::DeployedAgent;

/// The protocol version asked for; the server answers with the one it speaks.
const PROTOCOL_VERSION: &str = "2025-06-18";

pub enum Request {
    ListTools,
    CallTool { name: String, arguments: Value },
}

/// Where the messages go.
pub enum Transport<'a> {
    /// A server on this machine (`cargo xtask run`): its `/mcp` URL.
    Local { url: String },
    /// A deployed runtime, through the AWS SDK; `options` names it and its session (the
    /// payload and MCP headers are set per message).
    Deployed {
        config: &'a aws_config::SdkConfig,
        agent: &'a DeployedAgent,
        options: Box<InvokeOptions>,
    },
}

/// One HTTP answer, read whole.
struct Reply {
    status: u16,
    content_type: String,
    mcp_session: Option<String>,
    body: Vec<u8>,
}

/// The result of `request` (JSON-RPC `result`), after the handshake.
pub async fn exchange(transport: &mut Transport<'_>, request: Request) -> anyhow::Result<Value> {
    let init = json!({
        "jsonrpc": "2.0", "id": 1, "method": "initialize",
        "params": {
            "protocolVersion": PROTOCOL_VERSION,
            "capabilities": {},
            "clientInfo": { "name": "cargo-xtask", "version": env!("CARGO_PKG_VERSION") }
        }
    });
    let reply = post(transport, &init, None, None).await?;
    let session = reply.mcp_session.clone();
    let initialized = result_of(&reply, 1).context("the server refused `initialize`")?;
    let protocol = initialized["protocolVersion"]
        .as_str()
        .unwrap_or(PROTOCOL_VERSION)
        .to_string();
    let note = json!({ "jsonrpc": "2.0", "method": "notifications/initialized" });
    let reply = post(transport, &note, session.as_deref(), Some(&protocol)).await?;
    if !(200..300).contains(&reply.status) {
        bail!(
            "the server answered {} to `notifications/initialized`",
            reply.status
        );
    }
    let (method, params) = match request {
        Request::ListTools => ("tools/list", json!({})),
        Request::CallTool { name, arguments } => (
            "tools/call",
            json!({ "name": name, "arguments": arguments }),
        ),
    };
    let message = json!({ "jsonrpc": "2.0", "id": 2, "method": method, "params": params });
    let reply = post(transport, &message, session.as_deref(), Some(&protocol)).await?;
    result_of(&reply, 2).with_context(|| format!("`{method}` failed"))
}

async fn post(
    transport: &mut Transport<'_>,
    message: &Value,
    session: Option<&str>,
    protocol: Option<&str>,
) -> anyhow::Result<Reply> {
    let body = message.to_string();
    match transport {
        Transport::Local { url } => {
            let mut request = reqwest::Client::new()
                .post(url.as_str())
                .header("content-type", "application/json")
                .header("accept", "application/json, text/event-stream")
                .body(body);
            if let Some(session) = session {
                request = request.header("mcp-session-id", session);
            }
            if let Some(protocol) = protocol {
                request = request.header("mcp-protocol-version", protocol);
            }
            let response = request
                .send()
                .await
                .with_context(|| format!("nothing answers at {url}"))?;
            let header = |name: &str| {
                response
                    .headers()
                    .get(name)
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_string)
            };
            Ok(Reply {
                status: response.status().as_u16(),
                content_type: header("content-type").unwrap_or_default(),
                mcp_session: header("mcp-session-id"),
                body: response
                    .bytes()
                    .await
                    .context("the answer broke off")?
                    .to_vec(),
            })
        }
        Transport::Deployed {
            config,
            agent,
            options,
        } => {
            options.payload = body;
            options.mcp_session = session.map(str::to_string);
            options.mcp_protocol = protocol.map(str::to_string);
            let answer = invoke(config, agent, options).await?;
            let bytes = answer
                .body
                .collect()
                .await
                .context("the answer broke off")?
                .into_bytes();
            Ok(Reply {
                status: answer.status,
                content_type: answer.content_type,
                mcp_session: answer.mcp_session,
                body: bytes.to_vec(),
            })
        }
    }
}

/// The `result` of the JSON-RPC response with `id`, from a JSON or an SSE answer.
fn result_of(reply: &Reply, id: u64) -> anyhow::Result<Value> {
    if !(200..300).contains(&reply.status) {
        bail!(
            "the server answered {}: {}",
            reply.status,
            String::from_utf8_lossy(&reply.body)
        );
    }
    let messages: Vec<Value> = if reply.content_type.starts_with("text/event-stream") {
        SseParser::default()
            .push(&reply.body)
            .into_iter()
            .filter_map(|e| serde_json::from_str(&e.data).ok())
            .collect()
    } else {
        vec![serde_json::from_slice(&reply.body).context("the answer is not JSON")?]
    };
    let response = messages
        .into_iter()
        .find(|m| m["id"] == id)
        .context("the answer holds no response to the request")?;
    if let Some(error) = response.get("error") {
        bail!(
            "JSON-RPC error {}: {}",
            error["code"],
            error["message"].as_str().unwrap_or_default()
        );
    }
    Ok(response["result"].clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reply(content_type: &str, body: &str) -> Reply {
        Reply {
            status: 200,
            content_type: content_type.into(),
            mcp_session: None,
            body: body.as_bytes().to_vec(),
        }
    }

    #[test]
    fn results_come_from_json_or_from_the_stream() {
        let json = reply(
            "application/json",
            r#"{"jsonrpc":"2.0","id":2,"result":{"tools":[]}}"#,
        );
        assert_eq!(result_of(&json, 2).unwrap(), json!({"tools": []}));
        let sse = reply(
            "text/event-stream",
            "data: {\"jsonrpc\":\"2.0\",\"method\":\"notifications/progress\"}\n\n\
             data: {\"jsonrpc\":\"2.0\",\"id\":2,\"result\":{\"ok\":true}}\n\n",
        );
        assert_eq!(result_of(&sse, 2).unwrap(), json!({"ok": true}));
        let error = reply(
            "application/json",
            r#"{"jsonrpc":"2.0","id":2,"error":{"code":-32602,"message":"unknown tool"}}"#,
        );
        let err = result_of(&error, 2).unwrap_err().to_string();
        assert!(
            err.contains("-32602") && err.contains("unknown tool"),
            "{err}"
        );
    }
}
