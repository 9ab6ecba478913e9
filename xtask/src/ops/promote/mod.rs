//! Promotion: build once, promote the same bytes.
//!
//! Takes the images `<from>` runs (its agents stack's `agent_images`), copies those exact
//! images into `<to>`'s registry (pull by digest, push only missing blobs), enables
//! `execution_modes.<to>` in each promoted agent's blueprint (keeping the file's comments and
//! layout), and deploys `<to>` with those digests. Nothing is rebuilt.

use std::collections::BTreeMap;

use anyhow::{Context as _, bail};

use crate::Context;
use crate::environment::{Env, Environment};
use crate::ops::build_agents::profile::{self, Profile};
use crate::ops::deploy::images::Source;
use crate::ops::deploy::{self, DeployOptions, Outcome, guards};
use crate::ops::deployed::Deployed;
use crate::ops::push::PushOptions;
use crate::ops::push::target;
use crate::ops::smoke;
use oci_registry::ImageRef;

/// What a promotion is asked to do.
pub struct PromoteOptions {
    pub from: Env,
    pub to: Env,
    /// Agents to promote (empty: every agent `from` runs).
    pub agents: Vec<String>,
    /// Copy to (and from) this OCI registry instead of the environments' ECR.
    pub registry: Option<String>,
    /// Confirmed without the prompt (production).
    pub yes: bool,
    pub allow_destroy: bool,
}

pub fn promote(ctx: &Context, options: &PromoteOptions) -> anyhow::Result<Outcome> {
    let (from, to) = (options.from, options.to);
    if to.previous() != Some(from) {
        bail!(
            "cannot promote {from} to {to}: promotion goes one step at a time, \
             dev → staging → production"
        );
    }
    // Both environments are prepared before anything changes: a missing variable of `to` must
    // not be found after the images were copied and the blueprints edited.
    let from_env = Environment::load_for_terraform(&ctx.project, from)?;
    let mut to_env = Environment::load_for_terraform(&ctx.project, to)?;
    // Before the blueprint edit below, which makes the tree dirty until it is committed.
    let confirmed = if to == Env::Production {
        Some(guards::production(&to_env, options.yes)?)
    } else {
        None
    };

    let running = Deployed::images(&ctx.project, &from_env)?;
    let selected: BTreeMap<String, ImageRef> = if options.agents.is_empty() {
        running
    } else {
        options
            .agents
            .iter()
            .map(|id| {
                running
                    .get(id)
                    .map(|image| (id.clone(), image.clone()))
                    .with_context(|| {
                        format!(
                            "{from} does not run agent `{id}`; it runs: {}",
                            running.keys().cloned().collect::<Vec<_>>().join(", ")
                        )
                    })
            })
            .collect::<anyhow::Result<_>>()?
    };
    if selected.is_empty() {
        bail_help!("{from} runs no agents: nothing to promote"; "`cargo xtask deploy {from}` first");
    }

    if to == Env::Production {
        let runtime = crate::async_runtime()?;
        let refused = runtime.block_on(smoke::unproven_in_staging(&from_env, &selected))?;
        if !refused.is_empty() {
            bail_help!(
                "refusing to promote to production: smoke checks did not pass in staging for\n  {}",
                refused.join("\n  ");
                "production takes only digests whose checks passed in staging: fix the agent and \
                 deploy staging, or run the checks again (`cargo xtask deploy staging --only smoke`)"
            );
        }
    }
    let copied = copy_images(ctx, &to_env, options, &selected)?;

    let mut edited = Vec::new();
    for id in copied.keys() {
        let agent = blueprint::select(&to_env.all_agents, std::slice::from_ref(id))?.remove(0);
        if blueprint::edit::enable(&agent.blueprint_path(), to)? {
            let file = ctx
                .project
                .rel(&agent.blueprint_path())
                .display()
                .to_string();
            ctx.out
                .step(format!("{file}: execution_modes.{to} enabled"));
            edited.push(file);
        }
    }
    // The edits change which agents `to` runs.
    to_env.all_agents = ctx.project.agents()?;

    // Agents enabled in `to` but not promoted now keep what `to` runs.
    let mut images = Deployed::images(&ctx.project, &to_env)?;
    images.extend(copied);
    let deploy_options = DeployOptions {
        only: None,
        plan_only: false,
        allow_destroy: options.allow_destroy,
        images: Source::Given(images),
        break_lock: false,
        confirmed,
    };
    let mut outcome = deploy::deploy(ctx, &to_env, &deploy_options)?;
    if !edited.is_empty() {
        let note = format!(
            "promote enabled {to} in {}: commit {}",
            edited.join(", "),
            if edited.len() == 1 { "it" } else { "them" }
        );
        match &mut outcome.result {
            Ok(()) => ctx.out.note(note),
            Err(err) => {
                let e = std::mem::replace(err, anyhow::anyhow!("replaced"));
                *err = crate::error::with_help(e, format!("{note}, or run the same promote again"));
            }
        }
    }
    Ok(outcome)
}

/// Copies each image by digest into `to`'s registry; gives agent → the image there.
fn copy_images(
    ctx: &Context,
    to_env: &Environment,
    options: &PromoteOptions,
    images: &BTreeMap<String, ImageRef>,
) -> anyhow::Result<BTreeMap<String, ImageRef>> {
    let work = ctx
        .project
        .work_dir()
        .join("promote")
        .join(options.to.name());
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let mut pulled = Vec::new();
    for (agent, image) in images {
        let t = ctx.out.timed(format!("{agent}: pulling {image}"));
        let dir = work.join(agent);
        let credentials = runtime
            .block_on(target::pull_credentials(image.host()))
            .with_context(|| format!("cannot read {}'s images", options.from))?;
        let revision = runtime
            .block_on(oci_registry::pull(image, &credentials, &dir))
            .with_context(|| format!("cannot copy agent `{agent}` from {}", options.from))?;
        t.done();
        pulled.push((agent.clone(), dir, revision));
    }
    drop(runtime);
    // All refused before any is copied (push refuses each too, but one agent at a time).
    let profiles = pulled
        .iter()
        .map(|(agent, dir, _)| {
            let image = oci_image::read::read(dir, &format!("agent `{agent}`"))?;
            Ok((agent.clone(), Profile::of_image(&image)))
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    profile::refuse_outside_dev(options.to, &profiles)?;
    let mut pushed = Vec::new();
    for (agent, dir, revision) in pulled {
        let push_options = PushOptions {
            registry: options.registry.clone(),
            // Tagged with the commit the bytes were built from, not with what is checked out.
            revision,
            ..PushOptions::default()
        };
        pushed.extend(crate::ops::push::push_layouts(
            ctx,
            to_env,
            &push_options,
            &[(agent, dir)],
        )?);
    }
    for p in &pushed {
        let source = &images[&p.name];
        anyhow::ensure!(
            source.digest == p.image.digest,
            "agent `{}` changed on the way: {} became {}",
            p.name,
            source.digest,
            p.image.digest
        );
    }
    Ok(pushed.into_iter().map(|p| (p.name, p.image)).collect())
}
