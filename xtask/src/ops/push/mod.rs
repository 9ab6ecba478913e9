//! The operation behind `cargo xtask push` (flags in `crate::commands::push`), and the images
//! phase of `deploy`, `build-agents --push` and `promote`: the images `build-agents` wrote to
//! `target/oci/<id>/` go to the environment's ECR (or any OCI registry with `--registry`), pinned by digest.
//!
//! Contracts kept here (see ARCHITECTURE.md):
//! - input: one standard OCI image layout per agent at `target/oci/<agent-id>/`;
//! - destination: the repository URL the platform phase records at
//!   `<ssm_root_path>/ecr/<agent-id>/repository_url`, i.e. `<project_name>/<env>/<agent-id>`;
//! - output: `<ssm_root_path>/images/<agent-id>/digest` and `.../uri` (`<repository_url>@sha256:…`),
//!   and `.../sbom`, the digest of the image's SBOM artifact in the same repository.

mod record;
pub mod target;

use std::path::PathBuf;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde::Serialize;

use crate::Context;
use crate::environment::{Env, Environment};
use crate::error::HelpExt as _;
use crate::ops::build_agents::profile::{self, Profile};
use crate::revision;
use oci_registry::{Pushed, Registry};
use target::{Credentials, Destination};

/// How to push, whoever asks: `push`, `build-agents --push`, the images phase of `deploy`,
/// `promote`.
#[derive(Debug, Clone)]
pub struct PushOptions {
    /// Any OCI registry (`HOST[:PORT][/PREFIX]`) instead of the environment's ECR.
    pub registry: Option<String>,
    /// The revision to tag with, when it is not the checkout's (promotion: the commit the
    /// bytes were built from; CodeBuild: `XTASK_SOURCE_REVISION`).
    pub revision: Option<String>,
    pub dry_run: bool,
    pub jobs: usize,
}

impl Default for PushOptions {
    fn default() -> PushOptions {
        PushOptions {
            registry: None,
            revision: None,
            dry_run: false,
            jobs: 4,
        }
    }
}

/// What a push of several agents did: each image pushed, each agent that failed.
#[derive(Serialize)]
pub struct Report {
    pub ok: bool,
    pub env: Env,
    pub dry_run: bool,
    pub images: Vec<Pushed>,
    pub errors: Vec<AgentError>,
}

#[derive(Serialize)]
pub struct AgentError {
    pub agent: String,
    pub error: String,
    pub help: Vec<String>,
}

impl AgentError {
    fn new(agent: &str, err: &anyhow::Error) -> AgentError {
        AgentError {
            agent: agent.to_string(),
            error: crate::error::chain(err),
            help: crate::error::helps(err),
        }
    }
}

/// Pushes the image layouts given as (agent id, layout dir); fails naming every agent whose
/// push failed. `promote` uses it for images it pulled from the previous environment.
pub fn push_layouts(
    ctx: &Context,
    environment: &Environment,
    options: &PushOptions,
    layouts: &[(String, PathBuf)],
) -> anyhow::Result<Vec<Pushed>> {
    let report = push_report(ctx, environment, options, layouts)?;
    if !report.ok {
        let errors: Vec<String> = report.errors.iter().map(|e| e.error.clone()).collect();
        let mut helps: Vec<String> = report.errors.iter().flat_map(|e| e.help.clone()).collect();
        helps.dedup();
        let err = anyhow::anyhow!("{}", errors.join("\n"));
        return Err(helps.into_iter().rev().fold(err, crate::error::with_help));
    }
    Ok(report.images)
}

/// Pushes the image layouts given as (agent id, layout dir), each agent's failure reported
/// apart, so one bad agent does not hide what happened to the others.
pub fn push_report(
    ctx: &Context,
    environment: &Environment,
    options: &PushOptions,
    layouts: &[(String, PathBuf)],
) -> anyhow::Result<Report> {
    let tag = tag_for(ctx, environment, options)?;
    let images = layouts
        .iter()
        .map(|(id, dir)| {
            oci_image::read::read(dir, &format!("agent `{id}`"))
                .help("build the image (again) with `cargo xtask build-agents`")
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    // Every way into staging and production (push, deploy, promote) comes through here.
    let profiles: Vec<(String, Option<Profile>)> = layouts
        .iter()
        .zip(&images)
        .map(|((id, _), image)| (id.clone(), Profile::of_image(image)))
        .collect();
    profile::refuse_outside_dev(environment.env, &profiles)?;
    let ids: Vec<String> = layouts.iter().map(|(id, _)| id.clone()).collect();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    runtime.block_on(push_all(
        ctx,
        environment,
        options,
        &ids,
        &images,
        tag.as_deref(),
    ))
}

fn tag_for(
    ctx: &Context,
    environment: &Environment,
    options: &PushOptions,
) -> anyhow::Result<Option<String>> {
    let env = environment.env;
    if let Some(tag) = options.revision.as_deref() {
        revision::check_tag(env, tag)?;
        return Ok(Some(tag.to_string()));
    }
    match &environment.revision {
        Some(rev) => {
            // A dry run (`deploy --plan`) pushes nothing: it only says what a push would do.
            if !options.dry_run {
                revision::require_clean(env, rev, "push")?;
            }
            Ok(Some(rev.tag()))
        }
        None if env == Env::Dev => {
            ctx.out
                .note("not a git checkout: pushing by digest only, without a revision tag");
            Ok(None)
        }
        None => {
            bail_help!("cannot tell which git revision the images of {env} are built from (not a git checkout)"; "run from a git checkout, or pass --revision <commit> (XTASK_SOURCE_REVISION)")
        }
    }
}

async fn push_all(
    ctx: &Context,
    environment: &Environment,
    args: &PushOptions,
    ids: &[String],
    images: &[oci_image::Image],
    tag: Option<&str>,
) -> anyhow::Result<Report> {
    // AWS is needed only for ECR: `--registry` to a plain registry works without credentials.
    let needs_aws = args
        .registry
        .as_deref()
        .is_none_or(|r| target::is_ecr_host(r.split('/').next().unwrap_or(r)));
    let settings = &environment.settings;
    let aws = if needs_aws {
        Some(environment.aws().await)
    } else {
        None
    };
    let ssm = aws.map(aws_sdk_ssm::Client::new);
    let destinations = match (&args.registry, &ssm) {
        (Some(flag), _) => target::from_flag(flag, settings, ids)?,
        (None, Some(ssm)) => target::from_ssm(ssm, settings, ids).await?,
        (None, None) => unreachable!("AWS is configured whenever --registry is absent"),
    };
    let mut hosts: Vec<&str> = destinations.iter().map(|d| d.host.as_str()).collect();
    hosts.sort();
    hosts.dedup();
    let mut credentials = std::collections::HashMap::new();
    for host in &hosts {
        let creds = match &aws {
            Some(aws) if args.registry.is_none() || target::is_ecr_host(host) => {
                let c = target::ecr_credentials(&aws_sdk_ecr::Client::new(aws), host).await?;
                ctx.out
                    .verbose(format!("ECR credentials for {host}: obtained (not shown)"));
                c
            }
            _ => Credentials::Anonymous,
        };
        credentials.insert(host.to_string(), creds);
    }
    let registry = Registry::new(&hosts, oci_registry::retry::DEFAULT)?;

    let bars = MultiProgress::with_draw_target(if ctx.out.json {
        ProgressDrawTarget::hidden()
    } else {
        ProgressDrawTarget::stderr()
    });
    let style = ProgressStyle::with_template(
        "{prefix:>20.bold} [{bar:30}] {bytes:>10}/{total_bytes:<10} {binary_bytes_per_sec:>12} {msg}",
    )?
    .progress_chars("=> ");
    let width = ids.iter().map(String::len).max().unwrap_or(0);
    ctx.out.step(format!(
        "pushing {} image(s) to {}{}",
        images.len(),
        if args.registry.is_some() {
            "registry "
        } else {
            "ECR of "
        },
        args.registry.as_deref().unwrap_or(settings.env.name())
    ));
    for d in &destinations {
        ctx.out
            .verbose(format!("{:width$}  -> {}", d.name, d.url()));
    }

    let jobs = args.jobs.max(1); // `buffered(0)` would never start a push
    let work = destinations.iter().zip(images).map(|(dest, image)| {
        let bar = bars.add(
            ProgressBar::new(0)
                .with_style(style.clone())
                .with_prefix(dest.name.clone()),
        );
        let creds = &credentials[&dest.host];
        let registry = &registry;
        async move {
            let result = registry
                .push(image, dest, creds, tag, &bar, args.dry_run)
                .await;
            if result.is_err() {
                bar.abandon_with_message("failed");
            }
            (dest, result)
        }
    });
    let results: Vec<(&Destination, anyhow::Result<Pushed>)> = futures_util::StreamExt::collect(
        futures_util::StreamExt::buffered(futures_util::stream::iter(work), jobs),
    )
    .await;

    let mut report = Report {
        ok: true,
        env: settings.env,
        dry_run: args.dry_run,
        images: Vec::new(),
        errors: Vec::new(),
    };
    for (dest, result) in results {
        match result {
            Ok(pushed) => {
                let recorded = match (&ssm, args.registry.is_none() && !args.dry_run) {
                    (Some(ssm), true) => record::write(ssm, settings, &pushed).await,
                    _ => Ok(()),
                };
                match recorded {
                    Ok(()) => report.images.push(pushed),
                    Err(err) => report.errors.push(AgentError::new(&dest.name, &err)),
                }
            }
            Err(err) => report.errors.push(AgentError::new(&dest.name, &err)),
        }
    }
    report.ok = report.errors.is_empty();
    Ok(report)
}
