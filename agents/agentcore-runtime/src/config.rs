//! What the AgentCore runtime tells an agent through its environment.
//!
//! Nothing region- or model-specific is compiled in: the platform sets `BEDROCK_REGION`,
//! `AGENT_ID` and `SSM_ROOT_PATH` on every runtime, `AGENTCORE_MEMORY_ID` on those whose
//! blueprint uses memory, and `AGENTCORE_GATEWAY_URL` (with the `AGENTCORE_GATEWAY_TARGETS` and
//! `TOOL_*` limits) on those whose blueprint names gateway tools; the model comes from the
//! agent's blueprint ([`ModelConfig`]).

use std::net::{IpAddr, Ipv4Addr};
use std::str::FromStr;
use std::time::Duration;

use anyhow::{Context as _, bail};

/// AgentCore sends HTTP agents their traffic on 8080.
pub const HTTP_PORT: u16 = 8080;
/// And MCP servers theirs on 8000.
pub const MCP_PORT: u16 = 8000;
/// InvokeAgentRuntime accepts payloads up to 100 MB: a smaller default would refuse what the
/// platform delivers. An agent that wants less sets `MAX_BODY_BYTES`.
pub const DEFAULT_MAX_BODY_BYTES: usize = 100 * 1024 * 1024;

/// [`Config::tool_max_steps`] when the blueprint says nothing.
pub const DEFAULT_TOOL_MAX_STEPS: usize = 8;
/// [`Config::tool_timeout`] when the blueprint says nothing, in seconds.
pub const DEFAULT_TOOL_TIMEOUT_SECONDS: f64 = 30.0;

/// Whose gateway tools an agent offers its model.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GatewayTargets {
    All,
    /// The gateway names a target's tools `<target>___<tool>`; these are the targets.
    Only(Vec<String>),
}

impl GatewayTargets {
    fn parse(text: &str) -> GatewayTargets {
        if text.trim() == "all" {
            return GatewayTargets::All;
        }
        let names = text.split(',').map(str::trim).filter(|n| !n.is_empty());
        GatewayTargets::Only(names.map(str::to_string).collect())
    }
}

#[derive(Debug, Clone)]
pub struct Config {
    /// `AGENT_ID`, or the agent's own name when run outside AgentCore.
    pub agent_id: String,
    /// `BIND_ADDRESS` (default `0.0.0.0`; not `HOST`, which shells and platforms set to a name)
    /// and `PORT` (unset: the protocol's port, [`HTTP_PORT`] or [`MCP_PORT`]; the image sets
    /// the blueprint's `runtime.port`).
    pub host: IpAddr,
    pub port: Option<u16>,
    /// `BEDROCK_REGION`: where Bedrock is called, which may differ from where the agent runs.
    /// Unset means the AWS SDK's own region chain (`AWS_REGION`, profile, …).
    pub bedrock_region: Option<String>,
    /// `AGENTCORE_MEMORY_ID`: the environment's AgentCore Memory ([`crate::memory`]).
    pub memory_id: Option<String>,
    /// `AGENTCORE_GATEWAY_URL`: the environment's gateway (its MCP endpoint), set by the agents
    /// stack on the runtimes whose blueprint names gateway tools ([`crate::gateway`]).
    pub gateway_url: Option<String>,
    /// `AGENTCORE_GATEWAY_TARGETS`: whose tools the agent offers its model — `all`, or target
    /// names separated by commas (the blueprint's `tools.gateway`). Unset means all.
    pub gateway_targets: GatewayTargets,
    /// `TOOL_MAX_STEPS` (default 8, the blueprint's `tools.max_steps`): model turns that may
    /// call tools before the agent answers with what it has.
    pub tool_max_steps: usize,
    /// `TOOL_TIMEOUT_SECONDS` (default 30, the blueprint's `tools.timeout_seconds`): one tool
    /// call's limit; a call cut there is an error the model reads.
    pub tool_timeout: Duration,
    pub ssm_root_path: Option<String>,
    /// `MAX_BODY_BYTES`: larger invocation bodies get a 413.
    pub max_body_bytes: usize,
    /// `MCP_SESSIONS=stateful` (the blueprint's `runtime.mcp_sessions`): an MCP server keeps a
    /// session per client (`Mcp-Session-Id`); stateless by default, as AgentCore recommends,
    /// since its own session routing already pins a client to one microVM.
    pub mcp_stateful: bool,
}

impl Config {
    /// Reads the configuration from the process environment; `default_agent_id` names the
    /// agent when `AGENT_ID` is unset (a local run).
    pub fn from_env(default_agent_id: &str) -> anyhow::Result<Config> {
        Config::from_lookup(default_agent_id, |name| std::env::var(name).ok())
    }

    /// As [`Config::from_env`], from any source of variables.
    pub fn from_lookup(
        default_agent_id: &str,
        lookup: impl Fn(&str) -> Option<String>,
    ) -> anyhow::Result<Config> {
        let get = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());
        Ok(Config {
            agent_id: get("AGENT_ID").unwrap_or_else(|| default_agent_id.to_string()),
            host: parse_var(&lookup, "BIND_ADDRESS")?.unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED)),
            port: parse_var(&lookup, "PORT")?,
            bedrock_region: get("BEDROCK_REGION"),
            memory_id: get("AGENTCORE_MEMORY_ID"),
            gateway_url: get("AGENTCORE_GATEWAY_URL"),
            gateway_targets: get("AGENTCORE_GATEWAY_TARGETS")
                .map_or(GatewayTargets::All, |text| GatewayTargets::parse(&text)),
            tool_max_steps: parse_var(&lookup, "TOOL_MAX_STEPS")?.unwrap_or(DEFAULT_TOOL_MAX_STEPS),
            tool_timeout: Duration::from_secs_f64(
                parse_var(&lookup, "TOOL_TIMEOUT_SECONDS")?
                    .filter(|s: &f64| s.is_finite() && *s > 0.0)
                    .unwrap_or(DEFAULT_TOOL_TIMEOUT_SECONDS),
            ),
            ssm_root_path: get("SSM_ROOT_PATH"),
            max_body_bytes: parse_var(&lookup, "MAX_BODY_BYTES")?.unwrap_or(DEFAULT_MAX_BODY_BYTES),
            mcp_stateful: match get("MCP_SESSIONS").as_deref().map(str::trim) {
                None | Some("stateless") => false,
                Some("stateful") => true,
                Some(other) => bail!(
                    "environment variable MCP_SESSIONS={other:?} is not valid: use `stateless` \
                     or `stateful`"
                ),
            },
        })
    }
}

/// The model an agent talks to.
///
/// The blueprint's `model` section is the source of truth: an agent's `build.rs` compiles it in
/// (`blueprint::build_script`), so the image it ships in always knows its model. `MODEL_ID`,
/// `MODEL_MAX_TOKENS` and `MODEL_TEMPERATURE` override it per runtime (`cargo xtask run` sets
/// them from the same blueprint).
#[derive(Debug, Clone)]
pub struct ModelConfig {
    pub model_id: String,
    pub max_tokens: Option<i32>,
    pub temperature: Option<f32>,
}

/// The blueprint's model, as the agent compiled it in.
#[derive(Debug, Clone, Copy)]
pub struct ModelDefaults {
    pub model_id: &'static str,
    pub max_tokens: u32,
    pub temperature: f32,
}

impl ModelConfig {
    /// The compiled-in `defaults`, overridden by the `MODEL_*` variables.
    pub fn from_env_or(defaults: ModelDefaults) -> anyhow::Result<ModelConfig> {
        ModelConfig::from_lookup(defaults, |name| std::env::var(name).ok())
    }

    pub fn from_lookup(
        defaults: ModelDefaults,
        lookup: impl Fn(&str) -> Option<String>,
    ) -> anyhow::Result<ModelConfig> {
        let model_id = lookup("MODEL_ID")
            .filter(|v| !v.trim().is_empty())
            .unwrap_or_else(|| defaults.model_id.to_string());
        if model_id.trim().is_empty() {
            bail!("no model: set `model.model_id` in the blueprint, or MODEL_ID");
        }
        Ok(ModelConfig {
            model_id,
            max_tokens: parse_var(&lookup, "MODEL_MAX_TOKENS")?
                .or(i32::try_from(defaults.max_tokens).ok()),
            temperature: parse_var(&lookup, "MODEL_TEMPERATURE")?.or(Some(defaults.temperature)),
        })
    }
}

fn parse_var<T: FromStr>(
    lookup: &impl Fn(&str) -> Option<String>,
    name: &str,
) -> anyhow::Result<Option<T>>
where
    T::Err: std::error::Error + Send + Sync + 'static,
{
    match lookup(name).filter(|v| !v.trim().is_empty()) {
        None => Ok(None),
        Some(text) => text
            .trim()
            .parse()
            .map(Some)
            .with_context(|| format!("environment variable {name}={text:?} is not valid")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |name| {
            pairs
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.to_string())
        }
    }

    #[test]
    fn defaults_outside_agentcore() {
        let config = Config::from_lookup("assistant", vars(&[])).unwrap();
        assert_eq!(config.agent_id, "assistant");
        assert_eq!(config.port, None);
        assert!(!config.mcp_stateful);
        assert_eq!(config.host.to_string(), "0.0.0.0");
        assert_eq!(config.bedrock_region, None);
        assert_eq!(config.gateway_targets, GatewayTargets::All);
        assert_eq!(config.tool_max_steps, DEFAULT_TOOL_MAX_STEPS);
        assert_eq!(config.tool_timeout, Duration::from_secs(30));
    }

    #[test]
    fn gateway_targets_and_tool_limits() {
        let config = Config::from_lookup(
            "a",
            vars(&[
                ("AGENTCORE_GATEWAY_TARGETS", "toolbox, search"),
                ("TOOL_MAX_STEPS", "3"),
                ("TOOL_TIMEOUT_SECONDS", "1.5"),
            ]),
        )
        .unwrap();
        let only = vec!["toolbox".to_string(), "search".to_string()];
        assert_eq!(config.gateway_targets, GatewayTargets::Only(only));
        assert_eq!(config.tool_max_steps, 3);
        assert_eq!(config.tool_timeout, Duration::from_millis(1500));
        let all = Config::from_lookup("a", vars(&[("AGENTCORE_GATEWAY_TARGETS", "all")]));
        assert_eq!(all.unwrap().gateway_targets, GatewayTargets::All);
        let err = Config::from_lookup("a", vars(&[("TOOL_TIMEOUT_SECONDS", "soon")])).unwrap_err();
        assert!(
            format!("{err:#}").contains("TOOL_TIMEOUT_SECONDS"),
            "{err:#}"
        );
    }

    #[test]
    fn reads_the_runtime_environment() {
        let config = Config::from_lookup(
            "assistant",
            vars(&[
                ("AGENT_ID", "agentcore_dev_assistant"),
                ("PORT", "9001"),
                ("BEDROCK_REGION", "us-west-2"),
                ("SSM_ROOT_PATH", "/platform/dev"),
            ]),
        )
        .unwrap();
        assert_eq!(config.agent_id, "agentcore_dev_assistant");
        assert_eq!(config.port, Some(9001));
        assert_eq!(config.bedrock_region.as_deref(), Some("us-west-2"));
        assert_eq!(config.ssm_root_path.as_deref(), Some("/platform/dev"));
    }

    #[test]
    fn mcp_sessions_are_stateless_unless_said() {
        let stateful = Config::from_lookup("a", vars(&[("MCP_SESSIONS", "stateful")])).unwrap();
        assert!(stateful.mcp_stateful);
        let err = Config::from_lookup("a", vars(&[("MCP_SESSIONS", "sticky")])).unwrap_err();
        assert!(
            format!("{err:#}").contains("MCP_SESSIONS=\"sticky\""),
            "{err:#}"
        );
    }

    #[test]
    fn a_bad_number_names_the_variable() {
        let err = Config::from_lookup("a", vars(&[("PORT", "80x")])).unwrap_err();
        assert!(format!("{err:#}").contains("PORT=\"80x\""), "{err:#}");
    }

    const BLUEPRINT: ModelDefaults = ModelDefaults {
        model_id: "amazon.nova-lite-v1:0",
        max_tokens: 300,
        temperature: 0.2,
    };

    #[test]
    fn the_model_comes_from_the_blueprint_and_the_environment_overrides_it() {
        let model = ModelConfig::from_lookup(BLUEPRINT, vars(&[])).unwrap();
        assert_eq!(model.model_id, "amazon.nova-lite-v1:0");
        assert_eq!(model.max_tokens, Some(300));
        assert_eq!(model.temperature, Some(0.2));
        let model = ModelConfig::from_lookup(
            BLUEPRINT,
            vars(&[("MODEL_ID", "eu.other-v1:0"), ("MODEL_MAX_TOKENS", "512")]),
        )
        .unwrap();
        assert_eq!(model.model_id, "eu.other-v1:0");
        assert_eq!(model.max_tokens, Some(512));
    }

    #[test]
    fn a_bad_override_names_the_variable() {
        let err = ModelConfig::from_lookup(BLUEPRINT, vars(&[("MODEL_TEMPERATURE", "warm")]))
            .unwrap_err();
        assert!(format!("{err:#}").contains("MODEL_TEMPERATURE"), "{err:#}");
    }
}
