//! What the AgentCore control plane says of a deployed runtime now (GetAgentRuntime): READY, or
//! CREATING/UPDATING while a deploy changes it, or a failed state with its reason. The state
//! object says what was deployed; only the service says whether it can answer. `status` shows
//! it; `invoke --env` asks when an invocation is refused, to say why.

use aws_sdk_bedrockagentcorecontrol::error::DisplayErrorContext;

use crate::ops::deployed::DeployedAgent;

pub const READY: &str = "READY";

#[derive(Debug, Clone, serde::Serialize)]
pub struct RuntimeState {
    /// AgentRuntimeStatus: CREATING, CREATE_FAILED, UPDATING, UPDATE_FAILED, READY, DELETING,
    /// DELETE_FAILED.
    pub status: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failure_reason: Option<String>,
}

impl RuntimeState {
    pub fn is_ready(&self) -> bool {
        self.status == READY
    }

    /// Why a runtime in this state does not answer, and what to do, for an error's help.
    pub fn advice(&self, env: crate::environment::Env) -> String {
        match self.status.as_str() {
            "CREATING" | "UPDATING" => format!(
                "a deploy is changing it: try again in a minute (`cargo xtask status {env}` shows \
                 READY once it answers)"
            ),
            "CREATE_FAILED" | "UPDATE_FAILED" => format!(
                "its last change failed{}: fix the cause and `cargo xtask deploy {env}` again",
                self.failure_reason
                    .as_deref()
                    .map(|r| format!(" ({r})"))
                    .unwrap_or_default()
            ),
            _ => format!(
                "it is being removed or is gone: `cargo xtask plan {env}` shows what deploy \
                 would do"
            ),
        }
    }
}

/// GetAgentRuntime of `agent`'s runtime, through the SDK's usual configuration
/// (`AWS_ENDPOINT_URL_BEDROCK_AGENTCORE_CONTROL` redirects it).
pub async fn read(
    config: &aws_config::SdkConfig,
    agent: &DeployedAgent,
) -> anyhow::Result<RuntimeState> {
    let client = aws_sdk_bedrockagentcorecontrol::Client::new(config);
    let out = client
        .get_agent_runtime()
        .agent_runtime_id(agent.runtime_id())
        .send()
        .await
        .map_err(|e| {
            anyhow::anyhow!(
                "cannot ask AgentCore about runtime {}: {}",
                agent.runtime_id(),
                DisplayErrorContext(&e)
            )
        })?;
    Ok(RuntimeState {
        status: out.status().as_str().to_string(),
        failure_reason: out.failure_reason().map(str::to_string),
    })
}
