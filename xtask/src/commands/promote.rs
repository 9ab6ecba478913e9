//! `cargo xtask promote <from> <to> [AGENT...]`: the same image bytes, one environment further
//! (`ops::promote`).

use std::process::ExitCode;

use crate::Context;
use crate::environment::Env;
use crate::ops::promote::{self, PromoteOptions};

#[derive(clap::Args)]
#[command(after_help = "Examples:
  cargo xtask promote dev staging                 every agent dev runs
  cargo xtask promote dev staging assistant       one agent
  cargo xtask promote staging production --yes    needs a clean tree

The blueprint edit (execution_modes.<to>: true) is left in the working tree: commit it.")]
pub struct Args {
    /// The environment whose running images are promoted.
    pub from: Env,
    /// The next environment (dev → staging → production).
    pub to: Env,
    /// Agents to promote (default: every agent `from` runs).
    #[arg(value_name = "AGENT")]
    pub agents: Vec<String>,
    /// Copy to (and from) this OCI registry instead of the environments' ECR.
    #[arg(long, value_name = "HOST[/PREFIX]")]
    pub registry: Option<String>,
    /// Confirm a production deploy without the prompt.
    #[arg(long)]
    pub yes: bool,
    /// Allow plans that destroy resources in production.
    #[arg(long)]
    pub allow_destroy: bool,
}

pub fn run(ctx: &Context, args: Args) -> anyhow::Result<ExitCode> {
    let options = PromoteOptions {
        from: args.from,
        to: args.to,
        agents: args.agents,
        registry: args.registry,
        yes: args.yes,
        allow_destroy: args.allow_destroy,
    };
    promote::promote(ctx, &options)?.finish(ctx)?;
    Ok(ExitCode::SUCCESS)
}
