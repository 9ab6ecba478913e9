//! The official AgentCore Python SDK's server (`bedrock-agentcore` on PyPI, pinned with the
//! test tools) running `python/reference_agent.py`: the independent implementation of the
//! runtime's HTTP contract that `agentcore-runtime` is compared with, request for request.

use std::process::Command;

use crate::{Server, free_port, tool, workspace_root};

pub struct ReferenceAgent {
    pub server: Server,
    _dir: tempfile::TempDir,
}

impl ReferenceAgent {
    pub fn start() -> ReferenceAgent {
        let dir = tempfile::tempdir().expect("tempdir");
        let port = free_port();
        let mut cmd = Command::new(tool("python3-pinned"));
        cmd.arg(workspace_root().join("agents/agent-testkit/python/reference_agent.py"))
            .arg(port.to_string());
        let server = Server::start(
            "the bedrock-agentcore reference server",
            cmd,
            port,
            &dir.path().join("reference.log"),
        );
        ReferenceAgent { server, _dir: dir }
    }

    pub fn port(&self) -> u16 {
        self.server.port
    }
}
