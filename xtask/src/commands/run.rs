//! `cargo xtask run <agent>`: build an agent for the host and run it with the environment an
//! AgentCore runtime would give it, on 127.0.0.1.
//!
//! The environment, in increasing precedence:
//! - what the platform sets on every runtime: `AGENT_ID`, `BEDROCK_REGION` (from `--bedrock-region`,
//!   else `BEDROCK_REGION`, `AWS_BEDROCK_REGION` or `AWS_REGION` of this shell), and
//!   `SSM_ROOT_PATH` when this shell has it, `AGENTCORE_MEMORY_ID` too for an agent whose
//!   blueprint has `memory.enabled`, and `AGENTCORE_GATEWAY_URL` for one whose blueprint names
//!   gateway tools (with `AGENTCORE_GATEWAY_TARGETS` and `TOOL_*` from its `tools`);
//! - the blueprint's model as `MODEL_ID`, `MODEL_MAX_TOKENS`, `MODEL_TEMPERATURE` (the agents
//!   stack sets the same on the runtime), and its `runtime.environment`;
//! - `-e NAME=VALUE` from the command line;
//! - `PORT` (the blueprint's port or `--port`) and `BIND_ADDRESS=127.0.0.1`: a local run is not
//!   exposed.
//!
//! Everything else (AWS credentials, `AWS_ENDPOINT_URL_*`, `RUST_LOG`) is inherited, so the
//! agent reaches the same AWS account, or local stand-in, as this shell.

mod watch;

use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{ExitCode, ExitStatus};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use serde::Serialize;

use crate::Context;
use crate::error::HelpExt as _;
pub use crate::ops::runtime_env::agent_env;
use blueprint::{self, Agent};

#[derive(clap::Args)]
#[command(after_help = "Examples:
  cargo xtask run assistant                       build (debug) and serve on 127.0.0.1:8080
  cargo xtask run triage --port 9090 --release    optimised build on another port
  cargo xtask run assistant --bedrock-region us-west-2 -e RUST_LOG=debug
  cargo xtask run assistant --dry-run             show the build and the environment only
  cargo xtask run assistant --arm64               the packaged linux/arm64 binary, under qemu
  cargo xtask run assistant --watch               rebuilt and restarted on every change
  AWS_PROFILE=dev cargo xtask run assistant       real Bedrock with a profile's credentials

Then, from another shell:
  cargo xtask invoke assistant --payload '{\"prompt\": \"Hello\"}'
  curl -s localhost:8080/ping")]
pub struct Args {
    /// The agent to run, by id.
    #[arg(value_name = "AGENT")]
    pub agent: String,

    /// Port to listen on (default: the blueprint's `runtime.port`).
    #[arg(long)]
    pub port: Option<u16>,

    /// Build with the release profile (as deployed) instead of debug.
    #[arg(long)]
    pub release: bool,

    /// The region Bedrock is called in (default: BEDROCK_REGION, AWS_BEDROCK_REGION or AWS_REGION).
    #[arg(long, value_name = "REGION")]
    pub bedrock_region: Option<String>,

    /// Extra environment for the agent, overriding everything but PORT and BIND_ADDRESS.
    #[arg(short = 'e', long = "env", value_name = "NAME=VALUE", value_parser = parse_env_pair)]
    pub env: Vec<(String, String)>,

    /// Print the build command and the agent's environment, run nothing.
    #[arg(long)]
    pub dry_run: bool,

    /// Run the packaged linux/arm64 binary (taken from the image `build-agents` writes) under
    /// qemu-aarch64-static: the bytes AgentCore will run, checked before pushing.
    #[arg(long, conflicts_with = "watch")]
    pub arm64: bool,

    /// Build and restart the agent whenever a file of its crate, or of a workspace crate it
    /// uses, changes: same port, no gap (the new build serves once it listens, then the old one
    /// is stopped); a build that fails leaves the previous one serving.
    #[arg(long)]
    pub watch: bool,
}

#[derive(Serialize)]
struct Started<'a> {
    agent: &'a str,
    url: String,
    pid: u32,
}

pub fn run(ctx: &Context, args: Args) -> anyhow::Result<ExitCode> {
    let agent = ctx.project.agent(&args.agent)?;
    let port = match args.port {
        Some(port) => port,
        // A dry run shows the blueprint's port; a real one takes the next free one if need be.
        None if args.dry_run => agent.blueprint.runtime.port,
        None => local::free_port_for(&ctx.project, &agent)?,
    };
    let env = agent_env(
        &agent,
        args.bedrock_region.clone(),
        &args.env,
        port,
        |name| std::env::var(name).ok(),
    );
    let profile = if args.release { "release" } else { "dev" };

    if args.dry_run {
        return dry_run(ctx, &agent, profile, &env);
    }
    if TcpListener::bind((Ipv4Addr::LOCALHOST, port)).is_err() {
        bail_help!("port {port} on 127.0.0.1 is in use (is the agent already running?)"; "stop it, or pass --port <PORT>");
    }
    if args.arm64 {
        let launcher = crate::ops::build_agents::arm64_launcher(ctx)?;
        let binary = crate::ops::build_agents::packaged_binary(ctx, &agent)?;
        return serve(ctx, &agent, &binary, launcher.as_deref(), port, &env);
    }
    if args.watch {
        let env_for = |port| {
            agent_env(
                &agent,
                args.bedrock_region.clone(),
                &args.env,
                port,
                |name| std::env::var(name).ok(),
            )
        };
        return watch::serve(ctx, &agent, profile, port, &env_for);
    }
    let binary = build_host(ctx, &agent, profile)?;
    serve(ctx, &agent, &binary, None, port, &env)
}

/// Which agent `run` serves on which port of this machine: `target/xtask/run/<agent>.json`
/// while it runs, so that two agents run side by side (each on its own port) and `invoke`
/// reaches the one it names, never whatever listens on the default port.
pub mod local {
    use std::net::{Ipv4Addr, TcpListener};
    use std::path::PathBuf;

    use anyhow::Context as _;
    use serde::{Deserialize, Serialize};

    use blueprint::Agent;

    use crate::project::Project;

    #[derive(Serialize, Deserialize)]
    struct Record {
        port: u16,
        /// The `cargo xtask run` process.
        pid: u32,
    }

    fn dir(project: &Project) -> PathBuf {
        project.work_dir().join("run")
    }

    /// Removes the record when `run` ends.
    pub struct Running(PathBuf);

    impl Running {
        pub fn record(
            project: &Project,
            agent: &str,
            port: u16,
            pid: u32,
        ) -> anyhow::Result<Running> {
            let dir = dir(project);
            std::fs::create_dir_all(&dir)
                .with_context(|| format!("cannot create {}", dir.display()))?;
            let path = dir.join(format!("{agent}.json"));
            std::fs::write(&path, serde_json::to_vec(&Record { port, pid })?)
                .with_context(|| format!("cannot write {}", path.display()))?;
            Ok(Running(path))
        }
    }

    impl Drop for Running {
        fn drop(&mut self) {
            let _ = std::fs::remove_file(&self.0);
        }
    }

    /// The port `cargo xtask run <agent>` serves it on, if it runs now.
    pub fn port_of(project: &Project, agent: &str) -> Option<u16> {
        live(project)
            .into_iter()
            .find(|(id, _)| id == agent)
            .map(|(_, port)| port)
    }

    /// The agent a `run` serves on `port` now, if any.
    pub fn agent_on(project: &Project, port: u16) -> Option<String> {
        live(project)
            .into_iter()
            .find(|(_, p)| *p == port)
            .map(|(id, _)| id)
    }

    /// (agent, port) of every `run` whose process is alive.
    fn live(project: &Project) -> Vec<(String, u16)> {
        let Ok(entries) = std::fs::read_dir(dir(project)) else {
            return Vec::new();
        };
        entries
            .flatten()
            .filter_map(|e| {
                let id = e.path().file_stem()?.to_string_lossy().into_owned();
                let record: Record = serde_json::from_slice(&std::fs::read(e.path()).ok()?).ok()?;
                let alive = std::path::Path::new("/proc")
                    .join(record.pid.to_string())
                    .exists();
                alive.then_some((id, record.port))
            })
            .collect()
    }

    /// The blueprint's port when it is free, else the next free one (another agent, or another
    /// program, may have it).
    pub fn free_port_for(project: &Project, agent: &Agent) -> anyhow::Result<u16> {
        let wanted = agent.blueprint.runtime.port;
        if let Some(port) = port_of(project, agent.id()) {
            bail_help!("{} already runs on 127.0.0.1:{port}", agent.id(); "stop it first, or pass --port <PORT> for a second one");
        }
        (wanted..wanted.saturating_add(100))
            .find(|port| TcpListener::bind((Ipv4Addr::LOCALHOST, *port)).is_ok())
            .with_context(|| format!("no free port from {wanted} on 127.0.0.1"))
    }
}

fn dry_run(
    ctx: &Context,
    agent: &Agent,
    profile: &str,
    env: &[(String, String)],
) -> anyhow::Result<ExitCode> {
    let build = format!("cargo build --profile {profile} -p {}", agent.id());
    if ctx.out.json {
        let env: std::collections::BTreeMap<_, _> = env.iter().cloned().collect();
        ctx.out.print_json(&serde_json::json!({
            "agent": agent.id(),
            "build": build,
            "env": env,
        }));
    } else {
        println!("would run: {build}");
        println!(
            "then start target/{}/{} with:",
            profile_dir(profile),
            agent.id()
        );
        for (name, value) in env {
            println!("  {name}={value}");
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn profile_dir(profile: &str) -> &str {
    if profile == "dev" { "debug" } else { profile }
}

/// Builds the agent's binary for the host and returns its path, as cargo reports it.
fn build_host(ctx: &Context, agent: &Agent, profile: &str) -> anyhow::Result<PathBuf> {
    let timer = ctx
        .out
        .timed(format!("building {} ({profile}, host)", agent.id()));
    let messages = cargo_build(ctx, profile, &[agent.id()])?;
    timer.done();
    executable_of(&messages, agent.id())
        .with_context(|| format!("cargo built no binary named `{}`", agent.id()))
        .with_help(|| {
            format!(
                "the crate in {} must have a binary target with the agent's id",
                ctx.project.rel(&agent.dir).display()
            )
        })
}

/// `cargo build` of `packages` for the host; gives cargo's JSON messages.
pub fn cargo_build(ctx: &Context, profile: &str, packages: &[&str]) -> anyhow::Result<String> {
    let mut argv = vec![
        "build",
        "--profile",
        profile,
        "--message-format=json-render-diagnostics",
    ];
    for package in packages {
        argv.extend(["-p", package]);
    }
    ctx.out.verbose(format!("cargo {}", argv.join(" ")));
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let output = duct::cmd(cargo, argv)
        .dir(&ctx.project.root)
        .stdout_capture()
        .unchecked()
        .run()
        .context("cannot run cargo")?;
    if !output.status.success() {
        bail!(
            "`cargo build -p {}` failed (the compiler's messages are above)",
            packages.join(" -p ")
        );
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

/// The path of binary `name` in cargo's `--message-format=json` output.
pub fn executable_of(messages: &str, name: &str) -> Option<PathBuf> {
    messages
        .lines()
        .rev()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter(|m| m["reason"] == "compiler-artifact" && m["target"]["name"] == name)
        .find_map(|m| m["executable"].as_str().map(PathBuf::from))
}

fn serve(
    ctx: &Context,
    agent: &Agent,
    binary: &std::path::Path,
    launcher: Option<&std::path::Path>,
    port: u16,
    env: &[(String, String)],
) -> anyhow::Result<ExitCode> {
    let mut cmd = match launcher {
        Some(launcher) => duct::cmd(launcher, [binary]),
        None => duct::cmd(binary, Vec::<String>::new()),
    }
    .dir(&ctx.project.root)
    .unchecked();
    for (name, value) in env {
        cmd = cmd.env(name, value);
    }
    if ctx.out.json {
        // stdout is for the JSON line below; the agent's own JSON logs go to stderr.
        cmd = cmd.stdout_to_stderr();
    }
    ctx.out
        .verbose(format!("{} (PORT={port})", binary.display()));
    let handle = cmd
        .start()
        .with_context(|| format!("cannot start {}", binary.display()))?;
    let pid = handle.pids().first().copied().unwrap_or_default();
    let url = url(port);

    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if TcpStream::connect((Ipv4Addr::LOCALHOST, port)).is_ok() {
            break;
        }
        if let Some(output) = handle.try_wait()? {
            bail!(
                "{} exited ({}) before it listened; its log is above",
                agent.id(),
                output.status
            );
        }
        if Instant::now() > deadline {
            let _ = handle.kill();
            bail!(
                "{} did not listen on {url} within 30 s; its log is above",
                agent.id()
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    announce(ctx, agent, port, pid)?;
    let record = local::Running::record(&ctx.project, agent.id(), port, std::process::id())?;
    let status = wait_forwarding_signals(handle, pid);
    drop(record);
    let status = status?;
    Ok(match status.code() {
        Some(0) => ExitCode::SUCCESS,
        _ => {
            eprintln!("{} stopped: {status}", agent.id());
            ExitCode::FAILURE
        }
    })
}

fn url(port: u16) -> String {
    format!("http://127.0.0.1:{port}")
}

/// Says where the agent listens: one JSON line under `--json` (a script reads it and keeps the
/// agent running), else how to reach it.
fn announce(ctx: &Context, agent: &Agent, port: u16, pid: u32) -> anyhow::Result<()> {
    let url = url(port);
    if ctx.out.json {
        let started = Started {
            agent: agent.id(),
            url,
            pid,
        };
        println!("{}", serde_json::to_string(&started)?);
    } else {
        eprintln!(
            "==> {} is listening on {url}  (pid {pid}; Ctrl-C stops it)",
            agent.id()
        );
        eprintln!(
            "    try: cargo xtask invoke {} --payload '<JSON>'",
            agent.id()
        );
    }
    Ok(())
}

/// Waits for the agent to exit. SIGINT or SIGTERM to this process is passed on as SIGTERM, the
/// way AgentCore stops a runtime, so the agent shuts down gracefully and is never orphaned.
fn wait_forwarding_signals(handle: duct::Handle, pid: u32) -> anyhow::Result<ExitStatus> {
    let handle = std::sync::Arc::new(handle);
    let runtime = crate::async_runtime()?;
    runtime.block_on(async {
        let waiting = handle.clone();
        let exited = tokio::task::spawn_blocking(move || waiting.wait().map(|o| o.status));
        let mut terminate =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
        tokio::select! {
            status = exited => return Ok(status??),
            _ = tokio::signal::ctrl_c() => {}
            _ = terminate.recv() => {}
        }
        let _ = duct::cmd!("kill", "-TERM", pid.to_string())
            .stderr_null()
            .unchecked()
            .run();
        let waiting = handle.clone();
        Ok(tokio::task::spawn_blocking(move || waiting.wait().map(|o| o.status)).await??)
    })
}

fn parse_env_pair(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((name, value)) if !name.is_empty() => Ok((name.to_string(), value.to_string())),
        _ => Err(format!("`{text}` is not NAME=VALUE")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_binary_in_cargos_messages() {
        let messages = r#"{"reason":"compiler-artifact","target":{"name":"agentcore-runtime"},"executable":null}
{"reason":"compiler-artifact","target":{"name":"assistant"},"executable":"/w/target/debug/assistant"}
{"reason":"build-finished","success":true}"#;
        assert_eq!(
            executable_of(messages, "assistant"),
            Some(PathBuf::from("/w/target/debug/assistant"))
        );
        assert_eq!(executable_of(messages, "triage"), None);
    }

    #[test]
    fn env_pairs() {
        assert_eq!(parse_env_pair("A=b=c"), Ok(("A".into(), "b=c".into())));
        assert!(parse_env_pair("=x").is_err());
        assert!(parse_env_pair("nothing").is_err());
    }
}
