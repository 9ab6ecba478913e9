//! `cargo xtask`: the build and release automation of this workspace.
//!
//! This file only parses the command line and dispatches; every command lives in the module of
//! the same name under `commands/` (`build-agents` → `commands/build_agents.rs`), in the
//! `xtask` library (`lib.rs`). ARCHITECTURE.md has the map.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use xtask::Context;
use xtask::commands::{
    bench, bootstrap, build_agents, check, dataplane, deploy, destroy, doctor, invoke, logs, new,
    plan, promote, push, rollback, run, status, test,
};

#[derive(Parser)]
#[command(
    name = "cargo xtask",
    bin_name = "cargo xtask",
    about = "Build, check and deploy the Amazon Bedrock AgentCore agents of this workspace",
    after_help = "Examples:
  cargo xtask check                 validate every blueprint and environment file
  cargo xtask check --env dev       ... and render dev's tfvars from the process environment
  cargo xtask new summarizer        a new agent crate from a template, ready to test and build
  cargo xtask doctor --fix          install the missing prerequisites that need no root prompt
  cargo xtask test                  set up what the tests need, then run them all",
    version
)]
struct Cli {
    #[command(flatten)]
    global: xtask::GlobalArgs,

    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Measure a suite — agents, build, push or deploy — each figure beside its baseline.
    Bench(bench::Args),
    /// Create an environment's Terraform state bucket (versioned, encrypted, private) if missing.
    Bootstrap(bootstrap::Args),
    /// Cross-compile agents for linux/arm64 and package each as an OCI image (no Docker needed).
    BuildAgents(build_agents::Args),
    /// Validate every blueprint and environment file; show where each agent is enabled.
    Check(check::Args),
    /// Serve an environment's AgentCore data plane on 127.0.0.1, backed by the images it runs.
    Dataplane(dataplane::Args),
    /// Apply an environment's phases in order: platform, images, agents, workflows.
    Deploy(deploy::Args),
    /// Destroy an environment's stacks in reverse order (guarded by its removal policy).
    Destroy(destroy::Args),
    /// Check the tools the other commands need, and say (or --fix) what is missing.
    Doctor(doctor::Args),
    /// Send one invocation to an agent, local or deployed, and print the answer as it arrives.
    Invoke(invoke::Args),
    /// Show what a deployed agent printed, from its runtime's CloudWatch log groups.
    Logs(logs::Args),
    /// Create a new agent crate from a template (HTTP or MCP), in the workspace and its lock.
    New(new::Args),
    /// Plan every stack of an environment; exit 2 when something would change (drift check).
    Plan(plan::Args),
    /// Copy the images one environment runs to the next and deploy them there (no rebuild).
    Promote(promote::Args),
    /// Serve an image an agent ran before in an environment, without a build (a deploy).
    Rollback(rollback::Args),
    /// Build an agent for the host and run it locally with the runtime's environment.
    Run(run::Args),
    /// What runs where: each agent's image, commit and version per environment, and the lag.
    Status(status::Args),
    /// Set up what the tests need (targets, test servers), then run the whole test suite.
    Test(test::Args),
    /// Push the agents' images to an environment's registry, by digest; record them in SSM.
    Push(push::Args),
}

fn main() -> ExitCode {
    xtask::main(|cli: &Cli| &cli.global, dispatch)
}

fn dispatch(ctx: &Context, cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Bench(args) => bench::run(ctx, args),
        Command::Bootstrap(args) => bootstrap::run(ctx, args),
        Command::BuildAgents(args) => build_agents::run(ctx, args),
        Command::Check(args) => check::run(ctx, args),
        Command::Dataplane(args) => dataplane::run(ctx, args),
        Command::Deploy(args) => deploy::run(ctx, args),
        Command::Destroy(args) => destroy::run(ctx, args),
        Command::Doctor(args) => doctor::run(ctx, args),
        Command::Invoke(args) => invoke::run(ctx, args),
        Command::Logs(args) => logs::run(ctx, args),
        Command::New(args) => new::run(ctx, args),
        Command::Plan(args) => plan::run(ctx, args),
        Command::Promote(args) => promote::run(ctx, args),
        Command::Rollback(args) => rollback::run(ctx, args),
        Command::Run(args) => run::run(ctx, args),
        Command::Status(args) => status::run(ctx, args),
        Command::Test(args) => test::run(ctx, args),
        Command::Push(args) => push::run(ctx, args),
    }
}
