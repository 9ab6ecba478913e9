//! What the agents' tests (and `cargo xtask bench agents`) need to exercise a real agent
//! process: a local stand-in for Bedrock's Converse API ([`converse::StandIn`]) and a running
//! agent binary with a small blocking HTTP client ([`agent::AgentProcess`]).
//!
//! The stand-in is reached the way a user redirects any AWS SDK, through
//! `AWS_ENDPOINT_URL_BEDROCK_RUNTIME` and dummy credentials: the agents have no test-only code.

pub mod agent;
pub mod converse;
pub mod http;

/// The header through which AgentCore names the session of an invocation.
pub const SESSION_HEADER: &str = "X-Amzn-Bedrock-AgentCore-Runtime-Session-Id";

/// A port nobody listens on right now.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("bind an ephemeral port")
}
