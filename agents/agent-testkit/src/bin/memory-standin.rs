//! The AgentCore Memory stand-in as a process, for `cargo xtask run`, `cargo xtask dataplane`
//! and benchmarks without AWS: `memory-standin [PORT]` prints its URL (for
//! `AWS_ENDPOINT_URL_BEDROCK_AGENTCORE` of the agents' processes), then keeps every memory's
//! events until it is killed. Any memory id is taken, e.g. the one a platform stack outputs.

fn main() -> anyhow::Result<()> {
    let port = agent_testkit::port_argument("memory-standin")?;
    let standin = agent_testkit::memory::StandIn::start_on(port)?;
    agent_testkit::serve_forever(standin.url())
}
