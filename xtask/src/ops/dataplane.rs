//! An environment's AgentCore data plane on 127.0.0.1 (`cargo xtask dataplane <env>`), backed by
//! the images the environment runs: each agent's pinned digest is pulled from its registry,
//! unpacked, and its entrypoint run by `agentcore-dataplane`, one process per session, under
//! qemu-user on a host that is not aarch64. What the processes print goes where AgentCore puts
//! it, `/aws/bedrock-agentcore/runtimes/<runtime id>-<endpoint>` in CloudWatch Logs, so that
//! `cargo xtask logs` reads it the same way in both places.
//!
//! The processes get the environment the agents stack gives the runtime (the blueprint's model
//! and variables, `BEDROCK_REGION` from the environment file, the environment's memory from its
//! platform stack's outputs), plus this shell's AWS credentials, region and
//! `AWS_ENDPOINT_URL_*`: the runtime's role, locally.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::{Duration, SystemTime};

use agentcore_dataplane::{Authorizer, Event, Protocol, Refresh, Runtime, Runtimes};
use anyhow::Context as _;
use serde::Serialize;

use crate::Context;
use crate::environment::{Env, Environment};
use crate::ops::build_agents::arm64_launcher;
use crate::ops::deploy::stacks::Phase;
use crate::ops::deployed::{Deployed, DeployedAgent, MANAGED_ENDPOINT, StateObject};
use crate::ops::push::target;
use crate::ops::runtime_env::agent_env;
use crate::project::Project;
use oci_registry::ImageRef;

pub struct DataplaneOptions {
    pub envs: Vec<Env>,
    /// 0: any free port.
    pub port: u16,
    /// Only these agents (empty: every agent the environments run).
    pub agents: Vec<String>,
    /// Overrides every runtime's idle timeout (the blueprint's `idle_timeout_minutes`).
    pub idle_timeout: Option<Duration>,
    pub startup_timeout: Duration,
    /// How often the environments' state is read again for what changed.
    pub poll: Duration,
}

/// What a started data plane serves, printed for scripts.
#[derive(Serialize)]
pub struct Serving {
    pub envs: Vec<Env>,
    pub url: String,
    /// Environment → agent id → runtime ARN, as deployed when it started.
    pub runtimes: BTreeMap<Env, BTreeMap<String, String>>,
}

/// One agent runtime as served: where it comes from and how it runs.
#[derive(Clone)]
struct Served {
    env: Env,
    agent: String,
    deployed: DeployedAgent,
    /// The memory it was given, if its blueprint uses one.
    memory: Option<String>,
    runtime: Runtime,
}

/// Prepares what the environments run (pull, unpack), then serves until SIGINT or SIGTERM,
/// reading each environment's state again every `poll`, and before every new session, and
/// serving what a deploy changed;
/// `started` is called once the port is open.
pub fn serve(
    ctx: &Context,
    options: &DataplaneOptions,
    started: impl FnOnce(&Serving),
) -> anyhow::Result<()> {
    let tokio = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let mut sources = Vec::new();
    for env in options.envs.iter().copied() {
        let environment = Environment::load(&ctx.project, env)?;
        for id in &options.agents {
            if !environment.all_agents.iter().any(|a| a.id() == id) {
                let ids: Vec<&str> = environment.all_agents.iter().map(|a| a.id()).collect();
                bail_help!("there is no agent `{id}`"; "the agents are: {}", ids.join(", "));
            }
        }
        let state = tokio.block_on(StateObject::new(&ctx.project, env))?;
        let platform = tokio.block_on(StateObject::of(&ctx.project, env, Phase::Platform))?;
        sources.push(Source {
            env,
            state,
            platform,
            bedrock_region: environment.settings.bedrock_region.clone(),
            ssm_root: environment.settings.ssm_root.clone(),
        });
    }
    let aws = tokio.block_on(crate::environment::aws_config(None));
    let mut watch = Watch {
        sources,
        blueprints: Blueprints::read(&ctx.project)?,
        only: options.agents.clone(),
        work: ctx.project.work_dir().join("dataplane"),
        launcher: arm64_launcher(ctx)?,
        idle_timeout: options.idle_timeout,
        served: BTreeMap::new(),
        unreadable: BTreeMap::new(),
    };

    tokio.block_on(async {
        let say = Say {
            verbose: ctx.out.verbose > 0,
        };
        for change in watch.refresh().await {
            say.step(change);
        }
        let runtimes = Runtimes::new(watch.runtimes());
        let known = Known::default();
        known.set(&watch.served);
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", options.port))
            .await
            .with_context(|| format!("cannot listen on 127.0.0.1:{}", options.port))?;
        let url = format!("http://{}", listener.local_addr()?);
        let mut serving = Serving {
            envs: options.envs.clone(),
            url,
            runtimes: BTreeMap::new(),
        };
        for served in watch.served.values() {
            serving
                .runtimes
                .entry(served.env)
                .or_default()
                .insert(served.agent.clone(), served.deployed.runtime_arn.clone());
        }
        started(&serving);

        // One refresh for both: the poll, and the data plane before every new session.
        let watch = Arc::new(tokio::sync::Mutex::new(watch));
        let refresh: Refresh = {
            let (runtimes, known, say) = (runtimes.clone(), known.clone(), say.clone());
            Arc::new(move || {
                let (watch, runtimes, known, say) =
                    (watch.clone(), runtimes.clone(), known.clone(), say.clone());
                Box::pin(async move {
                    let mut watch = watch.lock().await;
                    let changes = watch.refresh().await;
                    if !changes.is_empty() {
                        runtimes.replace(watch.runtimes());
                        known.set(&watch.served);
                        for change in changes {
                            say.step(change);
                        }
                    }
                })
            })
        };
        let poll = options.poll;
        let watcher = tokio::spawn({
            let refresh = refresh.clone();
            async move {
                loop {
                    tokio::time::sleep(poll).await;
                    refresh().await;
                }
            }
        });
        let (events, received) = tokio::sync::mpsc::unbounded_channel();
        let logs = aws_sdk_cloudwatchlogs::Client::new(&aws);
        let delivery = tokio::spawn(deliver(say, logs, known, received));
        let served = agentcore_dataplane::serve(
            listener,
            agentcore_dataplane::Options {
                runtimes,
                refresh: Some(refresh),
                events: Some(events),
                startup_timeout: options.startup_timeout,
            },
            shutdown_signal(),
        )
        .await;
        watcher.abort();
        // The sender went with the server: the last lines are delivered, then this ends.
        let _ = delivery.await;
        served
    })
}

/// One environment the data plane follows.
struct Source {
    env: Env,
    /// The agents stack's: what runs.
    state: StateObject,
    /// The platform stack's: what the agents stack gives every runtime of the environment.
    platform: StateObject,
    bedrock_region: Option<String>,
    ssm_root: String,
}

impl Source {
    /// What runs, and the environment's memory.
    async fn read(&self) -> anyhow::Result<(Deployed, Option<String>)> {
        let (deployed, platform) = tokio::join!(self.state.deployed(), self.platform.outputs());
        let shell = std::env::var("AGENTCORE_MEMORY_ID").ok();
        Ok((deployed?, memory_id(&platform?, shell)))
    }
}

/// The memory the agents stack gives a runtime whose blueprint uses one: the platform stack's
/// `memory_id` output (its `var.memory_id`); else `shell`'s (this shell's
/// `AGENTCORE_MEMORY_ID`), for an environment whose platform stack does not say.
fn memory_id(
    platform: &BTreeMap<String, serde_json::Value>,
    shell: Option<String>,
) -> Option<String> {
    platform
        .get("memory_id")
        .and_then(|v| v.as_str())
        .filter(|id| !id.is_empty())
        .map(str::to_string)
        .or(shell.filter(|id| !id.is_empty()))
}

/// What is served, kept equal to the environments' state.
struct Watch {
    sources: Vec<Source>,
    blueprints: Blueprints,
    only: Vec<String>,
    work: PathBuf,
    launcher: Option<PathBuf>,
    idle_timeout: Option<Duration>,
    /// Runtime ARN → what serves it.
    served: BTreeMap<String, Served>,
    /// Environments whose state cannot be read now, with why (said once).
    unreadable: BTreeMap<Env, String>,
}

impl Watch {
    /// Reads every environment's state; prepares what is new. Gives what changed, in words.
    async fn refresh(&mut self) -> Vec<String> {
        let mut changes = Vec::new();
        let mut next = BTreeMap::new();
        for source in &self.sources {
            let env = source.env;
            let (deployed, memory) = match source.read().await {
                Ok(read) => {
                    if self.unreadable.remove(&env).is_some() {
                        changes.push(format!("{env}: its state is readable again"));
                    }
                    read
                }
                Err(err) => {
                    let why = format!("{err:#}");
                    if self.unreadable.insert(env, why.clone()).as_ref() != Some(&why) {
                        changes.push(format!("{env}: not served for now: {why}"));
                    }
                    // Keep serving what it ran.
                    next.extend(
                        self.served
                            .iter()
                            .filter(|(_, s)| s.env == env)
                            .map(|(k, v)| (k.clone(), v.clone())),
                    );
                    continue;
                }
            };
            let wanted = |id: &String| self.only.is_empty() || self.only.contains(id);
            if let Err(err) = self
                .blueprints
                .cover(deployed.agents.keys().filter(|id| wanted(id)))
            {
                changes.push(format!("{env}: {err:#}"));
            }
            for (id, agent) in deployed.agents {
                if !wanted(&id) {
                    continue;
                }
                let uses_memory = self
                    .blueprints
                    .get(&id)
                    .is_some_and(|a| a.blueprint.memory.enabled);
                let memory = memory.clone().filter(|_| uses_memory);
                let same = self
                    .served
                    .get(&agent.runtime_arn)
                    .filter(|s| s.deployed.image == agent.image && s.memory == memory);
                if let Some(same) = same {
                    next.insert(agent.runtime_arn.clone(), same.clone());
                    continue;
                }
                match self.prepare(source, &id, &agent, memory.as_deref()).await {
                    Ok(runtime) => {
                        let with = match &memory {
                            Some(memory) => format!(" with memory {memory}"),
                            None => String::new(),
                        };
                        changes.push(format!("{env}: serving {id} from {}{with}", agent.image));
                        next.insert(
                            agent.runtime_arn.clone(),
                            Served {
                                env,
                                agent: id,
                                deployed: agent,
                                memory,
                                runtime,
                            },
                        );
                    }
                    Err(err) => changes.push(format!("{env}: cannot serve {id}: {err:#}")),
                }
            }
        }
        for (arn, gone) in &self.served {
            if !next.contains_key(arn) {
                changes.push(format!(
                    "{}: {} is no longer deployed",
                    gone.env, gone.agent
                ));
            }
        }
        self.served = next;
        changes
    }

    fn runtimes(&self) -> Vec<Runtime> {
        self.served.values().map(|s| s.runtime.clone()).collect()
    }

    /// The runtime of `agent` as deployed: its image pulled and unpacked, its environment.
    async fn prepare(
        &self,
        source: &Source,
        id: &str,
        agent: &DeployedAgent,
        memory: Option<&str>,
    ) -> anyhow::Result<Runtime> {
        let blueprint = self
            .blueprints
            .get(id)
            .with_context(|| format!("{} runs `{id}`, which has no blueprint here", source.env))?
            .in_environment(source.env);
        let image = unpack(&self.work, &agent.image).await?;
        let mut vars = image.env.clone();
        vars.extend(agent_env(
            &blueprint,
            source.bedrock_region.clone(),
            &[],
            0,
            |name| match name {
                "SSM_ROOT_PATH" => Some(source.ssm_root.clone()),
                "AGENTCORE_MEMORY_ID" => memory.map(str::to_string),
                _ => std::env::var(name).ok(),
            },
        ));
        vars.extend(std::env::vars().filter(|(name, _)| inherited(name)));
        let entrypoint = image.rootfs.join(image.entrypoint.trim_start_matches('/'));
        let mut command: Vec<OsString> = Vec::new();
        if let Some(qemu) = &self.launcher {
            command.extend([qemu.into(), "-L".into(), image.rootfs.clone().into()]);
        }
        command.push(entrypoint.into());
        command.extend(image.args.iter().map(OsString::from));
        let runtime = &blueprint.blueprint.runtime;
        Ok(Runtime {
            arn: agent.runtime_arn.clone(),
            endpoints: vec!["DEFAULT".into(), MANAGED_ENDPOINT.into()],
            protocol: match runtime.protocol {
                blueprint::Protocol::Mcp => Protocol::Mcp,
                _ => Protocol::Http,
            },
            command,
            env: vars,
            idle_timeout: self.idle_timeout.unwrap_or(Duration::from_secs(
                u64::from(runtime.idle_timeout_minutes) * 60,
            )),
            max_lifetime: Duration::from_secs(u64::from(runtime.max_lifetime_minutes) * 60),
            authorizer: match blueprint.blueprint.auth.jwt {
                Some(_) => Authorizer::Jwt,
                None => Authorizer::Iam,
            },
        })
    }
}

/// The workspace's blueprints, read when the data plane starts, and again when a state names an
/// agent they do not have: one added since (`cargo xtask new`), deployed while it serves.
struct Blueprints {
    project: Project,
    agents: Vec<blueprint::Agent>,
    /// Ids the last reading did not find: not read for again on every poll while a state keeps
    /// naming them.
    missing: BTreeSet<String>,
}

impl Blueprints {
    fn read(project: &Project) -> anyhow::Result<Blueprints> {
        Ok(Blueprints {
            project: project.clone(),
            agents: project.agents()?,
            missing: BTreeSet::new(),
        })
    }

    fn get(&self, id: &str) -> Option<&blueprint::Agent> {
        self.agents.iter().find(|a| a.id() == id)
    }

    /// Reads the blueprints again if one of `ids` has none loaded and was not missing from the
    /// last reading already.
    fn cover<'a>(&mut self, ids: impl Iterator<Item = &'a String>) -> anyhow::Result<()> {
        let unknown: BTreeSet<String> = ids.filter(|id| self.get(id).is_none()).cloned().collect();
        if unknown.is_subset(&self.missing) {
            return Ok(());
        }
        self.agents = self.project.agents()?;
        self.missing = unknown
            .into_iter()
            .filter(|id| self.get(id).is_none())
            .collect();
        Ok(())
    }
}

/// Runtime ARN → agent id and where its logs go, for the delivery task.
#[derive(Clone, Default)]
struct Known(Arc<RwLock<HashMap<String, (String, DeployedAgent)>>>);

impl Known {
    fn set(&self, served: &BTreeMap<String, Served>) {
        if let Ok(mut known) = self.0.write() {
            *known = served
                .iter()
                .map(|(arn, s)| (arn.clone(), (s.agent.clone(), s.deployed.clone())))
                .collect();
        }
    }

    fn get(&self, arn: &str) -> Option<(String, DeployedAgent)> {
        self.0.read().ok()?.get(arn).cloned()
    }
}

/// This shell's variables a session's process inherits: the runtime role's stand-in.
fn inherited(name: &str) -> bool {
    name.starts_with("AWS_") || name == "RUST_LOG"
}

async fn shutdown_signal() {
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = terminate => {}
    }
}

/// An image unpacked for running: its root file system and what its config says to run.
struct Unpacked {
    rootfs: PathBuf,
    entrypoint: String,
    args: Vec<String>,
    env: Vec<(String, String)>,
}

/// Pulls `image` by digest (blobs already here are not fetched again) and unpacks its layers,
/// once per digest, under `target/xtask/dataplane/<digest>/`.
async fn unpack(work: &Path, image: &ImageRef) -> anyhow::Result<Unpacked> {
    let hex = image.digest.trim_start_matches("sha256:");
    let dir = work.join(hex);
    let layout = dir.join("layout");
    let rootfs = dir.join("rootfs");
    let credentials = target::pull_credentials(image.host())
        .await
        .with_context(|| format!("cannot read {image}"))?;
    oci_registry::pull(image, &credentials, &layout)
        .await
        .with_context(|| format!("cannot pull {image}"))?;
    let read = oci_image::read::read(&layout, "the pulled image")?;
    let (config, layers) = read
        .blobs
        .split_first()
        .with_context(|| format!("{image} has no config"))?;
    if !rootfs.join(".unpacked").exists() {
        let partial = dir.join("rootfs.partial");
        let _ = std::fs::remove_dir_all(&partial);
        std::fs::create_dir_all(&partial)
            .with_context(|| format!("cannot create {}", partial.display()))?;
        for layer in layers {
            unpack_layer(&layer.path, &partial)
                .with_context(|| format!("cannot unpack layer {} of {image}", layer.digest))?;
        }
        std::fs::write(partial.join(".unpacked"), image.to_string())?;
        let _ = std::fs::remove_dir_all(&rootfs);
        std::fs::rename(&partial, &rootfs)
            .with_context(|| format!("cannot move the unpacked image to {}", rootfs.display()))?;
    }
    let config: serde_json::Value = serde_json::from_slice(
        &std::fs::read(&config.path).with_context(|| format!("cannot read {image}'s config"))?,
    )
    .with_context(|| format!("{image}'s config is not JSON"))?;
    let strings = |key: &str| -> Vec<String> {
        config["config"][key]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    };
    let mut command = strings("Entrypoint");
    command.extend(strings("Cmd"));
    let (entrypoint, args) = command
        .split_first()
        .map(|(e, a)| (e.clone(), a.to_vec()))
        .with_context(|| format!("{image} has no entrypoint"))?;
    let env = strings("Env")
        .into_iter()
        .filter_map(|pair| {
            pair.split_once('=')
                .map(|(k, v)| (k.to_string(), v.to_string()))
        })
        .collect();
    Ok(Unpacked {
        rootfs,
        entrypoint,
        args,
        env,
    })
}

fn unpack_layer(layer: &Path, into: &Path) -> anyhow::Result<()> {
    let file =
        std::fs::File::open(layer).with_context(|| format!("cannot open {}", layer.display()))?;
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(file));
    archive.set_preserve_permissions(true);
    archive.unpack(into)?;
    Ok(())
}

/// Prints what happens, and delivers what the processes print to their runtime's log group,
/// one stream per session (`YYYY/MM/DD/[runtime-logs]<session id>`), about twice a second.
async fn deliver(
    out: Say,
    logs: aws_sdk_cloudwatchlogs::Client,
    agents: Known,
    mut events: tokio::sync::mpsc::UnboundedReceiver<Event>,
) {
    let agent_of = |arn: &str| {
        agents
            .get(arn)
            .map(|(id, _)| id)
            .unwrap_or_else(|| arn.to_string())
    };
    let mut pending: BTreeMap<(String, String), Vec<(i64, String)>> = BTreeMap::new();
    let mut streams = std::collections::BTreeSet::new();
    let mut warned = std::collections::BTreeSet::new();
    let mut tick = tokio::time::interval(Duration::from_millis(500));
    loop {
        let (open, flush) = tokio::select! {
            event = events.recv() => match event {
                Some(event) => {
                    match event {
                        Event::Log { runtime, endpoint, session, line, at } => {
                            let Some((_, agent)) = agents.get(&runtime) else { continue };
                            eprintln!("{} {} | {line}", agent_of(&runtime), short(&session));
                            let stream = format!("{}/[runtime-logs]{session}", day(at));
                            pending
                                .entry((agent.log_group(&endpoint), stream))
                                .or_default()
                                .push((crate::epoch_millis(at), line));
                        }
                        Event::Started { runtime, session, pid, took } => out.step(format!(
                            "{}: session {} started (pid {pid}, ready in {:.1} s)",
                            agent_of(&runtime), short(&session), took.as_secs_f64()
                        )),
                        Event::Stopped { runtime, session, reason } => out.step(format!(
                            "{}: session {} stopped ({reason})", agent_of(&runtime), short(&session)
                        )),
                        Event::Invoked { runtime, session, status } => out.verbose(format!(
                            "{}: session {}: {status}", agent_of(&runtime), short(&session)
                        )),
                    }
                    (true, tick_due(&pending))
                }
                None => (false, true),
            },
            _ = tick.tick() => (true, true),
        };
        if flush {
            for ((group, stream), lines) in std::mem::take(&mut pending) {
                if let Err(err) = put(&logs, &group, &stream, lines, &mut streams).await
                    && warned.insert(group.clone())
                {
                    out.warn(format!(
                        "cannot deliver the log lines to {group}: {err:#} (they are printed here only)"
                    ));
                }
            }
        }
        if !open {
            return;
        }
    }
}

/// What the data plane prints on stderr, as it happens: a server's log, so also under `--json`
/// (whose one JSON document, on stdout, says where it serves); invocations only with `-v`.
#[derive(Clone)]
struct Say {
    verbose: bool,
}

impl Say {
    fn step(&self, message: String) {
        eprintln!("==> {message}");
    }

    fn verbose(&self, message: String) {
        if self.verbose {
            eprintln!("    {message}");
        }
    }

    fn warn(&self, message: String) {
        eprintln!("warning: {message}");
    }
}

/// Lines are sent on every tick, or sooner when many wait.
fn tick_due(pending: &BTreeMap<(String, String), Vec<(i64, String)>>) -> bool {
    pending.values().map(Vec::len).sum::<usize>() >= 1000
}

async fn put(
    logs: &aws_sdk_cloudwatchlogs::Client,
    group: &str,
    stream: &str,
    lines: Vec<(i64, String)>,
    streams: &mut std::collections::BTreeSet<(String, String)>,
) -> anyhow::Result<()> {
    if streams.insert((group.to_string(), stream.to_string())) {
        let created = logs
            .create_log_stream()
            .log_group_name(group)
            .log_stream_name(stream)
            .send()
            .await;
        if let Err(err) = created {
            let exists = err
                .as_service_error()
                .is_some_and(|e| e.is_resource_already_exists_exception());
            if !exists {
                streams.remove(&(group.to_string(), stream.to_string()));
                return Err(anyhow::Error::new(err.into_service_error()));
            }
        }
    }
    let events = lines
        .into_iter()
        .map(|(timestamp, message)| {
            aws_sdk_cloudwatchlogs::types::InputLogEvent::builder()
                .timestamp(timestamp)
                .message(message)
                .build()
                .map_err(anyhow::Error::new)
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    logs.put_log_events()
        .log_group_name(group)
        .log_stream_name(stream)
        .set_log_events(Some(events))
        .send()
        .await
        .map_err(|err| anyhow::Error::new(err.into_service_error()))?;
    Ok(())
}

fn short(session: &str) -> &str {
    session.get(..8).unwrap_or(session)
}

/// `YYYY/MM/DD` of `at` in UTC, as AgentCore's stream names start.
fn day(at: SystemTime) -> String {
    chrono::DateTime::<chrono::Utc>::from(at)
        .format("%Y/%m/%d")
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_are_named_by_day_and_session() {
        let at = SystemTime::UNIX_EPOCH + Duration::from_secs(1_764_547_200); // 2025-12-01
        assert_eq!(day(at), "2025/12/01");
    }

    #[test]
    fn an_agent_added_since_the_start_has_its_blueprint_read() {
        let root = tempfile::tempdir().expect("tempdir");
        let project = Project {
            root: root.path().to_path_buf(),
            infra_dir: root.path().join("infra"),
        };
        std::fs::create_dir_all(root.path().join("agents")).expect("agents/");
        let mut blueprints = Blueprints::read(&project).expect("no blueprints yet");
        let triage = "triage".to_string();
        assert!(blueprints.get(&triage).is_none());
        let dir = root.path().join("agents/triage");
        std::fs::create_dir_all(&dir).expect("agents/triage");
        let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        for file in ["blueprint.yaml", "Cargo.toml"] {
            std::fs::copy(repo.join("agents/triage").join(file), dir.join(file))
                .unwrap_or_else(|err| panic!("copy triage's {file}: {err}"));
        }
        std::fs::create_dir_all(dir.join("src")).expect("src/");
        std::fs::write(dir.join("src/main.rs"), "fn main() {}\n").expect("main.rs");
        blueprints
            .cover([&triage].into_iter())
            .expect("the blueprints read again");
        assert!(blueprints.get(&triage).is_some());
        let unknown = "nobody".to_string();
        blueprints.cover([&unknown].into_iter()).expect("read");
        assert!(blueprints.get(&unknown).is_none());
    }

    #[test]
    fn the_memory_is_the_platform_stacks_else_the_shells() {
        let platform = |id: &str| BTreeMap::from([("memory_id".into(), serde_json::json!(id))]);
        let shell = || Some("shell_memory-0000000000".to_string());
        assert_eq!(
            memory_id(&platform("dev_memory-0000000000"), shell()).as_deref(),
            Some("dev_memory-0000000000")
        );
        assert_eq!(memory_id(&BTreeMap::new(), shell()), shell());
        assert_eq!(memory_id(&platform(""), shell()), shell());
        assert_eq!(memory_id(&BTreeMap::new(), Some(String::new())), None);
    }

    #[test]
    fn sessions_inherit_only_the_runtime_roles_stand_in() {
        assert!(inherited("AWS_ENDPOINT_URL_BEDROCK_RUNTIME"));
        assert!(inherited("AWS_SECRET_ACCESS_KEY"));
        assert!(!inherited("HOME"));
        assert!(!inherited("CARGO_TARGET_DIR"));
    }
}
