//! `cargo xtask check`: validate every blueprint, environment file and workflow, report all
//! problems at once, and show which agent is enabled, and which workflow deployed, in which
//! environment.

use std::process::ExitCode;

use serde::Serialize;

use crate::Context;
use crate::environment::Env;
use crate::environment::tfvars::Tfvars;
use crate::infra::workflows::Deployed;
use crate::output::table;
use crate::project::Project;
use blueprint::{self, Agent};
use diagnostics::Diagnostic;

#[derive(clap::Args)]
#[command(after_help = "Examples:
  cargo xtask check                  blueprints and environment files, statically
  cargo xtask check --env dev        ... and fill dev's ${PLACEHOLDERS} from the environment
  cargo xtask check --json | jq .agents")]
pub struct Args {
    /// Also render this environment's tfvars: every `${NAME}` in it must be set in the
    /// process environment (as `deploy` will need).
    #[arg(long, value_name = "ENV")]
    env: Option<Env>,
}

#[derive(Serialize)]
struct Report {
    ok: bool,
    errors: Vec<Diagnostic>,
    agents: Vec<AgentRow>,
    environments: Vec<EnvRow>,
    /// Each workflow whose agents all exist, and the environments it is deployed to.
    workflows: Vec<Deployed>,
}

#[derive(Serialize)]
struct AgentRow {
    id: String,
    version: String,
    network_mode: blueprint::NetworkMode,
    enabled: Vec<Env>,
    /// What each environment it is enabled in runs: the blueprint with its `environments.<env>`.
    effective: std::collections::BTreeMap<Env, Effective>,
}

/// The values an environment may set differently, as that environment has them.
#[derive(Serialize, PartialEq)]
struct Effective {
    model_id: String,
    max_tokens: u32,
    temperature: f64,
    network_mode: blueprint::NetworkMode,
    idle_timeout_minutes: u32,
    max_lifetime_minutes: u32,
    environment: std::collections::BTreeMap<String, String>,
}

impl Effective {
    fn of(bp: &blueprint::Blueprint) -> Effective {
        Effective {
            model_id: bp.model.model_id.clone(),
            max_tokens: bp.model.max_tokens,
            // As written (0.3), not as the nearest f32 reads in f64 (0.30000001192092896).
            temperature: bp.model.temperature.to_string().parse().unwrap_or_default(),
            network_mode: bp.runtime.network_mode,
            idle_timeout_minutes: bp.runtime.idle_timeout_minutes,
            max_lifetime_minutes: bp.runtime.max_lifetime_minutes,
            environment: bp.runtime.environment.clone(),
        }
    }

    /// What differs from `base`, in words: `model_id us.amazon.nova-pro-v1:0`, `LOG=warn`.
    fn differences(&self, base: &Effective) -> Vec<String> {
        let mut out = Vec::new();
        let mut field = |name: &str, value: String, same: bool| {
            if !same {
                out.push(format!("{name} {value}"));
            }
        };
        field(
            "model_id",
            self.model_id.clone(),
            self.model_id == base.model_id,
        );
        field(
            "max_tokens",
            self.max_tokens.to_string(),
            self.max_tokens == base.max_tokens,
        );
        field(
            "temperature",
            self.temperature.to_string(),
            self.temperature == base.temperature,
        );
        field(
            "network_mode",
            format!("{:?}", self.network_mode).to_uppercase(),
            self.network_mode == base.network_mode,
        );
        field(
            "idle_timeout_minutes",
            self.idle_timeout_minutes.to_string(),
            self.idle_timeout_minutes == base.idle_timeout_minutes,
        );
        field(
            "max_lifetime_minutes",
            self.max_lifetime_minutes.to_string(),
            self.max_lifetime_minutes == base.max_lifetime_minutes,
        );
        for (name, value) in &self.environment {
            if base.environment.get(name) != Some(value) {
                out.push(format!("{name}={value}"));
            }
        }
        out
    }
}

#[derive(Serialize)]
struct EnvRow {
    name: Env,
    file: std::path::PathBuf,
    /// The environment variables its placeholders need.
    needs: Vec<String>,
    rendered: bool,
}

pub fn run(ctx: &Context, args: Args) -> anyhow::Result<ExitCode> {
    let project = &ctx.project;
    let (agents, mut errors) = blueprint::load_all(&project.root);
    if !project.infra_dir.is_dir() {
        // One problem, said once: every environment and stack check would fail the same way.
        errors.push(
            Diagnostic::new(
                project.rel(&project.infra_dir),
                "the infrastructure root is not a folder",
            )
            .help(
                "is --infra-dir (or XTASK_INFRA_DIR) right? The default is `infra`, the folder \
                 with envs/, modules/ and stacks/",
            ),
        );
        return finish(ctx, errors, &agents, Vec::new(), Vec::new());
    }

    let mut environments = Vec::new();
    for env in Env::ALL {
        match Tfvars::load(project, env) {
            Ok(tfvars) => {
                let mut rendered = false;
                if args.env == Some(env) {
                    match tfvars.render_from_env() {
                        Ok(_) => rendered = true,
                        Err(mut diags) => errors.append(&mut diags),
                    }
                }
                environments.push(EnvRow {
                    name: env,
                    file: tfvars.file,
                    needs: tfvars.placeholders,
                    rendered,
                });
            }
            Err(mut diags) => errors.append(&mut diags),
        }
    }

    check_members(project, &agents, &mut errors);
    let envs = crate::infra::loaded_envs(project);
    let workflows = crate::infra::check(project, &agents, &envs, &mut errors);

    finish(ctx, errors, &agents, environments, workflows)
}

fn finish(
    ctx: &Context,
    errors: Vec<Diagnostic>,
    agents: &[Agent],
    environments: Vec<EnvRow>,
    workflows: Vec<Deployed>,
) -> anyhow::Result<ExitCode> {
    let report = Report {
        ok: errors.is_empty(),
        errors,
        agents: agents.iter().map(agent_row).collect(),
        environments,
        workflows,
    };
    if ctx.out.json {
        ctx.out.print_json(&report);
    } else {
        print_human(&report, agents);
    }
    Ok(if report.ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// Every agent crate must be a member of the workspace: the members are listed, not globbed,
/// so that a folder under agents/ that is not a crate yet cannot stop cargo.
fn check_members(project: &Project, agents: &[Agent], errors: &mut Vec<Diagnostic>) {
    let manifest = project.root.join("Cargo.toml");
    let members: Vec<String> = std::fs::read_to_string(&manifest)
        .ok()
        .and_then(|text| text.parse::<toml::Table>().ok())
        .and_then(|t| {
            t.get("workspace")?.get("members")?.as_array().map(|m| {
                m.iter()
                    .filter_map(|v| v.as_str().map(str::to_string))
                    .collect()
            })
        })
        .unwrap_or_default();
    let listed = |dir: &str| {
        members.iter().any(|m| {
            m == dir
                || m.strip_suffix("/*")
                    .is_some_and(|parent| dir.rsplit_once('/').is_some_and(|(p, _)| p == parent))
        })
    };
    for agent in agents {
        let dir = project.rel(&agent.dir).display().to_string();
        if !listed(&dir) {
            errors.push(
                Diagnostic::new("Cargo.toml", format!("agent `{}` is not a member of the workspace", agent.id()))
                    .help(format!("add \"{dir}\" to `members` under [workspace] (`cargo xtask new` does it for new agents)")),
            );
        }
    }
}

fn agent_row(agent: &Agent) -> AgentRow {
    let bp = &agent.blueprint;
    AgentRow {
        id: bp.id.clone(),
        version: bp.version.clone(),
        network_mode: bp.runtime.network_mode,
        enabled: Env::ALL
            .into_iter()
            .filter(|e| bp.execution_modes.enabled(*e))
            .collect(),
        effective: Env::ALL
            .into_iter()
            .filter(|e| bp.execution_modes.enabled(*e))
            .map(|e| (e, Effective::of(&bp.in_environment(e))))
            .collect(),
    }
}

fn print_human(report: &Report, agents: &[Agent]) {
    for err in &report.errors {
        eprintln!("{err}\n");
    }
    let mut header = vec!["agent", "version", "network"];
    header.extend(Env::names());
    let rows: Vec<Vec<String>> = agents
        .iter()
        .map(|a| {
            let bp = &a.blueprint;
            let mut row = vec![
                bp.id.clone(),
                bp.version.clone(),
                format!("{:?}", bp.runtime.network_mode).to_uppercase(),
            ];
            row.extend(Env::ALL.iter().map(|e| {
                if bp.execution_modes.enabled(*e) {
                    "yes"
                } else {
                    "-"
                }
                .to_string()
            }));
            row
        })
        .collect();
    if !rows.is_empty() {
        println!("{}\n", table(&header, &rows));
    }
    // What an environment runs differently (`environments.<env>` of a blueprint).
    let mut differs = Vec::new();
    for agent in agents {
        let bp = &agent.blueprint;
        let base = Effective::of(bp);
        for env in bp.environments.keys() {
            let changes = Effective::of(&bp.in_environment(*env)).differences(&base);
            let later = if bp.execution_modes.enabled(*env) {
                ""
            } else {
                " (once enabled there)"
            };
            if !changes.is_empty() {
                differs.push(format!("{} in {env}{later}: {}", bp.id, changes.join(", ")));
            }
        }
    }
    if !differs.is_empty() {
        println!("{}\n", differs.join("\n"));
    }
    for env in &report.environments {
        let needs = if env.needs.is_empty() {
            "no placeholders".to_string()
        } else {
            format!("needs {}", env.needs.join(", "))
        };
        let rendered = if env.rendered { " (rendered)" } else { "" };
        let workflows: Vec<&str> = report
            .workflows
            .iter()
            .filter(|w| w.enabled.contains(&env.name))
            .map(|w| w.name.as_str())
            .collect();
        let workflows = if workflows.is_empty() {
            "no workflows".to_string()
        } else {
            format!("workflows {}", workflows.join(", "))
        };
        println!(
            "{:<11} {}: {needs}{rendered}; {workflows}",
            env.name.name(),
            env.file.display()
        );
    }
    if report.ok {
        println!(
            "\nok: {} agent(s), {} environment(s)",
            agents.len(),
            report.environments.len()
        );
    } else {
        eprintln!("{} problem(s) found", report.errors.len());
    }
}
