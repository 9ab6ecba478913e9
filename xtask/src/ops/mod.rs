//! The operations of the build and release path: typed options in, values out. Commands call
//! them, and they call each other, never through another command's flags.

pub mod build_agents;
pub mod codebuild;
pub mod dataplane;
pub mod deploy;
pub mod deployed;
pub mod destroy;
pub mod invoke;
pub mod new;
pub mod promote;
pub mod push;
pub mod rollback;
pub mod runtime_env;
pub mod runtime_state;
pub mod smoke;
