//! The invoke tasks of a workflow (`Resource:` Step Functions' AWS SDK integration for
//! InvokeAgentRuntime) against the operation's input shape in the service's published model:
//! what Step Functions accepts at deploy time says nothing of what the service rejects at run
//! time, and a rejected invocation is found only when the workflow first runs.
//!
//! The model is an extract of botocore's (`invoke_agent_runtime.json`), committed so that
//! `check` stays offline; `xtask/tests/workflow_model.rs` derives it again from the pinned
//! botocore.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::OnceLock;

use serde::Deserialize;
use serde_yaml::{Mapping, Value};

use blueprint::Locations;
use diagnostics::{Diagnostic, Pos, did_you_mean};

/// What the model says of InvokeAgentRuntime (see the module doc).
#[derive(Debug, Deserialize)]
pub(super) struct Model {
    pub api_version: String,
    /// Step Functions' prefix of the service's errors (`BedrockAgentCore.`).
    pub error_prefix: String,
    pub errors: Vec<String>,
    /// By the name Step Functions uses (PascalCase).
    pub members: BTreeMap<String, Member>,
    pub operation: String,
    /// The `Resource` of a task that calls the operation.
    pub resource: String,
}

#[derive(Debug, Deserialize)]
pub(super) struct Member {
    #[serde(rename = "type")]
    pub kind: String,
    pub required: bool,
    pub min: Option<usize>,
    pub max: Option<usize>,
    pub pattern: Option<String>,
}

pub(super) fn model() -> &'static Model {
    static MODEL: OnceLock<Model> = OnceLock::new();
    MODEL.get_or_init(|| {
        // Our own file, parsed by a unit test: a failure here is a broken build, not input.
        serde_json::from_str(include_str!("invoke_agent_runtime.json"))
            .expect("invoke_agent_runtime.json matches `Model`")
    })
}

/// Seconds suggested for a missing `TimeoutSeconds`, when the agent's lifetime allows it.
const SUGGESTED_TIMEOUT: u64 = 300;

/// What a task's checks need to know of the workflow around it.
pub(super) struct Context<'a> {
    pub file: &'a Path,
    /// Where each key and value of the file is written, by dotted path.
    pub locs: &'a Locations,
    /// The valid blueprints' `runtime.max_lifetime_minutes`, by agent id.
    pub lifetimes: &'a BTreeMap<String, u32>,
}

/// Every state of `states` (written at the dotted path `at`) and of the states nested in it
/// (Parallel branches, Map processors), in the file's order, with its own path.
pub(super) fn states<'a>(
    states: &'a Mapping,
    at: &str,
    out: &mut Vec<(&'a str, &'a Mapping, String)>,
) {
    for (name, state) in states {
        let (Some(name), Some(state)) = (name.as_str(), state.as_mapping()) else {
            continue;
        };
        let path = format!("{at}.{name}");
        out.push((name, state, path.clone()));
        let mut nested: Vec<(String, &Mapping)> = Vec::new();
        if let Some(branches) = state.get("Branches").and_then(Value::as_sequence) {
            for (i, branch) in branches.iter().enumerate() {
                nested.extend(
                    branch
                        .as_mapping()
                        .map(|m| (format!("{path}.Branches.{i}"), m)),
                );
            }
        }
        for key in ["ItemProcessor", "Iterator"] {
            nested.extend(
                state
                    .get(key)
                    .and_then(Value::as_mapping)
                    .map(|m| (format!("{path}.{key}"), m)),
            );
        }
        for (machine_at, machine) in nested {
            if let Some(inner) = machine.get("States").and_then(Value::as_mapping) {
                self::states(inner, &format!("{machine_at}.States"), out);
            }
        }
    }
}

pub(super) fn is_invoke(state: &Mapping) -> bool {
    state.get("Type").and_then(Value::as_str) == Some("Task")
        && state.get("Resource").and_then(Value::as_str) == Some(model().resource.as_str())
}

/// Every problem of the invoke task `name`.
pub(super) fn check_task(
    cx: &Context,
    name: &str,
    state: &Mapping,
    at: &str,
    diags: &mut Vec<Diagnostic>,
) {
    let m = model();
    let op = &m.operation;
    let err = |pos: Option<Pos>, message: String, help: String| {
        Diagnostic::new(cx.file, message).at(pos).help(help)
    };
    let params_at = format!("{at}.Parameters");
    let params_pos = cx.locs.key(&params_at).or(cx.locs.key(at));
    let params = state.get("Parameters").and_then(Value::as_mapping);
    let empty = Mapping::new();
    let params = params.unwrap_or(&empty);
    let mut names: Vec<&str> = m.members.keys().map(String::as_str).collect();
    names.sort();

    let mut agent: Option<String> = None;
    for (key, value) in params {
        let Some(key) = key.as_str() else { continue };
        let (member_name, is_expr) = match key.strip_suffix(".$") {
            Some(base) => (base, true),
            None => (key, false),
        };
        let pos = cx.locs.key(&format!("{params_at}.{key}")).or(params_pos);
        let Some(member) = m.members.get(member_name) else {
            let hint = did_you_mean(member_name, &names)
                .map(|c| format!("did you mean `{c}`? "))
                .unwrap_or_default();
            diags.push(err(
                pos,
                format!("invoke task `{name}`: `{key}` is not a parameter of {op}"),
                format!(
                    "{hint}the parameters are (the API's members, in PascalCase): {}",
                    names.join(", ")
                ),
            ));
            continue;
        };
        if is_expr {
            // A JSONPath or intrinsic: its value exists only at run time.
            continue;
        }
        match value {
            Value::Mapping(_) | Value::Sequence(_) => {
                let what = if value.is_mapping() {
                    "an object"
                } else {
                    "an array"
                };
                let (message, help) = if member_name == "Payload" {
                    (
                        format!(
                            "invoke task `{name}`: `Payload` is {what}, but {op}'s payload is a \
                             blob, which the aws-sdk integration passes as a string"
                        ),
                        "build the object with a Pass state's `Parameters` (e.g. `ResultPath: \
                         $.request`), then send it as `Payload.$: States.JsonToString($.request)`"
                            .to_string(),
                    )
                } else {
                    (
                        format!(
                            "invoke task `{name}`: `{member_name}` is {what}, but {op}'s \
                             `{member_name}` is a {}",
                            member.kind
                        ),
                        format!(
                            "give a string, or `{member_name}.$:` with a path or intrinsic that \
                             makes one"
                        ),
                    )
                };
                diags.push(err(pos, message, help));
            }
            Value::String(s) => {
                check_literal(cx, name, member_name, member, s, pos, diags);
                if member_name == "AgentRuntimeArn" {
                    agent = agent_of(s);
                }
            }
            other => diags.push(err(
                pos,
                format!(
                    "invoke task `{name}`: `{member_name}` is {}, but {op}'s `{member_name}` is a \
                     {}",
                    kind_of(other),
                    member.kind
                ),
                "quote the value to make it a string".to_string(),
            )),
        }
    }
    for (member_name, member) in &m.members {
        if member.required
            && !params.contains_key(member_name.as_str())
            && !params.contains_key(format!("{member_name}.$").as_str())
        {
            let example = match member_name.as_str() {
                "AgentRuntimeArn" => "AgentRuntimeArn: ${agent[\"<id>\"]}".to_string(),
                "Payload" => "Payload.$: States.JsonToString($.request)".to_string(),
                other => format!("{other}: …"),
            };
            diags.push(err(
                params_pos,
                format!(
                    "invoke task `{name}` has no `{member_name}`, which {op} requires (API {})",
                    m.api_version
                ),
                format!("add `{example}` to its `Parameters`"),
            ));
        }
    }
    check_timeout(cx, name, state, at, agent.as_deref(), diags);
    check_errors(cx, name, state, at, diags);
}

fn check_literal(
    cx: &Context,
    task: &str,
    name: &str,
    member: &Member,
    value: &str,
    pos: Option<Pos>,
    diags: &mut Vec<Diagnostic>,
) {
    let op = &model().operation;
    // Smithy's length counts characters for strings and bytes for blobs.
    let len = if member.kind == "blob" {
        value.len()
    } else {
        value.chars().count()
    };
    let unit = if member.kind == "blob" {
        "bytes"
    } else {
        "characters"
    };
    let bounds = || match (member.min, member.max) {
        (Some(min), Some(max)) => format!("{min} to {max} {unit}"),
        (Some(min), None) => format!("at least {min} {unit}"),
        (None, Some(max)) => format!("at most {max} {unit}"),
        (None, None) => String::new(),
    };
    let too_short = member.min.is_some_and(|min| len < min);
    let too_long = member.max.is_some_and(|max| len > max);
    if too_short || too_long {
        let help = if name == "RuntimeSessionId" {
            "derive it from the execution, e.g. `RuntimeSessionId.$: States.Format('<agent>-{}', \
             States.Hash($$.Execution.Id, 'SHA-256'))` (one session per execution and agent)"
                .to_string()
        } else {
            format!("give `{name}` {}", bounds())
        };
        diags.push(
            Diagnostic::new(
                cx.file,
                format!(
                    "invoke task `{task}`: `{name}` is {len} {unit}; {op} takes {}",
                    bounds()
                ),
            )
            .at(pos)
            .help(help),
        );
    }
    if let Some(pattern) = &member.pattern {
        // Smithy patterns are ECMAScript regular expressions, not anchored.
        let matches = regex_lite::Regex::new(pattern).map(|re| re.is_match(value));
        if matches.is_ok_and(|m| !m) {
            let help = if name == "AccountId" {
                "give the 12-digit AWS account id, quoted (`\"123456789012\"`)".to_string()
            } else {
                format!("give a value matching `{pattern}`")
            };
            diags.push(
                Diagnostic::new(
                    cx.file,
                    format!(
                        "invoke task `{task}`: `{name}` is `{value}`, which does not match {op}'s \
                         pattern `{pattern}`"
                    ),
                )
                .at(pos)
                .help(help),
            );
        }
    }
    if name == "AgentRuntimeArn" && agent_of(value).is_none() && !is_arn(value) {
        diags.push(
            Diagnostic::new(
                cx.file,
                format!(
                    "invoke task `{task}`: `AgentRuntimeArn` is `{value}`, neither \
                     `${{agent[\"<id>\"]}}` nor an ARN"
                ),
            )
            .at(pos)
            .help(
                "write `AgentRuntimeArn: ${agent[\"<id>\"]}` with an agent of `agents`: each \
                 environment's runtime ARN is put there when the workflow is deployed",
            ),
        );
    }
}

/// The agent id of `${agent["<id>"]}`.
fn agent_of(value: &str) -> Option<String> {
    let id = value.strip_prefix("${agent[\"")?.strip_suffix("\"]}")?;
    (!id.is_empty() && !id.contains('"')).then(|| id.to_string())
}

/// `arn:partition:service:region:account:resource`.
fn is_arn(value: &str) -> bool {
    let parts: Vec<&str> = value.splitn(6, ':').collect();
    parts.len() == 6 && parts[0] == "arn" && !parts[1].is_empty() && !parts[5].is_empty()
}

fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Sequence(_) => "an array",
        Value::Mapping(_) => "an object",
        Value::Tagged(_) => "a tagged value",
    }
}

fn check_timeout(
    cx: &Context,
    task: &str,
    state: &Mapping,
    at: &str,
    agent: Option<&str>,
    diags: &mut Vec<Diagnostic>,
) {
    let lifetime = agent.and_then(|id| Some((id, u64::from(*cx.lifetimes.get(id)?) * 60)));
    let Some(value) = state.get("TimeoutSeconds") else {
        if state.contains_key("TimeoutSecondsPath") {
            return; // known only at run time
        }
        let suggested = lifetime.map_or(SUGGESTED_TIMEOUT, |(_, max)| SUGGESTED_TIMEOUT.min(max));
        let bound = lifetime.map_or(String::new(), |(id, max)| {
            format!(", and at most agent `{id}`'s session lifetime, {max} s")
        });
        diags.push(
            Diagnostic::new(
                cx.file,
                format!(
                    "invoke task `{task}` has no `TimeoutSeconds`: Step Functions would wait on \
                     a hung agent as long as the execution may run (a year, for a Standard workflow)"
                ),
            )
            .at(cx.locs.key(at))
            .help(format!(
                "add `TimeoutSeconds: {suggested}` (what one answer may take{bound})"
            )),
        );
        return;
    };
    let pos = cx
        .locs
        .key(&format!("{at}.TimeoutSeconds"))
        .or(cx.locs.key(at));
    let Some(seconds) = value.as_u64().filter(|s| *s > 0) else {
        diags.push(
            Diagnostic::new(
                cx.file,
                format!("invoke task `{task}`: `TimeoutSeconds` must be a positive integer"),
            )
            .at(pos)
            .help(format!("e.g. `TimeoutSeconds: {SUGGESTED_TIMEOUT}`")),
        );
        return;
    };
    if let Some((id, max)) = lifetime
        && seconds > max
    {
        diags.push(
            Diagnostic::new(
                cx.file,
                format!(
                    "invoke task `{task}`: `TimeoutSeconds: {seconds}` outlives agent `{id}`'s \
                     session, which AgentCore ends after {max} s (runtime.max_lifetime_minutes: \
                     {})",
                    max / 60
                ),
            )
            .at(pos)
            .help(format!(
                "lower it to at most {max}, or raise `runtime.max_lifetime_minutes` in \
                 agents/{id}/blueprint.yaml"
            )),
        );
    }
}

/// `BedrockAgentCore.<Name>` in `Retry` and `Catch` must be an error of the operation: a
/// misspelt one never matches, and the retry or catch it was meant for never happens.
fn check_errors(cx: &Context, task: &str, state: &Mapping, at: &str, diags: &mut Vec<Diagnostic>) {
    let m = model();
    let prefix = format!("{}.", m.error_prefix);
    // Step Functions appends `Exception` to an error name that does not end with it.
    let mut valid: Vec<String> = Vec::new();
    for e in &m.errors {
        valid.push(format!("{prefix}{e}"));
        if !e.ends_with("Exception") {
            valid.push(format!("{prefix}{e}Exception"));
        }
    }
    let shown: Vec<String> = m.errors.iter().map(|e| format!("{prefix}{e}")).collect();
    let candidates: Vec<&str> = valid.iter().map(String::as_str).collect();
    for field in ["Retry", "Catch"] {
        let Some(rules) = state.get(field).and_then(Value::as_sequence) else {
            continue;
        };
        let field_at = format!("{at}.{field}");
        for (i, rule) in rules.iter().enumerate() {
            let names = rule
                .get("ErrorEquals")
                .and_then(Value::as_sequence)
                .into_iter()
                .flatten()
                .enumerate()
                .filter_map(|(j, v)| v.as_str().map(|e| (j, e)));
            for (j, error) in names {
                if !error.starts_with(&prefix) || valid.iter().any(|v| v == error) {
                    continue;
                }
                let hint = did_you_mean(error, &candidates)
                    .map(|c| format!("did you mean `{c}`? "))
                    .unwrap_or_default();
                diags.push(
                    Diagnostic::new(
                        cx.file,
                        format!(
                            "invoke task `{task}`: `{error}` in `{field}` is not an error of {}, so \
                             it never matches",
                            m.operation
                        ),
                    )
                    .at(cx
                        .locs
                        .value(&format!("{field_at}.{i}.ErrorEquals.{j}"))
                        .or(cx.locs.key(&field_at)))
                    .help(format!("{hint}its errors are: {}", shown.join(", "))),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_vendored_model_loads_and_names_the_integration() {
        let m = model();
        assert_eq!(
            m.resource,
            "arn:aws:states:::aws-sdk:bedrockagentcore:invokeAgentRuntime"
        );
        assert_eq!(m.error_prefix, "BedrockAgentCore");
        let required: Vec<&str> = m
            .members
            .iter()
            .filter(|(_, mm)| mm.required)
            .map(|(n, _)| n.as_str())
            .collect();
        assert_eq!(required, ["AgentRuntimeArn", "Payload"]);
        for member in m.members.values() {
            if let Some(p) = &member.pattern {
                assert!(regex_lite::Regex::new(p).is_ok(), "{p}");
            }
        }
    }

    #[test]
    fn agent_references_and_arns() {
        assert_eq!(agent_of("${agent[\"triage\"]}").as_deref(), Some("triage"));
        assert_eq!(agent_of("triage"), None);
        assert!(is_arn(
            "arn:aws:bedrock-agentcore:eu-west-1:123456789012:runtime/x"
        ));
        assert!(!is_arn("triage"));
    }
}
