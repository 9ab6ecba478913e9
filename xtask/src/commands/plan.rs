//! `cargo xtask plan <env>`: plan every stack, change nothing; exit 0 when nothing would change
//! and 2 when something would — a drift check for CI, like `terraform plan -detailed-exitcode`.
//! (1 is an error; a command line that cannot be parsed is 64.)

use std::process::ExitCode;

use crate::Context;
use crate::environment::{Env, Environment};
use crate::ops::deploy::{self, DeployOptions, images::Source};

#[derive(clap::Args)]
#[command(after_help = "Examples:
  cargo xtask plan dev              exit 0: no drift; 2: something would change; 1: error
  cargo xtask plan production --json

The images are the ones the environment runs now (nothing is built or pushed).
Exit codes: 0 no changes, 1 error, 2 changes, 64 a command line that cannot be parsed.")]
pub struct Args {
    /// dev, staging or production.
    pub env: Env,
}

/// `plan`'s exit code when something would change.
pub const EXIT_CHANGES: u8 = 2;

pub fn run(ctx: &Context, args: Args) -> anyhow::Result<ExitCode> {
    let environment = Environment::load_for_terraform(&ctx.project, args.env)?;
    let options = DeployOptions {
        only: None,
        plan_only: true,
        allow_destroy: false,
        images: Source::Deployed,
        break_lock: false,
        confirmed: None,
    };
    let outcome = deploy::deploy(ctx, &environment, &options)?;
    let changed = outcome.changed();
    outcome.finish(ctx)?;
    Ok(if changed {
        ExitCode::from(EXIT_CHANGES)
    } else {
        ExitCode::SUCCESS
    })
}
