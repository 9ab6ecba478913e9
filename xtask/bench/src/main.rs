//! The benchmarks: measurements, not tests, each figure beside its baseline measured in the
//! same run. Each suite prints a table (or JSON with `--json`) and the command that produced
//! it, for README.md.
//!
//! Run through `cargo xtask bench <suite>`, which installs the pinned tools the suites use and
//! says where the `cargo xtask` binary is (`XTASK_BIN`): the suites measure that binary's
//! commands as a user runs them. The stand-in servers (moto, the registry, the Converse
//! stand-in) are `agent-testkit`'s, the same the tests start.
//!
//! Owns: the suites, their baselines and their tables. Knows nothing the xtask's library does
//! not export, and measures the `cargo xtask` binary itself rather than its functions.
//!
//! Add a suite as a module here, a variant of `Suite`, and a match arm.

mod agents;
mod build;
mod cloud;
mod deploy;
mod push;
mod scale;

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::{Parser, Subcommand};

use xtask::Context;

#[derive(Parser)]
#[command(
    name = "cargo xtask bench",
    bin_name = "cargo xtask bench",
    about = "Measure a suite of the workspace's tooling and agents, each figure beside its baseline",
    after_help = "Examples:
  cargo xtask bench agents                       /ping and /invocations of every agent, sizes
  cargo xtask bench agents --duration 10 -c 32   longer, with more connections
  cargo xtask bench agents --json                for scripts
  cargo xtask bench build --agent assistant      build-agents overhead, packaging, image size
  cargo xtask bench push                         first push against skopeo, no-op push
  cargo xtask bench deploy                       first deploy timeline, no-op deploy vs plans
  cargo xtask bench scale                        the cost of one more agent (2, 8, 32 agents)"
)]
struct Cli {
    #[command(flatten)]
    global: xtask::GlobalArgs,

    #[command(subcommand)]
    suite: Suite,
}

#[derive(Subcommand)]
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
    /// check, builds after a shared-crate and a one-agent change, packaging and an unchanged
    /// push with 2, 8 and 32 synthetic agents: what one more agent costs.
    Scale(scale::Args),
}

fn main() -> ExitCode {
    xtask::main(|cli: &Cli| &cli.global, dispatch)
}

fn dispatch(ctx: &Context, cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.suite {
        Suite::Agents(args) => agents::run(ctx, args),
        Suite::Build(args) => build::run(ctx, args),
        Suite::Deploy(args) => deploy::run(ctx, args),
        Suite::Push(args) => push::run(ctx, args),
        Suite::Scale(args) => scale::run(ctx, args),
    }
}

/// The `cargo xtask` binary whose commands the suites measure, as `cargo xtask bench` names it.
fn xtask_bin() -> anyhow::Result<PathBuf> {
    std::env::var_os("XTASK_BIN")
        .map(PathBuf::from)
        .filter(|p| p.is_file())
        .context("XTASK_BIN does not name the xtask binary: run the benchmarks through `cargo xtask bench`")
}
