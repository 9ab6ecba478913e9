//! How an agent process ends.

use std::process::ExitCode;

/// An agent's `main`: JSON logs on, then `run`; an error that stops the agent goes to the log
/// (where AgentCore's log group has it) and to stderr, and the exit code says it failed.
///
/// ```no_run
/// #[tokio::main]
/// async fn main() -> std::process::ExitCode {
///     agentcore_runtime::run_agent(env!("CARGO_PKG_NAME"), async { Ok(()) }).await
/// }
/// ```
pub async fn run_agent(agent: &str, run: impl Future<Output = anyhow::Result<()>>) -> ExitCode {
    crate::init_logging();
    match run.await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            tracing::error!(error = format!("{err:#}"), "{agent} stopped");
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}
