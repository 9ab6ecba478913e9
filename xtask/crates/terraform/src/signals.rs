//! Stopping Terraform without leaving locks behind.
//!
//! Terraform stops gracefully on one interrupt: it finishes the resource operations in flight,
//! writes the state and releases its state lock. Killed, or interrupted twice, it leaves the
//! lock (and its provider processes) behind. So Terraform runs in a process group of its own —
//! a Ctrl-C at the terminal reaches only this process — and whatever stops this process
//! (Ctrl-C's SIGINT, or the SIGTERM of `kill`, `timeout` or a cancelled CI job) is passed on
//! to the running Terraform exactly once, as SIGINT. The caller sees [`interrupted`] and stops
//! before its next step.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

static INTERRUPTED: AtomicBool = AtomicBool::new(false);

/// The Terraform processes running now.
static RUNNING: Mutex<Vec<u32>> = Mutex::new(Vec::new());

/// Installs the handler once: remember, pass the interrupt on, don't die.
pub fn catch_interrupts() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let signals = signal_hook::iterator::Signals::new([
            signal_hook::consts::SIGINT,
            signal_hook::consts::SIGTERM,
        ]);
        let Ok(mut signals) = signals else {
            return;
        };
        std::thread::spawn(move || {
            for signal in signals.forever() {
                let again = INTERRUPTED.swap(true, Ordering::SeqCst);
                let name = if signal == signal_hook::consts::SIGTERM {
                    "terminated"
                } else {
                    "interrupted"
                };
                if again {
                    eprintln!("\n{name} again: still waiting for terraform to release its lock…");
                    continue;
                }
                eprintln!("\n{name}: letting terraform finish and release its state lock…");
                for pid in running() {
                    // SAFETY: kill(2) with a process id we started and have not reaped yet.
                    unsafe {
                        libc::kill(pid as libc::pid_t, libc::SIGINT);
                    }
                }
            }
        });
    });
}

/// Whether this process was asked to stop.
pub fn interrupted() -> bool {
    INTERRUPTED.load(Ordering::SeqCst)
}

fn running() -> Vec<u32> {
    RUNNING.lock().map(|r| r.clone()).unwrap_or_default()
}

/// Runs `expression` as a Terraform process of its own process group, known to the handler
/// while it runs; gives its output (the status is the caller's to judge).
pub(crate) fn run(expression: duct::Expression) -> std::io::Result<std::process::Output> {
    use std::os::unix::process::CommandExt as _;
    let handle = expression
        .before_spawn(|cmd| {
            cmd.process_group(0);
            Ok(())
        })
        .unchecked()
        .start()?;
    let pids = handle.pids();
    if let Ok(mut running) = RUNNING.lock() {
        running.extend(&pids);
    }
    let output = handle.into_output();
    if let Ok(mut running) = RUNNING.lock() {
        running.retain(|p| !pids.contains(p));
    }
    output
}
