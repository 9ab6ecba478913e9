//! The Converse stand-in as a process, for benchmarks and manual runs:
//! `converse-standin [PORT]` prints its URL, then answers until it is killed, every agent
//! alike ([`Answer::Auto`](agent_testkit::converse::Answer::Auto)).

fn main() -> anyhow::Result<()> {
    let port = match std::env::args().nth(1) {
        Some(text) => text.parse().map_err(|_| {
            anyhow::anyhow!("`{text}` is not a port number; usage: converse-standin [PORT]")
        })?,
        None => 0,
    };
    let standin = agent_testkit::converse::StandIn::start_on(port)?;
    standin.answer(agent_testkit::converse::Answer::Auto);
    println!("{}", standin.url());
    loop {
        std::thread::park();
    }
}
