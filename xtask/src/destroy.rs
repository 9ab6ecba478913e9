//! `cargo xtask destroy <env>`: the phases in reverse — workflows, agents, platform.
//!
//! Refused where the environment retains its data (`removal_policy_destroy = false`) unless
//! forced; production always asks for its name to be typed, whatever the flags.

use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context as _, bail};

use crate::Context;
use crate::deploy::stacks::{EnvStacks, Outputs, Phase};
use crate::deploy::{Outcome, PhaseRun, guards, lock};
use crate::environment::Env;
use terraform::Planned;

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
    let env = args.env;
    let stacks = EnvStacks::prepare(ctx, env)?;
    let order = [Phase::Workflows, Phase::Agents, Phase::Platform];
    if args.dry_run {
        for phase in order {
            if let Some(stack) = stacks.stack(phase) {
                println!("{}", stack.show(&stack.init_args()));
                println!("{}", stack.show(&stack.plan_args(true)));
                println!("{}", stack.show(&stack.apply_args()));
            }
        }
        return Ok(ExitCode::SUCCESS);
    }
    if stacks.flag("removal_policy_destroy") != Some(true) && !args.force {
        bail_help!("refusing to destroy {env}: infra/envs/{env}.tfvars sets removal_policy_destroy = false \
             (its data is retained)"; "pass --force if you really mean to destroy it");
    }
    guards::confirm(env, args.yes && env != Env::Production, "destroy")?;
    terraform::catch_interrupts();

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let backend = &stacks.backend;
    let held = runtime.block_on(lock::DeployLock::acquire(
        backend,
        env,
        &format!("cargo xtask destroy {env}"),
    ))?;
    let mut timeline = Vec::new();
    let mut result = destroy_all(ctx, &stacks, &order, &mut timeline);
    if let Err(err) = runtime.block_on(held.release())
        && result.is_ok()
    {
        result = Err(err);
    }
    Outcome {
        timeline,
        agent_images: Default::default(),
        result,
    }
    .report(ctx, env, ExitCode::SUCCESS)
}

fn destroy_all(
    ctx: &Context,
    stacks: &EnvStacks,
    order: &[Phase],
    timeline: &mut Vec<PhaseRun>,
) -> anyhow::Result<()> {
    // Destroy plans still evaluate every variable: give each stack what the others output.
    let mut outputs = Outputs::new();
    for phase in order.iter().rev() {
        if let Some(stack) = stacks.stack(*phase) {
            stack.init(&ctx.out)?;
            outputs.extend(stack.outputs()?);
        }
    }
    outputs
        .entry("agent_images".into())
        .or_insert_with(|| serde_json::json!({}));
    for phase in order {
        let Some(stack) = stacks.stack(*phase) else {
            continue;
        };
        if terraform::interrupted() {
            bail!("interrupted before destroying `{}`", phase.name());
        }
        let start = Instant::now();
        stack.write_inputs(&outputs)?;
        let planned = stack
            .plan(&ctx.out, true)
            .with_context(|| format!("destroying `{}` failed at plan", phase.name()))?;
        let (result, plan) = match planned {
            Planned::NoChanges => ("nothing to destroy".to_string(), None),
            Planned::Changes(summary) => {
                ctx.out
                    .step(format!("{} / {}: {summary}", stacks.env, phase.name()));
                stack
                    .apply(&ctx.out)
                    .with_context(|| format!("destroying `{}` failed", phase.name()))?;
                ("destroyed".to_string(), Some(summary))
            }
        };
        timeline.push(PhaseRun {
            phase: *phase,
            result,
            plan,
            applied: true,
            seconds: start.elapsed().as_secs_f64(),
        });
    }
    Ok(())
}
