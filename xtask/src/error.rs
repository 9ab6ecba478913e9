//! Errors that say what to do next.
//!
//! An error's message says what went wrong; its help, a separate field, says what to do about
//! it. [`Helped`] carries the help beside an error without becoming part of the cause chain, so
//! the report (`Output::fail`) prints the whole chain first and the help after it, and `--json`
//! gives it a key of its own. Collected problems in the user's files are
//! [`diagnostics::Diagnostics`], each with its own position and help.

use std::fmt;

/// An error with a next step for the person who reads it.
pub struct Helped {
    error: anyhow::Error,
    help: String,
}

impl fmt::Display for Helped {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The wrapped error's own message only: its causes follow in the chain.
        write!(f, "{}", self.error)
    }
}

impl fmt::Debug for Helped {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}\nhelp: {}", self.error, self.help)
    }
}

impl std::error::Error for Helped {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        let inner: &(dyn std::error::Error + Send + Sync + 'static) = self.error.as_ref();
        inner.source()
    }
}

/// The command has printed its failure itself (inside its JSON report): exit 1, print nothing
/// more.
#[derive(Debug)]
pub struct Reported;

impl fmt::Display for Reported {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("failed (reported above)")
    }
}

impl std::error::Error for Reported {}

/// `error` with `help` attached.
pub fn with_help(error: anyhow::Error, help: impl Into<String>) -> anyhow::Error {
    anyhow::Error::new(Helped {
        error,
        help: help.into(),
    })
}

/// Every help attached anywhere in `error`'s chain, outermost first.
pub fn helps(error: &anyhow::Error) -> Vec<String> {
    error
        .chain()
        .filter_map(|e| {
            e.downcast_ref::<Helped>()
                .map(|h| h.help.clone())
                // The registry client's errors carry their own advice.
                .or_else(|| e.downcast_ref::<oci_registry::Error>()?.advice.clone())
        })
        .chain(
            error
                .chain()
                .filter_map(|e| e.downcast_ref::<diagnostics::Diagnostics>())
                .next()
                .map(|_| "run `cargo xtask check` for every problem with its position".into()),
        )
        .collect()
}

/// The cause chain as one line of messages: `a: b: c`.
pub fn chain(error: &anyhow::Error) -> String {
    error
        .chain()
        .map(|e| e.to_string())
        .collect::<Vec<_>>()
        .join(": ")
}

pub use diagnostics::one_line;

/// Attaching a next step to a `Result`'s error.
pub trait HelpExt<T> {
    fn help(self, help: impl Into<String>) -> anyhow::Result<T>;
    fn with_help(self, help: impl FnOnce() -> String) -> anyhow::Result<T>;
}

impl<T, E: Into<anyhow::Error>> HelpExt<T> for Result<T, E> {
    fn help(self, help: impl Into<String>) -> anyhow::Result<T> {
        self.map_err(|e| with_help(e.into(), help))
    }

    fn with_help(self, help: impl FnOnce() -> String) -> anyhow::Result<T> {
        self.map_err(|e| with_help(e.into(), help()))
    }
}

/// An error with a help: `helped!("what went wrong {x}"; "what to do {y}")`.
macro_rules! helped {
    ($($msg:expr),+ ; $($help:expr),+ $(,)?) => {
        $crate::error::with_help(::anyhow::anyhow!($($msg),+), format!($($help),+))
    };
}

/// `bail!` with a help: `bail_help!("what went wrong {x}"; "what to do {y}")`.
macro_rules! bail_help {
    ($($msg:expr),+ ; $($help:expr),+ $(,)?) => {
        return Err(helped!($($msg),+ ; $($help),+))
    };
}

#[cfg(test)]
mod tests {
    use anyhow::Context as _;

    use super::*;

    #[test]
    fn the_help_stays_out_of_the_chain_and_comes_after_it() {
        let io = std::io::Error::new(std::io::ErrorKind::NotFound, "no such file");
        let err: anyhow::Result<()> = Err(io)
            .context("cannot read infra/envs/dev.tfvars")
            .help("create it from the example in README.md");
        let err = err.context("deploy dev failed").unwrap_err();
        assert_eq!(
            chain(&err),
            "deploy dev failed: cannot read infra/envs/dev.tfvars: no such file"
        );
        assert_eq!(helps(&err), ["create it from the example in README.md"]);
    }

    #[test]
    fn a_fresh_error_with_help() {
        let thing = "registry";
        let err = helped!("the {thing} refused the push"; "log in with `{}`", "docker login");
        assert_eq!(chain(&err), "the registry refused the push");
        assert_eq!(helps(&err), ["log in with `docker login`"]);
    }
}
