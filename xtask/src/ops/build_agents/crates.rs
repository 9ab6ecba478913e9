//! The crates linked into an agent's binary: what its licence notices (`notices.rs`) and its
//! SBOM (`sbom.rs`) list.
//!
//! The graph is `cargo metadata --locked --filter-platform <agents' target>`: from the agent's
//! package, normal dependencies only. Build dependencies and proc macros run on the build
//! machine and leave no code in the program; dev dependencies are for tests.
//!
//! `cargo metadata` resolves features for the whole workspace at once, so its graph also holds
//! optional dependencies that only another member turns on (the xtask's TLS stack adds `ring`
//! under rustls, which the agents use with aws-lc). The walk therefore keeps only packages the
//! agents' own `cargo build` compiled for the target: exactly what the linker was given.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};
use cargo_metadata::{DependencyKind, Metadata, Node, Package, PackageId, TargetKind};
use serde::Deserialize;

use crate::toolchain::TARGET;

/// Where a crate's source comes from.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Origin {
    CratesIo,
    /// A path dependency: in this repository, the workspace's own crates.
    Path,
    /// A git repository or another registry, as cargo names it.
    Other(String),
}

/// One crate of a program.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Crate {
    pub name: String,
    pub version: String,
    /// The licence the crate declares (cargo's `license`, an SPDX expression); for the
    /// workspace's own crates, the workspace's when they declare none.
    pub license: Option<String>,
    /// cargo's `license-file`, relative to `dir`, with `/` separators.
    pub license_file: Option<String>,
    pub repository: Option<String>,
    pub origin: Origin,
    /// The folder of the package's Cargo.toml, where its licence texts are.
    pub dir: PathBuf,
    /// `sha256` hex of the downloaded `.crate` file, from Cargo.lock (registry crates only).
    pub checksum: Option<String>,
}

impl Crate {
    /// `name version`, as people write it.
    pub fn label(&self) -> String {
        format!("{} {}", self.name, self.version)
    }
}

/// The crates of one program and how they depend on each other.
#[derive(Debug)]
pub struct Program {
    /// Sorted by name, then version; the program's own package is one of them.
    pub crates: Vec<Crate>,
    /// The program's package, as an index into `crates`.
    pub root: usize,
    /// `(a, b)`: crate `a` depends on crate `b` (indices into `crates`), sorted.
    pub edges: Vec<(usize, usize)>,
}

/// The workspace's dependency graph, read once per build.
pub struct Graph {
    metadata: Metadata,
    /// Cargo.lock's checksums by (name, version, source).
    checksums: BTreeMap<(String, String, String), String>,
    /// `[workspace.package]`'s `license` and `repository`, for the workspace's own crates.
    workspace_license: Option<String>,
    workspace_repository: Option<String>,
}

impl Graph {
    /// Runs `cargo metadata` in the workspace at `root` and reads its Cargo.lock. Run it after
    /// the build: `--locked` then holds whatever lock file the build wrote.
    pub fn load(root: &Path) -> anyhow::Result<Graph> {
        let metadata = cargo_metadata::MetadataCommand::new()
            .current_dir(root)
            .manifest_path(root.join("Cargo.toml"))
            .other_options(vec![
                "--locked".to_string(),
                "--filter-platform".to_string(),
                TARGET.to_string(),
            ])
            .exec()
            .map_err(|err| match err {
                cargo_metadata::Error::CargoMetadata { stderr } => helped!("`cargo metadata --locked` failed, so the crates in the images cannot be \
                     listed:\n{}", stderr.trim(); "Cargo.lock must match the manifests: run `cargo \
                     build` once and commit the Cargo.lock it writes"),
                other => anyhow::anyhow!(other).context("cannot run `cargo metadata`"),
            })?;
        let lock_path = root.join("Cargo.lock");
        let lock = std::fs::read_to_string(&lock_path)
            .with_context(|| format!("cannot read {}", lock_path.display()))?;
        let manifest_path = root.join("Cargo.toml");
        let manifest = std::fs::read_to_string(&manifest_path)
            .with_context(|| format!("cannot read {}", manifest_path.display()))?;
        let workspace: toml::Table = toml::from_str(&manifest)
            .with_context(|| format!("{} is not valid TOML", manifest_path.display()))?;
        let package_key = |key: &str| {
            workspace
                .get("workspace")
                .and_then(|w| w.get("package"))
                .and_then(|p| p.get(key))
                .and_then(|v| v.as_str())
                .map(str::to_string)
        };
        Ok(Graph {
            metadata,
            checksums: checksums(&lock)
                .with_context(|| format!("{} is not a Cargo lock file", lock_path.display()))?,
            workspace_license: package_key("license"),
            workspace_repository: package_key("repository"),
        })
    }

    /// The crates linked into the binary of workspace package `package`: its normal
    /// dependencies, transitively, that are not proc macros and that cargo compiled for the
    /// target (`compiled`: package ids from the build's `compiler-artifact` messages).
    pub fn program(&self, package: &str, compiled: &BTreeSet<String>) -> anyhow::Result<Program> {
        if compiled.is_empty() {
            bail!(
                "cargo reported no crate compiled for {TARGET}, so the crates linked into \
                 `{package}` are unknown"
            );
        }
        let resolve = self
            .metadata
            .resolve
            .as_ref()
            .context("`cargo metadata` gave no dependency graph")?;
        let nodes: BTreeMap<&PackageId, &Node> = resolve.nodes.iter().map(|n| (&n.id, n)).collect();
        let root = self.workspace_package(package)?;

        let mut seen: BTreeSet<&PackageId> = BTreeSet::from([&root.id]);
        let mut edges: BTreeSet<(&PackageId, &PackageId)> = BTreeSet::new();
        let mut queue = VecDeque::from([&root.id]);
        while let Some(id) = queue.pop_front() {
            let node = nodes
                .get(id)
                .with_context(|| format!("`cargo metadata` has no graph node for {id}"))?;
            for dep in &node.deps {
                let normal = dep
                    .dep_kinds
                    .iter()
                    .any(|k| k.kind == DependencyKind::Normal);
                if !normal || !compiled.contains(&dep.pkg.repr) {
                    continue;
                }
                if is_proc_macro(self.package(&dep.pkg)?) {
                    continue;
                }
                edges.insert((id, &dep.pkg));
                if seen.insert(&dep.pkg) {
                    queue.push_back(&dep.pkg);
                }
            }
        }

        let mut crates: Vec<(&PackageId, Crate)> = seen
            .iter()
            .map(|id| Ok((*id, self.describe(self.package(id)?))))
            .collect::<anyhow::Result<_>>()?;
        crates.sort_by(|(_, a), (_, b)| {
            (&a.name, &a.version, &a.origin).cmp(&(&b.name, &b.version, &b.origin))
        });
        let index: BTreeMap<&PackageId, usize> = crates
            .iter()
            .enumerate()
            .map(|(i, (id, _))| (*id, i))
            .collect();
        let mut edges: Vec<(usize, usize)> =
            edges.iter().map(|(a, b)| (index[a], index[b])).collect();
        edges.sort();
        Ok(Program {
            root: index[&root.id],
            crates: crates.into_iter().map(|(_, c)| c).collect(),
            edges,
        })
    }

    /// The crate named `name` that workspace package `of` depends on (any kind of dependency).
    pub fn dependency(&self, of: &str, name: &str) -> anyhow::Result<Crate> {
        let from = self.workspace_package(of)?;
        let node = self
            .metadata
            .resolve
            .as_ref()
            .and_then(|r| r.nodes.iter().find(|n| n.id == from.id))
            .with_context(|| format!("`cargo metadata` has no graph node for `{of}`"))?;
        for dep in &node.deps {
            let package = self.package(&dep.pkg)?;
            if package.name.as_str() == name {
                return Ok(self.describe(package));
            }
        }
        bail!("`{of}` does not depend on `{name}` (according to `cargo metadata`)")
    }

    fn workspace_package(&self, name: &str) -> anyhow::Result<&Package> {
        self.metadata
            .workspace_packages()
            .into_iter()
            .find(|p| p.name.as_str() == name)
            .with_context(|| format!("the workspace has no package `{name}`"))
    }

    fn package(&self, id: &PackageId) -> anyhow::Result<&Package> {
        self.metadata
            .packages
            .iter()
            .find(|p| &p.id == id)
            .with_context(|| format!("`cargo metadata` lists no package {id}"))
    }

    fn describe(&self, package: &Package) -> Crate {
        let dir = package
            .manifest_path
            .parent()
            .map(|d| d.as_std_path().to_path_buf())
            .unwrap_or_default();
        let origin = match &package.source {
            None => Origin::Path,
            Some(source) if source.is_crates_io() => Origin::CratesIo,
            Some(source) => Origin::Other(source.repr.clone()),
        };
        let own = origin == Origin::Path;
        let checksum = package.source.as_ref().and_then(|source| {
            self.checksums
                .get(&(
                    package.name.to_string(),
                    package.version.to_string(),
                    source.repr.clone(),
                ))
                .cloned()
        });
        let license_file = package.license_file.as_ref().map(|file| {
            let file = file.as_std_path();
            file.strip_prefix(&dir)
                .unwrap_or(file)
                .components()
                .map(|c| c.as_os_str().to_string_lossy())
                .collect::<Vec<_>>()
                .join("/")
        });
        Crate {
            name: package.name.to_string(),
            version: package.version.to_string(),
            license: package
                .license
                .clone()
                .or_else(|| own.then(|| self.workspace_license.clone()).flatten()),
            license_file,
            repository: package
                .repository
                .clone()
                .or_else(|| own.then(|| self.workspace_repository.clone()).flatten()),
            origin,
            dir,
            checksum,
        }
    }
}

fn is_proc_macro(package: &Package) -> bool {
    package
        .targets
        .iter()
        .any(|t| t.kind.contains(&TargetKind::ProcMacro))
}

/// Cargo.lock's `checksum` of every registry package, by (name, version, source).
fn checksums(lock: &str) -> anyhow::Result<BTreeMap<(String, String, String), String>> {
    #[derive(Deserialize)]
    struct Lock {
        #[serde(default)]
        package: Vec<Locked>,
    }
    #[derive(Deserialize)]
    struct Locked {
        name: String,
        version: String,
        source: Option<String>,
        checksum: Option<String>,
    }
    let lock: Lock = toml::from_str(lock)?;
    Ok(lock
        .package
        .into_iter()
        .filter_map(|p| Some(((p.name, p.version, p.source?), p.checksum?)))
        .collect())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    const CRATES_IO: &str = "registry+https://github.com/rust-lang/crates.io-index";

    fn id(name: &str) -> String {
        match name {
            "app" | "shared" => format!("path+file:///w/{name}#0.1.0"),
            _ => format!("{CRATES_IO}#{name}@1.0.0"),
        }
    }

    fn package(name: &str, kind: &str, license: Option<&str>) -> serde_json::Value {
        let path = matches!(name, "app" | "shared");
        let dir = if path {
            format!("/w/{name}")
        } else {
            format!("/cargo/registry/src/index/{name}-1.0.0")
        };
        serde_json::json!({
            "name": name,
            "version": if path { "0.1.0" } else { "1.0.0" },
            "id": id(name),
            "license": license,
            "license_file": null,
            "source": if path { serde_json::Value::Null } else { CRATES_IO.into() },
            "dependencies": [],
            "targets": [{"kind": [kind], "crate_types": [kind], "name": name,
                         "src_path": format!("{dir}/src/lib.rs")}],
            "features": {},
            "manifest_path": format!("{dir}/Cargo.toml"),
            "repository": if path { serde_json::Value::Null }
                          else { format!("https://example.com/{name}").into() },
        })
    }

    fn dep(name: &str, kinds: &[Option<&str>]) -> serde_json::Value {
        serde_json::json!({
            "name": name.replace('-', "_"),
            "pkg": id(name),
            "dep_kinds": kinds.iter().map(|k| serde_json::json!({"kind": k, "target": null}))
                .collect::<Vec<_>>(),
        })
    }

    /// A workspace whose `app` has a normal dependency `lib` (which uses `leaf`), a proc macro
    /// `derive`, a build dependency `cc` (which uses `jobserver`), a dev dependency `testkit`,
    /// a dependency `shared` from the workspace without a licence of its own, and `optional`,
    /// which the build did not compile (another member's feature brought it in).
    pub(crate) fn graph() -> Graph {
        let metadata = serde_json::json!({
            "packages": [
                package("app", "bin", None),
                package("shared", "lib", None),
                package("lib", "lib", Some("MIT OR Apache-2.0")),
                package("leaf", "lib", Some("MIT/Apache-2.0")),
                package("derive", "proc-macro", Some("MIT")),
                package("cc", "lib", Some("MIT")),
                package("jobserver", "lib", Some("MIT")),
                package("testkit", "lib", Some("MIT")),
                package("optional", "lib", Some("ISC")),
            ],
            "workspace_members": [id("app"), id("shared")],
            "resolve": {"root": null, "nodes": [
                {"id": id("app"), "features": [], "dependencies": [], "deps": [
                    dep("lib", &[None]),
                    dep("derive", &[None]),
                    dep("cc", &[Some("build")]),
                    dep("testkit", &[Some("dev")]),
                    dep("shared", &[None, Some("dev")]),
                ]},
                {"id": id("shared"), "features": [], "dependencies": [], "deps": [
                    dep("lib", &[None]),
                ]},
                {"id": id("lib"), "features": [], "dependencies": [], "deps": [
                    dep("leaf", &[None]),
                    dep("optional", &[None]),
                ]},
                {"id": id("leaf"), "features": [], "dependencies": [], "deps": []},
                {"id": id("derive"), "features": [], "dependencies": [], "deps": [
                    dep("leaf", &[None]),
                ]},
                {"id": id("cc"), "features": [], "dependencies": [], "deps": [
                    dep("jobserver", &[None]),
                ]},
                {"id": id("jobserver"), "features": [], "dependencies": [], "deps": []},
                {"id": id("testkit"), "features": [], "dependencies": [], "deps": []},
                {"id": id("optional"), "features": [], "dependencies": [], "deps": []},
            ]},
            "workspace_root": "/w",
            "target_directory": "/w/target",
            "version": 1,
        });
        let lock = format!(
            "version = 4\n\n[[package]]\nname = \"app\"\nversion = \"0.1.0\"\n\n\
             [[package]]\nname = \"lib\"\nversion = \"1.0.0\"\nsource = \"{CRATES_IO}\"\n\
             checksum = \"{}\"\n",
            "ab".repeat(32)
        );
        Graph {
            metadata: serde_json::from_value(metadata).expect("cargo metadata's format"),
            checksums: checksums(&lock).expect("lock file"),
            workspace_license: Some("Apache-2.0".into()),
            workspace_repository: Some("https://example.com/w".into()),
        }
    }

    /// What the build compiled for the target: everything but `optional`, and no host crates.
    pub(crate) fn compiled() -> BTreeSet<String> {
        ["app", "shared", "lib", "leaf"].map(id).into()
    }

    fn names(program: &Program) -> Vec<&str> {
        program.crates.iter().map(|c| c.name.as_str()).collect()
    }

    #[test]
    fn follows_normal_dependencies_that_were_compiled_for_the_target() {
        let program = graph().program("app", &compiled()).expect("program");
        // No proc macro, build or dev dependency (nor what only they use), nothing uncompiled.
        assert_eq!(names(&program), ["app", "leaf", "lib", "shared"]);
        assert_eq!(program.crates[program.root].name, "app");
        let edge = |a: &str, b: &str| {
            let at = |n: &str| names(&program).iter().position(|x| *x == n).expect(n);
            (at(a), at(b))
        };
        assert_eq!(
            program.edges,
            [
                edge("app", "lib"),
                edge("app", "shared"),
                edge("lib", "leaf"),
                edge("shared", "lib")
            ]
        );
    }

    #[test]
    fn describes_each_crate_from_its_manifest_and_the_lock_file() {
        let program = graph().program("app", &compiled()).expect("program");
        let lib = &program.crates[2];
        assert_eq!(lib.label(), "lib 1.0.0");
        assert_eq!(lib.origin, Origin::CratesIo);
        assert_eq!(lib.license.as_deref(), Some("MIT OR Apache-2.0"));
        assert_eq!(lib.repository.as_deref(), Some("https://example.com/lib"));
        assert_eq!(lib.checksum, Some("ab".repeat(32)));
        assert_eq!(lib.dir, Path::new("/cargo/registry/src/index/lib-1.0.0"));
        // The workspace's own crates: path packages with the workspace's licence, no checksum.
        let shared = &program.crates[3];
        assert_eq!(shared.origin, Origin::Path);
        assert_eq!(shared.license.as_deref(), Some("Apache-2.0"));
        assert_eq!(shared.repository.as_deref(), Some("https://example.com/w"));
        assert_eq!(shared.checksum, None);
    }

    #[test]
    fn an_unknown_package_or_an_empty_build_is_an_error() {
        let err = graph().program("nope", &compiled()).unwrap_err();
        assert!(err.to_string().contains("no package `nope`"), "{err}");
        let err = graph().program("app", &BTreeSet::new()).unwrap_err();
        assert!(err.to_string().contains("no crate compiled"), "{err}");
    }

    #[test]
    fn finds_a_dependency_of_any_kind() {
        let cc = graph().dependency("app", "cc").expect("cc");
        assert_eq!(cc.label(), "cc 1.0.0");
        assert!(graph().dependency("app", "jobserver").is_err());
    }
}
