//! The Converse stand-in as a process, for benchmarks and manual runs:
//! `converse-standin [PORT]` prints its URL, then answers until it is killed, every agent
//! alike ([`Answer::Auto`](agent_testkit::converse::Answer::Auto)).

fn main() -> anyhow::Result<()> {
    let port = agent_testkit::port_argument("converse-standin")?;
    let standin = agent_testkit::converse::StandIn::start_on(port)?;
    standin.answer(agent_testkit::converse::Answer::Auto);
    agent_testkit::serve_forever(standin.url())
}
