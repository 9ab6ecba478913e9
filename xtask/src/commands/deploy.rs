//! `cargo xtask deploy <env>`: the phases in order (`ops::deploy`), guarded for production.

use std::process::ExitCode;

use crate::Context;
use crate::environment::{Env, Environment};
use crate::ops::deploy::stacks::Phase;
use crate::ops::deploy::{self, DeployOptions, guards, images};

#[derive(clap::Args)]
#[command(after_help = "Examples:
  cargo xtask deploy dev                      every phase, in order
  cargo xtask deploy dev --plan               plan every stack, apply nothing
  cargo xtask deploy dev --dry-run            print every command that would run
  cargo xtask deploy dev --only agents        one phase (earlier phases' outputs are read)
  cargo xtask deploy production --yes         needs a clean tree and the digests staging runs

The environment file infra/envs/<env>.tfvars and infra/envs/<env>.backend.hcl are rendered with
their ${PLACEHOLDERS} from the process environment; each stack keeps its state at
<env>/<stack>.tfstate in the environment's state bucket.")]
pub struct Args {
    /// dev, staging or production.
    pub env: Env,
    /// Run only this phase.
    #[arg(long, value_enum)]
    pub only: Option<Phase>,
    /// Plan every stack; apply nothing.
    #[arg(long)]
    pub plan: bool,
    /// Print what would run (commands, with secrets redacted); change nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Confirm a production deploy without the interactive prompt.
    #[arg(long)]
    pub yes: bool,
    /// Allow plans that destroy resources in production (e.g. removing an agent).
    #[arg(long)]
    pub allow_destroy: bool,
    /// Push to this OCI registry instead of the environment's ECR (HOST[:PORT][/PREFIX]).
    #[arg(long, value_name = "HOST[/PREFIX]")]
    pub registry: Option<String>,
    /// Remove a deploy lock left behind by a run that died, then deploy.
    #[arg(long)]
    pub break_lock: bool,
}

pub fn run(ctx: &Context, args: Args) -> anyhow::Result<ExitCode> {
    let environment = Environment::load_for_terraform(&ctx.project, args.env)?;
    if args.dry_run {
        let lines = deploy::dry_run(
            ctx,
            &environment,
            args.only,
            args.plan,
            args.registry.as_deref(),
        )?;
        print_dry_run(ctx, args.env, &lines);
        return Ok(ExitCode::SUCCESS);
    }
    let confirmed = if args.env == Env::Production && !args.plan {
        Some(guards::production(&environment, args.yes)?)
    } else {
        None
    };
    let options = DeployOptions {
        only: args.only,
        plan_only: args.plan,
        allow_destroy: args.allow_destroy,
        // Production never builds: it runs the bytes staging runs (`promote staging production`).
        images: if args.env == Env::Production {
            images::Source::Deployed
        } else {
            images::Source::Build {
                registry: args.registry,
            }
        },
        break_lock: args.break_lock,
        confirmed,
    };
    deploy::deploy(ctx, &environment, &options)?.finish(ctx)?;
    Ok(ExitCode::SUCCESS)
}

/// A dry run's commands, as text or JSON.
pub fn print_dry_run(ctx: &Context, env: Env, lines: &[String]) {
    if ctx.out.json {
        ctx.out
            .print_json(&serde_json::json!({ "dry_run": true, "env": env, "commands": lines }));
    } else {
        crate::output::print_line(&lines.join("\n"));
    }
}
