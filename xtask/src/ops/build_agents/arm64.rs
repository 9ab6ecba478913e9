//! The packaged linux/arm64 binary of an agent, for `cargo xtask run <agent> --arm64`: taken out
//! of the image that `push` would ship (not from cargo's target dir), so the local check runs
//! exactly the bytes that will run on AgentCore, under qemu-user.

use std::io::Read as _;
use std::path::PathBuf;

use anyhow::{Context as _, bail};

use crate::Context;
use blueprint::Agent;

/// What runs an aarch64 binary here: nothing on an aarch64 Linux host, else qemu-user (the
/// pinned `qemu-aarch64-static`, installed on first use).
pub fn arm64_launcher(ctx: &Context) -> anyhow::Result<Option<PathBuf>> {
    let tools = ctx.project.tools();
    if pinned_tools::Tool::Qemu.not_needed_here() {
        return Ok(None);
    }
    tools
        .command(pinned_tools::Tool::Qemu, "qemu-aarch64-static", &ctx.out)
        .map(Some)
}

/// Builds `agent`'s release image (nothing is rebuilt or re-packaged when unchanged), extracts
/// its entrypoint to `target/xtask/arm64/<agent>/`, and gives the extracted file's path.
pub fn packaged_binary(ctx: &Context, agent: &Agent) -> anyhow::Result<PathBuf> {
    // Release: the bytes staging and production run, whatever dev iterates with.
    let image = super::build(
        ctx,
        std::slice::from_ref(agent),
        super::Profile::Release,
        false,
    )?
    .images
    .pop()
    .context("build-agents produced no image")?;
    let entrypoint = super::package::entrypoint(agent.id());
    let layer = layer_of(&image.layout)?;
    let gz =
        std::fs::File::open(&layer).with_context(|| format!("cannot open {}", layer.display()))?;
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(gz));
    let wanted = entrypoint.trim_start_matches('/');
    for entry in archive.entries().context("cannot read the image's layer")? {
        let mut entry = entry.context("cannot read the image's layer")?;
        if entry.path().is_ok_and(|p| p.as_os_str() == wanted) {
            let mut bytes = Vec::new();
            entry
                .read_to_end(&mut bytes)
                .context("cannot read the entrypoint from the layer")?;
            let dir = ctx.project.root.join("target/xtask/arm64").join(agent.id());
            std::fs::create_dir_all(&dir)
                .with_context(|| format!("cannot create {}", dir.display()))?;
            let path = dir.join(agent.id());
            std::fs::write(&path, bytes)
                .with_context(|| format!("cannot write {}", path.display()))?;
            make_executable(&path)?;
            return Ok(path);
        }
    }
    bail!("the image of `{}` has no {entrypoint}", agent.id())
}

/// The (only) layer blob of the image in an OCI layout.
fn layer_of(layout: &std::path::Path) -> anyhow::Result<PathBuf> {
    let image = oci_image::read::read(layout, "the packaged agent")?;
    // `blobs` is the config, then the layers.
    image
        .blobs
        .get(1)
        .map(|layer| layer.path.clone())
        .with_context(|| format!("the image in {} has no layer", layout.display()))
}

#[cfg(unix)]
fn make_executable(path: &std::path::Path) -> anyhow::Result<()> {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755))
        .with_context(|| format!("cannot make {} executable", path.display()))
}

#[cfg(not(unix))]
fn make_executable(_: &std::path::Path) -> anyhow::Result<()> {
    Ok(())
}
