//! How an agent process ends.

use std::process::ExitCode;

/// An agent's `main`: JSON logs and the OTLP exporters on ([`crate::telemetry::init`]), then
/// `run`; an error that stops the agent goes to the log (where AgentCore's log group has it)
/// and to stderr, and the exit code says it failed. The telemetry still queued is flushed
/// last, within a bounded time.
///
/// ```no_run
/// #[tokio::main]
/// async fn main() -> std::process::ExitCode {
///     agentcore_runtime::run_agent(env!("CARGO_PKG_NAME"), async { Ok(()) }).await
/// }
/// ```
pub async fn run_agent(agent: &str, run: impl Future<Output = anyhow::Result<()>>) -> ExitCode {
    let telemetry = match crate::telemetry::init(agent) {
        Ok(telemetry) => telemetry,
        Err(err) => return stopped(agent, &err),
    };
    let code = match run.await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => stopped(agent, &err),
    };
    telemetry.shutdown().await;
    code
}

fn stopped(agent: &str, err: &anyhow::Error) -> ExitCode {
    tracing::error!(error = format!("{err:#}"), "{agent} stopped");
    eprintln!("error: {err:#}");
    ExitCode::FAILURE
}
