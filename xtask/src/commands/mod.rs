//! One module per command, named after it (`build-agents` → `build_agents.rs`): its flags
//! (clap `Args`, with the `--help` that teaches), turned once into typed options, and its report.
//! A command whose work other commands reuse runs an operation of `crate::ops`; a command that
//! nothing else calls (`check`, `doctor`, `run`, …) keeps its work in its own module.

pub mod bench;
pub mod bootstrap;
pub mod build_agents;
pub mod check;
pub mod dataplane;
pub mod deploy;
pub mod destroy;
pub mod doctor;
pub mod invoke;
pub mod logs;
pub mod new;
pub mod plan;
pub mod promote;
pub mod push;
pub mod rollback;
pub mod run;
pub mod status;
pub mod test;
