//! The images phase: which image, pinned by digest, each enabled agent runs.

use std::collections::BTreeMap;

use anyhow::Context as _;

use super::stacks::{EnvStacks, Phase};
use crate::Context;
use crate::environment::Env;
use blueprint::{self, Agent};

pub enum Source {
    /// Build the enabled agents and push them (dev, staging).
    Build { registry: Option<String> },
    /// What the environment's agents stack runs now (production; `--only` of a later phase).
    Deployed,
    /// Images copied from another environment by `promote`.
    Given(BTreeMap<String, String>),
}

/// Agent id → `repository@sha256:…` for every agent enabled in `env`.
pub fn resolve(
    ctx: &Context,
    env: Env,
    stacks: &EnvStacks,
    source: &Source,
) -> anyhow::Result<BTreeMap<String, String>> {
    let agents = enabled_agents(ctx, env)?;
    let images = match source {
        Source::Build { registry } => build_and_push(ctx, env, &agents, registry.clone())?,
        Source::Deployed => deployed(ctx, stacks, env)?,
        Source::Given(images) => images.clone(),
    };
    let images: BTreeMap<String, String> = agents
        .iter()
        .map(|a| {
            images
                .get(a.id())
                .map(|uri| (a.id().to_string(), uri.clone()))
                .ok_or_else(|| missing_image(env, a.id()))
        })
        .collect::<anyhow::Result<_>>()?;
    for uri in images.values() {
        anyhow::ensure!(
            uri.contains("@sha256:"),
            "image `{uri}` is not pinned by digest: deployments never use a mutable tag"
        );
    }
    if env == Env::Production {
        super::guards::same_as_staging(ctx, &images)?;
    }
    Ok(images)
}

fn missing_image(env: Env, id: &str) -> anyhow::Error {
    match env {
        Env::Production => helped!(
            "agent `{id}` has no image in production yet";
            "promote what staging runs: `cargo xtask promote staging production`"
        ),
        _ => helped!(
            "agent `{id}` has no image in {env} yet";
            "run the images phase: `cargo xtask deploy {env}` (without --only)"
        ),
    }
}

/// The agents whose blueprint enables them in `env`: no other agent is ever deployed there.
pub fn enabled_agents(ctx: &Context, env: Env) -> anyhow::Result<Vec<Agent>> {
    Ok(ctx
        .project
        .agents()?
        .into_iter()
        .filter(|a| a.blueprint.execution_modes.enabled(env))
        .collect())
}

fn build_and_push(
    ctx: &Context,
    env: Env,
    agents: &[Agent],
    registry: Option<String>,
) -> anyhow::Result<BTreeMap<String, String>> {
    if agents.is_empty() {
        return Ok(BTreeMap::new());
    }
    crate::build_agents::build(ctx, agents, false)?;
    let mut args =
        crate::push::Args::after_build(env, agents.iter().map(|a| a.id().to_string()).collect());
    args.registry = registry;
    let pushed = crate::push::push_images(ctx, &args)?;
    Ok(pushed.into_iter().map(|p| (p.agent, p.uri)).collect())
}

/// What the environment's agents stack was last applied with (its `agent_images` output).
pub fn deployed(
    ctx: &Context,
    stacks: &EnvStacks,
    env: Env,
) -> anyhow::Result<BTreeMap<String, String>> {
    let stack = stacks
        .stack(Phase::Agents)
        .context("the environment has no agents stack")?;
    stack.init(&ctx.out)?;
    let outputs = stack.outputs()?;
    match outputs.get("agent_images") {
        Some(value) => serde_json::from_value(value.clone())
            .context("the agents stack's `agent_images` output is not a map of strings"),
        None if outputs.is_empty() => Ok(BTreeMap::new()),
        None => {
            bail_help!("the agents stack of {env} has no `agent_images` output"; "it must output the \
             images it runs (see infra/stacks/agents/outputs.tf)")
        }
    }
}
