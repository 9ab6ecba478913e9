//! `cargo xtask test`: the one command that runs every test, on a fresh machine too.
//!
//! It first makes sure what the tests use is there (the aarch64 target and a cross C compiler,
//! qemu, the OCI registry, skopeo, umoci, moto), installing what it can, and says exactly what is
//! missing where it cannot. Then formatting and clippy, then `cargo test` over the workspace.
//! Test servers are started by the tests themselves, on free ports.

use std::process::ExitCode;

use anyhow::bail;

use crate::Context;
use crate::doctor::{self, Need};

#[derive(clap::Args)]
#[command(after_help = "Examples:
  cargo xtask test                       set up, lint, run every test
  cargo xtask test -- check_             only the tests whose name has `check_`
  cargo xtask test --no-setup --no-lint  just `cargo test --workspace`")]
pub struct Args {
    /// Install nothing; fail when a tool the tests need is missing.
    #[arg(long)]
    no_setup: bool,
    /// Skip `cargo fmt --check` and `cargo clippy -D warnings`.
    #[arg(long)]
    no_lint: bool,
    /// Passed on to `cargo test` (a test-name filter, `--nocapture`, …).
    #[arg(last = true)]
    cargo_args: Vec<String>,
}

pub fn run(ctx: &Context, args: Args) -> anyhow::Result<ExitCode> {
    let needed = |c: &doctor::Check| matches!(c.need, Need::Build | Need::Tests);
    let mut checks = doctor::checks();
    if !args.no_setup {
        checks = doctor::fix(ctx, checks, needed)?;
    }
    let missing: Vec<String> = checks
        .iter()
        .filter(|c| !c.ok && (needed(c) || c.name == "terraform"))
        .map(|c| {
            format!(
                "  {}: {}\n      fix: {}",
                c.name,
                c.detail,
                c.fix.as_deref().unwrap_or("-")
            )
        })
        .collect();
    if !missing.is_empty() {
        bail!(
            "the tests need what this machine does not have:\n{}",
            missing.join("\n")
        );
    }

    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let root = &ctx.project.root;
    if !args.no_lint {
        let t = ctx.out.timed("cargo fmt --check");
        duct::cmd!(&cargo, "fmt", "--all", "--check")
            .dir(root)
            .run()?;
        t.done();
        let t = ctx.out.timed("cargo clippy --all-targets -- -D warnings");
        duct::cmd!(
            &cargo,
            "clippy",
            "--workspace",
            "--all-targets",
            "--locked",
            "--",
            "-D",
            "warnings"
        )
        .dir(root)
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
    let status = duct::cmd(&cargo, &test_args)
        .dir(root)
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
