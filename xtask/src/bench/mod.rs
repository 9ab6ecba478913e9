//! `cargo xtask bench <suite>`: measurements, not tests. Each suite prints a table (or JSON
//! with `--json`) and the command that produced it, for README.md.
//!
//! Suites: `agents` (the agents' HTTP throughput and latency on the host, and their aarch64
//! binary sizes). Add a suite as a module here, a variant of `Suite`, and a match arm.

mod agents;
mod push;

use std::process::ExitCode;

use crate::Context;

#[derive(clap::Args)]
#[command(after_help = "Examples:
  cargo xtask bench agents                       /ping and /invocations of every agent, sizes
  cargo xtask bench agents --duration 10 -c 32   longer, with more connections
  cargo xtask bench agents --json                for scripts")]
pub struct Args {
    #[command(subcommand)]
    suite: Suite,
}

#[derive(clap::Subcommand)]
enum Suite {
    /// Requests/s and p99 latency of each agent's /ping and a trivial /invocations (host,
    /// release build, Bedrock answered by a local stand-in), and the aarch64 binary sizes.
    Agents(agents::Args),
    /// First push time against `skopeo copy` of the same OCI layout (ratio), and the requests
    /// and bytes of a push when nothing changed.
    Push(push::Args),
}

pub fn run(ctx: &Context, args: Args) -> anyhow::Result<ExitCode> {
    match args.suite {
        Suite::Agents(args) => agents::run(ctx, args),
        Suite::Push(args) => push::run(ctx, args),
    }
}
