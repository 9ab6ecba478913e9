//! `cargo xtask bench <suite>`: measurements, not tests. Each suite prints a table (or JSON
//! with `--json`) and the command that produced it, for README.md.
//!
//! Suites: `agents` (the agents' HTTP throughput and latency on the host, and their aarch64
//! binary sizes). Add a suite as a module here, a variant of `Suite`, and a match arm.

mod agents;
mod build;
mod deploy;
mod push;

use std::process::ExitCode;

use crate::Context;

#[derive(clap::Args)]
#[command(after_help = "Examples:
  cargo xtask bench agents                       /ping and /invocations of every agent, sizes
  cargo xtask bench agents --duration 10 -c 32   longer, with more connections
  cargo xtask bench agents --json                for scripts
  cargo xtask bench build --agent assistant      build-agents overhead, packaging, image size
  cargo xtask bench deploy                       first deploy timeline, no-op deploy vs plans")]
pub struct Args {
    #[command(subcommand)]
    suite: Suite,
}

#[derive(clap::Subcommand)]
enum Suite {
    /// Requests/s and p99 latency of each agent's /ping and a trivial /invocations (host,
    /// release build, Bedrock answered by a local stand-in), and the aarch64 binary sizes.
    Agents(agents::Args),
    /// build-agents against bare cargo on a one-line change, packaging against `tar | gzip`,
    /// image size against binary size.
    Build(build::Args),
    /// A first deploy's per-phase timeline, and a no-op deploy against the sum of bare
    /// `terraform plan` runs of the same stacks (moto, a local registry, the test stacks).
    Deploy(deploy::Args),
    /// First push time against `skopeo copy` of the same OCI layout (ratio), and the requests
    /// and bytes of a push when nothing changed.
    Push(push::Args),
}

pub fn run(ctx: &Context, args: Args) -> anyhow::Result<ExitCode> {
    match args.suite {
        Suite::Agents(args) => agents::run(ctx, args),
        Suite::Push(args) => push::run(ctx, args),
        Suite::Build(args) => build::run(ctx, args),
        Suite::Deploy(args) => deploy::run(ctx, args),
    }
}
