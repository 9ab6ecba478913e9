//! `cargo xtask push <env> [AGENT...]`: the images `build-agents` wrote to `target/oci/<id>/`
//! go to the environment's ECR (or any OCI registry with `--registry`), pinned by digest.
//!
//! Contracts kept here (see ARCHITECTURE.md):
//! - input: one standard OCI image layout per agent at `target/oci/<agent-id>/`;
//! - destination: the repository URL the platform phase records at
//!   `<ssm_root_path>/ecr/<agent-id>/repository_url`, i.e. `<project_name>/<env>/<agent-id>`;
//! - output: `<ssm_root_path>/images/<agent-id>/digest` and `.../uri` (`<repository_url>@sha256:…`),
//!   and `.../sbom`, the digest of the image's SBOM artifact in the same repository.

pub mod layout;
mod record;
pub mod retry;
pub mod revision;
pub mod settings;
pub mod target;
pub mod upload;

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::bail;
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde::Serialize;

use crate::Context;
use crate::blueprint::{self, Agent};
use crate::environment::Env;
use settings::EnvSettings;
use target::{Credentials, Destination};
use upload::{Pushed, Registry};

#[derive(clap::Args)]
#[command(after_help = "Examples:
  cargo xtask push dev                      every agent enabled in dev, to dev's ECR
  cargo xtask push staging assistant        one agent (needs a clean git tree)
  cargo xtask push dev --dry-run            which blobs each registry lacks; uploads nothing
  cargo xtask push dev --registry 127.0.0.1:5000/agentcore
                                            any OCI registry; repositories PREFIX/<env>/<agent-id>

The repositories come from SSM (<ssm_root_path>/ecr/<agent-id>/repository_url, written by the
platform phase); credentials from ECR's GetAuthorizationToken through the usual AWS chain. Each
pushed digest is recorded at <ssm_root_path>/images/<agent-id>/{digest,uri}, and the digest of
the image's SBOM (pushed with it, its subject being the image) at .../sbom.")]
pub struct Args {
    /// The environment whose registry receives the images: dev, staging or production.
    pub env: Env,

    /// Agents to push (default: every agent enabled in ENV).
    #[arg(value_name = "AGENT")]
    pub agents: Vec<String>,

    /// Push to this OCI registry instead of the environment's ECR; records nothing in SSM.
    #[arg(long, value_name = "HOST[:PORT][/PREFIX]")]
    pub registry: Option<String>,

    /// Tag with this revision instead of asking git (a CodeBuild source archive has no .git).
    #[arg(long, value_name = "REV", env = "XTASK_SOURCE_REVISION")]
    pub revision: Option<String>,

    /// Say which blobs each registry lacks; upload and record nothing.
    #[arg(long)]
    pub dry_run: bool,

    /// How many agents to push at the same time.
    #[arg(long, value_name = "N", default_value_t = 4)]
    pub jobs: usize,
}

impl Args {
    /// What `build-agents --push <env>` runs after a build.
    pub fn after_build(env: Env, agents: Vec<String>) -> Args {
        Args {
            env,
            agents,
            registry: None,
            revision: std::env::var("XTASK_SOURCE_REVISION")
                .ok()
                .filter(|r| !r.is_empty()),
            dry_run: false,
            jobs: 4,
        }
    }
}

#[derive(Serialize)]
struct Report {
    ok: bool,
    env: Env,
    dry_run: bool,
    images: Vec<Pushed>,
    errors: Vec<AgentError>,
}

#[derive(Serialize)]
struct AgentError {
    agent: String,
    error: String,
}

pub fn run(ctx: &Context, args: Args) -> anyhow::Result<ExitCode> {
    let layouts = layouts_for(ctx, args.env, &args.agents)?;
    let report = push_report(ctx, &args, &layouts)?;
    if ctx.out.json {
        ctx.out.print_json(&report);
    } else {
        print_summary(&report);
    }
    Ok(if report.ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// Pushes the images `build-agents` wrote for `args.agents` (default: every agent enabled in
/// the environment); what `deploy` runs in its images phase.
pub fn push_images(ctx: &Context, args: &Args) -> anyhow::Result<Vec<Pushed>> {
    let layouts = layouts_for(ctx, args.env, &args.agents)?;
    push_layouts(ctx, args, &layouts)
}

/// Pushes the image layouts given as (agent id, layout dir); fails naming every agent whose
/// push failed. `promote` uses it for images it pulled from the previous environment.
pub fn push_layouts(
    ctx: &Context,
    args: &Args,
    layouts: &[(String, PathBuf)],
) -> anyhow::Result<Vec<Pushed>> {
    let report = push_report(ctx, args, layouts)?;
    if !report.ok {
        let errors: Vec<String> = report.errors.iter().map(|e| e.error.clone()).collect();
        anyhow::bail!("{}", errors.join("\n"));
    }
    Ok(report.images)
}

fn push_report(
    ctx: &Context,
    args: &Args,
    layouts: &[(String, PathBuf)],
) -> anyhow::Result<Report> {
    let settings = EnvSettings::load(&ctx.project, args.env)?;
    let tag = tag_for(ctx, args.env, args.revision.as_deref())?;
    let images = layouts
        .iter()
        .map(|(id, dir)| layout::read(dir, &format!("agent `{id}`")))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let ids: Vec<String> = layouts.iter().map(|(id, _)| id.clone()).collect();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    runtime.block_on(push_all(
        ctx,
        args,
        &settings,
        &ids,
        &images,
        tag.as_deref(),
    ))
}

/// The agents' image layouts (`target/oci/<id>/`, written by `build-agents`).
fn layouts_for(
    ctx: &Context,
    env: Env,
    named: &[String],
) -> anyhow::Result<Vec<(String, PathBuf)>> {
    Ok(agents_for(ctx, env, named)?
        .iter()
        .map(|a| {
            (
                a.id().to_string(),
                crate::build_agents::layout_dir(&ctx.project, a.id()),
            )
        })
        .collect())
}

/// The agents named (each must be enabled in `env`), or every agent enabled in `env`.
fn agents_for(ctx: &Context, env: Env, named: &[String]) -> anyhow::Result<Vec<Agent>> {
    let all = blueprint::load_valid(&ctx.project)?;
    let selected = blueprint::select(&all, named)?;
    if !named.is_empty() {
        if let Some(off) = selected
            .iter()
            .find(|a| !a.blueprint.execution_modes.enabled(env))
        {
            bail!(
                "agent `{}` is not enabled for {env}\n  help: set `execution_modes.{env}: true` in {}",
                off.id(),
                ctx.project.rel(&off.blueprint_path()).display()
            );
        }
        return Ok(selected);
    }
    let enabled: Vec<Agent> = selected
        .into_iter()
        .filter(|a| a.blueprint.execution_modes.enabled(env))
        .collect();
    if enabled.is_empty() {
        bail!(
            "no agent is enabled for {env}\n  help: set `execution_modes.{env}: true` in an agent's \
             blueprint.yaml (`cargo xtask check` shows where each agent runs)"
        );
    }
    Ok(enabled)
}

fn tag_for(ctx: &Context, env: Env, given: Option<&str>) -> anyhow::Result<Option<String>> {
    if let Some(tag) = given {
        revision::check_tag(env, tag)?;
        return Ok(Some(tag.to_string()));
    }
    match revision::current(&ctx.project) {
        Some(rev) => {
            revision::require_clean(env, &rev, "push")?;
            Ok(Some(rev.tag()))
        }
        None if env == Env::Dev => {
            ctx.out
                .step("not a git checkout: pushing by digest only, without a revision tag");
            Ok(None)
        }
        None => bail!(
            "cannot tell which git revision the images of {env} are built from (not a git checkout)\n  \
             help: run from a git checkout, or pass --revision <commit> (XTASK_SOURCE_REVISION)"
        ),
    }
}

async fn push_all(
    ctx: &Context,
    args: &Args,
    settings: &EnvSettings,
    ids: &[String],
    images: &[layout::Image],
    tag: Option<&str>,
) -> anyhow::Result<Report> {
    // AWS is needed only for ECR: `--registry` to a plain registry works without credentials.
    let needs_aws = args
        .registry
        .as_deref()
        .is_none_or(|r| target::is_ecr_host(r.split('/').next().unwrap_or(r)));
    let aws = if needs_aws {
        Some(settings.aws_config().await)
    } else {
        None
    };
    let ssm = aws.as_ref().map(aws_sdk_ssm::Client::new);
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
    let registry = Registry::new(&hosts, retry::DEFAULT)?;

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
            .verbose(format!("{:width$}  -> {}", d.agent, d.url()));
    }

    let jobs = args.jobs.max(1);
    let work = destinations.iter().zip(images).map(|(dest, image)| {
        let bar = bars.add(
            ProgressBar::new(0)
                .with_style(style.clone())
                .with_prefix(dest.agent.clone()),
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
                    Err(err) => report.errors.push(AgentError {
                        agent: dest.agent.clone(),
                        error: format!("{err:#}"),
                    }),
                }
            }
            Err(err) => report.errors.push(AgentError {
                agent: dest.agent.clone(),
                error: format!("{err:#}"),
            }),
        }
    }
    report.ok = report.errors.is_empty();
    Ok(report)
}

fn print_summary(report: &Report) {
    for e in &report.errors {
        eprintln!("error: {}", e.error);
    }
    if report.images.is_empty() {
        return;
    }
    let rows: Vec<Vec<String>> = report
        .images
        .iter()
        .map(|p| {
            vec![
                p.agent.clone(),
                format!("{}/{}", p.blobs_uploaded, p.blobs),
                human_bytes(p.bytes_uploaded),
                if p.manifest_pushed {
                    "pushed"
                } else {
                    "unchanged"
                }
                .to_string(),
                p.uri.clone(),
                p.sbom.clone().unwrap_or_else(|| "-".into()),
            ]
        })
        .collect();
    let verb = if report.dry_run {
        "would upload"
    } else {
        "uploaded"
    };
    println!(
        "{}",
        crate::output::table(
            &[
                "AGENT",
                &format!("BLOBS {verb}"),
                "BYTES",
                "MANIFEST",
                "IMAGE",
                "SBOM"
            ],
            &rows
        )
    );
}

pub fn human_bytes(n: u64) -> String {
    match n {
        n if n >= 1 << 30 => format!("{:.1} GiB", n as f64 / (1u64 << 30) as f64),
        n if n >= 1 << 20 => format!("{:.1} MiB", n as f64 / (1u64 << 20) as f64),
        n if n >= 1 << 10 => format!("{:.1} KiB", n as f64 / 1024.0),
        n => format!("{n} B"),
    }
}
