//! `cargo xtask push <env> [AGENT...]`: its flags, and the summary (or JSON) of what went
//! where. The push is `crate::ops::push`.

use std::path::PathBuf;
use std::process::ExitCode;

use crate::Context;
use crate::environment::{Env, Environment};
use crate::ops::push::{self, PushOptions, Report};
use blueprint::Agent;
use oci_registry::Pushed;

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
    #[arg(long, value_name = "REV")]
    pub revision: Option<String>,

    /// Say which blobs each registry lacks; upload and record nothing.
    #[arg(long)]
    pub dry_run: bool,

    /// How many agents to push at the same time (at least 1).
    #[arg(long, value_name = "N", default_value_t = 4,
          value_parser = clap::value_parser!(u16).range(1..))]
    pub jobs: u16,
}

impl Args {
    fn options(&self) -> PushOptions {
        PushOptions {
            registry: self.registry.clone(),
            revision: self.revision.clone(),
            dry_run: self.dry_run,
            jobs: self.jobs.into(),
        }
    }
}

pub fn run(ctx: &Context, args: Args) -> anyhow::Result<ExitCode> {
    let environment = Environment::load(&ctx.project, args.env)?;
    let layouts = layouts_of(ctx, &environment.named_agents(&args.agents)?);
    let report = push::push_report(ctx, &environment, &args.options(), &layouts)?;
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

/// The agents' image layouts (`target/oci/<id>/`, written by `build-agents`).
fn layouts_of(ctx: &Context, agents: &[Agent]) -> Vec<(String, PathBuf)> {
    agents
        .iter()
        .map(|a| (a.id().to_string(), ctx.project.image_layout(a.id())))
        .collect()
}

/// The summary of what `build-agents --push` pushed.
pub fn report_pushed(ctx: &Context, env: Env, pushed: &[Pushed]) {
    let report = Report {
        ok: true,
        env,
        dry_run: false,
        images: pushed.to_vec(),
        errors: Vec::new(),
    };
    if ctx.out.json {
        ctx.out.print_json(&report);
    } else {
        print_summary(&report);
    }
}

fn print_summary(report: &Report) {
    for e in &report.errors {
        eprintln!("error: {}", e.error);
        for help in &e.help {
            eprintln!("  help: {help}");
        }
    }
    if report.images.is_empty() {
        return;
    }
    let rows: Vec<Vec<String>> = report
        .images
        .iter()
        .map(|p| {
            vec![
                p.name.clone(),
                format!("{}/{}", p.blobs_uploaded, p.blobs),
                crate::output::human_bytes(p.bytes_uploaded),
                if p.manifest_pushed {
                    "pushed"
                } else {
                    "unchanged"
                }
                .to_string(),
                p.image.to_string(),
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
