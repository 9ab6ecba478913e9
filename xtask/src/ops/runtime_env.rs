//! The environment AgentCore gives an agent's process, as the agents stack sets it on the
//! runtime: `cargo xtask run` gives it to a host build, the local data plane to the image's
//! entrypoint.

use std::net::Ipv4Addr;

use blueprint::Agent;

/// The variables the agent gets on top of this process's environment, in the order they apply;
/// `extra` (`-e`) overrides all but `PORT` and `BIND_ADDRESS`.
pub fn agent_env(
    agent: &Agent,
    bedrock_region: Option<String>,
    extra: &[(String, String)],
    port: u16,
    lookup: impl Fn(&str) -> Option<String>,
) -> Vec<(String, String)> {
    let bp = &agent.blueprint;
    let mut env: Vec<(String, String)> = vec![("AGENT_ID".into(), bp.id.clone())];
    let region = bedrock_region.or_else(|| {
        ["BEDROCK_REGION", "AWS_BEDROCK_REGION", "AWS_REGION"]
            .into_iter()
            .find_map(|name| lookup(name).filter(|v| !v.is_empty()))
    });
    if let Some(region) = region {
        env.push(("BEDROCK_REGION".into(), region));
    }
    // As the agents stack sets them: the memory only for an agent whose blueprint uses it, the
    // gateway only for one whose blueprint names its tools.
    let memory = bp.memory.enabled.then_some("AGENTCORE_MEMORY_ID");
    let gateway = bp.tools.gateway.as_ref();
    let gateway_url = gateway.map(|_| "AGENTCORE_GATEWAY_URL");
    for name in memory
        .into_iter()
        .chain(gateway_url)
        .chain(["SSM_ROOT_PATH"])
    {
        if let Some(value) = lookup(name) {
            env.push((name.into(), value));
        }
    }
    if let Some(targets) = gateway {
        let tools = &bp.tools;
        env.push(("AGENTCORE_GATEWAY_TARGETS".into(), targets.env_value()));
        env.push(("TOOL_MAX_STEPS".into(), tools.max_steps.to_string()));
        let timeout = tools.timeout_seconds.to_string();
        env.push(("TOOL_TIMEOUT_SECONDS".into(), timeout));
    }
    env.push(("MODEL_ID".into(), bp.model.model_id.clone()));
    env.push(("MODEL_MAX_TOKENS".into(), bp.model.max_tokens.to_string()));
    env.push(("MODEL_TEMPERATURE".into(), bp.model.temperature.to_string()));
    if bp.runtime.protocol == blueprint::Protocol::Mcp {
        env.push((
            "MCP_SESSIONS".into(),
            bp.runtime.mcp_sessions.as_str().into(),
        ));
    }
    env.extend(bp.runtime.environment.clone());
    env.extend(extra.iter().cloned());
    env.push(("PORT".into(), port.to_string()));
    env.push(("BIND_ADDRESS".into(), Ipv4Addr::LOCALHOST.to_string()));
    env
}
