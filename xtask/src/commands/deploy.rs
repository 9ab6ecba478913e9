//! `cargo xtask deploy <env>`: the phases in order (`ops::deploy`), guarded for production.

use std::process::ExitCode;

use crate::Context;
use crate::environment::{Env, Environment};
use crate::ops::build_agents::Profile;
use crate::ops::deploy::stacks::Phase;
use crate::ops::deploy::{self, DeployOptions, guards, images};

#[derive(clap::Args)]
#[command(after_help = "Examples:
  cargo xtask deploy dev                      every phase, in order
  cargo xtask deploy dev --plan               plan every stack, apply nothing
  cargo xtask deploy dev --dry-run            print every command that would run
  cargo xtask deploy dev --only agents        one phase (earlier phases' outputs are read)
  cargo xtask deploy dev --profile release    dev with release images: what promote takes
  cargo xtask deploy production --yes         needs a clean tree and the digests staging runs

The environment file infra/envs/<env>.tfvars and infra/envs/<env>.backend.hcl are rendered with
their ${PLACEHOLDERS} from the process environment; each stack keeps its state at
<env>/<stack>.tfstate in the environment's state bucket.

dev builds with the `fast` profile by default (no LTO, incremental: seconds after a change);
staging builds `release`, production never builds. Images record their profile, and staging and
production refuse `fast` ones: deploy dev with `--profile release` before `promote dev staging`.")]
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
    /// The cargo profile of the images built (default: `fast` for dev, `release` for staging;
    /// production never builds).
    #[arg(long, value_enum)]
    pub profile: Option<Profile>,
    /// Remove a deploy lock left behind by a run that died, then deploy.
    #[arg(long)]
    pub break_lock: bool,
}

pub fn run(ctx: &Context, args: Args) -> anyhow::Result<ExitCode> {
    let images = images_of(&args)?;
    let environment = Environment::load_for_terraform(&ctx.project, args.env)?;
    if args.dry_run {
        let lines = deploy::dry_run(ctx, &environment, args.only, args.plan, &images)?;
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
        images,
        break_lock: args.break_lock,
        confirmed,
    };
    deploy::deploy(ctx, &environment, &options)?.finish(ctx)?;
    Ok(ExitCode::SUCCESS)
}

/// Where the images phase gets its images. Production never builds: it runs the bytes staging
/// runs (`promote staging production`).
fn images_of(args: &Args) -> anyhow::Result<images::Source> {
    let env = args.env;
    match (env, args.profile) {
        (Env::Production, Some(_)) => {
            bail_help!("production never builds, so `--profile` has no meaning there"; "production runs the bytes staging runs: `cargo xtask promote staging production`")
        }
        (Env::Production, None) => Ok(images::Source::Deployed),
        (_, Some(profile)) if !profile.allowed_in(env) => {
            bail_help!("`--profile {profile}` is for dev only: {env} runs release builds, the bytes production will run"; "drop `--profile {profile}` (staging builds `release`)")
        }
        (_, profile) => Ok(images::Source::Build {
            registry: args.registry.clone(),
            profile: profile.unwrap_or_else(|| Profile::default_for(env)),
        }),
    }
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
