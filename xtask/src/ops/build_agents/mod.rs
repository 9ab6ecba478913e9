//! The operation behind `cargo xtask build-agents` (flags in `crate::commands::build_agents`):
//! cross-compile agents for AgentCore (linux/arm64) and package each as an OCI image, without
//! Docker.
//!
//! The steps, each in its own module:
//! - `cargo`: ONE `cargo build --profile <release|fast> --target aarch64-unknown-linux-musl -p a
//!   -p b …` with the cross C toolchain `crate::toolchain` picks, and build paths remapped;
//! - `profile`: which cargo profile, recorded in the image; `fast` images stay in dev;
//! - `elf`: every binary must be a static aarch64 ELF before it goes into an image;
//! - `crates`: which crates each binary is made of (`cargo metadata` and the build's output);
//! - `notices`: their licence texts, and the CA bundle's, as files of the image;
//! - `sbom`: the binary's SPDX document;
//! - `package`: a one-layer image (binary, CA bundle, notices) written by the `oci-image` crate as an
//!   OCI image layout at `target/oci/<agent>/`, the layer reused when none of its files
//!   changed, with the SBOM attached as an OCI artifact;
//! - `provenance`: timestamps and annotations from the source (SOURCE_DATE_EPOCH or the commit),
//!   so the same commit gives the same digest;
//! - `docker`: the `--builder docker` alternative.
//!
//! Contract with `push`: `target/oci/<agent-id>/` is a standard OCI image layout whose
//! `index.json` lists the image manifest, tagged `latest`, and the SBOM artifact whose
//! `subject` is that image (tagged `sbom`). Readers pick the image by its tag.

mod arm64;
mod cargo;
pub mod certs;
mod crates;
mod docker;
mod elf;
mod freshness;
mod notices;
mod package;
pub mod profile;
mod provenance;
mod sbom;

use anyhow::Context as _;

pub use arm64::{arm64_launcher, packaged_binary};
pub use cargo::shell_words;
pub use package::Packaged;
pub use profile::Profile;

use crate::Context;
use crate::toolchain;
use blueprint::{self, Agent};

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Builder {
    /// Cross-compile here and assemble the images without Docker (reproducible).
    Native,
    /// `docker buildx --platform linux/arm64` with agents/<id>/Dockerfile; needs a Docker engine.
    Docker,
}

/// What one build made, and where its time went.
#[derive(serde::Serialize, Default)]
pub struct Built {
    pub images: Vec<Packaged>,
    /// Wall seconds of the cargo invocation.
    pub compile_seconds: f64,
    /// Wall seconds of packaging every image (in parallel: less than the sum of the images'
    /// own `seconds`).
    pub package_seconds: f64,
}

/// Compiles `agents` in one cargo invocation with `profile` and packages each; the library entry
/// point for other commands (`run --arm64`, `deploy`, the benchmark).
pub fn build(
    ctx: &Context,
    agents: &[Agent],
    profile: Profile,
    dry_run: bool,
) -> anyhow::Result<Built> {
    let out = &ctx.out;
    let root = &ctx.project.root;
    for agent in agents {
        let manifest = agent.dir.join("Cargo.toml");
        if !manifest.is_file() {
            bail_help!("agent `{}` has a blueprint but no crate: {} is missing", agent.id(), ctx.project.rel(&manifest).display(); "an agent is a binary crate named like its id, next to its blueprint");
        }
    }
    let tools = ctx.project.tools();
    let toolchain = if dry_run {
        toolchain::environment(&ctx.project, &tools)
    } else {
        toolchain::ensure(&ctx.project, out)?
    };
    let build = cargo::Build {
        root,
        toolchain: &toolchain,
        prefixes: toolchain::path_prefixes(&ctx.project, &tools),
        packages: agents.iter().map(|a| a.id().to_string()).collect(),
        profile,
    };
    if dry_run {
        for name in &toolchain.remove {
            if std::env::var_os(name).is_some() {
                println!("# unset {name}");
            }
        }
        let env: Vec<String> = toolchain
            .set
            .iter()
            .map(|(k, v)| shell_words(&[format!("{k}={v}")]))
            .collect();
        println!(
            "{}{}",
            env.iter().map(|e| format!("{e} ")).collect::<String>(),
            shell_words(&build.argv())
        );
        for agent in agents {
            println!(
                "# then package {} into {}",
                agent.id(),
                ctx.project
                    .rel(&ctx.project.image_layout(agent.id()))
                    .display()
            );
        }
        return Ok(Built::default());
    }

    let provenance = provenance::read(root)?;
    for warning in &provenance.warnings {
        out.step(format!("warning: {warning}"));
    }
    let timer = out.timed(format!(
        "compile {} for {} ({profile} profile) with {}",
        build.packages.join(", "),
        toolchain::TARGET,
        toolchain.description
    ));
    let sources = freshness::check(root, &ctx.project.target_dir(), profile, out)?;
    let built = build.run(out)?;
    sources.record()?;
    let compile_seconds = timer.done().as_secs_f64();

    // What the images owe: read once, after the build (which may have updated Cargo.lock).
    let graph = crates::Graph::load(root)?;
    let webpki = graph.dependency(env!("CARGO_PKG_NAME"), "webpki-root-certs")?;
    let ca_notice = notices::ca_certificates(&webpki)?;

    let timer = out.timed(format!(
        "package {} image(s), timestamps from {} ({})",
        agents.len(),
        provenance.epoch_source,
        oci_image::rfc3339(provenance.epoch)
    ));
    let cache_dir = root.join("target/xtask/build-agents");
    // Packaging is gzip and sha256 over a few MB per agent: one thread each.
    let results: Vec<anyhow::Result<Packaged>> = std::thread::scope(|scope| {
        let handles: Vec<_> = agents
            .iter()
            .map(|agent| {
                let binary = &built.executables[agent.id()];
                let layout = ctx.project.image_layout(agent.id());
                let (cache_dir, provenance) = (&cache_dir, &provenance);
                let (graph, compiled, ca_notice) = (&graph, &built.compiled, &ca_notice);
                scope.spawn(move || {
                    let paperwork = paperwork(agent, graph, compiled, ca_notice, provenance)?;
                    package::package(
                        agent, binary, &paperwork, &layout, cache_dir, provenance, profile,
                    )
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err(anyhow::anyhow!("packaging panicked")))
            })
            .collect()
    });
    let mut images = Vec::new();
    for result in results {
        let image = result?;
        out.verbose(format!(
            "{}: {} ({}, {:.2}s)",
            image.agent,
            if image.cached {
                "layer unchanged (binary, notices), reused"
            } else {
                "packaged"
            },
            image.digest,
            image.seconds
        ));
        images.push(image);
    }
    Ok(Built {
        images,
        compile_seconds,
        package_seconds: timer.done().as_secs_f64(),
    })
}

/// The notices and SBOM of `agent`'s binary.
fn paperwork<'a>(
    agent: &Agent,
    graph: &crates::Graph,
    compiled: &std::collections::BTreeSet<String>,
    ca_notice: &'a [u8],
    provenance: &provenance::Provenance,
) -> anyhow::Result<package::Paperwork<'a>> {
    let id = agent.id();
    let program = graph.program(id, compiled)?;
    let path = package::entrypoint(id);
    Ok(package::Paperwork {
        notices: notices::third_party(&program, &path)?,
        ca_notice,
        sbom: sbom::document(
            &program,
            &path,
            provenance.epoch,
            provenance.source.as_deref(),
        )?,
        crates: program.crates.len(),
    })
}

/// The `--builder docker` alternative: `docker buildx` with each agent's Dockerfile.
pub fn build_with_docker(ctx: &Context, agents: &[Agent], dry_run: bool) -> anyhow::Result<Built> {
    let epoch = provenance::read(&ctx.project.root)?.epoch;
    if dry_run {
        for agent in agents {
            println!(
                "docker buildx build --platform linux/arm64 --file {} --output type=oci,tar=false,dest={} .",
                ctx.project.rel(&agent.dir.join("Dockerfile")).display(),
                ctx.project
                    .rel(&ctx.project.image_layout(agent.id()))
                    .display()
            );
        }
        return Ok(Built::default());
    }
    docker::require_engine()?;
    let started = std::time::Instant::now();
    let mut images = Vec::new();
    for agent in agents {
        let layout = ctx.project.image_layout(agent.id());
        let timer = ctx
            .out
            .timed(format!("docker buildx build {} (linux/arm64)", agent.id()));
        docker::build(&ctx.project.root, agent, &layout, epoch)?;
        let seconds = timer.done().as_secs_f64();
        let (digest, _) = docker::describe(&layout)?;
        images.push(Packaged {
            agent: agent.id().to_string(),
            size: dir_size(&layout.join("blobs")).unwrap_or(0),
            layout,
            digest,
            binary_size: 0,
            // The agents' Dockerfiles build `--release`.
            profile: Profile::Release,
            cached: false,
            seconds,
            sbom: None,
            crates: None,
        });
    }
    // buildx compiles and packages in one step.
    Ok(Built {
        images,
        compile_seconds: started.elapsed().as_secs_f64(),
        package_seconds: 0.0,
    })
}

fn dir_size(dir: &std::path::Path) -> anyhow::Result<u64> {
    let mut total = 0;
    for entry in std::fs::read_dir(dir).with_context(|| format!("cannot list {}", dir.display()))? {
        let entry = entry?;
        let meta = entry.metadata()?;
        total += if meta.is_dir() {
            dir_size(&entry.path())?
        } else {
            meta.len()
        };
    }
    Ok(total)
}
