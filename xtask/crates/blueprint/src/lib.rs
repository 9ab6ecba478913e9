//! `agents/<id>/blueprint.yaml`: what one agent is and where it runs.
//!
//! Owns: the typed model of a blueprint, the rules it must keep, the discovery of every agent
//! under a workspace's `agents/`, and in-place edits that keep comments (`edit`). Parsing is
//! strict (unknown fields are errors) and every problem comes back as a [`Diagnostic`] with
//! file, line and column, so `cargo xtask check` shows all of them at once.
//!
//! Knows nothing of Terraform, AWS or how agents are built: the xtask decides what a blueprint
//! means for an environment. Light enough to be an agent's build-dependency.

pub mod build_script;
pub mod edit;
mod env;
mod locate;
mod validate;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

pub use diagnostics::{Diagnostic, Diagnostics, Pos};
pub use env::Env;
/// Where a key or value of any YAML file is written (the xtask points into workflow files too).
pub use locate::Locations;
pub use validate::{PLATFORM_ENV, RESERVED_ENV, check_id, load_agent, load_all};

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Blueprint {
    /// Lower-case letters, digits and `-`: it names the crate, the binary, the ECR repository
    /// and (with `-` as `_`) the AgentCore runtime.
    pub id: String,
    pub name: String,
    pub version: String,
    #[serde(default)]
    pub description: String,
    pub model: Model,
    #[serde(default)]
    pub runtime: Runtime,
    #[serde(default)]
    pub execution_modes: ExecutionModes,
    #[serde(default)]
    pub memory: Memory,
    /// The environment's gateway tools the agent offers its model.
    #[serde(default, skip_serializing_if = "Tools::is_empty")]
    pub tools: Tools,
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
    /// Inbound auth: how callers prove who they are (IAM unless `jwt`), and which of their
    /// headers reach the agent.
    #[serde(default)]
    pub auth: Auth,
    /// Checks `deploy` and `promote` run against an environment once its agents are applied:
    /// a failing one fails the command, and production takes only digests whose checks passed
    /// in staging.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub smoke: Vec<SmokeCheck>,
    /// What differs in an environment (a larger model in production, more logging in dev),
    /// written once beside the rest instead of a copy of the blueprint.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub environments: BTreeMap<Env, Overrides>,
}

impl Blueprint {
    /// The blueprint as `env` runs it: its `environments.<env>` over the rest (the runtime's
    /// variables merged, a variable of the environment winning).
    pub fn in_environment(&self, env: Env) -> Blueprint {
        let mut bp = self.clone();
        let Some(over) = self.environments.get(&env) else {
            return bp;
        };
        let model = &over.model;
        if let Some(id) = &model.model_id {
            bp.model.model_id = id.clone();
        }
        if let Some(n) = model.max_tokens {
            bp.model.max_tokens = n;
        }
        if let Some(t) = model.temperature {
            bp.model.temperature = t;
        }
        let rt = &over.runtime;
        if let Some(mode) = rt.network_mode {
            bp.runtime.network_mode = mode;
        }
        if let Some(minutes) = rt.idle_timeout_minutes {
            bp.runtime.idle_timeout_minutes = minutes;
        }
        if let Some(minutes) = rt.max_lifetime_minutes {
            bp.runtime.max_lifetime_minutes = minutes;
        }
        bp.runtime.environment.extend(rt.environment.clone());
        bp
    }
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Auth {
    /// A custom JWT authorizer: callers send a bearer token from this identity provider
    /// instead of signing with IAM (SigV4).
    pub jwt: Option<Jwt>,
    /// Request headers AgentCore passes on to the agent: `Authorization` and
    /// `X-Amzn-Bedrock-AgentCore-Runtime-Custom-*`.
    #[serde(default)]
    pub request_headers: Vec<String>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Jwt {
    /// The identity provider's OpenID Connect discovery document
    /// (`https://…/.well-known/openid-configuration`).
    pub discovery_url: String,
    /// Tokens must name one of these in `aud`…
    #[serde(default)]
    pub allowed_audiences: Vec<String>,
    /// …or have been issued to one of these clients (`client_id`).
    #[serde(default)]
    pub allowed_clients: Vec<String>,
}

/// What an environment may set differently. Never what the image is made of (protocol, port,
/// the MCP session mode): the bytes promoted from dev to production are one image.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Overrides {
    #[serde(default)]
    pub model: ModelOverrides,
    #[serde(default)]
    pub runtime: RuntimeOverrides,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ModelOverrides {
    pub model_id: Option<String>,
    pub max_tokens: Option<u32>,
    pub temperature: Option<f32>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RuntimeOverrides {
    pub network_mode: Option<NetworkMode>,
    pub idle_timeout_minutes: Option<u32>,
    pub max_lifetime_minutes: Option<u32>,
    #[serde(default)]
    pub environment: BTreeMap<String, String>,
}

/// One invocation and what its answer must hold.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SmokeCheck {
    pub name: String,
    /// The payload, written as YAML and sent as JSON.
    pub payload: serde_yaml::Value,
    #[serde(default)]
    pub expect: Expect,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Expect {
    /// The agent's HTTP status.
    #[serde(default = "default_status")]
    pub status: u16,
    /// Fields the JSON answer must have (not null), as dotted paths: `answer`, `record.category`.
    #[serde(default)]
    pub fields: Vec<String>,
    /// The answer is a server-sent event stream that ends, with no `error` event.
    #[serde(default)]
    pub stream: bool,
    /// Text the answer must contain.
    #[serde(default)]
    pub contains: Option<String>,
}

impl Default for Expect {
    fn default() -> Expect {
        Expect {
            status: default_status(),
            fields: Vec::new(),
            stream: false,
            contains: None,
        }
    }
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Model {
    pub provider: Provider,
    /// A Bedrock model or inference-profile id, e.g. `us.anthropic.claude-sonnet-4-…`.
    pub model_id: String,
    #[serde(default = "default_max_tokens")]
    pub max_tokens: u32,
    #[serde(default = "default_temperature")]
    pub temperature: f32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Provider {
    Bedrock,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Runtime {
    #[serde(default)]
    pub network_mode: NetworkMode,
    #[serde(default)]
    pub protocol: Protocol,
    /// AgentCore expects 8080 for HTTP agents and 8000 for MCP servers.
    #[serde(default = "default_port")]
    pub port: u16,
    #[serde(default = "default_idle_timeout")]
    pub idle_timeout_minutes: u32,
    #[serde(default = "default_max_lifetime")]
    pub max_lifetime_minutes: u32,
    /// MCP servers only: whether the server keeps a session per client (`Mcp-Session-Id`).
    /// Stateless by default: AgentCore already routes a session to one microVM. Reaches the
    /// agent as `MCP_SESSIONS` in its image.
    #[serde(default)]
    pub mcp_sessions: McpSessions,
    /// Extra environment for the runtime, on top of what the platform sets.
    #[serde(default)]
    pub environment: BTreeMap<String, String>,
}

impl Default for Runtime {
    fn default() -> Runtime {
        Runtime {
            network_mode: NetworkMode::default(),
            protocol: Protocol::default(),
            port: default_port(),
            idle_timeout_minutes: default_idle_timeout(),
            max_lifetime_minutes: default_max_lifetime(),
            mcp_sessions: McpSessions::default(),
            environment: BTreeMap::new(),
        }
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
pub enum NetworkMode {
    /// Outbound internet access.
    #[default]
    #[serde(rename = "PUBLIC")]
    Public,
    /// Private subnets only; the platform's subnets and security group are wired in.
    #[serde(rename = "VPC")]
    Vpc,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
pub enum Protocol {
    #[default]
    #[serde(rename = "HTTP")]
    Http,
    #[serde(rename = "MCP")]
    Mcp,
    /// AgentCore's third protocol (JSON-RPC 2.0 on port 9000, an agent card at
    /// `/.well-known/agent-card.json`). Parsed only so that `check` can refuse it with the
    /// reason: no agent of this workspace can serve it yet (README.md, "Blueprints").
    #[serde(rename = "A2A")]
    A2a,
}

impl Protocol {
    /// The port AgentCore calls a runtime of this protocol on; none for what is refused.
    pub fn port(self) -> Option<u16> {
        match self {
            Protocol::Http => Some(8080),
            Protocol::Mcp => Some(8000),
            Protocol::A2a => None,
        }
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum McpSessions {
    #[default]
    Stateless,
    Stateful,
}

impl McpSessions {
    pub fn as_str(self) -> &'static str {
        match self {
            McpSessions::Stateless => "stateless",
            McpSessions::Stateful => "stateful",
        }
    }
}

/// Where the agent is deployed. Only dev is on by default: reaching staging and production is
/// a decision someone writes down.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ExecutionModes {
    #[serde(default = "yes")]
    pub dev: bool,
    #[serde(default)]
    pub staging: bool,
    #[serde(default)]
    pub production: bool,
}

impl Default for ExecutionModes {
    fn default() -> ExecutionModes {
        ExecutionModes {
            dev: true,
            staging: false,
            production: false,
        }
    }
}

impl ExecutionModes {
    pub fn enabled(&self, env: Env) -> bool {
        match env {
            Env::Dev => self.dev,
            Env::Staging => self.staging,
            Env::Production => self.production,
        }
    }
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Memory {
    /// The agent keeps its sessions in the environment's AgentCore Memory: its runtime gets
    /// `AGENTCORE_MEMORY_ID` and may write and read events and retrieve records there.
    #[serde(default)]
    pub enabled: bool,
    /// What the memory extracts from the agent's events (its long-term records); they need
    /// `enabled`, since only an agent that writes events gives them anything to extract.
    #[serde(default)]
    pub strategies: Vec<MemoryStrategy>,
}

impl Memory {
    /// The namespaces the agent's records are kept under, strategy by strategy: the declared
    /// ones, else `/agents/<id>/{actorId}` (infra/modules/agents gives a strategy the same
    /// default), so that an agent's records stay under its own prefix of the shared memory.
    pub fn namespaces(&self, agent_id: &str) -> Vec<String> {
        self.strategies
            .iter()
            .flat_map(|s| {
                if s.namespaces.is_empty() {
                    vec![format!("/agents/{agent_id}/{{actorId}}")]
                } else {
                    s.namespaces.clone()
                }
            })
            .collect()
    }
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Tools {
    /// Whose tools of the environment's AgentCore Gateway: `all`, or the ids of MCP agents
    /// (the gateway's targets). Unset: none — the runtime then gets neither the gateway's URL
    /// nor the permission to call it.
    #[serde(default)]
    pub gateway: Option<GatewayTools>,
    /// Model turns that may call tools before the agent answers with what it has.
    #[serde(default = "default_tool_steps")]
    pub max_steps: u32,
    /// One tool call's limit; a call cut there is an error the model reads.
    #[serde(default = "default_tool_timeout")]
    pub timeout_seconds: u32,
}

impl Default for Tools {
    fn default() -> Tools {
        Tools {
            gateway: None,
            max_steps: default_tool_steps(),
            timeout_seconds: default_tool_timeout(),
        }
    }
}

impl Tools {
    fn is_empty(&self) -> bool {
        self.gateway.is_none()
    }
}

/// `gateway: all`, or `gateway: [toolbox, …]`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(untagged)]
pub enum GatewayTools {
    /// Only `all` is valid (`check` says so).
    Keyword(String),
    Targets(Vec<String>),
}

impl GatewayTools {
    /// What the runtime's `AGENTCORE_GATEWAY_TARGETS` says: `all`, or the targets joined with
    /// commas (as the agents stack writes it).
    pub fn env_value(&self) -> String {
        match self {
            GatewayTools::Keyword(word) => word.clone(),
            GatewayTools::Targets(targets) => targets.join(","),
        }
    }
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct MemoryStrategy {
    pub name: String,
    #[serde(rename = "type")]
    pub kind: StrategyKind,
    #[serde(default)]
    pub namespaces: Vec<String>,
    #[serde(default)]
    pub description: String,
}

/// AgentCore Memory's built-in strategies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum StrategyKind {
    Semantic,
    Summarization,
    UserPreference,
}

fn yes() -> bool {
    true
}
fn default_tool_steps() -> u32 {
    8
}
fn default_tool_timeout() -> u32 {
    30
}
fn default_max_tokens() -> u32 {
    1024
}
fn default_temperature() -> f32 {
    0.2
}
fn default_port() -> u16 {
    8080
}
fn default_idle_timeout() -> u32 {
    15
}
fn default_max_lifetime() -> u32 {
    480
}
fn default_status() -> u16 {
    200
}

/// A blueprint together with where it came from.
#[derive(Debug, Clone)]
pub struct Agent {
    pub blueprint: Blueprint,
    /// `agents/<id>/`.
    pub dir: PathBuf,
}

impl Agent {
    pub fn id(&self) -> &str {
        &self.blueprint.id
    }

    /// The agent as `env` runs it ([`Blueprint::in_environment`]).
    pub fn in_environment(&self, env: Env) -> Agent {
        Agent {
            blueprint: self.blueprint.in_environment(env),
            dir: self.dir.clone(),
        }
    }

    pub fn blueprint_path(&self) -> PathBuf {
        self.dir.join(BLUEPRINT_FILE)
    }
}

pub const BLUEPRINT_FILE: &str = "blueprint.yaml";

/// Loads every agent of the workspace at `root`, failing with all diagnostics if any blueprint
/// is broken.
pub fn load_valid(root: &Path) -> Result<Vec<Agent>, Diagnostics> {
    let (agents, diags) = load_all(root);
    if diags.is_empty() {
        Ok(agents)
    } else {
        Err(Diagnostics(diags))
    }
}

/// An agent id that names no agent.
#[derive(Debug, Clone)]
pub struct UnknownAgent {
    pub id: String,
    pub known: Vec<String>,
}

impl std::fmt::Display for UnknownAgent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let known: Vec<&str> = self.known.iter().map(String::as_str).collect();
        write!(
            f,
            "no agent `{}`{}; the agents are: {}",
            self.id,
            diagnostics::suggestion(&self.id, &known),
            if known.is_empty() {
                "(none)".to_string()
            } else {
                known.join(", ")
            }
        )
    }
}

impl std::error::Error for UnknownAgent {}

/// The agents named in `ids` (all of them when `ids` is empty), in the order given.
pub fn select(agents: &[Agent], ids: &[String]) -> Result<Vec<Agent>, UnknownAgent> {
    if ids.is_empty() {
        return Ok(agents.to_vec());
    }
    ids.iter()
        .map(|id| {
            agents
                .iter()
                .find(|a| a.id() == id)
                .cloned()
                .ok_or_else(|| UnknownAgent {
                    id: id.clone(),
                    known: agents.iter().map(|a| a.id().to_string()).collect(),
                })
        })
        .collect()
}

/// Parses one blueprint's text. Serde's own errors (syntax, types, unknown or missing fields)
/// come back with their position and a "did you mean" where a field name is close.
pub fn parse(file: &Path, text: &str) -> Result<Blueprint, Diagnostic> {
    serde_yaml::from_str(text).map_err(|err| validate::serde_diagnostic(file, &err))
}
