//! The programs the xtask runs that the README does not ask a machine to have, installed by the
//! xtask itself: pinned (version + SHA-256, `pins.rs`), downloaded once, unpacked without root
//! into a folder the caller names (the xtask's: `target/xtask/tools/`) and always run by full
//! path, never looked up on PATH.
//!
//! Owns: the pins, download and verification, unpacking wheels and Debian packages, the
//! hash-locked pip install, `bin/` and the hermetic PATH. Knows nothing of what the tools are
//! used for (the xtask's `toolchain` turns zig into a cross compiler).
//!
//! - the cross toolchain: zig and cargo-zigbuild's `zig cc` adapter;
//! - qemu-user (`run --arm64`), and what the tests and benchmarks use: skopeo, umoci, the CNCF
//!   registry (Debian packages), moto, the AWS CLI and spdx-tools (a hash-locked pip install),
//!   and the prebuilt `hashicorp/aws` bindings whose schemas the infra's extracts come from.
//!
//! What the README does ask for (rustup, python3 with pip, git, a host C compiler) and what no
//! reachable registry serves (terraform and its aws provider) are found, never installed:
//! `doctor` names them. `hermetic_path` builds the PATH the tests run with, holding only those
//! and this folder's `bin/`, so that a tool installed by hand can never stand in for a missing
//! install step.

pub mod fetch;
pub mod pins;
mod python;
pub mod unpack;

pub use python::python3;

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};

use pins::{Download, Host, Pin};

/// Where progress goes: a step a person wants to see, and detail for `-v`.
pub trait Log {
    fn step(&self, line: &str);
    fn verbose(&self, line: &str);
}

/// A program (or family of programs) the xtask installs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tool {
    /// zig + cargo-zigbuild: the C compiler and linker for the agents' target.
    Zig,
    /// `qemu-aarch64-static`.
    Qemu,
    Skopeo,
    Umoci,
    /// `docker-registry`, the CNCF distribution registry.
    Registry,
    /// moto (`moto_server`), the AWS CLI (`aws`), the SPDX validator (`pyspdxtools`) and the
    /// official AgentCore SDK (`python3-pinned`), from the hash-locked requirements.
    Python,
    /// The published `hashicorp/aws` schemas: prebuilt CDK-for-Terraform bindings, of which
    /// only the jsii assembly is unpacked. Data for a test, no command.
    ProviderSchemas,
}

impl Tool {
    pub const ALL: [Tool; 7] = [
        Tool::Zig,
        Tool::Qemu,
        Tool::Skopeo,
        Tool::Umoci,
        Tool::Registry,
        Tool::Python,
        Tool::ProviderSchemas,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Tool::Zig => "zig + cargo-zigbuild",
            Tool::Qemu => "qemu-aarch64-static",
            Tool::Skopeo => "skopeo",
            Tool::Umoci => "umoci",
            Tool::Registry => "docker-registry",
            Tool::Python => "moto + aws CLI + spdx-tools + bedrock-agentcore",
            Tool::ProviderSchemas => "cdktn-provider-aws (hashicorp/aws schemas)",
        }
    }

    pub fn version(self) -> String {
        match self {
            Tool::Zig => format!("{} + {}", pins::ZIG.version, pins::CARGO_ZIGBUILD.version),
            Tool::Qemu => pins::QEMU_USER_STATIC.version.into(),
            Tool::Skopeo => pins::SKOPEO.version.into(),
            Tool::Umoci => pins::UMOCI.version.into(),
            Tool::Registry => pins::DOCKER_REGISTRY.version.into(),
            Tool::Python => python::REQUIREMENTS.into(),
            Tool::ProviderSchemas => pins::PROVIDER_SCHEMAS
                .iter()
                .map(|p| p.version)
                .collect::<Vec<_>>()
                .join(" + "),
        }
    }

    /// What it is for, for `doctor`.
    pub fn purpose(self) -> &'static str {
        match self {
            Tool::Zig => "compiles the agents' C code and links them for aarch64",
            Tool::Qemu => "runs arm64 binaries here (`run --arm64`, image tests)",
            Tool::Skopeo => "reads images from outside (tests, `bench push`)",
            Tool::Umoci => "unpacks images like a container runtime (tests)",
            Tool::Registry => "a real OCI registry (tests, benchmarks)",
            Tool::Python => {
                "the AWS emulator and CLI, the SPDX validator, the reference AgentCore server \
                 (tests, benchmarks)"
            }
            Tool::ProviderSchemas => {
                "the published provider schemas infra/schema/ is derived from (tests)"
            }
        }
    }

    /// The commands it puts in `bin/`, for tests and people to run by name.
    pub fn commands(self) -> &'static [&'static str] {
        match self {
            Tool::Zig => &[],
            Tool::Qemu => &["qemu-aarch64-static"],
            Tool::Skopeo => &["skopeo"],
            Tool::Umoci => &["umoci"],
            Tool::Registry => &["docker-registry"],
            Tool::Python => &["moto_server", "aws", "pyspdxtools", python::INTERPRETER],
            Tool::ProviderSchemas => &[],
        }
    }

    /// Only the tests and benchmarks need it (the rest the commands install when they need it).
    pub fn for_tests(self) -> bool {
        !matches!(self, Tool::Zig | Tool::Qemu)
    }

    /// Not needed on this host: an aarch64 Linux host runs arm64 binaries itself.
    pub fn not_needed_here(self) -> bool {
        self == Tool::Qemu && Host::current() == Some(Host::LinuxAarch64)
    }

    fn pins(self) -> Vec<&'static Pin> {
        match self {
            Tool::Zig => vec![&pins::ZIG, &pins::CARGO_ZIGBUILD],
            Tool::Qemu => vec![&pins::QEMU_USER_STATIC],
            Tool::Skopeo => std::iter::once(&pins::SKOPEO)
                .chain(pins::SKOPEO_LIBRARIES)
                .collect(),
            Tool::Umoci => vec![&pins::UMOCI],
            Tool::Registry => vec![&pins::DOCKER_REGISTRY],
            Tool::Python => Vec::new(),
            Tool::ProviderSchemas => pins::PROVIDER_SCHEMAS.to_vec(),
        }
    }
}

/// `target/xtask/tools/`: everything the xtask installed, and `bin/` with the commands.
pub struct Tools {
    pub dir: PathBuf,
    /// The workspace root: the Python lock file is read from there.
    root: PathBuf,
}

impl Tools {
    /// The tools of the workspace at `root`, installed into `dir` (where is the caller's
    /// choice: the xtask's is in `Project::tools`).
    pub fn new(root: &Path, dir: PathBuf) -> Tools {
        Tools {
            dir,
            root: root.to_path_buf(),
        }
    }

    pub fn bin_dir(&self) -> PathBuf {
        self.dir.join("bin")
    }

    /// Where a pin is unpacked on this host, if the pin covers it.
    fn pin_dir(&self, pin: &Pin) -> Option<(PathBuf, Download)> {
        let download = pin.download(Host::current()?)?;
        Some((
            self.dir.join("pkgs").join(pin.dir_name(&download)),
            download,
        ))
    }

    pub fn is_installed(&self, tool: Tool) -> bool {
        match tool {
            Tool::Python => python::is_installed(self),
            _ => {
                tool.pins().iter().all(|pin| {
                    self.pin_dir(pin)
                        .is_some_and(|(dir, _)| dir.join(INSTALLED).is_file())
                }) && tool
                    .commands()
                    .iter()
                    .all(|c| self.bin_dir().join(c).exists())
            }
        }
    }

    /// Installs `tool` unless it is there; gives nothing back but its commands in `bin/`.
    pub fn ensure(&self, tool: Tool, out: &dyn Log) -> anyhow::Result<()> {
        if tool.not_needed_here() || self.is_installed(tool) {
            return Ok(());
        }
        let _lock = self.lock()?;
        if self.is_installed(tool) {
            return Ok(()); // another xtask installed it while we waited
        }
        let start = std::time::Instant::now();
        out.step(&format!(
            "install {} {} into {}",
            tool.name(),
            tool.version(),
            self.dir.display()
        ));
        match tool {
            Tool::Python => python::install(self, out)?,
            _ => {
                for pin in tool.pins() {
                    self.install_pin(pin, out)?;
                }
                self.write_commands(tool)?;
            }
        }
        out.verbose(&format!(
            "installed {} ({:.1}s)",
            tool.name(),
            start.elapsed().as_secs_f64()
        ));
        Ok(())
    }

    /// The full path of command `name` (one of a tool's `commands`), installing its tool.
    pub fn command(&self, tool: Tool, name: &str, out: &dyn Log) -> anyhow::Result<PathBuf> {
        self.ensure(tool, out)?;
        Ok(self.bin_dir().join(name))
    }

    /// The folder a pin is unpacked in, installing it when missing (under the lock).
    pub fn unpacked(&self, pin: &Pin, out: &dyn Log) -> anyhow::Result<PathBuf> {
        let (dir, _) = self.require_pin_dir(pin)?;
        if dir.join(INSTALLED).is_file() {
            return Ok(dir);
        }
        let _lock = self.lock()?;
        self.install_pin(pin, out)
    }

    fn require_pin_dir(&self, pin: &Pin) -> anyhow::Result<(PathBuf, Download)> {
        self.pin_dir(pin).with_context(|| {
            format!(
                "{} {} is pinned for {}, not for this machine ({} {})\n  \
                 help: install it yourself and see xtask/crates/pinned-tools/src/pins.rs to add a pin",
                pin.name,
                pin.version,
                pin.files
                    .iter()
                    .map(|(h, _)| format!("{h:?}"))
                    .collect::<Vec<_>>()
                    .join(", "),
                std::env::consts::OS,
                std::env::consts::ARCH
            )
        })
    }

    /// Downloads and unpacks one pin into `pkgs/<name>-<version>-<sha>/`; the marker file is
    /// written last, so an interrupted install is redone, never half-used.
    fn install_pin(&self, pin: &Pin, out: &dyn Log) -> anyhow::Result<PathBuf> {
        let (dir, download) = self.require_pin_dir(pin)?;
        if dir.join(INSTALLED).is_file() {
            return Ok(dir);
        }
        let downloads = self.dir.join("downloads");
        std::fs::create_dir_all(&downloads)
            .with_context(|| format!("cannot create {}", downloads.display()))?;
        let file = downloads.join(&download.sha256[..16]);
        fetch::fetch(&download, &file, &format!("{} {}", pin.name, pin.version))?;
        if dir.exists() {
            std::fs::remove_dir_all(&dir)
                .with_context(|| format!("cannot clear {}", dir.display()))?;
        }
        let count = if download.url.ends_with(".whl") {
            unpack::wheel(&file, WHEEL_MEMBERS, &dir)?
        } else if pin.name == pins::QEMU_USER_STATIC.name {
            // One emulator of the package's thirty.
            unpack::deb(&file, &["usr/bin/qemu-aarch64-static"], &dir)?
        } else {
            unpack::deb(&file, DEB_MEMBERS, &dir)?
        };
        let _ = std::fs::remove_file(&file);
        if count == 0 {
            bail!(
                "{} {} holds none of the expected files",
                pin.name,
                pin.version
            );
        }
        out.verbose(&format!("{}: {count} files in {}", pin.name, dir.display()));
        std::fs::write(dir.join(INSTALLED), format!("{}\n", download.sha256))
            .with_context(|| format!("cannot write {}", dir.display()))?;
        Ok(dir)
    }

    /// `bin/<command>`: a link to the unpacked program, or a script that sets what it needs.
    fn write_commands(&self, tool: Tool) -> anyhow::Result<()> {
        let bin = self.bin_dir();
        std::fs::create_dir_all(&bin)
            .with_context(|| format!("cannot create {}", bin.display()))?;
        let dir = |pin: &Pin| -> anyhow::Result<PathBuf> { Ok(self.require_pin_dir(pin)?.0) };
        match tool {
            Tool::Zig | Tool::Python | Tool::ProviderSchemas => {}
            Tool::Qemu => link(
                &dir(&pins::QEMU_USER_STATIC)?.join("usr/bin/qemu-aarch64-static"),
                &bin.join("qemu-aarch64-static"),
            )?,
            Tool::Umoci => link(
                &dir(&pins::UMOCI)?.join("usr/bin/umoci"),
                &bin.join("umoci"),
            )?,
            Tool::Registry => link(
                &dir(&pins::DOCKER_REGISTRY)?.join("usr/bin/docker-registry"),
                &bin.join("docker-registry"),
            )?,
            Tool::Skopeo => {
                let mut libs = Vec::new();
                for pin in pins::SKOPEO_LIBRARIES {
                    let d = dir(pin)?;
                    libs.push(d.join("usr/lib/x86_64-linux-gnu"));
                    libs.push(d.join("lib/x86_64-linux-gnu"));
                }
                let libs = std::env::join_paths(&libs).context("a library path holds ':'")?;
                write_script(
                    &bin.join("skopeo"),
                    &format!(
                        "LD_LIBRARY_PATH={}${{LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}} exec {} \"$@\"",
                        quote(Path::new(&libs)),
                        quote(&dir(&pins::SKOPEO)?.join("usr/bin/skopeo"))
                    ),
                )?;
            }
        }
        Ok(())
    }

    /// Serialises installs between xtask processes (tests run several at once).
    fn lock(&self) -> anyhow::Result<std::fs::File> {
        std::fs::create_dir_all(&self.dir)
            .with_context(|| format!("cannot create {}", self.dir.display()))?;
        let path = self.dir.join(".lock");
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .with_context(|| format!("cannot open {}", path.display()))?;
        file.lock()
            .with_context(|| format!("cannot lock {}", path.display()))?;
        Ok(file)
    }

    /// The PATH the tests run with: this folder's `bin/`, then a folder of links to what the
    /// README asks a machine to have (and terraform, which no registry here serves), and
    /// nothing else. A test that reaches for anything else fails with "not found".
    pub fn hermetic_path(&self, allowed: &[(&str, PathBuf)]) -> anyhow::Result<OsString> {
        let dir = self.dir.join("hermetic-bin");
        if dir.exists() {
            std::fs::remove_dir_all(&dir)
                .with_context(|| format!("cannot clear {}", dir.display()))?;
        }
        std::fs::create_dir_all(&dir)
            .with_context(|| format!("cannot create {}", dir.display()))?;
        for (name, target) in allowed {
            link(target, &dir.join(name))?;
        }
        std::env::join_paths([self.bin_dir(), dir]).context("a tools path holds ':'")
    }
}

/// The marker of a finished install.
const INSTALLED: &str = ".installed";

/// What is taken out of wheels: zig's compiler and library, cargo-zigbuild's binary, the
/// provider bindings' jsii assembly (46 MB of their 64–71 MB; the Python code is not needed).
const WHEEL_MEMBERS: &[&str] = &["ziglang/", "cargo_zigbuild-", "cdktn_provider_aws/_jsii/"];

/// What is taken out of Debian packages: programs and shared libraries, no docs or man pages.
const DEB_MEMBERS: &[&str] = &[
    "usr/bin/",
    "usr/lib/x86_64-linux-gnu/",
    "lib/x86_64-linux-gnu/",
];

/// The zig binary and cargo-zigbuild's, once installed.
pub fn zig_paths(tools: &Tools, out: &dyn Log) -> anyhow::Result<(PathBuf, PathBuf)> {
    let zig = tools.unpacked(&pins::ZIG, out)?.join("ziglang/zig");
    let czb_dir = tools.unpacked(&pins::CARGO_ZIGBUILD, out)?;
    let czb = czb_dir.join(format!(
        "cargo_zigbuild-{}.data/scripts/cargo-zigbuild",
        pins::CARGO_ZIGBUILD.version
    ));
    for path in [&zig, &czb] {
        if !path.is_file() {
            bail!(
                "{} is missing from the unpacked toolchain\n  help: remove {} and run again",
                path.display(),
                tools.dir.join("pkgs").display()
            );
        }
    }
    Ok((zig, czb))
}

fn link(target: &Path, at: &Path) -> anyhow::Result<()> {
    if !target.exists() {
        bail!("{} is not there", target.display());
    }
    let _ = std::fs::remove_file(at);
    #[cfg(unix)]
    std::os::unix::fs::symlink(target, at)
        .with_context(|| format!("cannot link {} to {}", at.display(), target.display()))?;
    #[cfg(not(unix))]
    std::fs::copy(target, at)
        .with_context(|| format!("cannot copy {} to {}", target.display(), at.display()))?;
    Ok(())
}

/// Writes a `/bin/sh` script (only when its content changed) and makes it executable.
pub fn write_script(path: &Path, body: &str) -> anyhow::Result<()> {
    let text =
        format!("#!/bin/sh\n# Written by `cargo xtask` (xtask/src/tools); do not edit.\n{body}\n");
    if std::fs::read_to_string(path).ok().as_deref() != Some(text.as_str()) {
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("cannot create {}", parent.display()))?;
        }
        let tmp = path.with_extension(format!("tmp{}", std::process::id()));
        std::fs::write(&tmp, text).with_context(|| format!("cannot write {}", tmp.display()))?;
        unpack::make_executable(&tmp)?;
        std::fs::rename(&tmp, path).with_context(|| format!("cannot write {}", path.display()))?;
    }
    Ok(())
}

/// A path as one `/bin/sh` word.
pub fn quote(path: &Path) -> String {
    format!("'{}'", path.display().to_string().replace('\'', "'\\''"))
}
