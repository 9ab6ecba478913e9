//! `cargo xtask status [ENV...]`: what runs where, one row per agent and environment: the image
//! digest, the commit it was built from, the runtime version its endpoint serves, the runtime's
//! status, and how far staging and production lag behind dev. Read from each environment's
//! agents stack state (as `deploy` left it), the images' manifests in their registries and the
//! AgentCore control plane (GetAgentRuntime); nothing is changed.

use std::collections::BTreeMap;
use std::process::ExitCode;

use futures_util::StreamExt as _;
use serde::Serialize;

use crate::Context;
use crate::environment::{Env, Environment};
use crate::ops::deployed::{Deployed, DeployedAgent};
use crate::ops::push::target;
use crate::ops::runtime_state::{self, RuntimeState};
use crate::output::{Report, table};

#[derive(clap::Args)]
#[command(after_help = "Examples:
  cargo xtask status                   every environment
  cargo xtask status staging production
  cargo xtask status --json | jq '.agents[] | select(.env == \"production\")'

STATUS is what AgentCore's control plane says of each runtime now (READY, UPDATING while a deploy
changes it, UPDATE_FAILED with its reason in --json; `?` when it cannot be asked).
An environment that cannot be read (its variables unset, never bootstrapped) is listed with the
reason; the others are still shown.")]
pub struct Args {
    /// The environments (default: dev, staging and production).
    #[arg(value_name = "ENV")]
    pub envs: Vec<Env>,
}

#[derive(Serialize)]
struct Status {
    environments: Vec<EnvStatus>,
    agents: Vec<AgentStatus>,
}

#[derive(Serialize)]
struct EnvStatus {
    env: Env,
    /// Why the environment could not be read.
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
    agents: usize,
}

#[derive(Serialize)]
struct AgentStatus {
    agent: String,
    env: Env,
    image: String,
    digest: String,
    /// The commit the image was built from (its `org.opencontainers.image.revision`).
    revision: Option<String>,
    runtime_arn: String,
    runtime_version: Option<String>,
    /// What the control plane says now (READY, UPDATING, …); none when it could not be asked.
    runtime_status: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    failure_reason: Option<String>,
    /// `same`, `N commits behind`, `differs`, or nothing for dev and agents dev does not run.
    behind_dev: Option<String>,
}

impl Report for Status {
    fn text(&self) -> String {
        let rows: Vec<Vec<String>> = self
            .agents
            .iter()
            .map(|a| {
                vec![
                    a.agent.clone(),
                    a.env.to_string(),
                    short_digest(&a.digest).to_string(),
                    a.revision
                        .as_deref()
                        .map_or("?".into(), |r| r.chars().take(10).collect()),
                    a.runtime_version.clone().unwrap_or_else(|| "-".into()),
                    a.runtime_status.clone().unwrap_or_else(|| "?".into()),
                    a.behind_dev.clone().unwrap_or_else(|| "-".into()),
                ]
            })
            .collect();
        let mut text = table(
            &[
                "AGENT", "ENV", "DIGEST", "COMMIT", "VERSION", "STATUS", "VS DEV",
            ],
            &rows,
        );
        for env in &self.environments {
            if let Some(error) = &env.error {
                text.push_str(&format!("\n{}: not read: {error}", env.env));
            } else if env.agents == 0 {
                text.push_str(&format!("\n{}: never deployed", env.env));
            }
        }
        text
    }
}

/// GetAgentRuntime calls in flight at once, per environment: an environment of many agents is
/// asked in about one round trip's time, within the control plane's request rate.
const CONCURRENT_ASKS: usize = 8;

pub fn run(ctx: &Context, args: Args) -> anyhow::Result<ExitCode> {
    let envs = if args.envs.is_empty() {
        Env::ALL.to_vec()
    } else {
        args.envs
    };
    let runtime = crate::async_runtime()?;
    let read = |env: Env| -> anyhow::Result<(Environment, Deployed)> {
        let environment = Environment::load(&ctx.project, env)?;
        let deployed = runtime.block_on(Deployed::read(&ctx.project, &environment))?;
        Ok((environment, deployed))
    };
    let mut environments = Vec::new();
    let mut deployed: BTreeMap<Env, Deployed> = BTreeMap::new();
    let mut states: BTreeMap<(Env, String), RuntimeState> = BTreeMap::new();
    for env in envs.iter().copied() {
        match read(env) {
            Ok((environment, d)) => {
                runtime.block_on(async {
                    let aws = environment.aws().await;
                    let asked =
                        futures_util::stream::iter(&d.agents)
                            .map(|(id, agent)| async move {
                                (id, runtime_state::read(aws, agent).await)
                            })
                            .buffered(CONCURRENT_ASKS)
                            .collect::<Vec<_>>()
                            .await;
                    for (id, state) in asked {
                        match state {
                            Ok(state) => {
                                states.insert((env, id.clone()), state);
                            }
                            Err(err) => {
                                ctx.out.warn(format!("{env}: {err:#}"));
                                // The same cause for every runtime of the environment.
                                break;
                            }
                        }
                    }
                });
                environments.push(EnvStatus {
                    env,
                    error: None,
                    agents: d.agents.len(),
                });
                deployed.insert(env, d);
            }
            Err(err) => environments.push(EnvStatus {
                env,
                error: Some(format!("{err:#}")),
                agents: 0,
            }),
        }
    }
    // dev is the reference for the others even when not listed.
    let dev = match deployed.get(&Env::Dev) {
        Some(dev) => Some(dev.clone()),
        None if !envs.contains(&Env::Dev) => read(Env::Dev).ok().map(|(_, d)| d),
        None => None,
    };

    let mut revisions: BTreeMap<String, Option<String>> = BTreeMap::new();
    let mut revision_of = |agent: &DeployedAgent| -> Option<String> {
        let key = agent.image.to_string();
        revisions
            .entry(key)
            .or_insert_with(|| {
                let read = runtime.block_on(async {
                    let credentials = target::pull_credentials(agent.image.host()).await?;
                    oci_registry::revision(&agent.image, &credentials).await
                });
                match read {
                    Ok(revision) => revision,
                    Err(err) => {
                        ctx.out
                            .warn(format!("cannot read {}: {err:#}", agent.image));
                        None
                    }
                }
            })
            .clone()
    };

    let mut agents = Vec::new();
    let dev_revisions: BTreeMap<String, (String, Option<String>)> = dev
        .iter()
        .flat_map(|d| d.agents.iter())
        .map(|(id, a)| (id.clone(), (a.image.digest.clone(), revision_of(a))))
        .collect();
    for (env, d) in &deployed {
        for (id, a) in &d.agents {
            let revision = revision_of(a);
            let behind_dev = match (env, dev_revisions.get(id)) {
                (Env::Dev, _) | (_, None) => None,
                (_, Some((digest, _))) if *digest == a.image.digest => Some("same".into()),
                (_, Some((_, dev_revision))) => {
                    Some(lag(ctx, revision.as_deref(), dev_revision.as_deref()))
                }
            };
            let state = states.get(&(*env, id.clone()));
            agents.push(AgentStatus {
                agent: id.clone(),
                env: *env,
                image: a.image.to_string(),
                digest: a.image.digest.clone(),
                revision,
                runtime_arn: a.runtime_arn.clone(),
                runtime_version: a.runtime_version.clone(),
                runtime_status: state.map(|s| s.status.clone()),
                failure_reason: state.and_then(|s| s.failure_reason.clone()),
                behind_dev,
            });
        }
    }
    agents.sort_by(|a, b| (&a.agent, a.env).cmp(&(&b.agent, b.env)));
    ctx.out.report(&Status {
        environments,
        agents,
    });
    Ok(ExitCode::SUCCESS)
}

/// How far the commit `from` is behind dev's `to`: commits in `to` that `from` lacks, by git.
fn lag(ctx: &Context, from: Option<&str>, to: Option<&str>) -> String {
    let (Some(from), Some(to)) = (from, to) else {
        return "differs".into();
    };
    let counted = duct::cmd!("git", "rev-list", "--count", format!("{from}..{to}"))
        .dir(&ctx.project.root)
        .stderr_null()
        .read()
        .ok()
        .and_then(|n| n.trim().parse::<u64>().ok());
    match counted {
        Some(0) => "differs (same commit)".into(),
        Some(1) => "1 commit behind".into(),
        Some(n) => format!("{n} commits behind"),
        None => "differs".into(),
    }
}

/// `sha256:` and the first 12 hex digits, as `docker images` shows them.
fn short_digest(digest: &str) -> &str {
    digest.get(..19).unwrap_or(digest)
}
