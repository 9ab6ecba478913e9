//! How commands talk: one place that decides text for people or JSON for scripts.
//!
//! Progress (`step`, `verbose`) and `note`/`warn` go to stderr, so that stdout holds only the
//! command's result: a report's text, or its JSON under `--json` (with the warnings of the run
//! in a `warnings` key). An error ends as `error: <cause chain>` followed by its helps, or as
//! `{"ok": false, "error": …, "help": […]}`.

use std::cell::RefCell;
use std::process::ExitCode;
use std::time::Instant;

use serde::Serialize;

pub struct Output {
    pub json: bool,
    pub verbose: u8,
    /// Warnings of this run, for the JSON report.
    warnings: RefCell<Vec<String>>,
}

/// A command's result: text for people, the same data as JSON for scripts.
pub trait Report: Serialize {
    /// The text printed on stdout without `--json`.
    fn text(&self) -> String;
}

impl Output {
    pub fn new(json: bool, verbose: u8) -> Output {
        Output {
            json,
            verbose,
            warnings: RefCell::new(Vec::new()),
        }
    }

    /// Reports a command's failure and gives the exit code for it.
    pub fn fail(&self, err: &anyhow::Error) -> ExitCode {
        if err.is::<crate::error::Reported>() {
            return ExitCode::FAILURE;
        }
        let helps = crate::error::helps(err);
        if self.json {
            self.print_json(&serde_json::json!({
                "ok": false,
                "error": crate::error::chain(err),
                "help": helps,
            }));
        } else {
            eprintln!("error: {}", crate::error::chain(err));
            for help in helps {
                eprintln!("  help: {help}");
            }
        }
        ExitCode::FAILURE
    }

    /// A step a person wants to see; silent under `--json`.
    pub fn step(&self, message: impl AsRef<str>) {
        if !self.json {
            eprintln!("==> {}", message.as_ref());
        }
    }

    /// Something worth knowing that needs no action; silent under `--json`.
    pub fn note(&self, message: impl AsRef<str>) {
        if !self.json {
            eprintln!("note: {}", message.as_ref());
        }
    }

    /// Something that may need action; the run goes on. Always on stderr, and in the JSON
    /// report's `warnings`.
    pub fn warn(&self, message: impl AsRef<str>) {
        eprintln!("warning: {}", message.as_ref());
        self.warnings
            .borrow_mut()
            .push(message.as_ref().to_string());
    }

    /// Detail shown only with `-v`.
    pub fn verbose(&self, message: impl AsRef<str>) {
        if self.verbose > 0 {
            eprintln!("    {}", message.as_ref());
        }
    }

    /// Starts timing a step; `Timer::done` prints it with its duration.
    pub fn timed(&self, message: impl Into<String>) -> Timer<'_> {
        let message = message.into();
        self.step(&message);
        Timer {
            out: self,
            message,
            start: Instant::now(),
        }
    }

    /// Prints a command's result: its text, or its JSON with the run's warnings added.
    pub fn report(&self, report: &impl Report) {
        if self.json {
            self.print_json(report);
        } else {
            let text = report.text();
            if !text.is_empty() {
                print_line(text.trim_end_matches('\n'));
            }
        }
    }

    /// JSON on stdout; the warnings of the run are added to an object.
    pub fn print_json(&self, value: &impl Serialize) {
        let mut value = match serde_json::to_value(value) {
            Ok(v) => v,
            Err(err) => {
                eprintln!("error: cannot encode the result as JSON: {err}");
                return;
            }
        };
        let warnings = self.warnings.borrow();
        if let Some(object) = value.as_object_mut()
            && !warnings.is_empty()
        {
            object.insert("warnings".into(), serde_json::json!(*warnings));
        }
        match serde_json::to_string_pretty(&value) {
            Ok(text) => print_line(&text),
            Err(err) => eprintln!("error: cannot encode the result as JSON: {err}"),
        }
    }
}

/// Prints a line on stdout; a reader that went away (`| head -1`) ends the program quietly
/// instead of a panic.
pub fn print_line(text: &str) {
    use std::io::Write as _;
    let mut stdout = std::io::stdout().lock();
    if let Err(err) = writeln!(stdout, "{text}").and_then(|()| stdout.flush()) {
        if err.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(0);
        }
        eprintln!("error: cannot write to stdout: {err}");
        std::process::exit(1);
    }
}

impl pinned_tools::Log for Output {
    fn step(&self, line: &str) {
        Output::step(self, line);
    }
    fn verbose(&self, line: &str) {
        Output::verbose(self, line);
    }
}

impl terraform::Log for Output {
    fn verbose(&self, line: &str) {
        Output::verbose(self, line);
    }
}

pub struct Timer<'a> {
    out: &'a Output,
    message: String,
    start: Instant,
}

impl Timer<'_> {
    pub fn done(self) -> std::time::Duration {
        let elapsed = self.start.elapsed();
        if !self.out.json {
            eprintln!("    {} ({:.1}s)", self.message, elapsed.as_secs_f64());
        }
        elapsed
    }
}

/// Bytes for people: `3.1 MiB`.
pub fn human_bytes(n: u64) -> String {
    match n {
        n if n >= 1 << 30 => format!("{:.1} GiB", n as f64 / (1u64 << 30) as f64),
        n if n >= 1 << 20 => format!("{:.1} MiB", n as f64 / (1u64 << 20) as f64),
        n if n >= 1 << 10 => format!("{:.1} KiB", n as f64 / 1024.0),
        n => format!("{n} B"),
    }
}

/// A plain text table: a header row, a rule, and the rows, columns padded to fit.
pub fn table(header: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (i, cell) in row.iter().enumerate() {
            if let Some(w) = widths.get_mut(i) {
                *w = (*w).max(cell.chars().count());
            }
        }
    }
    let line = |cells: Vec<&str>| {
        let padded: Vec<String> = cells
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect();
        padded.join("  ").trim_end().to_string()
    };
    let mut out = line(header.to_vec());
    out.push('\n');
    out.push_str(&line(
        widths
            .iter()
            .map(|w| "-".repeat(*w))
            .collect::<Vec<_>>()
            .iter()
            .map(String::as_str)
            .collect(),
    ));
    for row in rows {
        out.push('\n');
        out.push_str(&line(row.iter().map(String::as_str).collect()));
    }
    out
}
