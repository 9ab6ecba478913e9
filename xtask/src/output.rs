//! How commands talk: text for people on stderr/stdout, or JSON for scripts on stdout.
//!
//! Progress and step lines go to stderr so that `--json` output on stdout stays parseable.

use std::process::ExitCode;
use std::time::Instant;

use serde::Serialize;

pub struct Output {
    pub json: bool,
    pub verbose: u8,
}

impl Output {
    pub fn new(json: bool, verbose: u8) -> Output {
        Output { json, verbose }
    }

    /// Reports a command's failure and gives the exit code for it.
    pub fn fail(&self, err: &anyhow::Error) -> ExitCode {
        if self.json {
            let chain: Vec<String> = err.chain().map(|e| e.to_string()).collect();
            self.print_json(&serde_json::json!({ "ok": false, "error": chain.join(": ") }));
        } else {
            eprintln!("error: {err:#}");
        }
        ExitCode::FAILURE
    }

    /// A step a person wants to see; silent under `--json`.
    pub fn step(&self, message: impl AsRef<str>) {
        if !self.json {
            eprintln!("==> {}", message.as_ref());
        }
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

    pub fn print_json(&self, value: &impl Serialize) {
        match serde_json::to_string_pretty(value) {
            Ok(text) => println!("{text}"),
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
