//! `cargo xtask plan <env>`: plan every stack, change nothing; exit 0 when nothing would change
//! and 2 when something would — a drift check for CI, like `terraform plan -detailed-exitcode`.

use std::process::ExitCode;

use crate::Context;
use crate::deploy::{self, images::Source};
use crate::environment::Env;

#[derive(clap::Args)]
#[command(after_help = "Examples:
  cargo xtask plan dev              exit 0: no drift; exit 2: something would change; 1: error
  cargo xtask plan production --json

The images are the ones the environment runs now (nothing is built or pushed).")]
pub struct Args {
    /// dev, staging or production.
    pub env: Env,
}

pub fn run(ctx: &Context, args: Args) -> anyhow::Result<ExitCode> {
    let deploy_args = deploy::Args {
        env: args.env,
        only: None,
        plan: true,
        dry_run: false,
        yes: false,
        allow_destroy: false,
        registry: None,
        break_lock: false,
        guards_checked: false,
    };
    let outcome = deploy::execute(ctx, &deploy_args, Source::Deployed)?;
    let code = if outcome.changed() {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    };
    outcome.report(ctx, args.env, code)
}
