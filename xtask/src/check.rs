//! `cargo xtask check`: validate every blueprint and environment file, report all problems at
//! once, and show which agent is enabled in which environment.

use std::process::ExitCode;

use serde::Serialize;

use crate::Context;
use crate::environment::Env;
use crate::environment::tfvars::Tfvars;
use crate::output::table;
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
}

#[derive(Serialize)]
struct AgentRow {
    id: String,
    version: String,
    network_mode: blueprint::NetworkMode,
    enabled: Vec<Env>,
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

    let envs = crate::infra::loaded_envs(project);
    crate::infra::check(project, &agents, &envs, &mut errors);

    let report = Report {
        ok: errors.is_empty(),
        errors,
        agents: agents.iter().map(agent_row).collect(),
        environments,
    };
    if ctx.out.json {
        ctx.out.print_json(&report);
    } else {
        print_human(&report, &agents);
    }
    Ok(if report.ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
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
    for env in &report.environments {
        let needs = if env.needs.is_empty() {
            "no placeholders".to_string()
        } else {
            format!("needs {}", env.needs.join(", "))
        };
        let rendered = if env.rendered { " (rendered)" } else { "" };
        println!(
            "{:<11} {}: {needs}{rendered}",
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
