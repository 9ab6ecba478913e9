//! `--builder docker`: `docker buildx` builds each agent from its own Dockerfile, for teams that
//! have a Docker engine and want the image built the way the seed's docs describe. The result
//! lands in the same place as the default builder's, `target/oci/<agent>/`, so `push` does not
//! care which builder made it.

use std::path::Path;

use anyhow::{Context as _, bail};

use blueprint::Agent;

/// Fails with what to do instead when no Docker engine answers.
pub fn require_engine() -> anyhow::Result<()> {
    let help = "help: the default builder needs no Docker: run `cargo xtask build-agents` \
                without `--builder docker`";
    if crate::toolchain::which("docker").is_none() {
        bail!("`--builder docker` needs the docker CLI, and it is not on PATH\n  {help}");
    }
    let info = duct::cmd!("docker", "info", "--format", "{{.ServerVersion}}")
        .stdout_capture()
        .stderr_capture()
        .unchecked()
        .run()
        .context("cannot run `docker info`")?;
    if !info.status.success() {
        let why = String::from_utf8_lossy(&info.stderr);
        let why = why
            .lines()
            .find(|l| !l.trim().is_empty())
            .unwrap_or("no answer");
        bail!(
            "no Docker engine is running (`docker info`: {})\n  {help}",
            why.trim()
        );
    }
    Ok(())
}

/// `docker buildx build --platform linux/arm64` of one agent into an OCI layout directory.
pub fn build(root: &Path, agent: &Agent, layout_dir: &Path, epoch: u64) -> anyhow::Result<()> {
    let id = agent.id();
    let dockerfile = agent.dir.join("Dockerfile");
    if !dockerfile.is_file() {
        bail_help!("{} does not exist", dockerfile.display(); "copy agents/assistant/Dockerfile and change the agent \
             name in it, or use the default builder");
    }
    if layout_dir.exists() {
        std::fs::remove_dir_all(layout_dir)
            .with_context(|| format!("cannot clear {}", layout_dir.display()))?;
    }
    let output = format!("type=oci,tar=false,dest={}", layout_dir.display());
    // The workspace root is the context: agents depend on crates beside them.
    duct::cmd!(
        "docker",
        "buildx",
        "build",
        "--platform",
        "linux/arm64",
        "--file",
        &dockerfile,
        "--build-arg",
        format!("SOURCE_DATE_EPOCH={epoch}"),
        "--output",
        output,
        "."
    )
    .dir(root)
    .env("SOURCE_DATE_EPOCH", epoch.to_string())
    .run()
    .with_context(|| format!("`docker buildx build` of `{id}` failed (its output is above)"))?;
    Ok(())
}

/// The manifest digest and size of the image in a layout written by buildx.
pub fn describe(layout_dir: &Path) -> anyhow::Result<(String, u64)> {
    oci_image::read::image_entry(layout_dir, "the image docker built")
}
