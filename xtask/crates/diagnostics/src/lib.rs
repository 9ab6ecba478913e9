//! Problems in a user's files (a blueprint, an environment file, a Terraform stack): where
//! they are (`file:line:col`), what is wrong, and what to do about it.
//!
//! Owns: the [`Diagnostic`] value, the [`Diagnostics`] error that carries every problem of a
//! run (validation collects them all instead of stopping at the first, so one `cargo xtask
//! check` shows everything to fix), "did you mean", and an error's cause chain told on one line.
//! Knows nothing of what the files mean.

use std::fmt;
use std::path::PathBuf;

use serde::Serialize;

/// How bad a problem is: an error stops the command; a warning is reported and the command
/// goes on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
}

#[derive(Debug, Clone, Serialize)]
pub struct Diagnostic {
    pub severity: Severity,
    /// Relative to the workspace root.
    pub file: PathBuf,
    /// 1-based; absent when the problem is the file as a whole (e.g. it is missing).
    pub line: Option<usize>,
    /// 1-based.
    pub column: Option<usize>,
    pub message: String,
    /// What to do about it.
    pub help: Option<String>,
}

impl Diagnostic {
    /// An error in `file`.
    pub fn new(file: impl Into<PathBuf>, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            severity: Severity::Error,
            file: file.into(),
            line: None,
            column: None,
            message: message.into(),
            help: None,
        }
    }

    /// A warning in `file`.
    pub fn warning(file: impl Into<PathBuf>, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            severity: Severity::Warning,
            ..Diagnostic::new(file, message)
        }
    }

    pub fn at(mut self, pos: Option<Pos>) -> Diagnostic {
        if let Some(pos) = pos {
            self.line = Some(pos.line);
            self.column = Some(pos.column);
        }
        self
    }

    pub fn help(mut self, help: impl Into<String>) -> Diagnostic {
        self.help = Some(help.into());
        self
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }

    /// `file:line:col`, as far as it is known.
    pub fn location(&self) -> String {
        let mut at = self.file.display().to_string();
        if let Some(line) = self.line {
            at.push_str(&format!(":{line}"));
            if let Some(column) = self.column {
                at.push_str(&format!(":{column}"));
            }
        }
        at
    }
}

/// A 1-based line and column in a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pos {
    pub line: usize,
    pub column: usize,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let level = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        write!(f, "{level}: {}: {}", self.location(), self.message)?;
        if let Some(help) = &self.help {
            write!(f, "\n  help: {help}")?;
        }
        Ok(())
    }
}

/// Every problem found in a run, as one error: what a command returns when the user's files
/// are broken. Its `Display` lists each problem with its position and help.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Diagnostics(pub Vec<Diagnostic>);

impl Diagnostics {
    pub fn push(&mut self, diagnostic: Diagnostic) {
        self.0.push(diagnostic);
    }

    pub fn extend(&mut self, more: impl IntoIterator<Item = Diagnostic>) {
        self.0.extend(more);
    }

    pub fn errors(&self) -> usize {
        self.0.iter().filter(|d| d.is_error()).count()
    }

    pub fn has_errors(&self) -> bool {
        self.errors() > 0
    }

    /// `Ok(())` when no problem is an error, else all of them as the error.
    pub fn into_result(self) -> Result<(), Diagnostics> {
        if self.has_errors() { Err(self) } else { Ok(()) }
    }

    pub fn iter(&self) -> impl Iterator<Item = &Diagnostic> {
        self.0.iter()
    }
}

impl From<Vec<Diagnostic>> for Diagnostics {
    fn from(v: Vec<Diagnostic>) -> Diagnostics {
        Diagnostics(v)
    }
}

impl From<Diagnostic> for Diagnostics {
    fn from(d: Diagnostic) -> Diagnostics {
        Diagnostics(vec![d])
    }
}

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let errors = self.errors();
        write!(
            f,
            "{errors} problem{} in the workspace's files",
            if errors == 1 { "" } else { "s" }
        )?;
        for d in &self.0 {
            write!(f, "\n{d}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Diagnostics {}

/// The closest of `candidates` to a misspelled `word`, if one is close enough to suggest.
pub fn did_you_mean<'a>(word: &str, candidates: &[&'a str]) -> Option<&'a str> {
    candidates
        .iter()
        .map(|c| (strsim::jaro_winkler(word, c), *c))
        .filter(|(score, _)| *score >= 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c)
}

/// ` (did you mean `x`?)`, or nothing.
pub fn suggestion(word: &str, candidates: &[&str]) -> String {
    did_you_mean(word, candidates)
        .map(|c| format!(" (did you mean `{c}`?)"))
        .unwrap_or_default()
}

/// An error and its causes on one line, each cause once: the AWS SDK's and reqwest's own
/// `Display` say only "service error" or "error sending request" and keep the useful part
/// ("connection refused", the service's message) in the source chain.
pub fn one_line(err: &(dyn std::error::Error + 'static)) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_close_names_only() {
        let fields = ["network_mode", "protocol", "port"];
        assert_eq!(did_you_mean("netwrok_mode", &fields), Some("network_mode"));
        assert_eq!(did_you_mean("prot", &fields), Some("port"));
        assert_eq!(did_you_mean("banana", &fields), None);
        assert_eq!(
            did_you_mean("prod", &["dev", "staging", "production"]),
            Some("production")
        );
    }

    #[test]
    fn lists_every_problem_with_its_place_and_help() {
        let all = Diagnostics(vec![
            Diagnostic::new("a.yaml", "bad")
                .at(Some(Pos { line: 3, column: 5 }))
                .help("fix it"),
            Diagnostic::warning("b.tfvars", "odd"),
        ]);
        let text = all.to_string();
        assert!(text.starts_with("1 problem in"), "{text}");
        assert!(
            text.contains("error: a.yaml:3:5: bad\n  help: fix it"),
            "{text}"
        );
        assert!(text.contains("warning: b.tfvars: odd"), "{text}");
        assert!(all.clone().into_result().is_err());
        assert!(
            Diagnostics(vec![Diagnostic::warning("b", "c")])
                .into_result()
                .is_ok()
        );
    }
}
