//! Where things are in the workspace: the root, the agents, the infrastructure.

use std::path::{Path, PathBuf};

use anyhow::Context as _;

#[derive(Clone)]
pub struct Project {
    pub root: PathBuf,
    /// The Terraform root (default `infra/`): stacks, modules and `envs/`.
    pub infra_dir: PathBuf,
}

impl Project {
    /// Finds the workspace root from `start` (default: the current directory) by walking up to
    /// the first `Cargo.toml` that declares a `[workspace]`, the way cargo itself does.
    pub fn discover(start: Option<&Path>, infra_dir: &Path) -> anyhow::Result<Project> {
        let start = match start {
            Some(dir) => dir.to_path_buf(),
            None => std::env::current_dir().context("cannot read the current directory")?,
        };
        let start = start
            .canonicalize()
            .with_context(|| format!("{}: no such directory", start.display()))?;
        for dir in start.ancestors() {
            let manifest = dir.join("Cargo.toml");
            if let Ok(text) = std::fs::read_to_string(&manifest)
                && text.lines().any(|l| l.trim() == "[workspace]")
            {
                let root = dir.to_path_buf();
                let infra_dir = root.join(infra_dir);
                return Ok(Project { root, infra_dir });
            }
        }
        bail_help!("{} is not inside a Cargo workspace (no Cargo.toml with [workspace] above it)", start.display(); "run from the monorepo's checkout, or pass -C <DIR>")
    }

    pub fn agents_dir(&self) -> PathBuf {
        self.root.join("agents")
    }

    pub fn envs_dir(&self) -> PathBuf {
        self.infra_dir.join("envs")
    }

    /// Where cargo puts its output for builds started here (`CARGO_TARGET_DIR`, else
    /// `target/`), with symlinks resolved: a `target` linked to a shared cache is one place.
    pub fn target_dir(&self) -> PathBuf {
        let dir = match std::env::var_os("CARGO_TARGET_DIR") {
            Some(dir) => self.root.join(dir),
            None => self.root.join("target"),
        };
        std::fs::canonicalize(&dir).unwrap_or(dir)
    }

    /// Every agent of the workspace; an error listing every problem if a blueprint is broken.
    pub fn agents(&self) -> anyhow::Result<Vec<blueprint::Agent>> {
        blueprint::load_valid(&self.root)
            .map_err(|diags| anyhow::Error::new(diags).context("the blueprints are broken"))
    }

    /// The agents named in `ids` (every agent when `ids` is empty).
    pub fn select_agents(&self, ids: &[String]) -> anyhow::Result<Vec<blueprint::Agent>> {
        Ok(blueprint::select(&self.agents()?, ids)?)
    }

    /// One agent, by id.
    pub fn agent(&self, id: &str) -> anyhow::Result<blueprint::Agent> {
        Ok(self.select_agents(&[id.to_string()])?.remove(0))
    }

    /// Where `cargo xtask` keeps its own files: `target/xtask/` (rendered environment files,
    /// Terraform data dirs, caches).
    pub fn work_dir(&self) -> PathBuf {
        self.root.join("target").join("xtask")
    }

    /// `target/oci/`: one OCI image layout per agent, whatever `CARGO_TARGET_DIR` says, so
    /// that `push` and `run --arm64` find images without asking cargo.
    pub fn images_dir(&self) -> PathBuf {
        self.root.join("target/oci")
    }

    /// `target/oci/<agent-id>/`: the contract between `build-agents` and `push` — a standard
    /// OCI image layout whose `index.json` names the agent's image.
    pub fn image_layout(&self, agent_id: &str) -> PathBuf {
        self.images_dir().join(agent_id)
    }

    /// The pinned tools the xtask installs: in `XTASK_TOOLS_DIR` if set (relative to the
    /// root), so that checkouts and scratch copies can share one install; else in
    /// `target/xtask/tools/`.
    pub fn tools(&self) -> pinned_tools::Tools {
        let dir = match std::env::var_os("XTASK_TOOLS_DIR") {
            Some(dir) => self.root.join(dir),
            None => self.target_dir().join("xtask/tools"),
        };
        pinned_tools::Tools::new(&self.root, dir)
    }

    /// `path` relative to the workspace root, for messages.
    pub fn rel<'a>(&self, path: &'a Path) -> &'a Path {
        path.strip_prefix(&self.root).unwrap_or(path)
    }
}
