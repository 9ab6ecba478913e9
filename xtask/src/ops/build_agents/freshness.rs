//! Why an image never carries what a target dir built before from other sources.
//!
//! Cargo decides that a workspace crate is up to date by file times. Two checkouts that share a
//! target dir (CI's cache, a test's scratch copy, a global `CARGO_TARGET_DIR`) can then take
//! each other's artifacts: a source file older than an artifact built from *another* checkout's
//! sources looks unchanged, and cargo links the other checkout's code into this one's binary.
//! Crates from crates.io are immune (their sources are fixed by name and version); the
//! workspace's own crates are not.
//!
//! So before the build, the content of each workspace crate an agent can be made of (under
//! `agents/` and `xtask/crates/`, build-dependencies included) is compared with the content
//! the target dir's artifacts were last built from, recorded beside them. The crates whose
//! content differs are cleaned (`cargo clean -p`), and built again from these sources. In a
//! single checkout this costs nothing: cargo rebuilds a changed crate anyway.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use sha2::{Digest as _, Sha256};

use super::profile::Profile;
use crate::toolchain::TARGET;

/// The content of the workspace crates, by package name.
pub struct Sources {
    crates: BTreeMap<String, String>,
    stamp: PathBuf,
}

/// Hashes the workspace crates of `root` and cleans, in `target_dir`, those built from other
/// content than they have now. Gives what to record once the build succeeded.
pub fn check(
    root: &Path,
    target_dir: &Path,
    profile: Profile,
    out: &crate::output::Output,
) -> anyhow::Result<Sources> {
    let crates = hash_crates(root)?;
    let stamp = target_dir
        .join(TARGET)
        .join(profile.name())
        .join(".xtask-workspace-sources.json");
    let recorded: BTreeMap<String, String> = std::fs::read(&stamp)
        .ok()
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .unwrap_or_default();
    let stale: Vec<&String> = crates
        .iter()
        .filter(|(name, hash)| recorded.get(*name) != Some(*hash))
        .map(|(name, _)| name)
        .collect();
    if !stale.is_empty() && target_dir.join(TARGET).is_dir() {
        out.verbose(format!(
            "built from other sources than these, so cleaned: {}",
            stale
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ));
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let packages: Vec<String> = stale
            .iter()
            .flat_map(|p| ["-p".into(), (*p).clone()])
            .collect();
        // The target's artifacts, and the build machine's (build scripts, build-dependencies).
        for target in [Some(TARGET), None] {
            let mut args: Vec<String> =
                vec!["clean".into(), "--profile".into(), profile.name().into()];
            if let Some(target) = target {
                args.extend(["--target".into(), target.into()]);
            }
            args.extend(packages.iter().cloned());
            duct::cmd(&cargo, &args)
                .dir(root)
                .env("CARGO_TARGET_DIR", target_dir)
                .stdout_null()
                .stderr_capture()
                .run()
                .with_context(|| format!("`cargo {}` failed", args.join(" ")))?;
        }
    }
    Ok(Sources { crates, stamp })
}

impl Sources {
    /// Records, after a successful build, what the artifacts were built from.
    pub fn record(&self) -> anyhow::Result<()> {
        if let Some(dir) = self.stamp.parent() {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create {}", dir.display()))?;
        }
        std::fs::write(&self.stamp, serde_json::to_vec_pretty(&self.crates)?)
            .with_context(|| format!("cannot write {}", self.stamp.display()))
    }
}

/// Package name → SHA-256 of the crate's files (paths and contents), for every crate under
/// `agents/` and `xtask/crates/`.
fn hash_crates(root: &Path) -> anyhow::Result<BTreeMap<String, String>> {
    let mut crates = BTreeMap::new();
    for parent in ["agents", "xtask/crates"] {
        let Ok(entries) = std::fs::read_dir(root.join(parent)) else {
            continue;
        };
        for entry in entries.flatten() {
            let dir = entry.path();
            let Some(name) = package_name(&dir.join("Cargo.toml")) else {
                continue;
            };
            let mut files = Vec::new();
            collect(&dir, &mut files);
            files.sort();
            let mut hasher = Sha256::new();
            for file in files {
                let rel = file.strip_prefix(&dir).unwrap_or(&file);
                hasher.update(rel.to_string_lossy().as_bytes());
                hasher.update([0]);
                hasher.update(std::fs::read(&file).unwrap_or_default());
                hasher.update([0]);
            }
            crates.insert(name, format!("{:x}", hasher.finalize()));
        }
    }
    Ok(crates)
}

fn package_name(manifest: &Path) -> Option<String> {
    let table: toml::Table = std::fs::read_to_string(manifest).ok()?.parse().ok()?;
    Some(table.get("package")?.get("name")?.as_str()?.to_string())
}

/// The files of a crate's folder, without hidden folders and build output.
fn collect(dir: &Path, files: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if path.is_dir() {
            if !name.starts_with('.') && name != "target" {
                collect(&path, files);
            }
        } else {
            files.push(path);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_crate_is_named_by_its_content_only() {
        let a = tempfile::tempdir().expect("tempdir");
        let b = tempfile::tempdir().expect("tempdir");
        for root in [a.path(), b.path()] {
            let dir = root.join("agents/echo");
            std::fs::create_dir_all(dir.join("src")).expect("mkdir");
            std::fs::write(dir.join("Cargo.toml"), "[package]\nname = \"echo\"\n").expect("w");
            std::fs::write(dir.join("src/main.rs"), "fn main() {}\n").expect("w");
            std::fs::create_dir_all(dir.join("target")).expect("mkdir");
            std::fs::write(dir.join("target/junk"), root.display().to_string()).expect("w");
        }
        let (ha, hb) = (
            hash_crates(a.path()).expect("a"),
            hash_crates(b.path()).expect("b"),
        );
        assert_eq!(ha, hb, "another path, the same content");
        std::fs::write(b.path().join("agents/echo/src/main.rs"), "fn main() { }\n").expect("w");
        assert_ne!(ha["echo"], hash_crates(b.path()).expect("b")["echo"]);
    }
}
