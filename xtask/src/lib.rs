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
