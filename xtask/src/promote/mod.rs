//! `cargo xtask promote <from> <to> [AGENT...]`: build once, promote the same bytes.
//!
//! Takes the images `<from>` runs (its agents stack's `agent_images`), copies those exact
//! images into `<to>`'s registry (pull by digest, push only missing blobs), enables
//! `execution_modes.<to>` in each promoted agent's blueprint (keeping the file's comments and
//! layout), and deploys `<to>` with those digests. Nothing is rebuilt.

mod pull;

use std::collections::BTreeMap;
use std::process::ExitCode;

use anyhow::{Context as _, bail};

use crate::Context;
use crate::deploy::images::{Source, deployed};
use crate::deploy::stacks::EnvStacks;
use crate::deploy::{self, guards};
use crate::environment::Env;
use crate::push::target::{self, Credentials};

#[derive(clap::Args)]
#[command(after_help = "Examples:
  cargo xtask promote dev staging                 every agent dev runs
  cargo xtask promote dev staging assistant       one agent
  cargo xtask promote staging production --yes    needs a clean tree

The blueprint edit (execution_modes.<to>: true) is left in the working tree: commit it.")]
pub struct Args {
    /// The environment whose running images are promoted.
    pub from: Env,
    /// The next environment (dev → staging → production).
    pub to: Env,
    /// Agents to promote (default: every agent `from` runs).
    #[arg(value_name = "AGENT")]
    pub agents: Vec<String>,
    /// Copy to (and from) this OCI registry instead of the environments' ECR.
    #[arg(long, value_name = "HOST[/PREFIX]")]
    pub registry: Option<String>,
    /// Confirm a production deploy without the prompt.
    #[arg(long)]
    pub yes: bool,
    /// Allow plans that destroy resources in production.
    #[arg(long)]
    pub allow_destroy: bool,
}

pub fn run(ctx: &Context, args: Args) -> anyhow::Result<ExitCode> {
    let next = Env::ALL
        .iter()
        .position(|e| *e == args.from)
        .and_then(|i| Env::ALL.get(i + 1));
    if next != Some(&args.to) {
        bail!(
            "cannot promote {} to {}: promotion goes one step at a time, \
             dev → staging → production",
            args.from,
            args.to
        );
    }
    if args.to == Env::Production {
        // Before the blueprint edit below, which the user commits afterwards.
        guards::production(ctx, args.yes)?;
    }

    let from_stacks = EnvStacks::prepare(ctx, args.from)?;
    let running = deployed(ctx, &from_stacks, args.from)?;
    let selected: BTreeMap<String, String> = if args.agents.is_empty() {
        running
    } else {
        args.agents
            .iter()
            .map(|id| {
                running
                    .get(id)
                    .map(|uri| (id.clone(), uri.clone()))
                    .with_context(|| {
                        format!(
                            "{} does not run agent `{id}`; it runs: {}",
                            args.from,
                            running.keys().cloned().collect::<Vec<_>>().join(", ")
                        )
                    })
            })
            .collect::<anyhow::Result<_>>()?
    };
    if selected.is_empty() {
        bail_help!("{} runs no agents: nothing to promote", args.from; "`cargo xtask deploy {}` first", args.from);
    }

    let copied = copy_images(ctx, &args, &selected)?;

    let agents = ctx.project.agents()?;
    for id in copied.keys() {
        let agent = blueprint::select(&agents, std::slice::from_ref(id))?.remove(0);
        if blueprint::edit::enable(&agent.blueprint_path(), args.to)? {
            ctx.out.step(format!(
                "{}: execution_modes.{} enabled",
                ctx.project.rel(&agent.blueprint_path()).display(),
                args.to
            ));
        }
    }

    let deploy_args = deploy::Args {
        env: args.to,
        only: None,
        plan: false,
        dry_run: false,
        yes: args.yes,
        allow_destroy: args.allow_destroy,
        registry: args.registry.clone(),
        break_lock: false,
        // Checked above, before the blueprint edit that makes the tree dirty.
        guards_checked: args.to == Env::Production,
    };
    // Agents enabled in `to` but not promoted now keep what `to` runs.
    let to_stacks = EnvStacks::prepare(ctx, args.to)?;
    let mut images = deployed(ctx, &to_stacks, args.to)?;
    images.extend(copied);
    let outcome = deploy::execute(ctx, &deploy_args, Source::Given(images))?;
    outcome.report(ctx, args.to, ExitCode::SUCCESS)
}

/// Copies each image by digest into `to`'s registry; gives agent → new `repo@sha256:…`.
fn copy_images(
    ctx: &Context,
    args: &Args,
    images: &BTreeMap<String, String>,
) -> anyhow::Result<BTreeMap<String, String>> {
    let work = deploy::stacks::work_dir(ctx)
        .join("promote")
        .join(args.to.name());
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let mut pulled = Vec::new();
    for (agent, uri) in images {
        let t = ctx.out.timed(format!("{agent}: pulling {uri}"));
        let dir = work.join(agent);
        let host = uri.split('/').next().unwrap_or_default().to_string();
        let credentials = runtime.block_on(source_credentials(args.from, &host))?;
        let revision = runtime
            .block_on(pull::pull(uri, &credentials, &dir))
            .with_context(|| format!("cannot copy agent `{agent}` from {}", args.from))?;
        t.done();
        pulled.push((agent.clone(), dir, revision));
    }
    drop(runtime);
    let mut pushed = Vec::new();
    for (agent, dir, revision) in pulled {
        let mut push_args = crate::push::Args::after_build(args.to, vec![agent.clone()]);
        push_args.registry = args.registry.clone();
        // Tagged with the commit the bytes were built from, not with what is checked out now.
        push_args.revision = revision;
        pushed.extend(crate::push::push_layouts(ctx, &push_args, &[(agent, dir)])?);
    }
    for p in &pushed {
        let source = &images[&p.agent];
        anyhow::ensure!(
            guards::digest_of(source) == p.digest,
            "agent `{}` changed on the way: {} became {}",
            p.agent,
            guards::digest_of(source),
            p.digest
        );
    }
    Ok(pushed.into_iter().map(|p| (p.agent, p.uri)).collect())
}

async fn source_credentials(from: Env, host: &str) -> anyhow::Result<Credentials> {
    if !target::is_ecr_host(host) {
        return Ok(Credentials::Anonymous);
    }
    let config = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .load()
        .await;
    target::ecr_credentials(&aws_sdk_ecr::Client::new(&config), host)
        .await
        .with_context(|| format!("cannot read {from}'s images"))
}
