//! `cargo xtask destroy <env>`: the stacks in reverse (`ops::destroy`), guarded by the
//! environment's removal policy and a typed confirmation.

use std::process::ExitCode;

use crate::Context;
use crate::commands::deploy::print_dry_run;
use crate::environment::{Env, Environment};
use crate::ops::destroy::{self, DestroyOptions};

#[derive(clap::Args)]
#[command(after_help = "Examples:
  cargo xtask destroy dev --yes           dev's removal policy allows it
  cargo xtask destroy staging --force     staging retains data: --force, then type `staging`
  cargo xtask destroy dev --dry-run       the commands, nothing destroyed")]
pub struct Args {
    /// dev, staging or production.
    pub env: Env,
    /// Destroy even though the environment file says `removal_policy_destroy = false`.
    #[arg(long)]
    pub force: bool,
    /// Confirm without the prompt (not for production: it always asks).
    #[arg(long)]
    pub yes: bool,
    /// Print the commands; destroy nothing.
    #[arg(long)]
    pub dry_run: bool,
}

pub fn run(ctx: &Context, args: Args) -> anyhow::Result<ExitCode> {
    let environment = Environment::load_for_terraform(&ctx.project, args.env)?;
    if args.dry_run {
        let lines = destroy::dry_run(ctx, &environment)?;
        print_dry_run(ctx, args.env, &lines);
        return Ok(ExitCode::SUCCESS);
    }
    let options = DestroyOptions {
        force: args.force,
        yes: args.yes,
    };
    destroy::destroy(ctx, &environment, &options)?.finish(ctx)?;
    Ok(ExitCode::SUCCESS)
}
