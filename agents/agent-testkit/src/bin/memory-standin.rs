//! The AgentCore Memory stand-in as a process, for `cargo xtask run`, `cargo xtask dataplane`
//! and benchmarks without AWS: `memory-standin [PORT]` prints its URL (for
//! `AWS_ENDPOINT_URL_BEDROCK_AGENTCORE` of the agents' processes), then keeps every memory's
//! events until it is killed. Any memory id is taken, e.g. the one a platform stack outputs.

fn main() -> anyhow::Result<()> {
    let port = match std::env::args().nth(1) {
        Some(text) => text.parse().map_err(|_| {
            anyhow::anyhow!("`{text}` is not a port number; usage: memory-standin [PORT]")
        })?,
        None => 0,
    };
    let standin = agent_testkit::memory::StandIn::start_on(port)?;
    println!("{}", standin.url());
    loop {
        std::thread::park();
    }
}
