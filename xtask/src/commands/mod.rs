//! One module per command: its flags (clap `Args`, with the `--help` that teaches), turned once
//! into typed options for the operation in `crate::ops` it runs, and its report.

pub mod deploy;
pub mod destroy;
pub mod plan;
pub mod promote;
