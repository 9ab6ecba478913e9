//! `cargo xtask`: the build and release automation of this workspace.
//!
//! This file only parses the command line and dispatches; every command lives in the module of
//! the same name (`check` → `check.rs`, `doctor` → `doctor.rs`, …). ARCHITECTURE.md has the map.

mod blueprint;
mod bootstrap;
mod check;
mod diag;
mod doctor;
mod environment;
mod infra;
mod output;
mod project;
mod test;
mod toolchain;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::project::Project;

#[derive(Parser)]
#[command(
    name = "cargo xtask",
    bin_name = "cargo xtask",
    about = "Build, check and deploy the Amazon Bedrock AgentCore agents of this workspace",
    after_help = "Examples:
  cargo xtask check                 validate every blueprint and environment file
  cargo xtask check --env dev       ... and render dev's tfvars from the process environment
  cargo xtask doctor --fix          install the missing prerequisites that need no root prompt
  cargo xtask test                  set up what the tests need, then run them all",
    version
)]
struct Cli {
    /// Print machine-readable JSON on stdout instead of text for people.
    #[arg(long, global = true)]
    json: bool,

    /// Say more: every external command before it runs.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    verbose: u8,

    /// Run as if started in DIR (the workspace root or any folder below it).
    #[arg(short = 'C', long = "workspace", global = true, value_name = "DIR")]
    workspace: Option<std::path::PathBuf>,

    /// Where the Terraform lives, relative to the workspace root.
    #[arg(
        long,
        global = true,
        value_name = "DIR",
        env = "XTASK_INFRA_DIR",
        default_value = "infra"
    )]
    infra_dir: std::path::PathBuf,

    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Create an environment's Terraform state bucket (versioned, encrypted, private) if missing.
    Bootstrap(bootstrap::Args),
    /// Validate every blueprint and environment file; show where each agent is enabled.
    Check(check::Args),
    /// Check the tools the other commands need, and say (or --fix) what is missing.
    Doctor(doctor::Args),
    /// Set up what the tests need (targets, test servers), then run the whole test suite.
    Test(test::Args),
}

/// What every command gets: where the workspace is and how to talk to the user.
pub struct Context {
    pub project: Project,
    pub out: output::Output,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let out = output::Output::new(cli.json, cli.verbose);
    let project = match Project::discover(cli.workspace.as_deref(), &cli.infra_dir) {
        Ok(project) => project,
        Err(err) => return out.fail(&err),
    };
    let ctx = Context { project, out };
    let result = match cli.command {
        Command::Bootstrap(args) => bootstrap::run(&ctx, args),
        Command::Check(args) => check::run(&ctx, args),
        Command::Doctor(args) => doctor::run(&ctx, args),
        Command::Test(args) => test::run(&ctx, args),
    };
    match result {
        Ok(code) => code,
        Err(err) => ctx.out.fail(&err),
    }
}
