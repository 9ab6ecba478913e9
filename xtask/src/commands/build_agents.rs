//! `cargo xtask build-agents`: its flags, and the table (or JSON) of what it built. The build
//! itself is `crate::ops::build_agents`; `--remote` is `crate::ops::codebuild`, `--push` is
//! `crate::ops::push`.

use std::process::ExitCode;

use crate::Context;
use crate::ops::build_agents::{self, Builder, Built, Profile};
use crate::ops::{codebuild, push};

#[derive(clap::Args)]
#[command(after_help = "Examples:
  cargo xtask build-agents                    every agent, one cargo build, one image each
  cargo xtask build-agents assistant          just one agent
  cargo xtask build-agents --json             digests and sizes for scripts
  cargo xtask build-agents --dry-run          show the cargo command, build nothing
  cargo xtask build-agents --profile fast     seconds after a change (no LTO, 16 codegen
                                              units, incremental): dev only
  cargo xtask build-agents --builder docker   docker buildx + agents/<id>/Dockerfile instead
  SOURCE_DATE_EPOCH=1700000000 cargo xtask build-agents   pin the image timestamps
  cargo xtask build-agents --push dev         build, then push to dev's ECR
  cargo xtask build-agents --remote dev       build and push on AWS CodeBuild (native ARM)

Images are OCI image layouts at target/oci/<agent>/:
  skopeo inspect oci:target/oci/assistant:latest
  umoci unpack --rootless --image target/oci/assistant:latest /tmp/assistant")]
pub struct Args {
    /// Agents to build, by id (default: all agents).
    #[arg(value_name = "AGENT")]
    pub agents: Vec<String>,

    /// What builds the images.
    #[arg(long, value_enum, default_value_t = Builder::Native)]
    pub builder: Builder,

    /// The cargo profile: `release` ships anywhere; `fast` (no LTO, 16 codegen units,
    /// incremental) rebuilds in seconds and is refused by staging and production (recorded in
    /// the image).
    #[arg(long, value_enum, default_value_t = Profile::Release)]
    pub profile: Profile,

    /// Print what would run, build nothing.
    #[arg(long)]
    pub dry_run: bool,

    /// Build on AWS CodeBuild (native ARM) for ENV instead of here (see `ops/codebuild.rs`).
    #[arg(long, value_name = "ENV", conflicts_with = "push")]
    pub remote: Option<crate::environment::Env>,

    /// Then push the images to ENV's registry, as `cargo xtask push ENV [AGENT...]` does.
    #[arg(long, value_name = "ENV")]
    pub push: Option<crate::environment::Env>,
}

pub fn run(ctx: &Context, args: Args) -> anyhow::Result<ExitCode> {
    if args.profile == Profile::Fast && (args.remote.is_some() || args.builder == Builder::Docker) {
        bail_help!("`--profile fast` is for the native builder here: `--remote` and `--builder docker` build release"; "drop `--profile fast`, or build here: `cargo xtask build-agents --profile fast`");
    }
    if let Some(env) = args.remote {
        return codebuild::run(ctx, env, &args.agents, args.dry_run);
    }
    // With --push, check before a long build that the environment takes these agents.
    let push_to = match args.push {
        Some(env) => {
            let environment = crate::environment::Environment::load(&ctx.project, env)?;
            environment.named_agents(&args.agents)?;
            Some(environment)
        }
        None => None,
    };
    let agents = ctx.project.select_agents(&args.agents)?;
    if agents.is_empty() {
        bail_help!("there are no agents to build (no agents/<id>/blueprint.yaml)"; "see README.md, \"Adding an agent\"");
    }
    let built = match args.builder {
        Builder::Native => build_agents::build(ctx, &agents, args.profile, args.dry_run)?,
        Builder::Docker => build_agents::build_with_docker(ctx, &agents, args.dry_run)?,
    };
    if args.dry_run {
        return Ok(ExitCode::SUCCESS);
    }
    report(ctx, &built);
    let images = &built.images;
    if let Some(environment) = push_to {
        let pushed = push::push_layouts(
            ctx,
            &environment,
            &push::PushOptions::default(),
            &images
                .iter()
                .map(|i| (i.agent.clone(), i.layout.clone()))
                .collect::<Vec<_>>(),
        )?;
        crate::commands::push::report_pushed(ctx, environment.env, &pushed);
    }
    Ok(ExitCode::SUCCESS)
}

fn report(ctx: &Context, built: &Built) {
    if ctx.out.json {
        let mut report = serde_json::to_value(built).unwrap_or_default();
        report["ok"] = true.into();
        ctx.out.print_json(&report);
        return;
    }
    let images = &built.images;
    let rows: Vec<Vec<String>> = images
        .iter()
        .map(|i| {
            vec![
                i.agent.clone(),
                i.digest.clone(),
                megabytes(i.size),
                if i.binary_size > 0 {
                    megabytes(i.binary_size)
                } else {
                    "-".into()
                },
                if i.cached {
                    "reused (unchanged)".into()
                } else {
                    "packaged".into()
                },
                ctx.project.rel(&i.layout).display().to_string(),
            ]
        })
        .collect();
    println!(
        "{}",
        crate::output::table(
            &["AGENT", "DIGEST", "IMAGE", "BINARY", "LAYER", "LAYOUT"],
            &rows
        )
    );
}

fn megabytes(bytes: u64) -> String {
    format!("{:.1} MB", bytes as f64 / 1_000_000.0)
}
