//! The xtask as a library: the commands (`commands`), the operations they run (`ops`), and the
//! policy they share — environments, the prepared `Environment`, the workspace (`project`),
//! the cross toolchain, the Terraform wiring (`infra`), errors and output.
//!
//! Two binaries use it: `cargo xtask` (`main.rs`, which parses and dispatches) and the
//! benchmarks (`xtask/bench`, which `cargo xtask bench` runs). ARCHITECTURE.md has the map.

#[macro_use]
pub mod error;

pub mod commands;
pub mod environment;
pub mod infra;
pub mod ops;
pub mod output;
pub mod project;
pub mod revision;
pub mod toolchain;

use std::path::PathBuf;
use std::process::ExitCode;

use crate::project::Project;

/// What every command gets: where the workspace is and how to talk to the user.
pub struct Context {
    pub project: Project,
    pub out: output::Output,
}

/// The exit code of a command line that cannot be parsed (sysexits' `EX_USAGE`): apart from 1
/// (the command failed) and from `plan`'s 2 (something would change), so that a script can
/// tell a typo from drift.
pub const EXIT_USAGE: u8 = 64;

/// The runtime a command drives its async clients (the AWS SDK, the registry) with: one
/// thread, as that work waits on the network, and one per command, created where it is needed.
pub fn async_runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    use anyhow::Context as _;
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}

/// Milliseconds since the epoch, as CloudWatch Logs counts time.
pub fn epoch_millis(at: std::time::SystemTime) -> i64 {
    at.duration_since(std::time::SystemTime::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// The options every command line of the xtask takes, `cargo xtask` and its benchmarks alike.
#[derive(clap::Args)]
pub struct GlobalArgs {
    /// Print machine-readable JSON on stdout instead of text for people.
    #[arg(long, global = true)]
    pub json: bool,

    /// Say more: every external command before it runs.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,

    /// Run as if started in DIR (the workspace root or any folder below it).
    #[arg(short = 'C', long = "workspace", global = true, value_name = "DIR")]
    pub workspace: Option<PathBuf>,

    /// Where the Terraform lives, relative to the workspace root.
    #[arg(
        long,
        global = true,
        value_name = "DIR",
        env = "XTASK_INFRA_DIR",
        default_value = "infra"
    )]
    pub infra_dir: PathBuf,
}

/// A binary's `main`: parse the command line (exit [`EXIT_USAGE`] when it cannot be parsed, 0
/// after `--help`), find the workspace, run the command and report its error the one way.
pub fn main<Cli: clap::Parser>(
    globals: fn(&Cli) -> &GlobalArgs,
    dispatch: fn(&Context, Cli) -> anyhow::Result<ExitCode>,
) -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => {
            let _ = err.print();
            return if err.use_stderr() {
                ExitCode::from(EXIT_USAGE)
            } else {
                ExitCode::SUCCESS // --help, --version
            };
        }
    };
    let global = globals(&cli);
    let out = output::Output::new(global.json, global.verbose);
    let project = match Project::discover(global.workspace.as_deref(), &global.infra_dir) {
        Ok(project) => project,
        Err(err) => return out.fail(&err),
    };
    let ctx = Context { project, out };
    match dispatch(&ctx, cli) {
        Ok(code) => code,
        Err(err) => ctx.out.fail(&err),
    }
}
