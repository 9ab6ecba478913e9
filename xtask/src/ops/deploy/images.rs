//! The images phase: which image, pinned by digest, each enabled agent runs.

use std::collections::BTreeMap;

use crate::Context;
use crate::environment::{Env, Environment};
use crate::ops::build_agents::Profile;
use crate::ops::deployed::Deployed;
use oci_registry::ImageRef;

pub enum Source {
    /// Build the enabled agents with `profile` and push them (dev, staging); `registry` as
    /// `push --registry`.
    Build {
        registry: Option<String>,
        profile: Profile,
    },
    /// What the environment's agents stack runs now (production; `--only` of a later phase).
    Deployed,
    /// Images copied from another environment by `promote`.
    Given(BTreeMap<String, ImageRef>),
    /// Images the environment itself ran before (`rollback`): each was deployed here already,
    /// past production's guard, so the guard is the environment's own history, not staging.
    Previous(BTreeMap<String, ImageRef>),
}

/// Agent id → image for every agent enabled in the environment. With `plan_only`, built images
/// are not pushed: their digests (what a push would register) are planned with, and the
/// registries are only read.
pub fn resolve(
    ctx: &Context,
    environment: &Environment,
    source: &Source,
    plan_only: bool,
) -> anyhow::Result<BTreeMap<String, ImageRef>> {
    let env = environment.env;
    let agents = environment.agents();
    let images = match source {
        Source::Build { registry, profile } => {
            build_and_push(ctx, environment, registry.clone(), *profile, plan_only)?
        }
        Source::Deployed => Deployed::images(&ctx.project, environment)?,
        Source::Given(images) | Source::Previous(images) => images.clone(),
    };
    let images: BTreeMap<String, ImageRef> = agents
        .iter()
        .map(|a| {
            images
                .get(a.id())
                .map(|image| (a.id().to_string(), image.clone()))
                .ok_or_else(|| missing_image(env, a.id()))
        })
        .collect::<anyhow::Result<_>>()?;
    if env == Env::Production && !matches!(source, Source::Previous(_)) {
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

fn build_and_push(
    ctx: &Context,
    environment: &Environment,
    registry: Option<String>,
    profile: Profile,
    plan_only: bool,
) -> anyhow::Result<BTreeMap<String, ImageRef>> {
    let agents: Vec<blueprint::Agent> = environment.agents().into_iter().cloned().collect();
    if agents.is_empty() {
        return Ok(BTreeMap::new());
    }
    let built = crate::ops::build_agents::build(ctx, &agents, profile, false)?.images;
    if terraform::interrupted() {
        anyhow::bail!("interrupted after the build; run the deploy again to continue");
    }
    let options = crate::ops::push::PushOptions {
        registry,
        dry_run: plan_only,
        ..crate::ops::push::PushOptions::default()
    };
    let layouts: Vec<_> = built
        .iter()
        .map(|b| (b.agent.clone(), b.layout.clone()))
        .collect();
    let pushed = crate::ops::push::push_layouts(ctx, environment, &options, &layouts)?;
    Ok(pushed.into_iter().map(|p| (p.name, p.image)).collect())
}
