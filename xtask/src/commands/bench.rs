//! `cargo xtask bench <suite>`: runs the benchmarks, which are a binary of their own
//! (`xtask/bench`, package `xtask-bench`) so that no measurement code ships in `cargo xtask`.
//!
//! This command installs what the suites use (the same pinned tools as the tests), then runs
//! the benchmark binary through cargo with the arguments it was given, untouched (`--help`
//! included). The benchmarks call this binary back for the commands they measure; it tells
//! them where it is in `XTASK_BIN`.

use std::ffi::OsString;
use std::process::ExitCode;

use anyhow::Context as _;

use crate::Context;
use crate::commands::doctor;

#[derive(clap::Args)]
#[command(disable_help_flag = true)]
pub struct Args {
    /// The suite and its flags, for the benchmark binary: `agents`, `build`, `push` or
    /// `deploy` (`cargo xtask bench --help` lists them).
    #[arg(
        value_name = "SUITE [ARGS]",
        trailing_var_arg = true,
        allow_hyphen_values = true
    )]
    args: Vec<OsString>,
}

pub fn run(ctx: &Context, args: Args) -> anyhow::Result<ExitCode> {
    let asks_help = args.args.is_empty()
        || args
            .args
            .iter()
            .any(|a| a == "--help" || a == "-h" || a == "help");
    if !asks_help {
        doctor::require_test_tools(ctx, true)?;
    }
    let xtask = std::env::current_exe().context("cannot find the xtask's own executable")?;
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut argv: Vec<OsString> = ["run", "--quiet", "--package", "xtask-bench", "--"]
        .into_iter()
        .map(OsString::from)
        .collect();
    if ctx.out.json {
        argv.push("--json".into());
    }
    for _ in 0..ctx.out.verbose {
        argv.push("--verbose".into());
    }
    argv.push("--workspace".into());
    argv.push(ctx.project.root.clone().into_os_string());
    argv.push("--infra-dir".into());
    argv.push(ctx.project.infra_dir.clone().into_os_string());
    argv.extend(args.args);
    ctx.out.verbose(format!(
        "cargo {}",
        argv.iter()
            .map(|a| a.to_string_lossy())
            .collect::<Vec<_>>()
            .join(" ")
    ));
    let output = duct::cmd(cargo, argv)
        .dir(&ctx.project.root)
        .env("XTASK_BIN", xtask)
        .env("XTASK_TOOLS_DIR", &ctx.project.tools().dir)
        .unchecked()
        .run()
        .context("cannot run the benchmarks (`cargo run --package xtask-bench`)")?;
    Ok(match output.status.code() {
        Some(0) => ExitCode::SUCCESS,
        Some(code) => ExitCode::from(u8::try_from(code).unwrap_or(1)),
        None => ExitCode::FAILURE,
    })
}
