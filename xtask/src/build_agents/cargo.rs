//! The one cargo invocation that compiles every selected agent for AgentCore.
//!
//! One invocation (`-p a -p b …`), not one per agent: shared dependencies (tokio, the AWS SDK,
//! aws-lc) compile once, and cargo schedules all crates across the cores.

use std::collections::BTreeMap;
use std::io::BufRead as _;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};

use crate::toolchain::{CrossToolchain, TARGET};

/// What `cargo build` will be asked to do.
pub struct Build<'a> {
    pub root: &'a Path,
    pub toolchain: &'a CrossToolchain,
    /// Machine paths to remap in what rustc embeds (`toolchain::path_prefixes`).
    pub prefixes: Vec<(PathBuf, &'static str)>,
    pub packages: Vec<String>,
}

impl Build<'_> {
    /// The program and its arguments, for `--dry-run`, `-v` and the benchmark.
    pub fn argv(&self) -> Vec<String> {
        let mut argv: Vec<String> = vec![
            "cargo".into(),
            "build".into(),
            "--release".into(),
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
    /// executable it built for each package.
    pub fn run(&self, out: &crate::output::Output) -> anyhow::Result<BTreeMap<String, PathBuf>> {
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
        let lines = std::io::BufReader::new(&reader);
        for line in lines.lines() {
            let line = match line {
                Ok(line) => line,
                Err(err) => return Err(err).context("cannot read cargo's output"),
            };
            if let Some((package, exe)) = executable(&line, &self.packages) {
                executables.insert(package, exe);
            }
        }
        let status = reader
            .try_wait()
            .context("cannot wait for cargo")?
            .map(|o| o.status);
        if !status.is_some_and(|s| s.success()) {
            bail!(
                "`{}` failed (its errors are above)",
                shell_words(
                    &argv[..2]
                        .iter()
                        .chain(&argv[2..5])
                        .cloned()
                        .collect::<Vec<_>>()
                )
            );
        }
        for package in &self.packages {
            if !executables.contains_key(package) {
                bail_help!("cargo built `{package}` but reported no executable for it"; "an agent crate needs a binary target named like the agent \
                     (src/main.rs in agents/{package}/)");
            }
        }
        Ok(executables)
    }
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

/// The package and executable of a `compiler-artifact` message for one of `packages`' binaries.
fn executable(line: &str, packages: &[String]) -> Option<(String, PathBuf)> {
    let message: serde_json::Value = serde_json::from_str(line).ok()?;
    if message.get("reason")?.as_str()? != "compiler-artifact" {
        return None;
    }
    let target = message.get("target")?;
    let is_bin = target.get("kind")?.as_array()?.iter().any(|k| k == "bin");
    let name = target.get("name")?.as_str()?;
    let exe = message.get("executable")?.as_str()?;
    (is_bin && packages.iter().any(|p| p == name)).then(|| (name.to_string(), PathBuf::from(exe)))
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
        assert_eq!(
            executable(bin, &packages),
            Some(("assistant".into(), PathBuf::from("/t/assistant")))
        );
        assert_eq!(executable(lib, &packages), None);
        assert_eq!(executable(other, &packages), None);
        assert_eq!(executable("not json", &packages), None);
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
