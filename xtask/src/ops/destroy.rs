//! Destroying an environment: the phases in reverse — workflows, agents, platform.
//!
//! Refused where the environment retains its data (`removal_policy_destroy = false`) unless
//! forced; production always asks for its name to be typed, whatever the flags.

use std::time::Instant;

use anyhow::{Context as _, bail};

use crate::Context;
use crate::environment::{Env, Environment};
use crate::ops::deploy::stacks::{EnvStacks, Outputs, Phase};
use crate::ops::deploy::{Outcome, PhaseRun, guards, lock};
use terraform::Planned;

/// What a destroy is allowed to do.
pub struct DestroyOptions {
    /// Destroy even though the environment file retains its data.
    pub force: bool,
    /// Confirmed without the prompt (never for production: it always asks).
    pub yes: bool,
}

/// The stacks, in the order they are destroyed.
const ORDER: [Phase; 3] = [Phase::Workflows, Phase::Agents, Phase::Platform];

/// The commands a destroy would run.
pub fn dry_run(ctx: &Context, environment: &Environment) -> anyhow::Result<Vec<String>> {
    let stacks = EnvStacks::new(&ctx.project, environment)?;
    let mut lines = Vec::new();
    for phase in ORDER {
        if let Some(stack) = stacks.stack(phase) {
            lines.push(stack.show(&stack.init_args()));
            lines.push(stack.show(&stack.plan_args(true, true)));
            lines.push(stack.show(&stack.apply_args()));
        }
    }
    Ok(lines)
}

pub fn destroy(
    ctx: &Context,
    environment: &Environment,
    options: &DestroyOptions,
) -> anyhow::Result<Outcome> {
    let env = environment.env;
    let stacks = EnvStacks::new(&ctx.project, environment)?;
    if environment.flag("removal_policy_destroy") != Some(true) && !options.force {
        bail_help!("refusing to destroy {env}: infra/envs/{env}.tfvars sets removal_policy_destroy = false \
             (its data is retained)"; "pass --force if you really mean to destroy it");
    }
    // Production's destruction is always typed, never a flag.
    guards::confirm(env, options.yes, env != Env::Production, "destroy")?;
    terraform::catch_interrupts();

    let runtime = crate::async_runtime()?;
    let backend = &environment.terraform()?.backend;
    let held = runtime.block_on(lock::DeployLock::acquire(
        backend,
        env,
        &format!("cargo xtask destroy {env}"),
    ))?;
    let mut timeline = Vec::new();
    let result = held.release_after(&runtime, destroy_all(ctx, &stacks, &ORDER, &mut timeline));
    Ok(Outcome {
        ok: result.is_ok(),
        env,
        timeline,
        agent_images: Default::default(),
        result,
    })
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
            .plan(&ctx.out, true, true)
            .map_err(|e| crate::ops::deploy::lock_help(e, stacks.env))
            .with_context(|| format!("destroying `{}` failed at plan", phase.name()))?;
        let (result, plan) = match planned {
            Planned::NoChanges => ("nothing to destroy".to_string(), None),
            Planned::Changes(summary) => {
                ctx.out
                    .step(format!("{} / {}: {summary}", stacks.env, phase.name()));
                stack
                    .apply(&ctx.out)
                    .map_err(|e| crate::ops::deploy::lock_help(e, stacks.env))
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
