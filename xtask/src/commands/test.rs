//! `cargo xtask test`: the one command that runs every test, on a fresh machine too.
//!
//! It installs what the tests use (the aarch64 target; zig, qemu-user, skopeo, umoci, the
//! registry, moto and the AWS CLI, pinned, into `target/xtask/tools/`), names what it cannot
//! install (terraform and its aws provider mirror), then runs `cargo fmt --check`, clippy and
//! `cargo test --workspace` with a PATH that holds only the tools it installed and what the
//! README asks a machine to have: a step missing from the install fails here, not on the next
//! fresh machine. Test servers are started by the tests themselves, on free ports.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;

use crate::Context;
use crate::commands::doctor;
use crate::toolchain::which;

#[derive(clap::Args)]
#[command(after_help = "Examples:
  cargo xtask test                       set up, lint, run every test
  cargo xtask test -- check_             only the tests whose name has `check_`
  cargo xtask test --no-setup --no-lint  just `cargo test --workspace`
  cargo xtask test --host-path           with this shell's PATH instead of the hermetic one

The tests run with PATH = target/xtask/tools/bin (what the xtask installed) and links to the
README's prerequisites (rustup's cargo, python3, git, the host C compiler), a POSIX base
(sh, tar, kill, ...) and terraform. Anything else the machine has is out of reach.")]
pub struct Args {
    /// Install nothing; fail when a tool the tests need is missing.
    #[arg(long)]
    no_setup: bool,
    /// Skip `cargo fmt --check` and `cargo clippy -D warnings`.
    #[arg(long)]
    no_lint: bool,
    /// Run with this shell's PATH, not the hermetic one (to debug a test, not for CI).
    #[arg(long)]
    host_path: bool,
    /// Passed on to `cargo test` (a test-name filter, `--nocapture`, …).
    #[arg(last = true)]
    cargo_args: Vec<String>,
}

/// What the tests may run besides the installed tools: the README's short list (Rust through
/// rustup, python3 with pip, git, a host C compiler and its binutils), the POSIX utilities of
/// any base system, and terraform (no registry these machines reach serves it).
const ALLOWED: &[&str] = &[
    // Rust (rustup's proxies)
    "cargo",
    "rustc",
    "rustup",
    "rustfmt",
    "cargo-fmt",
    "cargo-clippy",
    "clippy-driver",
    "rustdoc",
    // git
    "git",
    // the host C compiler and binutils (build scripts compile C for the host)
    "cc",
    "gcc",
    "c++",
    "g++",
    "cpp",
    "as",
    "ld",
    "ld.bfd",
    "ar",
    "ranlib",
    "nm",
    "strip",
    "objcopy",
    // a POSIX base system
    "sh",
    "bash",
    "env",
    "cat",
    "cp",
    "mv",
    "rm",
    "mkdir",
    "ls",
    "ln",
    "chmod",
    "touch",
    "sleep",
    "kill",
    "tar",
    "gzip",
    "id",
    "uname",
    "sed",
    "grep",
    "head",
    "tail",
    "sort",
    "tr",
    "wc",
    "dirname",
    "basename",
    "readlink",
    "date",
    "tee",
    "printf",
    "echo",
    "true",
    "false",
    "test",
    "mktemp",
    "cmp",
    "diff",
    "find",
    "xargs",
    // named, not installed: see `doctor`
    "terraform",
];

pub fn run(ctx: &Context, args: Args) -> anyhow::Result<ExitCode> {
    doctor::require_test_tools(ctx, !args.no_setup)?;

    let tools = ctx.project.tools();
    let mut env: Vec<(String, std::ffi::OsString)> =
        vec![("XTASK_TOOLS_DIR".into(), tools.dir.clone().into_os_string())];
    if !args.host_path {
        let path = tools.hermetic_path(&allowed()?)?;
        ctx.out.step(format!(
            "PATH for the tests: {} (tools this project installed, the README's \
             prerequisites, terraform)",
            std::env::split_paths(&path)
                .map(|p| ctx.project.rel(&p).display().to_string())
                .collect::<Vec<_>>()
                .join(":")
        ));
        env.push(("PATH".into(), path));
    }
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let root = &ctx.project.root;
    let with_env = |mut cmd: duct::Expression| {
        for (k, v) in &env {
            cmd = cmd.env(k, v);
        }
        cmd.dir(root)
    };
    if !args.no_lint {
        let t = ctx.out.timed("cargo fmt --check");
        with_env(duct::cmd!(&cargo, "fmt", "--all", "--check")).run()?;
        t.done();
        let t = ctx.out.timed("cargo clippy --all-targets -- -D warnings");
        with_env(duct::cmd!(
            &cargo,
            "clippy",
            "--workspace",
            "--all-targets",
            "--locked",
            "--",
            "-D",
            "warnings"
        ))
        .run()?;
        t.done();
    }
    let t = ctx.out.timed("cargo test --workspace");
    // Every test binary runs even after a failure: one run shows everything that is broken.
    let mut test_args = vec![
        "test".to_string(),
        "--workspace".into(),
        "--locked".into(),
        "--no-fail-fast".into(),
    ];
    if !args.cargo_args.is_empty() {
        test_args.push("--".into());
        test_args.extend(args.cargo_args);
    }
    let status = with_env(duct::cmd(&cargo, &test_args))
        .unchecked()
        .run()?
        .status;
    t.done();
    Ok(if status.success() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// The allowed programs found on this PATH, and python3 as the interpreter itself (a pyenv
/// shim needs pyenv on PATH).
fn allowed() -> anyhow::Result<Vec<(&'static str, PathBuf)>> {
    let mut found: Vec<(&'static str, PathBuf)> = ALLOWED
        .iter()
        .filter_map(|name| which(name).map(|path| (*name, path)))
        .collect();
    let python = pinned_tools::python3().context("the tests need python3")?;
    found.push(("python3", python));
    Ok(found)
}
