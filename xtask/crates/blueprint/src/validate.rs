//! The rules a blueprint must keep beyond its types, and the discovery of all of them.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use diagnostics::{Diagnostic, Pos, did_you_mean};

use super::locate::Locations;
use super::{Agent, BLUEPRINT_FILE, Blueprint, GatewayTools, McpSessions, Protocol};

/// Variables the platform sets on every runtime, or the image from the blueprint's own fields
/// (`PORT` from `runtime.port`, `MCP_SESSIONS` from `runtime.mcp_sessions`); a blueprint's
/// `environment` may not override them.
pub const RESERVED_ENV: &[&str] = &[
    "AGENT_ID",
    "AGENTCORE_GATEWAY_TARGETS",
    "AGENTCORE_GATEWAY_URL",
    "AGENTCORE_MEMORY_ID",
    "AWS_REGION",
    "BEDROCK_REGION",
    "MCP_SESSIONS",
    "MODEL_ID",
    "MODEL_MAX_TOKENS",
    "MODEL_TEMPERATURE",
    "PORT",
    "SSM_ROOT_PATH",
    "TOOL_MAX_STEPS",
    "TOOL_TIMEOUT_SECONDS",
];

/// The reserved variables that `infra/modules/agents` puts into the runtime's
/// `environment_variables` beside the blueprint's own (`platform_environment` there; a test of
/// the xtask keeps the two lists equal). They count toward AgentCore's limit; `AWS_REGION` is
/// the runtime's own and does not.
pub const PLATFORM_ENV: &[&str] = &[
    "AGENT_ID",
    "AGENTCORE_GATEWAY_TARGETS",
    "AGENTCORE_GATEWAY_URL",
    "AGENTCORE_MEMORY_ID",
    "BEDROCK_REGION",
    "MODEL_ID",
    "MODEL_MAX_TOKENS",
    "MODEL_TEMPERATURE",
    "SSM_ROOT_PATH",
    "TOOL_MAX_STEPS",
    "TOOL_TIMEOUT_SECONDS",
];

/// AgentCore's limits on a runtime's `environmentVariables` (CreateAgentRuntime): a deploy
/// that breaks one fails at apply, after the images were built and pushed.
const MAX_ENV_VARS: usize = 50;
const MAX_ENV_KEY_CHARS: usize = 100;
const MAX_ENV_VALUE_CHARS: usize = 2048;

const MAX_ID_LEN: usize = 32;
/// AgentCore's limit on session timeouts and lifetimes: 8 hours.
const MAX_MINUTES: u32 = 480;

/// Every agent under `<root>/agents/` (a folder with a `blueprint.yaml`), sorted by id, and every
/// problem found in them, with paths relative to `root`. Folders without a blueprint are
/// libraries and are skipped.
pub fn load_all(root: &Path) -> (Vec<Agent>, Vec<Diagnostic>) {
    let mut agents = Vec::new();
    let mut diags = Vec::new();
    let dir = root.join("agents");
    let rel_of = |p: &Path| p.strip_prefix(root).unwrap_or(p).to_path_buf();
    let mut folders: Vec<_> = match std::fs::read_dir(&dir) {
        Ok(entries) => entries.filter_map(Result::ok).map(|e| e.path()).collect(),
        Err(err) => {
            diags.push(
                Diagnostic::new(
                    rel_of(&dir),
                    format!("cannot read the agents folder: {err}"),
                )
                .help("create `agents/` with one folder per agent"),
            );
            return (agents, diags);
        }
    };
    folders.sort();
    let mut seen: BTreeMap<String, (std::path::PathBuf, Option<Pos>)> = BTreeMap::new();
    // Every blueprint that parsed, for the rules that need the others.
    let mut parsed = Vec::new();
    for folder in folders
        .into_iter()
        .filter(|p| p.join(BLUEPRINT_FILE).is_file())
    {
        let path = folder.join(BLUEPRINT_FILE);
        let rel = rel_of(&path);
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(err) => {
                diags.push(Diagnostic::new(&rel, format!("cannot read: {err}")));
                continue;
            }
        };
        let blueprint = match super::parse(&rel, &text) {
            Ok(b) => b,
            Err(d) => {
                diags.push(d);
                continue;
            }
        };
        let loc = Locations::of(&text);
        let before = diags.len();
        check_rules(&rel, &folder, &blueprint, &loc, &mut diags);
        let id_pos = loc.value("id");
        if let Some((first, _)) = seen.get(&blueprint.id) {
            diags.push(
                Diagnostic::new(&rel, format!("duplicate agent id `{}`", blueprint.id))
                    .at(id_pos)
                    .help(format!(
                        "`{}` already uses this id; every agent needs its own",
                        first.display()
                    )),
            );
        } else {
            seen.insert(blueprint.id.clone(), (rel.clone(), id_pos));
        }
        if diags.len() == before {
            agents.push(Agent {
                blueprint: blueprint.clone(),
                dir: folder,
            });
        }
        parsed.push((blueprint, rel, loc));
    }
    check_tool_targets(&parsed, &mut diags);
    agents.sort_by(|a, b| a.blueprint.id.cmp(&b.blueprint.id));
    (agents, diags)
}

/// One agent's blueprint, parsed and checked against every rule that concerns it alone (not
/// the uniqueness of its id, which needs the others): what an agent's `build.rs` validates.
pub fn load_agent(root: &Path, folder: &Path) -> Result<Agent, Vec<Diagnostic>> {
    let path = folder.join(BLUEPRINT_FILE);
    let rel = path.strip_prefix(root).unwrap_or(&path).to_path_buf();
    let text = std::fs::read_to_string(&path)
        .map_err(|err| vec![Diagnostic::new(&rel, format!("cannot read: {err}"))])?;
    let blueprint = super::parse(&rel, &text).map_err(|d| vec![d])?;
    let mut diags = Vec::new();
    check_rules(&rel, folder, &blueprint, &Locations::of(&text), &mut diags);
    if diags.is_empty() {
        Ok(Agent {
            blueprint,
            dir: folder.to_path_buf(),
        })
    } else {
        Err(diags)
    }
}

fn check_rules(
    file: &Path,
    folder: &Path,
    bp: &Blueprint,
    loc: &Locations,
    diags: &mut Vec<Diagnostic>,
) {
    let mut err = |path: &str, message: String, help: String| {
        diags.push(
            Diagnostic::new(file, message)
                .at(loc.value(path))
                .help(help),
        );
    };

    if let Err(why) = check_id(&bp.id) {
        err(
            "id",
            format!("invalid agent id `{}`: {why}", bp.id),
            "use 2 to 32 lower-case letters, digits and single `-`, starting with a letter \
             (it names the crate, the ECR repository and the AgentCore runtime)"
                .into(),
        );
    }
    let folder_name = folder
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default();
    if bp.id != folder_name {
        err(
            "id",
            format!(
                "id `{}` does not match its folder `agents/{folder_name}`",
                bp.id
            ),
            // Only suggest a name that is itself a valid id.
            match (check_id(&bp.id), check_id(folder_name)) {
                (Ok(()), Ok(())) => format!(
                    "rename the folder to `agents/{}` or set `id: {folder_name}`",
                    bp.id
                ),
                (Ok(()), Err(_)) => format!("rename the folder to `agents/{}`", bp.id),
                (Err(_), Ok(())) => format!("set `id: {folder_name}`"),
                (Err(_), Err(_)) => {
                    "give the agent a valid id, and its folder the same name".into()
                }
            },
        );
    }
    check_crate(file, folder, &bp.id, loc.value("id"), diags);
    let mut err = |path: &str, message: String, help: String| {
        diags.push(
            Diagnostic::new(file, message)
                .at(loc.value(path))
                .help(help),
        );
    };

    if bp.name.trim().is_empty() {
        err(
            "name",
            "`name` is empty".into(),
            "give the agent a human-readable name".into(),
        );
    }
    if semver::Version::parse(&bp.version).is_err() {
        err(
            "version",
            format!("version `{}` is not a semantic version", bp.version),
            "write it as MAJOR.MINOR.PATCH, e.g. `0.1.0`".into(),
        );
    }
    let rt = &bp.runtime;
    let port = match rt.protocol {
        Protocol::Http | Protocol::Mcp => rt.protocol.port(),
        Protocol::A2a => {
            err(
                "runtime.protocol",
                "protocol A2A is not supported yet".into(),
                "agents here serve the AgentCore HTTP contract through `agentcore-runtime`, which \
                 has no A2A server (JSON-RPC 2.0 on port 9000 and an agent card): use `HTTP` for \
                 an agent, or `MCP` (port 8000) to offer tools through the gateway (README.md, \
                 \"Blueprints\")"
                    .into(),
            );
            None
        }
    };
    if let Some(port) = port
        && rt.port != port
    {
        err(
            "runtime.port",
            format!("port {} does not match protocol {:?}", rt.port, rt.protocol),
            format!(
                "AgentCore calls {:?} agents on port {port}; set `port: {port}`",
                rt.protocol
            ),
        );
    }
    if rt.mcp_sessions == McpSessions::Stateful && rt.protocol != Protocol::Mcp {
        err(
            "runtime.mcp_sessions",
            format!("`mcp_sessions: stateful` on a {:?} agent", rt.protocol),
            "only MCP servers keep MCP sessions: remove it, or set `protocol: MCP`".into(),
        );
    }
    let modes = &bp.execution_modes;
    if modes.production && !modes.staging {
        err(
            "execution_modes.production",
            "enabled in production but not in staging".into(),
            "production runs only the images staging ran: set `staging: true` too (promotion \
             goes dev → staging → production)"
                .into(),
        );
    }
    check_settings(file, "", bp, loc, diags);
    check_environments(file, bp, loc, diags);
    check_auth(file, bp, loc, diags);
    check_smoke(file, bp, loc, diags);
    if !bp.memory.enabled && !bp.memory.strategies.is_empty() {
        diags.push(
            Diagnostic::new(
                file,
                "memory strategies are declared but the agent does not use memory".to_string(),
            )
            .at(loc.key("memory.strategies"))
            .help(
                "set `memory.enabled: true` (the agent then records its sessions, which the \
                 strategies extract from), or remove the strategies",
            ),
        );
    }
    check_tools(file, bp, loc, diags);
    let mut names = std::collections::BTreeSet::new();
    for (i, s) in bp.memory.strategies.iter().enumerate() {
        if !names.insert(&s.name) {
            diags.push(
                Diagnostic::new(
                    file,
                    format!("memory strategy `{}` is defined twice", s.name),
                )
                .at(loc.value(&format!("memory.strategies.{i}.name")))
                .help("give each strategy its own name"),
            );
        }
    }
}

/// `tools`: what can be told from this blueprint alone (the targets' existence needs the
/// others: [`check_tool_targets`]).
fn check_tools(file: &Path, bp: &Blueprint, loc: &Locations, diags: &mut Vec<Diagnostic>) {
    let tools = &bp.tools;
    let mut err = |at: Option<Pos>, message: String, help: &str| {
        diags.push(Diagnostic::new(file, message).at(at).help(help));
    };
    match &tools.gateway {
        Some(GatewayTools::Keyword(word)) if word != "all" => err(
            loc.value("tools.gateway"),
            format!("`tools.gateway: {word}` is neither `all` nor a list of agents"),
            "write `gateway: all`, or the MCP agents whose tools the model may call: \
             `gateway: [toolbox]`",
        ),
        Some(GatewayTools::Targets(targets)) if targets.is_empty() => err(
            loc.value("tools.gateway"),
            "`tools.gateway` names no agent".into(),
            "name the MCP agents whose tools the model may call, or remove `tools`",
        ),
        Some(GatewayTools::Targets(targets)) => {
            for (i, target) in targets.iter().enumerate() {
                if *target == bp.id {
                    err(
                        loc.value(&format!("tools.gateway.{i}")),
                        format!("`{target}` names this agent itself"),
                        "an agent calls other agents' tools: remove it",
                    );
                }
            }
        }
        _ => {}
    }
    if tools.gateway.is_some() && bp.runtime.protocol == Protocol::Mcp {
        err(
            loc.key("tools"),
            "an MCP server with gateway tools".into(),
            "gateway tools are for agents that talk to a model (`protocol: HTTP`): an MCP \
             server is a target of the gateway, not its client",
        );
    }
    if !(1..=50).contains(&tools.max_steps) {
        err(
            loc.value("tools.max_steps"),
            format!("`tools.max_steps: {}` is out of range", tools.max_steps),
            "allow 1 to 50 model turns with tool calls per invocation",
        );
    }
    if !(1..=900).contains(&tools.timeout_seconds) {
        err(
            loc.value("tools.timeout_seconds"),
            format!(
                "`tools.timeout_seconds: {}` is out of range",
                tools.timeout_seconds
            ),
            "give one tool call 1 to 900 seconds",
        );
    }
}

/// Each agent `tools.gateway` names must be an MCP agent of the workspace: only those are the
/// gateway's targets (infra/modules/agents, `aws_bedrockagentcore_gateway_target`).
fn check_tool_targets(parsed: &[(Blueprint, PathBuf, Locations)], diags: &mut Vec<Diagnostic>) {
    let mcp: Vec<&str> = parsed
        .iter()
        .filter(|(bp, _, _)| bp.runtime.protocol == Protocol::Mcp)
        .map(|(bp, _, _)| bp.id.as_str())
        .collect();
    for (bp, file, loc) in parsed {
        let Some(GatewayTools::Targets(targets)) = &bp.tools.gateway else {
            continue;
        };
        for (i, target) in targets.iter().enumerate() {
            if *target == bp.id || mcp.contains(&target.as_str()) {
                continue;
            }
            let other = parsed.iter().find(|(other, _, _)| other.id == *target);
            let message = match other {
                Some((other, _, _)) => format!(
                    "`{target}` is not an MCP server ({:?}): the gateway has no tools of it",
                    other.runtime.protocol
                ),
                None => format!("`tools.gateway` names `{target}`, which is not an agent here"),
            };
            let help = match did_you_mean(target, &mcp) {
                Some(close) => format!("did you mean `{close}`?"),
                None if mcp.is_empty() => "no agent here serves MCP (`runtime.protocol: MCP`): \
                                           create one with `cargo xtask new <id> --protocol MCP`"
                    .to_string(),
                None => format!(
                    "name agents with `runtime.protocol: MCP`, the gateway's targets: {}",
                    mcp.join(", ")
                ),
            };
            diags.push(
                Diagnostic::new(file, message)
                    .at(loc.value(&format!("tools.gateway.{i}")))
                    .help(help),
            );
        }
    }
}

/// The values an environment may set differently (model, timeouts, variables), checked as
/// `prefix` + path: the blueprint's own (`prefix` empty), or what `environments.<env>.` makes
/// of them — there only what that environment writes is reported, at its line.
fn check_settings(
    file: &Path,
    prefix: &str,
    bp: &Blueprint,
    loc: &Locations,
    diags: &mut Vec<Diagnostic>,
) {
    let written = |path: &str| prefix.is_empty() || loc.key(&format!("{prefix}{path}")).is_some();
    let mut err = |path: &str, message: String, help: String| {
        if written(path) {
            diags.push(
                Diagnostic::new(file, message)
                    .at(loc.value(&format!("{prefix}{path}")))
                    .help(help),
            );
        }
    };
    if bp.model.model_id.trim().is_empty() {
        err(
            "model.model_id",
            "`model.model_id` is empty".into(),
            "name a Bedrock model or inference profile, e.g. `us.amazon.nova-lite-v1:0`".into(),
        );
    }
    if !(0.0..=1.0).contains(&bp.model.temperature) {
        err(
            "model.temperature",
            format!("temperature {} is out of range", bp.model.temperature),
            "Bedrock accepts a temperature from 0.0 to 1.0".into(),
        );
    }
    if bp.model.max_tokens == 0 {
        err(
            "model.max_tokens",
            "`max_tokens` is 0".into(),
            "allow the model at least one output token, e.g. 1024".into(),
        );
    }
    let rt = &bp.runtime;
    for (field, value) in [
        ("idle_timeout_minutes", rt.idle_timeout_minutes),
        ("max_lifetime_minutes", rt.max_lifetime_minutes),
    ] {
        if !(1..=MAX_MINUTES).contains(&value) {
            err(
                &format!("runtime.{field}"),
                format!("`{field}` is {value}"),
                format!("AgentCore accepts 1 to {MAX_MINUTES} minutes"),
            );
        }
    }
    if rt.idle_timeout_minutes > rt.max_lifetime_minutes {
        let message = "the idle timeout is longer than the maximum lifetime";
        let help = "make `idle_timeout_minutes` at most `max_lifetime_minutes`";
        // In an environment, at whichever of the two it sets.
        let path = if written("runtime.idle_timeout_minutes") {
            "runtime.idle_timeout_minutes"
        } else {
            "runtime.max_lifetime_minutes"
        };
        err(path, message.into(), help.into());
    }
    check_environment_limits(file, prefix, &rt.environment, loc, diags);
    for name in rt.environment.keys() {
        let path = format!("{prefix}runtime.environment.{name}");
        if !prefix.is_empty() && loc.key(&path).is_none() {
            continue;
        }
        if RESERVED_ENV.contains(&name.as_str()) {
            diags.push(
                Diagnostic::new(file, format!("`{name}` is set by the platform"))
                    .at(loc.key(&path))
                    .help(match name.as_str() {
                        "PORT" => "remove it: the image sets it from `runtime.port`",
                        "MCP_SESSIONS" => {
                            "remove it: the image sets it from `runtime.mcp_sessions`"
                        }
                        "MODEL_ID" | "MODEL_MAX_TOKENS" | "MODEL_TEMPERATURE" => {
                            "remove it: the runtime gets it from `model` (for one environment: \
                             `environments.<env>.model`)"
                        }
                        _ => "remove it: every runtime gets it from its environment's settings",
                    }),
            );
        } else if !is_env_name(name) {
            diags.push(
                Diagnostic::new(
                    file,
                    format!("`{name}` is not a valid environment variable name"),
                )
                .at(loc.key(&path))
                .help("use letters, digits and `_`, not starting with a digit"),
            );
        }
    }
}

/// `environments.<env>`: each environment's values checked as that environment runs them (an
/// environment the agent is not enabled in yet may have them: promotion enables it).
fn check_environments(file: &Path, bp: &Blueprint, loc: &Locations, diags: &mut Vec<Diagnostic>) {
    for env in bp.environments.keys() {
        let prefix = format!("environments.{env}.");
        check_settings(file, &prefix, &bp.in_environment(*env), loc, diags);
    }
}

/// The prefix of the headers AgentCore passes on besides `Authorization`.
const CUSTOM_HEADER_PREFIX: &str = "X-Amzn-Bedrock-AgentCore-Runtime-Custom-";
/// AgentCore's limit on a runtime's request header allowlist.
const MAX_REQUEST_HEADERS: usize = 20;

/// `auth`: what AgentCore's authorizer and header allowlist accept (CreateAgentRuntime), so a
/// deploy does not fail at apply on it.
fn check_auth(file: &Path, bp: &Blueprint, loc: &Locations, diags: &mut Vec<Diagnostic>) {
    let mut err = |pos: Option<Pos>, message: String, help: &str| {
        diags.push(Diagnostic::new(file, message).at(pos).help(help));
    };
    if let Some(jwt) = &bp.auth.jwt {
        let url = jwt.discovery_url.as_str();
        if !url.starts_with("https://") || !url.ends_with("/.well-known/openid-configuration") {
            err(
                loc.value("auth.jwt.discovery_url"),
                format!("`{url}` is not an OpenID Connect discovery URL"),
                "give the identity provider's https://…/.well-known/openid-configuration (for \
                 Cognito: https://cognito-idp.<region>.amazonaws.com/<pool id>/.well-known/\
                 openid-configuration)",
            );
        }
        if jwt.allowed_audiences.is_empty() && jwt.allowed_clients.is_empty() {
            err(
                loc.key("auth.jwt"),
                "the JWT authorizer allows no audience and no client".into(),
                "list `allowed_audiences` (the tokens' `aud`) or `allowed_clients` (their \
                 `client_id`): AgentCore needs one of them to tell whose tokens to accept",
            );
        }
    }
    let headers = &bp.auth.request_headers;
    if headers.len() > MAX_REQUEST_HEADERS {
        err(
            loc.key("auth.request_headers"),
            format!("{} request headers are allowed through", headers.len()),
            "AgentCore passes on at most 20",
        );
    }
    let mut seen = std::collections::BTreeSet::new();
    for (i, header) in headers.iter().enumerate() {
        let path = format!("auth.request_headers.{i}");
        let lower = header.to_ascii_lowercase();
        let custom = lower
            .strip_prefix(&CUSTOM_HEADER_PREFIX.to_ascii_lowercase())
            .is_some_and(|rest| !rest.is_empty());
        if lower != "authorization" && !custom {
            err(
                loc.value(&path),
                format!("AgentCore does not pass `{header}` on to an agent"),
                "allow `Authorization`, or a header named `X-Amzn-Bedrock-AgentCore-Runtime-\
                 Custom-<name>` (`cargo xtask invoke --header <name>=<value>` sends one)",
            );
        } else if !seen.insert(lower) {
            err(
                loc.value(&path),
                format!("`{header}` is listed twice"),
                "list each header once",
            );
        }
    }
}

/// Smoke checks are invocations: an MCP server takes none, and each must be sendable and
/// answerable as written.
fn check_smoke(file: &Path, bp: &Blueprint, loc: &Locations, diags: &mut Vec<Diagnostic>) {
    let mut names = std::collections::BTreeSet::new();
    for (i, check) in bp.smoke.iter().enumerate() {
        let at = |field: &str| loc.value(&format!("smoke.{i}.{field}"));
        let mut err = |pos: Option<Pos>, message: String, help: &str| {
            diags.push(Diagnostic::new(file, message).at(pos).help(help));
        };
        if bp.runtime.protocol != Protocol::Http {
            err(
                at("name"),
                format!(
                    "smoke check `{}` on a {:?} agent",
                    check.name, bp.runtime.protocol
                ),
                "smoke checks are invocations of an HTTP agent; an MCP server is checked through \
                 the agents that call its tools",
            );
        }
        if check.name.trim().is_empty() {
            err(
                at("name"),
                "a smoke check without a name".into(),
                "name it: the name is what a failure reports",
            );
        } else if !names.insert(check.name.as_str()) {
            err(
                at("name"),
                format!("smoke check `{}` is defined twice", check.name),
                "give each check its own name",
            );
        }
        if let Err(why) = json_like(&check.payload) {
            err(
                at("payload"),
                format!(
                    "the payload of `{}` cannot be sent as JSON: {why}",
                    check.name
                ),
                "write it as JSON-like YAML: string keys, no tags",
            );
        }
        let expect = &check.expect;
        if !(100..=599).contains(&expect.status) {
            err(
                at("expect.status"),
                format!("status {} is not an HTTP status", expect.status),
                "use 200, or the 4xx the agent answers on purpose",
            );
        }
        if expect.stream && !expect.fields.is_empty() {
            err(
                at("expect.fields"),
                format!("`{}` expects a stream and JSON fields", check.name),
                "fields are read from a JSON answer; a stream's events are checked with `contains`",
            );
        }
    }
}

/// Whether a YAML value has a JSON form: string keys, finite numbers, no tags.
fn json_like(value: &serde_yaml::Value) -> Result<(), String> {
    use serde_yaml::Value;
    match value {
        Value::Mapping(map) => map.iter().try_for_each(|(k, v)| match k {
            Value::String(_) => json_like(v),
            other => Err(format!("the key {other:?} is not a string")),
        }),
        Value::Sequence(items) => items.iter().try_for_each(json_like),
        Value::Tagged(tagged) => Err(format!("the tag {} has no JSON form", tagged.tag)),
        Value::Number(n) if n.as_f64().is_some_and(|f| !f.is_finite()) => {
            Err(format!("{n} is not a JSON number"))
        }
        _ => Ok(()),
    }
}

/// AgentCore's limits on what the runtime gets: the blueprint's variables plus the platform's.
fn check_environment_limits(
    file: &Path,
    prefix: &str,
    environment: &BTreeMap<String, String>,
    loc: &Locations,
    diags: &mut Vec<Diagnostic>,
) {
    let own = environment
        .keys()
        .filter(|k| !PLATFORM_ENV.contains(&k.as_str()))
        .count();
    let total = own + PLATFORM_ENV.len();
    let block = format!("{prefix}runtime.environment");
    // In an environment, only what it writes: the blueprint's own are reported once.
    let written = |path: &str| prefix.is_empty() || loc.key(path).is_some();
    if total > MAX_ENV_VARS && written(&block) {
        diags.push(
            Diagnostic::new(
                file,
                format!(
                    "the runtime would get {total} environment variables: these {own} and the \
                     platform's {}; AgentCore accepts at most {MAX_ENV_VARS}",
                    PLATFORM_ENV.len()
                ),
            )
            .at(loc.key(&block))
            .help(format!(
                "remove {} of them, or put settings into one variable (JSON) or under the \
                 environment's SSM_ROOT_PATH; the platform sets {}",
                total - MAX_ENV_VARS,
                PLATFORM_ENV.join(", ")
            )),
        );
    }
    for (name, value) in environment {
        let path = format!("{block}.{name}");
        if !written(&path) {
            continue;
        }
        let chars = name.chars().count();
        if chars > MAX_ENV_KEY_CHARS {
            diags.push(
                Diagnostic::new(
                    file,
                    format!(
                        "variable name `{}` is {chars} characters long",
                        shortened(name)
                    ),
                )
                .at(loc.key(&path))
                .help(format!(
                    "AgentCore accepts names of 1 to {MAX_ENV_KEY_CHARS} characters"
                )),
            );
        }
        let chars = value.chars().count();
        if chars > MAX_ENV_VALUE_CHARS {
            diags.push(
                Diagnostic::new(
                    file,
                    format!(
                        "the value of `{}` is {chars} characters long",
                        shortened(name)
                    ),
                )
                .at(loc.value(&path))
                .help(format!(
                    "AgentCore accepts values of at most {MAX_ENV_VALUE_CHARS} characters; put \
                     larger data in SSM (under SSM_ROOT_PATH) or S3 and read it when the agent \
                     starts"
                )),
            );
        }
    }
}

/// A name short enough to quote in a message.
fn shortened(name: &str) -> String {
    const SHOWN: usize = 24;
    if name.chars().count() <= SHOWN {
        name.to_string()
    } else {
        format!("{}…", name.chars().take(SHOWN).collect::<String>())
    }
}

/// Names cargo refuses for a package or a binary, or that collide with what rustc links
/// implicitly: Rust's keywords (every edition's, reserved ones included), the standard library's
/// crates, the folders cargo makes beside binaries in a target dir, and Windows' device names
/// (a checkout there could not hold the folder).
const RUST_RESERVED: &[&str] = &[
    "abstract",
    "as",
    "async",
    "await",
    "become",
    "box",
    "break",
    "const",
    "continue",
    "crate",
    "do",
    "dyn",
    "else",
    "enum",
    "extern",
    "false",
    "final",
    "fn",
    "for",
    "gen",
    "if",
    "impl",
    "in",
    "let",
    "loop",
    "macro",
    "match",
    "mod",
    "move",
    "mut",
    "override",
    "priv",
    "pub",
    "ref",
    "return",
    "self",
    "static",
    "struct",
    "super",
    "trait",
    "true",
    "try",
    "type",
    "typeof",
    "unsafe",
    "unsized",
    "use",
    "virtual",
    "where",
    "while",
    "yield",
    "alloc",
    "core",
    "std",
    "test",
    "proc-macro",
    "build",
    "deps",
    "examples",
    "incremental",
    "con",
    "prn",
    "aux",
    "nul",
    "com1",
    "com2",
    "com3",
    "com4",
    "com5",
    "com6",
    "com7",
    "com8",
    "com9",
    "lpt1",
    "lpt2",
    "lpt3",
    "lpt4",
    "lpt5",
    "lpt6",
    "lpt7",
    "lpt8",
    "lpt9",
];

/// The id names the crate, the binary, the ECR repository (`[a-z0-9-_/.]`) and, with `-`
/// turned into `_`, the AgentCore runtime (`[a-zA-Z][a-zA-Z0-9_]{0,47}` with our prefixes).
/// Public for `cargo xtask new`, which refuses an id before it writes anything.
pub fn check_id(id: &str) -> Result<(), &'static str> {
    if id.len() < 2 || id.len() > MAX_ID_LEN {
        return Err("it must be 2 to 32 characters long");
    }
    if !id.starts_with(|c: char| c.is_ascii_lowercase()) {
        return Err("it must start with a lower-case letter");
    }
    if !id
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
    {
        return Err("it may hold only lower-case letters, digits and `-`");
    }
    if id.ends_with('-') || id.contains("--") {
        return Err("`-` must stand between letters or digits");
    }
    if RUST_RESERVED.contains(&id) {
        return Err(
            "Rust or cargo keeps this name for itself (a keyword, a standard crate or a build \
             folder), so no crate or binary can have it",
        );
    }
    Ok(())
}

fn is_env_name(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with(|c: char| c.is_ascii_digit())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// The agent's folder must be a crate whose package, and a binary, carry the agent's id:
/// that binary is what goes into the image.
fn check_crate(file: &Path, folder: &Path, id: &str, at: Option<Pos>, diags: &mut Vec<Diagnostic>) {
    let manifest = folder.join("Cargo.toml");
    let text = match std::fs::read_to_string(&manifest) {
        Ok(text) => text,
        Err(_) => {
            diags.push(
                Diagnostic::new(
                    file,
                    format!("agent `{id}` has no Cargo.toml beside its blueprint"),
                )
                .at(at)
                .help(format!(
                    "make the folder a crate: `cargo init --name {id} {}`",
                    folder.display()
                )),
            );
            return;
        }
    };
    let parsed: toml::Table = match toml::from_str(&text) {
        Ok(t) => t,
        Err(e) => {
            let manifest_rel = file.with_file_name("Cargo.toml");
            diags.push(Diagnostic::new(
                manifest_rel,
                format!("invalid Cargo.toml: {}", e.message()),
            ));
            return;
        }
    };
    let package = parsed
        .get("package")
        .and_then(|p| p.get("name"))
        .and_then(|n| n.as_str())
        .unwrap_or_default();
    let bins: Vec<&str> = parsed
        .get("bin")
        .and_then(|b| b.as_array())
        .map(|bins| {
            bins.iter()
                .filter_map(|b| b.get("name")?.as_str())
                .collect()
        })
        .unwrap_or_default();
    let default_bin = folder.join("src/main.rs").is_file() && package == id;
    if package != id {
        diags.push(
            Diagnostic::new(
                file,
                format!("the crate beside this blueprint is `{package}`, not `{id}`"),
            )
            .at(at)
            .help(format!(
                "set `name = \"{id}\"` under [package] in its Cargo.toml"
            )),
        );
    } else if !default_bin && !bins.contains(&id) {
        diags.push(
            Diagnostic::new(file, format!("crate `{id}` has no binary named `{id}`"))
                .at(at)
                .help("add `src/main.rs` (the agent's entry point) or a [[bin]] of that name"),
        );
    }
}

/// Turns serde_yaml's error into a diagnostic at its position, with a fix to suggest.
pub fn serde_diagnostic(file: &Path, err: &serde_yaml::Error) -> Diagnostic {
    let pos = err.location().map(|l| Pos {
        line: l.line(),
        column: l.column(),
    });
    let full = err.to_string();
    // serde_yaml appends " at line L column C"; we show the position in front instead.
    let message = match full.rfind(" at line ") {
        Some(i) => full[..i].to_string(),
        None => full.clone(),
    };
    let help = help_for(&message);
    let diag = Diagnostic::new(file, message).at(pos);
    match help {
        Some(help) => diag.help(help),
        None => diag,
    }
}

fn help_for(message: &str) -> Option<String> {
    let backticked = |s: &str| -> Vec<String> {
        s.split('`')
            .skip(1)
            .step_by(2)
            .map(str::to_string)
            .collect()
    };
    if let Some(rest) = message.split("unknown field `").nth(1) {
        let (word, expected) = rest.split_once('`')?;
        let expected = backticked(expected);
        let cands: Vec<&str> = expected.iter().map(String::as_str).collect();
        return Some(match did_you_mean(word, &cands) {
            Some(close) => format!("did you mean `{close}`?"),
            None if cands.is_empty() => format!("remove `{word}`: nothing is expected here"),
            None => format!("remove `{word}`; the fields here are: {}", cands.join(", ")),
        });
    }
    if let Some(rest) = message.split("unknown variant `").nth(1) {
        let (word, expected) = rest.split_once('`')?;
        let expected = backticked(expected);
        let cands: Vec<&str> = expected.iter().map(String::as_str).collect();
        let upper = word.to_ascii_uppercase();
        let close = cands
            .iter()
            .find(|c| **c == upper)
            .copied()
            .or_else(|| did_you_mean(word, &cands));
        return Some(match close {
            Some(close) => format!("did you mean `{close}`? (one of: {})", cands.join(", ")),
            None => format!("use one of: {}", cands.join(", ")),
        });
    }
    if let Some(rest) = message.split("missing field `").nth(1) {
        let field = rest.split('`').next()?;
        return Some(format!(
            "add `{field}:` here (README.md, \"Blueprints\", lists every field)"
        ));
    }
    if message.contains("invalid type") || message.contains("invalid value") {
        return Some("write a value of the expected type (README.md, \"Blueprints\")".into());
    }
    Some("this is not valid YAML: check the indentation and quoting on this line".into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Env;

    #[test]
    fn ids() {
        for good in ["assistant", "web-researcher", "a1"] {
            assert!(check_id(good).is_ok(), "{good}");
        }
        for bad in [
            "A",
            "Assistant",
            "1agent",
            "agent_x",
            "agent-",
            "a--b",
            "x",
            &"a".repeat(33),
            "fn",
            "test",
            "proc-macro",
            "deps",
            "nul",
        ] {
            assert!(check_id(bad).is_err(), "{bad}");
        }
    }

    /// `agents/demo/` in a scratch workspace: a crate with the given blueprint.
    fn load_demo(blueprint: &str) -> Result<Agent, Vec<Diagnostic>> {
        let root = tempfile::tempdir().expect("temp dir");
        let folder = root.path().join("agents/demo");
        std::fs::create_dir_all(folder.join("src")).expect("agent folder");
        std::fs::write(
            folder.join("Cargo.toml"),
            "[package]\nname = \"demo\"\nversion = \"0.1.0\"\n",
        )
        .expect("Cargo.toml");
        std::fs::write(folder.join("src/main.rs"), "fn main() {}\n").expect("main.rs");
        std::fs::write(folder.join(BLUEPRINT_FILE), blueprint).expect("blueprint");
        load_agent(root.path(), &folder)
    }

    const HEAD: &str = "id: demo\nname: Demo\nversion: 0.1.0\nmodel:\n  provider: bedrock\n  \
                        model_id: us.amazon.nova-lite-v1:0\nruntime:\n";

    /// A blueprint whose `runtime.environment` holds `vars` (each `"KEY": "VALUE"` on its line).
    fn with_environment(vars: &[(String, String)]) -> String {
        let mut text = format!("{HEAD}  environment:\n");
        for (k, v) in vars {
            text.push_str(&format!("    \"{k}\": \"{v}\"\n"));
        }
        text
    }

    /// The line of the diagnostic that says `needle`.
    fn line_of(diags: &[Diagnostic], needle: &str) -> Option<usize> {
        diags
            .iter()
            .find(|d| d.message.contains(needle))
            .map(|d| d.line)
            .unwrap_or_else(|| panic!("no `{needle}` in {diags:?}"))
    }

    fn problems(result: Result<Agent, Vec<Diagnostic>>) -> Vec<String> {
        match result {
            Ok(_) => Vec::new(),
            Err(diags) => diags.iter().map(|d| format!("{d}")).collect(),
        }
    }

    #[test]
    fn an_environment_sets_its_own_values_over_the_blueprints() {
        let text = format!(
            "{HEAD}  environment:\n    LOG: info\n    KEEP: yes\nexecution_modes:\n  staging: \
             true\n  production: true\nenvironments:\n  production:\n    model:\n      \
             model_id: us.amazon.nova-pro-v1:0\n      max_tokens: 4096\n    runtime:\n      \
             max_lifetime_minutes: 60\n      environment:\n        LOG: warn\n"
        );
        let agent = load_demo(&text).expect("valid");
        let production = agent.blueprint.in_environment(Env::Production);
        assert_eq!(production.model.model_id, "us.amazon.nova-pro-v1:0");
        assert_eq!(production.model.max_tokens, 4096);
        assert_eq!(
            production.model.temperature,
            agent.blueprint.model.temperature
        );
        assert_eq!(production.runtime.max_lifetime_minutes, 60);
        assert_eq!(production.runtime.environment["LOG"], "warn");
        assert_eq!(production.runtime.environment["KEEP"], "yes");
        let staging = agent.blueprint.in_environment(Env::Staging);
        assert_eq!(staging.model.model_id, "us.amazon.nova-lite-v1:0");
        assert_eq!(staging.runtime.environment["LOG"], "info");
    }

    #[test]
    fn an_environments_values_are_checked_where_it_writes_them() {
        // Line 9: `environments:`; staging sets lines 12, 14 and 16.
        let text = format!(
            "{HEAD}  idle_timeout_minutes: 30\nenvironments:\n  staging:\n    model:\n      \
             temperature: 3.0\n    runtime:\n      max_lifetime_minutes: 20\n      \
             environment:\n        PORT: \"1\"\n"
        );
        let diags = match load_demo(&text) {
            Ok(_) => panic!("accepted"),
            Err(diags) => diags,
        };
        let at = |needle: &str| line_of(&diags, needle);
        assert_eq!(at("temperature 3 is out of range"), Some(12));
        assert_eq!(at("idle timeout is longer"), Some(14));
        assert_eq!(at("`PORT` is set by the platform"), Some(16));
        assert_eq!(diags.len(), 3, "{diags:?}");

        // An environment that is not one, or a value no environment may change.
        for (over, needle) in [
            ("  prod:\n    model:\n      max_tokens: 1\n", "prod"),
            ("  dev:\n    runtime:\n      port: 9000\n", "port"),
        ] {
            let text = format!("{HEAD}environments:\n{over}");
            let problems = problems(load_demo(&text));
            assert!(
                problems.len() == 1 && problems[0].contains(needle),
                "{problems:?}"
            );
        }
    }

    #[test]
    fn inbound_auth_is_what_agentcore_accepts() {
        let good = format!(
            "{HEAD}auth:\n  jwt:\n    discovery_url: https://cognito-idp.us-east-1.amazonaws.com/\
             us-east-1_abc/.well-known/openid-configuration\n    allowed_clients: [app]\n  \
             request_headers: [Authorization, X-Amzn-Bedrock-AgentCore-Runtime-Custom-Tenant]\n"
        );
        let agent = load_demo(&good).expect("valid auth");
        assert_eq!(agent.blueprint.auth.request_headers.len(), 2);
        assert!(agent.blueprint.auth.jwt.is_some());

        // Lines: 8 `auth:`, 9 `jwt:`, 10 the URL, 11 `request_headers:`, 12… the headers.
        let bad = format!(
            "{HEAD}auth:\n  jwt:\n    discovery_url: http://idp.example.com/keys\n  \
             request_headers:\n    - X-Tenant\n    - authorization\n    - Authorization\n"
        );
        let diags = match load_demo(&bad) {
            Ok(_) => panic!("accepted"),
            Err(diags) => diags,
        };
        let at = |needle: &str| line_of(&diags, needle);
        assert_eq!(at("not an OpenID Connect discovery URL"), Some(10));
        assert_eq!(at("allows no audience and no client"), Some(9));
        assert_eq!(at("does not pass `X-Tenant` on"), Some(12));
        assert_eq!(at("`Authorization` is listed twice"), Some(14));
        assert_eq!(diags.len(), 4, "{diags:?}");
    }

    #[test]
    fn a2a_is_refused_with_the_reason_and_what_to_use() {
        let text = format!("{HEAD}  protocol: A2A\n  port: 9000\n");
        let diags = match load_demo(&text) {
            Ok(_) => panic!("A2A accepted"),
            Err(diags) => diags,
        };
        assert_eq!(diags.len(), 1, "{diags:?}");
        let d = &diags[0];
        assert_eq!((d.line, d.column), (Some(8), Some(13)), "{d}");
        assert!(d.message.contains("A2A is not supported"), "{d}");
        let help = d.help.as_deref().unwrap_or_default();
        assert!(help.contains("`HTTP`") && help.contains("`MCP`"), "{d}");
    }

    #[test]
    fn smoke_checks_are_sendable_invocations_of_an_http_agent() {
        let good = format!(
            "{HEAD}  port: 8080\nsmoke:\n  - name: answers\n    payload: {{prompt: hi}}\n    \
             expect:\n      fields: [answer]\n"
        );
        let agent = load_demo(&good).expect("a smoke check");
        assert_eq!(agent.blueprint.smoke[0].expect.status, 200);
        assert_eq!(agent.blueprint.smoke[0].expect.fields, ["answer"]);

        let bad = format!(
            "{HEAD}  port: 8080\nsmoke:\n  - name: a\n    payload: {{1: x}}\n  - name: a\n    \
             payload: {{}}\n    expect:\n      status: 42\n      stream: true\n      \
             fields: [answer]\n"
        );
        let found = problems(load_demo(&bad));
        assert_eq!(found.len(), 4, "{found:#?}");
        for (needle, line) in [
            ("cannot be sent as JSON", ":11:"),
            ("defined twice", ":12:"),
            ("not an HTTP status", ":15:"),
            ("a stream and JSON fields", ":17:"),
        ] {
            assert!(
                found.iter().any(|f| f.contains(needle) && f.contains(line)),
                "{needle} at {line}: {found:#?}"
            );
        }

        let mcp = format!(
            "{HEAD}  protocol: MCP\n  port: 8000\nsmoke:\n  - name: tools\n    payload: {{}}\n"
        );
        let found = problems(load_demo(&mcp));
        assert!(
            found.len() == 1 && found[0].contains("on a Mcp agent"),
            "{found:?}"
        );
    }

    #[test]
    fn mcp_sessions_belong_to_mcp_servers_and_port_to_the_blueprint() {
        let mcp = format!("{HEAD}  protocol: MCP\n  port: 8000\n  mcp_sessions: stateful\n");
        let agent = load_demo(&mcp).expect("a stateful MCP server");
        assert_eq!(agent.blueprint.runtime.mcp_sessions, McpSessions::Stateful);
        let http = format!("{HEAD}  mcp_sessions: stateful\n");
        let found = problems(load_demo(&http));
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(found[0].contains("on a Http agent"), "{found:?}");
        let found = problems(load_demo(&with_environment(&[("PORT".into(), "9".into())])));
        assert!(
            found.len() == 1 && found[0].contains("from `runtime.port`"),
            "{found:?}"
        );
    }

    fn vars(n: usize) -> Vec<(String, String)> {
        (0..n).map(|i| (format!("VAR_{i}"), "x".into())).collect()
    }

    #[test]
    fn fifty_variables_with_the_platforms_and_no_more() {
        let fits = MAX_ENV_VARS - PLATFORM_ENV.len();
        assert!(problems(load_demo(&with_environment(&vars(fits)))).is_empty());
        let found = problems(load_demo(&with_environment(&vars(fits + 1))));
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(found[0].contains(":8:3:"), "{found:?}");
        assert!(
            found[0].contains("51 environment variables: these 40 and the platform's 11"),
            "{found:?}"
        );
        assert!(found[0].contains("remove 1 of them"), "{found:?}");
    }

    #[test]
    fn names_of_one_to_a_hundred_characters() {
        let longest = ("K".repeat(MAX_ENV_KEY_CHARS), "v".to_string());
        assert!(problems(load_demo(&with_environment(&[longest]))).is_empty());
        let too_long = ("K".repeat(MAX_ENV_KEY_CHARS + 1), "v".to_string());
        let found = problems(load_demo(&with_environment(&[too_long])));
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(found[0].contains(":9:5:"), "{found:?}");
        assert!(found[0].contains("is 101 characters long"), "{found:?}");
        assert!(found[0].contains("1 to 100 characters"), "{found:?}");
        let empty = (String::new(), "v".to_string());
        let found = problems(load_demo(&with_environment(&[empty])));
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(
            found[0].contains("not a valid environment variable name"),
            "{found:?}"
        );
    }

    #[test]
    fn values_of_at_most_2048_characters() {
        // Characters, not bytes: `é` is two bytes.
        let longest = ("BIG".to_string(), "é".repeat(MAX_ENV_VALUE_CHARS));
        assert!(problems(load_demo(&with_environment(&[longest]))).is_empty());
        let too_long = ("BIG".to_string(), "x".repeat(MAX_ENV_VALUE_CHARS + 1));
        let found = problems(load_demo(&with_environment(&[too_long])));
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(found[0].contains(":9:12:"), "{found:?}");
        assert!(
            found[0].contains("the value of `BIG` is 2049 characters long"),
            "{found:?}"
        );
    }

    #[test]
    fn a_platform_variable_in_a_blueprint_is_refused_and_counted_once() {
        let mut set = vars(MAX_ENV_VARS - PLATFORM_ENV.len());
        set.push(("AGENT_ID".into(), "other".into()));
        let found = problems(load_demo(&with_environment(&set)));
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(
            found[0].contains("`AGENT_ID` is set by the platform"),
            "{found:?}"
        );
    }

    #[test]
    fn the_platforms_variables_are_reserved() {
        for name in PLATFORM_ENV {
            assert!(RESERVED_ENV.contains(name), "{name}");
        }
    }

    #[test]
    fn serde_errors_keep_position_and_suggest() {
        let text = "id: a\nname: A\nversion: 0.1.0\nmodel:\n  provider: bedrock\n  modle_id: x\n";
        let err = serde_yaml::from_str::<Blueprint>(text).unwrap_err();
        let d = serde_diagnostic(Path::new("b.yaml"), &err);
        assert_eq!(d.line, Some(6), "{d}");
        assert!(d.help.as_deref().unwrap().contains("`model_id`"), "{d}");
    }

    /// A scratch workspace with an agent per `(id, blueprint)`.
    fn workspace(agents: &[(&str, String)]) -> tempfile::TempDir {
        let root = tempfile::tempdir().expect("temp dir");
        for (id, blueprint) in agents {
            let folder = root.path().join("agents").join(id);
            std::fs::create_dir_all(folder.join("src")).expect("agent folder");
            let manifest = format!("[package]\nname = \"{id}\"\nversion = \"0.1.0\"\n");
            std::fs::write(folder.join("Cargo.toml"), manifest).expect("Cargo.toml");
            std::fs::write(folder.join("src/main.rs"), "fn main() {}\n").expect("main.rs");
            std::fs::write(folder.join(BLUEPRINT_FILE), blueprint).expect("blueprint");
        }
        root
    }

    fn agent(id: &str, protocol: &str, rest: &str) -> String {
        let port = if protocol == "MCP" { 8000 } else { 8080 };
        format!(
            "id: {id}\nname: N\nversion: 0.1.0\nmodel:\n  provider: bedrock\n  model_id: m-1\n\
             runtime:\n  protocol: {protocol}\n  port: {port}\n{rest}"
        )
    }

    #[test]
    fn gateway_tools_name_mcp_agents_of_the_workspace() {
        let root = workspace(&[
            (
                "helper",
                agent("helper", "HTTP", "tools:\n  gateway: [toolbx, plain]\n"),
            ),
            ("plain", agent("plain", "HTTP", "")),
            ("toolbox", agent("toolbox", "MCP", "")),
        ]);
        let (agents, diags) = load_all(root.path());
        assert_eq!(agents.len(), 3, "{diags:?}");
        let text: Vec<String> = diags.iter().map(|d| format!("{d}")).collect();
        assert_eq!(diags.len(), 2, "{text:#?}");
        assert!(
            text[0].contains("`toolbx`, which is not an agent here"),
            "{}",
            text[0]
        );
        assert!(text[0].contains("did you mean `toolbox`?"), "{}", text[0]);
        assert!(
            text[1].contains("`plain` is not an MCP server"),
            "{}",
            text[1]
        );
        assert_eq!(diags[0].line, Some(11), "{}", text[0]);

        let root = workspace(&[
            (
                "helper",
                agent(
                    "helper",
                    "HTTP",
                    "tools:\n  gateway: [toolbox]\n  max_steps: 3\n",
                ),
            ),
            ("toolbox", agent("toolbox", "MCP", "")),
        ]);
        let (agents, diags) = load_all(root.path());
        assert!(diags.is_empty(), "{diags:?}");
        let tools = &agents[0].blueprint.tools;
        assert_eq!(
            tools
                .gateway
                .as_ref()
                .map(GatewayTools::env_value)
                .as_deref(),
            Some("toolbox")
        );
        assert_eq!((tools.max_steps, tools.timeout_seconds), (3, 30));
    }

    #[test]
    fn gateway_tools_are_all_or_a_list_within_limits() {
        let all =
            load_demo(&format!("{HEAD}  port: 8080\ntools:\n  gateway: all\n")).expect("valid");
        assert_eq!(
            all.blueprint.tools.gateway,
            Some(GatewayTools::Keyword("all".into()))
        );
        let bad = problems(load_demo(&format!(
            "{HEAD}  port: 8080\ntools:\n  gateway: every\n  max_steps: 0\n  timeout_seconds: 901\n"
        )));
        assert_eq!(bad.len(), 3, "{bad:#?}");
        assert!(
            bad[0].contains("`tools.gateway: every` is neither `all`"),
            "{}",
            bad[0]
        );
        assert!(
            bad[1].contains("`tools.max_steps: 0` is out of range"),
            "{}",
            bad[1]
        );
        assert!(
            bad[2].contains("`tools.timeout_seconds: 901`"),
            "{}",
            bad[2]
        );
        let mcp = problems(load_demo(&format!(
            "{HEAD}  protocol: MCP\n  port: 8000\ntools:\n  gateway: all\n"
        )));
        assert!(
            mcp.iter()
                .any(|p| p.contains("an MCP server with gateway tools")),
            "{mcp:#?}"
        );
    }
}
