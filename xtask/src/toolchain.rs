//! The toolchain that cross-compiles agents for AgentCore (linux/arm64): the Rust target, and a
//! C compiler for the C inside dependencies (aws-lc-sys, ring).
//!
//! Choice, in order: a native aarch64 Linux host needs nothing extra; else zig through
//! cargo-zigbuild (one `pip install`, no root, works on macOS too); else a gcc cross compiler.

use std::path::PathBuf;

/// What AgentCore runs: static binaries need nothing from the image.
pub const TARGET: &str = "aarch64-unknown-linux-musl";

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CrossToolchain {
    /// The host is aarch64 Linux: its own C compiler builds for the target.
    Native,
    /// `cargo zigbuild`: zig compiles the C code and links.
    Zig,
    /// A gcc cross compiler for the C code; Rust's rust-lld links (see .cargo/config.toml).
    Gcc { cc: String, ar: String },
}

impl CrossToolchain {
    /// The cargo subcommand that builds with it.
    pub fn cargo_subcommand(&self) -> &'static str {
        match self {
            CrossToolchain::Zig => "zigbuild",
            CrossToolchain::Native | CrossToolchain::Gcc { .. } => "build",
        }
    }

    /// Environment for the cargo invocation. Set on the process, these take precedence over the
    /// defaults in .cargo/config.toml's [env].
    pub fn env(&self) -> Vec<(String, String)> {
        match self {
            CrossToolchain::Gcc { cc, ar } => vec![
                ("CC_aarch64_unknown_linux_musl".into(), cc.clone()),
                ("AR_aarch64_unknown_linux_musl".into(), ar.clone()),
            ],
            CrossToolchain::Native => vec![
                ("CC_aarch64_unknown_linux_musl".into(), "cc".into()),
                ("AR_aarch64_unknown_linux_musl".into(), "ar".into()),
            ],
            // cargo-zigbuild sets CC/AR/linker for the target itself.
            CrossToolchain::Zig => Vec::new(),
        }
    }

    pub fn describe(&self) -> String {
        match self {
            CrossToolchain::Native => "native aarch64 host".into(),
            CrossToolchain::Zig => "zig (cargo-zigbuild)".into(),
            CrossToolchain::Gcc { cc, .. } => format!("gcc cross compiler ({cc})"),
        }
    }
}

/// What to run to get a cross toolchain, when there is none. pip needs no root.
pub const INSTALL_ZIG: &str = "pip install cargo-zigbuild ziglang";
pub const INSTALL_GCC: &str = "apt-get install -y gcc-aarch64-linux-gnu";

/// Finds the best available cross toolchain, or says how to get one.
pub fn detect() -> Result<CrossToolchain, String> {
    if std::env::consts::OS == "linux" && std::env::consts::ARCH == "aarch64" {
        return Ok(CrossToolchain::Native);
    }
    if has_zig() {
        return Ok(CrossToolchain::Zig);
    }
    for prefix in ["aarch64-linux-musl", "aarch64-linux-gnu"] {
        let cc = format!("{prefix}-gcc");
        if which(&cc).is_some() {
            return Ok(CrossToolchain::Gcc {
                cc,
                ar: format!("{prefix}-ar"),
            });
        }
    }
    Err(format!(
        "no C cross compiler for {TARGET} (aws-lc-sys and ring compile C)\n  \
         fix: `{INSTALL_ZIG}` (no root needed), or `{INSTALL_GCC}` on Debian/Ubuntu; \
         `cargo xtask doctor --fix` does the first for you"
    ))
}

/// cargo-zigbuild on PATH and a zig it can use: a `zig` binary or pip's `ziglang` module.
fn has_zig() -> bool {
    which("cargo-zigbuild").is_some()
        && (which("zig").is_some()
            || duct::cmd!("python3", "-c", "import ziglang")
                .stdout_null()
                .stderr_null()
                .unchecked()
                .run()
                .is_ok_and(|o| o.status.success()))
}

/// The Rust target and the best cross toolchain; installs what is missing (rustup; zig through
/// `pip`, no root needed),
/// the way `cargo xtask doctor --fix` would, so that a fresh machine can build right away.
pub fn ensure(ctx: &crate::Context) -> anyhow::Result<CrossToolchain> {
    if !rust_target_installed(TARGET) {
        let t = ctx.out.timed(format!("rustup target add {TARGET}"));
        duct::cmd!("rustup", "target", "add", TARGET)
            .stdout_to_stderr()
            .run()
            .map_err(|e| anyhow::anyhow!("cannot add the {TARGET} target with rustup: {e}"))?;
        t.done();
    }
    if let Ok(found) = detect() {
        return Ok(found);
    }
    ctx.out.step(format!(
        "no C cross compiler for {TARGET}: installing zig (`{INSTALL_ZIG}`)"
    ));
    crate::doctor::fix(ctx, crate::doctor::checks(), |c| {
        c.name == "C cross compiler"
    })?;
    detect().map_err(|msg| {
        anyhow::anyhow!(
            "{msg}\n  note: if pip installed into ~/.local/bin, add that folder to PATH"
        )
    })
}

/// Whether the Rust standard library for `target` is installed (rustup's view).
pub fn rust_target_installed(target: &str) -> bool {
    duct::cmd!("rustup", "target", "list", "--installed")
        .stderr_null()
        .read()
        .is_ok_and(|out| out.lines().any(|l| l.trim() == target))
}

/// The full path of `program` on PATH.
pub fn which(program: &str) -> Option<PathBuf> {
    let paths = std::env::var_os("PATH")?;
    std::env::split_paths(&paths)
        .map(|dir| dir.join(program))
        .find(|p| p.is_file())
}
