//! The operations of the release path: typed options in, values out. Commands call them, and
//! they call each other, never through another command's flags.

pub mod deploy;
pub mod destroy;
pub mod promote;
