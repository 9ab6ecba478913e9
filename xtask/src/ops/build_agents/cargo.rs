//! The one cargo invocation that compiles every selected agent for AgentCore.
//!
//! One invocation (`-p a -p b …`), not one per agent: shared dependencies (tokio, the AWS SDK,
//! aws-lc) compile once, and cargo schedules all crates across the cores.

use std::collections::{BTreeMap, BTreeSet};
use std::io::BufRead as _;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};

use super::profile::Profile;
use crate::toolchain::{CrossToolchain, TARGET};

/// What `cargo build` will be asked to do.
pub struct Build<'a> {
    pub root: &'a Path,
    pub toolchain: &'a CrossToolchain,
    /// Machine paths to remap in what rustc embeds (`toolchain::path_prefixes`).
    pub prefixes: Vec<(PathBuf, &'static str)>,
    pub packages: Vec<String>,
    pub profile: Profile,
}

impl Build<'_> {
    /// The program and its arguments, for `--dry-run`, `-v` and the benchmark.
    pub fn argv(&self) -> Vec<String> {
        let mut argv: Vec<String> = vec![
            "cargo".into(),
            "build".into(),
            "--profile".into(),
            self.profile.name().into(),
            "--target".into(),
            TARGET.into(),
            "--message-format=json-render-diagnostics".into(),
            "--config".into(),
            remap_config(&self.prefixes),
        ];
        for package in &self.packages {
            argv.push("-p".into());
            argv.push(package.clone());
        }
        argv
    }

    /// Runs cargo, its diagnostics and progress going straight to the terminal, and gives the
    /// executable it built for each package and the packages it compiled for the target.
    pub fn run(&self, out: &crate::output::Output) -> anyhow::Result<Built> {
        let argv = self.argv();
        out.verbose(format!("$ {}", shell_words(&argv)));
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let cmd = self
            .toolchain
            .apply(duct::cmd(cargo, &argv[1..]).dir(self.root).unchecked());
        let reader = cmd
            .reader()
            .with_context(|| format!("cannot run `{}`", shell_words(&argv[..2])))?;
        let mut executables = BTreeMap::new();
        let mut compiled = BTreeSet::new();
        let lines = std::io::BufReader::new(&reader);
        for line in lines.lines() {
            let line = match line {
                Ok(line) => line,
                Err(err) => return Err(err).context("cannot read cargo's output"),
            };
            let Some(artifact) = compiler_artifact(&line) else {
                continue;
            };
            if let Some((package, exe)) = executable(&artifact, &self.packages) {
                executables.insert(package, exe);
            }
            if let Some(package_id) = compiled_for_target(&artifact) {
                compiled.insert(package_id);
            }
        }
        let status = reader
            .try_wait()
            .context("cannot wait for cargo")?
            .map(|o| o.status);
        if !status.is_some_and(|s| s.success()) {
            bail!(
                "`{}` failed (its errors are above)",
                // `cargo build --profile P --target T`, without the remap flags.
                shell_words(&argv[..6])
            );
        }
        for package in &self.packages {
            if !executables.contains_key(package) {
                bail_help!("cargo built `{package}` but reported no executable for it"; "an agent crate needs a binary target named like the agent \
                     (src/main.rs in agents/{package}/)");
            }
        }
        Ok(Built {
            executables,
            compiled,
        })
    }
}

/// What one `cargo build` made.
pub struct Built {
    /// The executable of each agent, by package name.
    pub executables: BTreeMap<String, PathBuf>,
    /// The package ids (as `cargo metadata` spells them) of everything compiled for the target,
    /// fresh or not: what the agents' binaries can link (see `crates.rs`).
    pub compiled: BTreeSet<String>,
}

/// Rewrites the paths rustc would embed (panic locations) to fixed ones, so two checkouts at
/// different places, with different cargo homes, give identical binaries.
///
/// Passed with `--config` for the aarch64 target only (not through RUSTFLAGS, which the
/// toolchain removes): build scripts, proc macros and native builds keep their usual flags,
/// and `.cargo/config.toml` stays free of machine paths. rustc applies the last matching
/// prefix, so the most specific goes last.
///
/// The workspace itself needs no remapping: cargo hands rustc the workspace's sources by paths
/// relative to its root. Generated sources (`OUT_DIR`) live in the target dir, which is
/// remapped instead. Not remapping the checkout matters: these flags are part of every crate's
/// fingerprint, so a flag naming the checkout would rebuild every dependency whenever two
/// checkouts share a target dir (CI's cache, a test's scratch copy).
pub fn remap_config(prefixes: &[(PathBuf, &str)]) -> String {
    let flags: Vec<String> = prefixes
        .iter()
        .map(|(from, to)| {
            let flag = format!("--remap-path-prefix={}={to}", from.display());
            format!("\"{}\"", flag.replace('\\', "\\\\").replace('"', "\\\""))
        })
        .collect();
    format!("target.{TARGET}.rustflags=[{}]", flags.join(","))
}

/// A line of cargo's JSON output if it is a `compiler-artifact` message (cargo prints one for
/// every unit of the build, fresh or not).
fn compiler_artifact(line: &str) -> Option<serde_json::Value> {
    let message: serde_json::Value = serde_json::from_str(line).ok()?;
    (message.get("reason")?.as_str()? == "compiler-artifact").then_some(message)
}

/// The package and executable of a `compiler-artifact` message for one of `packages`' binaries.
fn executable(message: &serde_json::Value, packages: &[String]) -> Option<(String, PathBuf)> {
    let target = message.get("target")?;
    let is_bin = target.get("kind")?.as_array()?.iter().any(|k| k == "bin");
    let name = target.get("name")?.as_str()?;
    let exe = message.get("executable")?.as_str()?;
    (is_bin && packages.iter().any(|p| p == name)).then(|| (name.to_string(), PathBuf::from(exe)))
}

/// The package id of a `compiler-artifact` message for the target platform. With `--target`,
/// cargo writes those under `<target dir>/<triple>/` and what runs on the build machine (build
/// scripts, proc macros and their dependencies) elsewhere.
fn compiled_for_target(message: &serde_json::Value) -> Option<String> {
    let for_target = message
        .get("filenames")?
        .as_array()?
        .iter()
        .filter_map(|f| f.as_str())
        .any(|f| Path::new(f).components().any(|c| c.as_os_str() == TARGET));
    for_target.then(|| message.get("package_id")?.as_str().map(str::to_string))?
}

/// A command line as a person would type it (for display only: it is never run by a shell).
pub fn shell_words(argv: &[String]) -> String {
    argv.iter()
        .map(|a| {
            if a.chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_./=:@".contains(c))
            {
                a.clone()
            } else {
                format!("'{}'", a.replace('\'', "'\\''"))
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_binaries_of_selected_packages_only() {
        let packages = vec!["assistant".to_string()];
        let bin = r#"{"reason":"compiler-artifact","target":{"kind":["bin"],"name":"assistant"},"executable":"/t/assistant"}"#;
        let lib = r#"{"reason":"compiler-artifact","target":{"kind":["lib"],"name":"assistant"},"executable":null}"#;
        let other = r#"{"reason":"compiler-artifact","target":{"kind":["bin"],"name":"xtask"},"executable":"/t/xtask"}"#;
        let executable = |line: &str| executable(&compiler_artifact(line)?, &packages);
        assert_eq!(
            executable(bin),
            Some(("assistant".into(), PathBuf::from("/t/assistant")))
        );
        assert_eq!(executable(lib), None);
        assert_eq!(executable(other), None);
        assert_eq!(executable("not json"), None);
    }

    #[test]
    fn tells_target_crates_from_build_machine_crates() {
        let message = |id: &str, file: &str| {
            compiler_artifact(&format!(
                r#"{{"reason":"compiler-artifact","package_id":"{id}","filenames":["{file}"]}}"#
            ))
            .expect("a compiler-artifact message")
        };
        let target = message(
            "registry+x#serde@1.0.0",
            &format!("/t/{TARGET}/release/deps/libserde-1.rlib"),
        );
        let host = message("registry+x#cc@1.2.0", "/t/release/deps/libcc-2.rlib");
        let build_script = message(
            "registry+x#serde@1.0.0",
            "/t/release/build/serde-3/build_script_build-3",
        );
        assert_eq!(
            compiled_for_target(&target).as_deref(),
            Some("registry+x#serde@1.0.0")
        );
        assert_eq!(compiled_for_target(&host), None);
        assert_eq!(compiled_for_target(&build_script), None);
        assert!(compiler_artifact(r#"{"reason":"build-finished","success":true}"#).is_none());
    }

    #[test]
    fn remap_config_is_valid_toml_in_the_given_order() {
        let prefixes = vec![
            (PathBuf::from("/home/me/.cargo"), "/cargo"),
            (PathBuf::from("/w/my \"repo\"/target"), "/target"),
        ];
        let config = remap_config(&prefixes);
        let (key, value) = config.split_once('=').expect("key=value");
        assert_eq!(key, format!("target.{TARGET}.rustflags"));
        let parsed: toml::Table = toml::from_str(&format!("v = {value}")).expect("toml array");
        let flags: Vec<&str> = parsed["v"]
            .as_array()
            .expect("array")
            .iter()
            .filter_map(|f| f.as_str())
            .collect();
        assert_eq!(
            flags,
            [
                "--remap-path-prefix=/home/me/.cargo=/cargo",
                "--remap-path-prefix=/w/my \"repo\"/target=/target"
            ]
        );
    }
}
