//! What the agents stack makes of the blueprints, checked before Terraform sees them:
//! AgentCore's and IAM's name limits, the shared memory's strategy rules, the subnets a
//! VPC-mode agent needs. (The workflows are checked in [`super::workflows`].)

use std::collections::BTreeMap;

use super::line_starting;
use crate::environment::Env;
use crate::environment::tfvars::Tfvars;
use crate::project::Project;
use blueprint::{Agent, NetworkMode};
use diagnostics::{Diagnostic, Pos};

/// The stacks' default for `project_name` (infra/stacks/*/environment.tf).
const DEFAULT_PROJECT_NAME: &str = "agentcore";
/// AgentCore runtime and memory-strategy names: `[a-zA-Z][a-zA-Z0-9_]{0,47}`.
const MAX_AGENTCORE_NAME: usize = 48;
const MAX_IAM_ROLE_NAME: usize = 64;
/// The longest suffix the agents module gives a role name (`-runtime`, `-build`).
const LONGEST_ROLE_SUFFIX: &str = "-runtime";
/// AgentCore Memory allows this many strategies per memory (the platform has one memory).
const MAX_STRATEGIES: usize = 6;

pub fn check(project: &Project, agents: &[Agent], envs: &[Tfvars], diags: &mut Vec<Diagnostic>) {
    for env in envs {
        let settings = EnvSettings::of(env);
        let enabled: Vec<&Agent> = agents
            .iter()
            .filter(|a| a.blueprint.execution_modes.enabled(env.env))
            .collect();
        for agent in &enabled {
            check_names(project, agent, env.env, &settings.project_name, diags);
            if agent.blueprint.in_environment(env.env).runtime.network_mode == NetworkMode::Vpc
                && settings.private_subnets == Some(0)
            {
                diags.push(
                    Diagnostic::new(
                        &env.file,
                        format!(
                            "agent `{}` runs in VPC mode in {}, but private_subnet_ids is empty",
                            agent.id(),
                            env.env
                        ),
                    )
                    .at(settings.private_subnets_pos)
                    .help(format!("list the private subnets here, or set `network_mode: PUBLIC` in the blueprint (for {} alone: `environments.{}.runtime.network_mode`)", env.env, env.env)),
                );
            }
        }
        check_memory(project, &enabled, env.env, diags);
    }
}

/// What the checks need from an environment file, read without rendering it.
struct EnvSettings {
    project_name: String,
    /// How many private subnets it lists, when that is known.
    private_subnets: Option<usize>,
    private_subnets_pos: Option<Pos>,
}

impl EnvSettings {
    fn of(env: &Tfvars) -> EnvSettings {
        let body = hcl::parse(&env.text).ok();
        let attr = |key: &str| {
            body.as_ref().and_then(|b| {
                b.attributes()
                    .find(|a| a.key() == key)
                    .map(|a| a.expr().clone())
            })
        };
        let project_name = match attr("project_name") {
            Some(hcl::Expression::String(s)) if !s.contains("${") => s,
            _ => DEFAULT_PROJECT_NAME.to_string(),
        };
        let private_subnets = match attr("private_subnet_ids") {
            Some(hcl::Expression::Array(items)) => Some(items.len()),
            _ => None,
        };
        EnvSettings {
            project_name,
            private_subnets,
            private_subnets_pos: env
                .keys
                .iter()
                .find(|(k, _)| k == "private_subnet_ids")
                .map(|(_, p)| *p),
        }
    }
}

fn check_names(
    project: &Project,
    agent: &Agent,
    env: Env,
    project_name: &str,
    diags: &mut Vec<Diagnostic>,
) {
    let id = agent.id();
    let file = project.rel(&agent.blueprint_path()).to_path_buf();
    let text = std::fs::read_to_string(agent.blueprint_path()).unwrap_or_default();
    let id_pos = line_starting(&text, "id:", 0);

    let runtime = format!("{project_name}_{env}_{}", id.replace('-', "_"));
    if runtime.len() > MAX_AGENTCORE_NAME {
        diags.push(
            Diagnostic::new(
                &file,
                format!(
                    "its AgentCore runtime name in {env}, `{runtime}`, is {} characters; AgentCore allows {MAX_AGENTCORE_NAME}",
                    runtime.len()
                ),
            )
            .at(id_pos)
            .help(match id.len().checked_sub(runtime.len() - MAX_AGENTCORE_NAME) {
                Some(fits) if fits >= 2 => {
                    format!("shorten the id to at most {fits} characters (or project_name)")
                }
                _ => format!("shorten project_name (`{project_name}`)"),
            }),
        );
    }
    let role = format!("{project_name}-{env}-{id}{LONGEST_ROLE_SUFFIX}");
    if role.len() > MAX_IAM_ROLE_NAME {
        diags.push(
            Diagnostic::new(
                &file,
                format!(
                    "its IAM role name in {env}, `{role}`, is {} characters; IAM allows {MAX_IAM_ROLE_NAME}",
                    role.len()
                ),
            )
            .at(id_pos)
            .help("shorten the id (or project_name)"),
        );
    }
    for strategy in &agent.blueprint.memory.strategies {
        let name = format!("{}_{}", id.replace('-', "_"), strategy.name);
        let valid = name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if name.len() > MAX_AGENTCORE_NAME || !valid {
            diags.push(
                Diagnostic::new(
                    &file,
                    format!(
                        "memory strategy `{}` becomes `{name}` in AgentCore, which allows letters, digits and `_`, {MAX_AGENTCORE_NAME} at most",
                        strategy.name
                    ),
                )
                .at(strategy_pos(&text, &strategy.name))
                .help("use a shorter name of letters, digits and `_`"),
            );
        }
    }
}

/// The environment's agents share one AgentCore Memory: at most one strategy of each
/// built-in type, six in all.
fn check_memory(project: &Project, enabled: &[&Agent], env: Env, diags: &mut Vec<Diagnostic>) {
    let mut by_kind: BTreeMap<String, &str> = BTreeMap::new();
    let mut total = 0;
    for agent in enabled {
        let path = agent.blueprint_path();
        let file = project.rel(&path).to_path_buf();
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        for strategy in &agent.blueprint.memory.strategies {
            total += 1;
            let kind = format!("{:?}", strategy.kind);
            match by_kind.get(&kind) {
                Some(first) if *first != agent.id() => diags.push(
                    Diagnostic::new(
                        &file,
                        format!(
                            "agents `{first}` and `{}` both ask for a {} memory strategy in {env}; \
                             the environment's AgentCore Memory holds one strategy of each built-in type",
                            agent.id(),
                            kind_name(&kind)
                        ),
                    )
                    .at(strategy_pos(&text, &strategy.name))
                    .help(format!(
                        "share `{first}`'s strategy (read its namespace), or enable only one of them in {env}"
                    )),
                ),
                Some(_) => diags.push(
                    Diagnostic::new(
                        &file,
                        format!("two {} memory strategies: AgentCore allows one per memory", kind_name(&kind)),
                    )
                    .at(strategy_pos(&text, &strategy.name))
                    .help("keep one of them"),
                ),
                None => {
                    by_kind.insert(kind, agent.id());
                }
            }
        }
    }
    if total > MAX_STRATEGIES
        && let Some(last) = enabled.last()
    {
        diags.push(
            Diagnostic::new(
                project.rel(&last.blueprint_path()),
                format!(
                    "the agents enabled in {env} ask for {total} memory strategies; AgentCore Memory allows {MAX_STRATEGIES}"
                ),
            )
            .help("drop strategies, or enable fewer agents in this environment"),
        );
    }
}

fn kind_name(debug: &str) -> String {
    // `UserPreference` → `USER_PREFERENCE`, as written in blueprints.
    let mut out = String::new();
    for (i, c) in debug.chars().enumerate() {
        if c.is_uppercase() && i > 0 {
            out.push('_');
        }
        out.push(c.to_ascii_uppercase());
    }
    out
}

fn strategy_pos(text: &str, name: &str) -> Option<Pos> {
    let after = line_starting(text, "strategies:", 0).map_or(0, |p| p.line);
    line_starting(text, &format!("name: {name}"), after)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `check` counts the platform's variables toward AgentCore's limit of 50 and refuses them
    /// in blueprints; the agents module is where they are really set.
    #[test]
    fn the_variables_the_agents_module_sets_are_the_ones_blueprints_count() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../infra/modules/agents/main.tf");
        let text = std::fs::read_to_string(&path).expect("infra/modules/agents/main.tf");
        let body = hcl::parse(&text).expect("main.tf parses");
        let expr = body
            .blocks()
            .filter(|b| b.identifier() == "locals")
            .flat_map(|b| b.body().attributes())
            .find(|a| a.key() == "platform_environment")
            .map(|a| a.expr().clone())
            .expect("locals.platform_environment");
        // `{ for id, _ in var.agents : id => { KEY = … } }`
        let hcl::Expression::ForExpr(for_expr) = expr else {
            panic!("platform_environment is no longer a for expression: {expr:?}");
        };
        let hcl::Expression::Object(object) = for_expr.value_expr else {
            panic!("platform_environment's value is no longer an object literal");
        };
        let mut keys: Vec<String> = object.keys().map(|k| k.to_string()).collect();
        keys.sort();
        let mut expected: Vec<&str> = blueprint::PLATFORM_ENV.to_vec();
        expected.sort();
        assert_eq!(keys, expected);
    }

    #[test]
    fn strategy_kinds_print_as_in_blueprints() {
        assert_eq!(kind_name("UserPreference"), "USER_PREFERENCE");
        assert_eq!(kind_name("Semantic"), "SEMANTIC");
    }
}
