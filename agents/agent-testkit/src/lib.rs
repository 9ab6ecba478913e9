//! The stand-ins the tests and the benchmarks share, each a real component on 127.0.0.1:
//! a stand-in for Bedrock's Converse API ([`converse::StandIn`]), one for AgentCore Memory's data
//! plane ([`memory::StandIn`]), one for an AgentCore Gateway's MCP endpoint in front of real MCP
//! servers ([`gateway::StandIn`]), a running agent binary with a
//! small blocking HTTP client ([`agent::AgentProcess`]), moto ([`moto::Moto`]), the CNCF
//! registry ([`registry::Registry`]), the official AgentCore SDK's server as the reference for
//! the HTTP contract ([`reference::ReferenceAgent`]), the official MCP client ([`mcp::run`]),
//! and the harness they run in ([`Server`]).
//!
//! Owns: starting them on free ports, stopping them by their own process id, and the pinned
//! tools they run ([`tool`]). Stand-ins are reached the way a user redirects any AWS SDK,
//! through the `AWS_ENDPOINT_URL*` variables and dummy credentials: no product code has a
//! test-only branch. Knows nothing of the xtask or of any one agent: the xtask's tests, the
//! agents' tests and the benchmarks use it; nothing that ships does.

pub mod agent;
pub mod control_plane;
pub mod converse;
pub mod gateway;
pub mod http;
mod in_process;
pub mod mcp;
pub mod memory;
pub mod moto;
pub mod otlp;
pub mod reference;
pub mod refusing;
pub mod registry;
mod server;

pub use server::Server;

/// The workspace this crate belongs to.
pub fn workspace_root() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .expect("agents/agent-testkit sits two levels below the workspace root")
        .to_path_buf()
}

/// The full path of a program the xtask installs (`target/xtask/tools/bin/`, or the folder
/// `cargo xtask test` names in `XTASK_TOOLS_DIR`): the tests never take one from the machine.
pub fn tool(name: &str) -> std::path::PathBuf {
    let dir = std::env::var_os("XTASK_TOOLS_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| crate::workspace_root().join("target/xtask/tools"));
    let path = dir.join("bin").join(name);
    assert!(
        path.exists(),
        "`{name}` is not installed in {}: run `cargo xtask test` (or `cargo xtask doctor --fix` \
         first, then `cargo test`), which installs the pinned test tools",
        dir.display()
    );
    path
}

/// The header through which AgentCore names the session of an invocation.
pub const SESSION_HEADER: &str = "X-Amzn-Bedrock-AgentCore-Runtime-Session-Id";

/// The `[PORT]` argument of a stand-in's binary (`program [PORT]`): 0, a free one, without it.
pub fn port_argument(program: &str) -> anyhow::Result<u16> {
    match std::env::args().nth(1) {
        Some(text) => text
            .parse()
            .map_err(|_| anyhow::anyhow!("`{text}` is not a port number; usage: {program} [PORT]")),
        None => Ok(0),
    }
}

/// Prints a stand-in's URL for the shell that started it, then serves until killed.
pub fn serve_forever(url: &str) -> ! {
    println!("{url}");
    loop {
        std::thread::park();
    }
}

/// A port nobody listens on right now.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("bind an ephemeral port")
}

/// Reads lines until they make one JSON document: what a long-running command prints with
/// `--json` (pretty) once it serves, before it goes on. The document, or, when the stream ends
/// first, what was read.
pub fn read_json_document(reader: &mut impl std::io::BufRead) -> Result<serde_json::Value, String> {
    let mut text = String::new();
    loop {
        let mut line = String::new();
        match reader.read_line(&mut line) {
            Ok(0) | Err(_) => return Err(text),
            Ok(_) => text.push_str(&line),
        }
        if let Ok(value) = serde_json::from_str(&text) {
            return Ok(value);
        }
    }
}
