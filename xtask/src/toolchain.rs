//! The one toolchain that builds agents for AgentCore (linux/arm64, static musl): rustc's
//! aarch64-unknown-linux-musl standard library, and zig as the C compiler and linker for the
//! C inside dependencies (aws-lc-sys), driven through cargo-zigbuild's `zig cc` adapter.
//!
//! Whatever else the machine has (a gcc cross compiler, `CC_*` variables, a native aarch64
//! host, `RUSTFLAGS`), the same pinned zig compiles the same C with the same flags: that is
//! what makes an image's digest a function of the commit alone. So nothing is detected or
//! chosen here: zig is installed when missing (the `pinned-tools` crate), and every variable cargo and
//! cc-rs read for the target is set explicitly, or removed where it would override ours.

use std::path::{Path, PathBuf};

use anyhow::Context as _;

use crate::output::Output;
use crate::project::Project;
use pinned_tools::{self as tools, Tool, Tools, quote, write_script};

/// What AgentCore runs: static binaries need nothing from the image.
pub const TARGET: &str = "aarch64-unknown-linux-musl";

/// The target as cc-rs and cargo spell it in variable names.
const TARGET_ENV: &str = "aarch64_unknown_linux_musl";
const TARGET_CARGO_ENV: &str = "AARCH64_UNKNOWN_LINUX_MUSL";

/// zig's name for the target.
const ZIG_TARGET: &str = "aarch64-linux-musl";

/// The cross toolchain, ready: the environment for the cargo invocation that uses it.
#[derive(Debug, Clone)]
pub struct CrossToolchain {
    /// Set on the cargo process.
    pub set: Vec<(String, String)>,
    /// Removed from the cargo process: they would take precedence over `set`, or change flags.
    pub remove: Vec<String>,
    pub description: String,
}

impl CrossToolchain {
    /// The cargo command with this toolchain's environment applied.
    pub fn apply(&self, mut cmd: duct::Expression) -> duct::Expression {
        for name in &self.remove {
            cmd = cmd.env_remove(name);
        }
        for (key, value) in &self.set {
            cmd = cmd.env(key, value);
        }
        cmd
    }
}

/// Where the wrappers live and what they run, without installing anything (for `--dry-run`).
fn wrapper_dir(tools: &Tools) -> PathBuf {
    tools.dir.join("cross").join(TARGET)
}

/// Installs what is missing (the rust target through rustup, zig and cargo-zigbuild into
/// `target/xtask/tools/`), writes the compiler wrappers, and gives the environment for cargo.
pub fn ensure(project: &Project, out: &Output) -> anyhow::Result<CrossToolchain> {
    ensure_rust_target(project, out)?;
    let tools = project.tools();
    tools.ensure(Tool::Zig, out)?;
    let (zig, cargo_zigbuild) = tools::zig_paths(&tools, out)?;
    let dir = wrapper_dir(&tools);
    let rustc = rustc_version(project)?;
    let zig_cache = tools.dir.join("zig-cache");
    // cargo-zigbuild's adapter looks for `python3 -m ziglang` before CARGO_ZIGBUILD_ZIG_PATH:
    // a path that does not exist keeps a user's own ziglang package out.
    let no_python = tools.dir.join("no-python");
    let preamble = format!(
        "export CARGO_ZIGBUILD_ZIG_PATH={zig}\n\
         export CARGO_ZIGBUILD_ZIG_VERSION={zig_version}\n\
         export CARGO_ZIGBUILD_PYTHON_PATH={no_python}\n\
         export CARGO_ZIGBUILD_RUSTC_VERSION={rustc}\n\
         export ZIG_GLOBAL_CACHE_DIR={cache}\n\
         export ZIG_LOCAL_CACHE_DIR={cache}",
        zig = quote(&zig),
        zig_version = tools::pins::ZIG.version,
        no_python = quote(&no_python),
        cache = quote(&zig_cache),
    );
    let czb = quote(&cargo_zigbuild);
    // `-g` and `-fno-sanitize=all` as cargo-zigbuild passes them: zig would otherwise strip
    // (rustc strips the final binary itself) and add UBSan checks to C code.
    let cc_args = format!("-g -fno-sanitize=all -target {ZIG_TARGET}");
    write_script(
        &dir.join("cc"),
        &format!("{preamble}\nexec {czb} zig cc -- {cc_args} \"$@\""),
    )?;
    write_script(
        &dir.join("c++"),
        &format!("{preamble}\nexec {czb} zig c++ -- {cc_args} \"$@\""),
    )?;
    write_script(
        &dir.join("ar"),
        &format!("{preamble}\nexec {czb} zig ar -- \"$@\""),
    )?;
    write_script(
        &dir.join("ranlib"),
        &format!("{preamble}\nexec {czb} zig ranlib -- \"$@\""),
    )?;
    Ok(environment(project, &tools))
}

/// The environment for cargo, given the wrappers (written or not).
pub fn environment(project: &Project, tools: &Tools) -> CrossToolchain {
    let dir = wrapper_dir(tools);
    let path = |name: &str| dir.join(name).display().to_string();
    let flags = prefix_map_flags(project, tools);
    let set = vec![
        (format!("CC_{TARGET_ENV}"), path("cc")),
        (format!("CXX_{TARGET_ENV}"), path("c++")),
        (format!("AR_{TARGET_ENV}"), path("ar")),
        (format!("RANLIB_{TARGET_ENV}"), path("ranlib")),
        (
            format!("CARGO_TARGET_{TARGET_CARGO_ENV}_LINKER"),
            path("cc"),
        ),
        (format!("CFLAGS_{TARGET_ENV}"), flags.clone()),
        (format!("CXXFLAGS_{TARGET_ENV}"), flags),
        // The flags above are shell words: paths with spaces stay one flag each.
        ("CC_SHELL_ESCAPED_FLAGS".into(), "1".into()),
    ];
    let mut remove: Vec<String> = Vec::new();
    for var in [
        "CC", "CXX", "AR", "RANLIB", "CFLAGS", "CXXFLAGS", "CPPFLAGS", "ARFLAGS",
    ] {
        // cc-rs takes a tool from the first of `<VAR>_<target-with-dashes>`, ours,
        // `TARGET_<VAR>`; and it *adds up* the flags of all of them and of plain `CFLAGS`.
        remove.push(format!("{var}_{TARGET}"));
        remove.push(format!("TARGET_{var}"));
    }
    for var in ["CFLAGS", "CXXFLAGS", "CPPFLAGS", "ARFLAGS"] {
        remove.push(var.to_string());
        remove.push(format!("{var}_{TARGET_ENV}"));
    }
    // These would replace the remapping flags or change code generation for the target.
    for var in [
        "RUSTFLAGS",
        "CARGO_ENCODED_RUSTFLAGS",
        "CARGO_BUILD_RUSTFLAGS",
        "CARGO_TARGET_AARCH64_UNKNOWN_LINUX_MUSL_RUSTFLAGS",
        "CARGO_TARGET_AARCH64_UNKNOWN_LINUX_MUSL_LINKER",
        "CRATE_CC_NO_DEFAULTS",
    ] {
        remove.push(var.to_string());
    }
    // The profiles in Cargo.toml are what the images record; `CARGO_PROFILE_RELEASE_*` (or
    // `_FAST_*`) would change the bytes without a trace in the source, and so would aws-lc-sys's own knobs (its
    // `AWS_LC_SYS_CFLAGS`, a different builder or no assembly).
    remove.extend(
        std::env::vars_os()
            .filter_map(|(k, _)| k.into_string().ok())
            .filter(|k| {
                [
                    "CARGO_PROFILE_RELEASE_",
                    "CARGO_PROFILE_FAST_",
                    "AWS_LC_SYS_",
                    "AWS_LC_FIPS_SYS_",
                ]
                .iter()
                .any(|p| k.starts_with(p))
            }),
    );
    remove.retain(|r| !set.iter().any(|(k, _)| k == r));
    CrossToolchain {
        set,
        remove,
        description: format!(
            "zig {} (cargo-zigbuild {})",
            tools::pins::ZIG.version,
            tools::pins::CARGO_ZIGBUILD.version
        ),
    }
}

/// The machine-specific prefixes of paths that can end up in the binary, mapped to fixed ones:
/// `(from, to)`, the most general first (rustc takes the last match, clang the longest).
pub fn path_prefixes(project: &Project, tools: &Tools) -> Vec<(PathBuf, &'static str)> {
    let mut prefixes: Vec<(PathBuf, &str)> = Vec::new();
    if let Some(home) = cargo_home() {
        prefixes.push((home, "/cargo"));
    }
    if let Some(rustup) = rustup_home() {
        prefixes.push((rustup, "/rustup"));
    }
    prefixes.push((project.target_dir(), "/target"));
    let tools_dir = std::fs::canonicalize(&tools.dir).unwrap_or_else(|_| tools.dir.clone());
    prefixes.push((tools_dir, "/tools"));
    prefixes
}

/// `-ffile-prefix-map` for the C compiler: `__FILE__` in aws-lc's error macros would otherwise
/// put the cargo home's path into every binary.
fn prefix_map_flags(project: &Project, tools: &Tools) -> String {
    path_prefixes(project, tools)
        .iter()
        .map(|(from, to)| {
            quote(Path::new(&format!(
                "-ffile-prefix-map={}={to}",
                from.display()
            )))
        })
        .collect::<Vec<_>>()
        .join(" ")
}

pub fn cargo_home() -> Option<PathBuf> {
    std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")))
        .map(|p| std::fs::canonicalize(&p).unwrap_or(p))
}

pub fn rustup_home() -> Option<PathBuf> {
    std::env::var_os("RUSTUP_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".rustup")))
        .map(|p| std::fs::canonicalize(&p).unwrap_or(p))
}

/// `1.95.0`: the rustc cargo will use in this workspace (rust-toolchain.toml applies).
fn rustc_version(project: &Project) -> anyhow::Result<String> {
    let text = duct::cmd!(rustc(), "--version")
        .dir(&project.root)
        .stderr_null()
        .read()
        .context("cannot run rustc")?;
    text.split_whitespace()
        .nth(1)
        .map(str::to_string)
        .with_context(|| format!("unexpected `rustc --version`: {text}"))
}

/// `RUSTC` (set by cargo for `cargo xtask`), else `rustc` on PATH. A string, not a path:
/// duct runs a relative `Path` from the working directory instead of looking it up on PATH.
fn rustc() -> std::ffi::OsString {
    std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into())
}

/// Whether the standard library for `target` is installed, asked of rustc itself: rustup is
/// one way to install it, not the only one.
pub fn rust_target_installed(project: &Project, target: &str) -> bool {
    duct::cmd!(rustc(), "--print", "sysroot")
        .dir(&project.root)
        .stderr_null()
        .read()
        .is_ok_and(|sysroot| {
            Path::new(sysroot.trim())
                .join("lib/rustlib")
                .join(target)
                .join("lib")
                .is_dir()
        })
}

pub fn ensure_rust_target(project: &Project, out: &Output) -> anyhow::Result<()> {
    if rust_target_installed(project, TARGET) {
        return Ok(());
    }
    if which("rustup").is_none() {
        bail_help!("the Rust standard library for {TARGET} is not installed, and there is no rustup \
             to add it"; "install it the way this Rust was installed (with rustup: \
             `rustup target add {TARGET}`)");
    }
    let timer = out.timed(format!("rustup target add {TARGET}"));
    duct::cmd!("rustup", "target", "add", TARGET)
        .dir(&project.root)
        .stdout_to_stderr()
        .run()
        .with_context(|| format!("cannot add the {TARGET} target with rustup"))?;
    timer.done();
    Ok(())
}

/// The full path of `program` on PATH.
pub fn which(program: &str) -> Option<PathBuf> {
    let paths = std::env::var_os("PATH")?;
    std::env::split_paths(&paths)
        .map(|dir| dir.join(program))
        .find(|p| p.is_file())
}
