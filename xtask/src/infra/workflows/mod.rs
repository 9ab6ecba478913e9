//! `<infra>/workflows/*.yaml`, checked before Terraform's `templatefile` and Step Functions see
//! them: known keys, a definition, agents that exist, every `${agent["id"]}` naming one of the
//! workflow's own agents, an environment where all its agents run, and every invoke task
//! against InvokeAgentRuntime's published input shape ([`invoke`]).

mod invoke;

use std::collections::BTreeMap;
use std::path::Path;

use serde::Serialize;

use super::line_starting;
use crate::environment::{Env, pos_of};
use crate::project::Project;
use blueprint::Agent;
use diagnostics::{Diagnostic, Pos, did_you_mean};

/// A workflow and the environments it is deployed to: those where every agent it names is
/// enabled (what infra/stacks/workflows/definitions.tf keeps).
#[derive(Debug, Clone, Serialize)]
pub struct Deployed {
    pub name: String,
    pub agents: Vec<String>,
    pub enabled: Vec<Env>,
}

/// Top-level keys of a workflow file (strict, like blueprints).
const WORKFLOW_KEYS: &[&str] = &[
    "description",
    "agents",
    "schedule",
    "event_pattern",
    "definition",
];

/// Checks `<infra>/workflows/*.yaml` (see the module doc) and says where each workflow whose
/// agents all exist is deployed.
pub fn check(project: &Project, agents: &[Agent], diags: &mut Vec<Diagnostic>) -> Vec<Deployed> {
    let dir = project.infra_dir.join("workflows");
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return Vec::new();
    };
    let mut files: Vec<_> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    // Agents whose blueprint is broken still exist (their folder has a blueprint): their own
    // diagnostics say what is wrong, a workflow naming them is not wrong too.
    let mut known: Vec<String> = agents.iter().map(|a| a.id().to_string()).collect();
    for entry in std::fs::read_dir(project.agents_dir())
        .into_iter()
        .flatten()
        .flatten()
    {
        if entry.path().join(blueprint::BLUEPRINT_FILE).is_file() {
            known.push(entry.file_name().to_string_lossy().into_owned());
        }
    }
    known.sort();
    known.dedup();
    let known: Vec<&str> = known.iter().map(String::as_str).collect();
    let lifetimes: BTreeMap<String, u32> = agents
        .iter()
        // The shortest of the environments': a task's timeout holds wherever it runs.
        .map(|a| {
            let shortest = blueprint::Env::ALL
                .iter()
                .map(|env| {
                    a.blueprint
                        .in_environment(*env)
                        .runtime
                        .max_lifetime_minutes
                })
                .min()
                .unwrap_or(a.blueprint.runtime.max_lifetime_minutes);
            (a.id().to_string(), shortest)
        })
        .collect();
    let mut deployed = Vec::new();
    for path in files {
        let Some((named, agents_pos)) = check_workflow(project, &path, &known, &lifetimes, diags)
        else {
            continue;
        };
        let name = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        // An agent that does not exist, or whose blueprint is broken, has its own diagnostic.
        let Some(named_agents) = named
            .iter()
            .map(|id| agents.iter().find(|a| a.id() == id))
            .collect::<Option<Vec<&Agent>>>()
        else {
            continue;
        };
        // Step Functions signs its calls with the workflow's role: an agent that takes only
        // JWTs refuses every one of them.
        for agent in &named_agents {
            if agent.blueprint.auth.jwt.is_some() {
                diags.push(
                    Diagnostic::new(
                        project.rel(&path),
                        format!(
                            "the workflow invokes agent `{}`, which takes a JWT (auth.jwt), not \
                             the IAM-signed calls of Step Functions",
                            agent.id()
                        ),
                    )
                    .at(agents_pos)
                    .help(
                        "AgentCore would refuse every invocation (Authorization method mismatch): \
                         remove `auth.jwt` from the agent, or leave it out of the workflow",
                    ),
                );
            }
        }
        let enabled: Vec<Env> = Env::ALL
            .into_iter()
            .filter(|env| {
                named_agents
                    .iter()
                    .all(|a| a.blueprint.execution_modes.enabled(*env))
            })
            .collect();
        if enabled.is_empty() {
            diags.push(deployed_nowhere(
                project.rel(&path),
                &name,
                &named_agents,
                agents_pos,
            ));
        }
        deployed.push(Deployed {
            name,
            agents: named,
            enabled,
        });
    }
    deployed
}

fn deployed_nowhere(file: &Path, name: &str, agents: &[&Agent], at: Option<Pos>) -> Diagnostic {
    let per_env: Vec<String> = Env::ALL
        .into_iter()
        .map(|env| {
            let off: Vec<String> = agents
                .iter()
                .filter(|a| !a.blueprint.execution_modes.enabled(env))
                .map(|a| format!("`{}`", a.id()))
                .collect();
            let verb = if off.len() == 1 { "is" } else { "are" };
            format!("in {env} {} {verb} disabled", off.join(", "))
        })
        .collect();
    Diagnostic::new(
        file,
        format!(
            "workflow `{name}` is deployed in no environment: no environment enables all of its \
             agents ({})",
            per_env.join("; ")
        ),
    )
    .at(at)
    .help(
        "enable its agents together in one environment (`execution_modes` in \
         agents/<id>/blueprint.yaml), or remove the workflow",
    )
}

/// Checks one workflow file; its agents and where they are listed, when it lists them.
fn check_workflow(
    project: &Project,
    path: &Path,
    known: &[&str],
    lifetimes: &BTreeMap<String, u32>,
    diags: &mut Vec<Diagnostic>,
) -> Option<(Vec<String>, Option<Pos>)> {
    let file = project.rel(path).to_path_buf();
    let Ok(text) = std::fs::read_to_string(path) else {
        diags.push(Diagnostic::new(&file, "cannot read the workflow"));
        return None;
    };
    let doc: serde_yaml::Value = match serde_yaml::from_str(&text) {
        Ok(doc) => doc,
        Err(err) => {
            let pos = err.location().map(|l| Pos {
                line: l.line(),
                column: l.column(),
            });
            diags.push(
                Diagnostic::new(&file, format!("not valid YAML: {err}"))
                    .at(pos)
                    .help("see infra/README.md for the shape of a workflow file"),
            );
            return None;
        }
    };
    let Some(map) = doc.as_mapping() else {
        diags.push(Diagnostic::new(
            &file,
            "a workflow is a mapping with `agents` and `definition`",
        ));
        return None;
    };
    for key in map.keys().filter_map(|k| k.as_str()) {
        if !WORKFLOW_KEYS.contains(&key) {
            let hint = did_you_mean(key, WORKFLOW_KEYS)
                .map(|c| format!("did you mean `{c}`? "))
                .unwrap_or_default();
            diags.push(
                Diagnostic::new(&file, format!("unknown workflow field `{key}`"))
                    .at(line_starting(&text, &format!("{key}:"), 0))
                    .help(format!(
                        "{hint}the fields are: {}",
                        WORKFLOW_KEYS.join(", ")
                    )),
            );
        }
    }
    if !map.contains_key("definition") {
        diags.push(
            Diagnostic::new(
                &file,
                "no `definition`: the state machine (Amazon States Language, as YAML)",
            )
            .help("add `definition:` with `StartAt` and `States`"),
        );
    }
    check_definition(&file, &text, map, lifetimes, diags);
    let named: Vec<String> = match map.get("agents").map(|a| a.as_sequence()) {
        Some(Some(list)) if list.iter().all(|v| v.as_str().is_some()) && !list.is_empty() => list
            .iter()
            .filter_map(|v| v.as_str().map(String::from))
            .collect(),
        _ => {
            diags.push(
                Diagnostic::new(
                    &file,
                    "`agents` must list the ids of the agents the workflow invokes",
                )
                .at(line_starting(&text, "agents:", 0))
                .help("e.g. `agents: [triage, assistant]`"),
            );
            return None;
        }
    };
    let agents_line = line_starting(&text, "agents:", 0);
    for id in &named {
        if !known.contains(&id.as_str()) {
            let hint = did_you_mean(id, known)
                .map(|c| format!("did you mean `{c}`? "))
                .unwrap_or_default();
            diags.push(
                Diagnostic::new(
                    &file,
                    format!("the workflow names agent `{id}`, which does not exist"),
                )
                .at(agents_line)
                .help(format!("{hint}the agents are: {}", known.join(", "))),
            );
        }
    }
    for (id, pos) in agent_references(&text) {
        if !named.contains(&id) {
            diags.push(
                Diagnostic::new(
                    &file,
                    format!("the definition uses agent `{id}`, which `agents` does not list"),
                )
                .at(Some(pos))
                .help(format!(
                    "add `{id}` to `agents`: a workflow is deployed only where all its agents run"
                )),
            );
        }
    }
    Some((named, agents_line))
}

/// The invoke tasks of the state machine, nested ones included.
fn check_definition(
    file: &Path,
    text: &str,
    map: &serde_yaml::Mapping,
    lifetimes: &BTreeMap<String, u32>,
    diags: &mut Vec<Diagnostic>,
) {
    let Some(states) = map
        .get("definition")
        .and_then(|d| d.get("States"))
        .and_then(serde_yaml::Value::as_mapping)
    else {
        return;
    };
    let mut all = Vec::new();
    invoke::states(states, "definition.States", &mut all);
    let locs = blueprint::Locations::of(text);
    let cx = invoke::Context {
        file,
        locs: &locs,
        lifetimes,
    };
    for (name, state, at) in &all {
        if invoke::is_invoke(state) {
            invoke::check_task(&cx, name, state, at, diags);
        }
    }
}

/// Every `${agent["ID"]}` (not the escaped `$${…}`) with where it stands.
fn agent_references(text: &str) -> Vec<(String, Pos)> {
    const OPEN: &str = "${agent[\"";
    let mut found = Vec::new();
    let mut from = 0;
    while let Some(off) = text[from..].find(OPEN) {
        let start = from + off;
        from = start + OPEN.len();
        if start > 0 && text.as_bytes()[start - 1] == b'$' {
            continue;
        }
        if let Some(end) = text[from..].find("\"]}") {
            found.push((text[from..from + end].to_string(), pos_of(text, start)));
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_agent_references_but_not_escaped_ones() {
        let text = "# $${agent[\"x\"]}\nArn: ${agent[\"triage\"]}\n";
        let refs = agent_references(text);
        assert_eq!(refs.len(), 1);
        assert_eq!(refs[0].0, "triage");
        assert_eq!(refs[0].1.line, 2);
    }
}
