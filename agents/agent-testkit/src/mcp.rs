//! The official MCP Python SDK's client (`mcp` on PyPI, pinned with the test tools) driving an
//! MCP server over Streamable HTTP: `python/mcp_client.py` runs a list of steps and reports.

use std::io::Write;
use std::process::{Child, Command, Stdio};

use serde_json::Value;

use crate::{tool, workspace_root};

/// A run of the client in flight.
pub struct McpClient {
    child: Child,
}

impl McpClient {
    /// Starts the client on `url` (`…/mcp`) with extra HTTP `headers`, the protocol `mode`
    /// ("auto" or "legacy") and the `steps` (`[{"op": "list_tools"}, {"op": "call", …}]`).
    pub fn spawn(url: &str, headers: &[(&str, &str)], mode: &str, steps: &Value) -> McpClient {
        let mut cmd = Command::new(tool("python3-pinned"));
        cmd.arg(workspace_root().join("agents/agent-testkit/python/mcp_client.py"))
            .arg(url)
            .args(headers.iter().map(|(k, v)| format!("{k}={v}")))
            .env("MCP_CLIENT_MODE", mode)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("start the MCP client");
        let mut stdin = child.stdin.take().expect("stdin");
        stdin
            .write_all(steps.to_string().as_bytes())
            .expect("send the steps");
        McpClient { child }
    }

    /// Its report; panics (in a test) with the client's output when it failed. `closed_with`
    /// in the report: the connection failed after every step had its answer.
    pub fn finish(self) -> Value {
        let out = self
            .child
            .wait_with_output()
            .expect("wait for the MCP client");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "the MCP client failed:\n{stderr}");
        serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("the MCP client printed no report ({e}):\n{stderr}"))
    }
}

/// Runs the client to the end (see [`McpClient::spawn`]) on a server that stays up: the
/// connection must also close cleanly.
pub fn run(url: &str, headers: &[(&str, &str)], mode: &str, steps: &Value) -> Value {
    let report = McpClient::spawn(url, headers, mode, steps).finish();
    assert!(report.get("closed_with").is_none(), "{report}");
    report
}
