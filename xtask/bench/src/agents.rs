//! `cargo xtask bench agents`: how fast the agents serve the AgentCore contract, and how big
//! they ship.
//!
//! Each agent runs as its release build on the host with Bedrock answered instantly by the
//! Converse stand-in (`agents/agent-testkit`, `converse-standin`), so `/invocations` measures
//! the agent and its SDK call, not a model. The load comes from this process: `--connections`
//! keep-alive connections, each sending its next request when the last answer is read, for
//! `--duration` seconds after a warm-up second. Client and agent share the machine's cores;
//! the numbers compare builds on one machine, they are not capacity figures.
//!
//! Sizes are of the stripped (`strip = "symbols"` in the release profile) static
//! aarch64-unknown-linux-musl binaries `cargo xtask build-agents` makes.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use serde::Serialize;

use agent_testkit::Server;
use agent_testkit::agent::AgentProcess;
use blueprint::{self, Agent};
use xtask::Context;
use xtask::commands::run::{agent_env, cargo_build, executable_of};
use xtask::output::table;

#[derive(clap::Args)]
pub struct Args {
    /// Agents to measure, by id (default: all).
    #[arg(value_name = "AGENT")]
    agents: Vec<String>,

    /// Seconds of measured load per endpoint.
    #[arg(long, default_value_t = 5)]
    duration: u64,

    /// Concurrent keep-alive connections.
    #[arg(short = 'c', long, default_value_t = 16)]
    connections: usize,

    /// Skip the aarch64 build and the binary sizes.
    #[arg(long)]
    no_arm64: bool,
}

#[derive(Serialize)]
struct Report {
    suite: &'static str,
    command: String,
    cores: usize,
    duration_s: u64,
    connections: usize,
    results: Vec<Measured>,
    arm64_sizes: Vec<Size>,
}

#[derive(Serialize)]
struct Measured {
    agent: String,
    endpoint: &'static str,
    requests: usize,
    errors: usize,
    requests_per_second: f64,
    p50_ms: f64,
    p99_ms: f64,
}

#[derive(Serialize)]
struct Size {
    agent: String,
    bytes: u64,
    path: PathBuf,
}

pub fn run(ctx: &Context, args: Args) -> anyhow::Result<ExitCode> {
    if args.connections == 0 || args.duration == 0 {
        bail!("--connections and --duration must be at least 1");
    }
    let all = ctx.project.agents()?;
    let agents = blueprint::select(&all, &args.agents)?;
    if agents.is_empty() {
        bail!("there are no agents to measure under agents/");
    }

    let timer = ctx
        .out
        .timed("building the agents and the Converse stand-in (release, host)");
    let mut packages: Vec<&str> = agents.iter().map(Agent::id).collect();
    packages.push("agent-testkit");
    let messages = cargo_build(ctx, "release", &packages)?;
    timer.done();
    let standin_bin = executable_of(&messages, "converse-standin")
        .context("cargo built no `converse-standin` (agents/agent-testkit)")?;

    let standin = start_standin(&standin_bin)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let mut results = Vec::new();
    for agent in &agents {
        let binary = executable_of(&messages, agent.id())
            .with_context(|| format!("cargo built no binary `{}`", agent.id()))?;
        let running = start_agent(agent, &binary, &standin.url());
        let base = running.url("");
        let work = match agent.blueprint.runtime.protocol {
            blueprint::Protocol::Mcp => Endpoint::McpToolCall,
            _ => Endpoint::Invocations,
        };
        for endpoint in [Endpoint::Ping, work] {
            let timer = ctx.out.timed(format!(
                "{}: {} for {} s",
                agent.id(),
                endpoint.name(),
                args.duration
            ));
            let load = runtime.block_on(load(
                &base,
                endpoint,
                trivial_payload(agent),
                args.connections,
                Duration::from_secs(args.duration),
            ))?;
            timer.done();
            results.push(load.summary(agent.id(), endpoint.name()));
        }
    }
    drop(standin);

    let mut arm64_sizes = Vec::new();
    if !args.no_arm64 {
        let timer = ctx
            .out
            .timed("building the aarch64 images' binaries (cargo xtask build-agents)");
        let built = build_arm64(ctx, &agents);
        timer.done();
        // The load results are worth printing even when the cross build fails.
        if let Err(err) = &built {
            eprintln!("warning: no aarch64 sizes: {err:#}");
        }
        for agent in agents.iter().filter(|_| built.is_ok()) {
            let path = ctx
                .project
                .root
                .join("target/aarch64-unknown-linux-musl/release")
                .join(agent.id());
            let bytes = std::fs::metadata(&path)
                .with_context(|| format!("no aarch64 binary at {}", path.display()))?
                .len();
            arm64_sizes.push(Size {
                agent: agent.id().to_string(),
                bytes,
                path: ctx.project.rel(&path).to_path_buf(),
            });
        }
    }

    let report = Report {
        suite: "agents",
        command: std::env::args()
            .skip(1)
            .fold("cargo xtask".to_string(), |cmd, a| cmd + " " + &a),
        cores: std::thread::available_parallelism().map_or(1, |n| n.get()),
        duration_s: args.duration,
        connections: args.connections,
        results,
        arm64_sizes,
    };
    if ctx.out.json {
        ctx.out.print_json(&report);
    } else {
        print_human(&report);
    }
    let errors: usize = report.results.iter().map(|r| r.errors).sum();
    Ok(if errors == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

fn print_human(report: &Report) {
    let rows: Vec<Vec<String>> = report
        .results
        .iter()
        .map(|r| {
            vec![
                r.agent.clone(),
                r.endpoint.to_string(),
                r.requests.to_string(),
                format!("{:.0}", r.requests_per_second),
                format!("{:.2}", r.p50_ms),
                format!("{:.2}", r.p99_ms),
                r.errors.to_string(),
            ]
        })
        .collect();
    println!(
        "{}",
        table(
            &[
                "agent", "endpoint", "requests", "req/s", "p50 ms", "p99 ms", "errors"
            ],
            &rows
        )
    );
    if !report.arm64_sizes.is_empty() {
        let rows: Vec<Vec<String>> = report
            .arm64_sizes
            .iter()
            .map(|s| {
                vec![
                    s.agent.clone(),
                    format!("{:.1} MiB", s.bytes as f64 / (1024.0 * 1024.0)),
                    s.bytes.to_string(),
                ]
            })
            .collect();
        println!(
            "\n{}",
            table(&["agent", "aarch64 stripped", "bytes"], &rows)
        );
    }
    println!(
        "\n{} connections, {} s per endpoint, {} cores shared by client and agent\n$ {}",
        report.connections, report.duration_s, report.cores, report.command
    );
}

#[derive(Clone, Copy)]
enum Endpoint {
    Ping,
    Invocations,
    /// An MCP server's `tools/call`, stateless (no `initialize`), as AgentCore's gateway sends it.
    McpToolCall,
}

impl Endpoint {
    fn name(self) -> &'static str {
        match self {
            Endpoint::Ping => "GET /ping",
            Endpoint::Invocations => "POST /invocations",
            Endpoint::McpToolCall => "POST /mcp tools/call",
        }
    }
}

/// The smallest payload each agent accepts; the stand-in answers it at once. An MCP server
/// gets a call of its first deterministic tool.
fn trivial_payload(agent: &Agent) -> String {
    match agent.id() {
        "triage" => r#"{"text":"ping"}"#.into(),
        "toolbox" => r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"due_date","arguments":{"start":"2026-12-04","business_days":1}}}"#.into(),
        _ => r#"{"prompt":"ping"}"#.into(),
    }
}

/// The Converse stand-in as a process of its own, so that it does not share this process's
/// runtime with the load it answers.
fn start_standin(binary: &std::path::Path) -> anyhow::Result<Server> {
    let port = agent_testkit::free_port();
    let log = tempfile::NamedTempFile::new().context("no temporary file for the stand-in's log")?;
    let mut cmd = std::process::Command::new(binary);
    cmd.arg(port.to_string());
    Ok(Server::start("converse-standin", cmd, port, log.path()))
}

/// The agent as deployed: the environment `cargo xtask run` gives, pointed at the stand-in with
/// dummy credentials; logs at `info`.
fn start_agent(agent: &Agent, binary: &std::path::Path, standin_url: &str) -> AgentProcess {
    let extra: Vec<(String, String)> = [
        ("AWS_ENDPOINT_URL_BEDROCK_RUNTIME", standin_url),
        ("AWS_ACCESS_KEY_ID", "bench"),
        ("AWS_SECRET_ACCESS_KEY", "bench"),
        ("AWS_EC2_METADATA_DISABLED", "true"),
        ("RUST_LOG", "info"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    // `AgentProcess` sets PORT to the free port it picks.
    let env = agent_env(agent, Some("us-east-1".into()), &extra, 0, |_| None);
    AgentProcess::start(binary, &env)
}

/// Runs `cargo xtask build-agents` for the agents: the same build the images get.
fn build_arm64(ctx: &Context, agents: &[Agent]) -> anyhow::Result<()> {
    let mut argv: Vec<String> = vec!["build-agents".into()];
    argv.extend(agents.iter().map(|a| a.id().to_string()));
    ctx.out.verbose(format!("cargo xtask {}", argv.join(" ")));
    let output = duct::cmd(crate::xtask_bin()?, argv)
        .dir(&ctx.project.root)
        .stdout_to_stderr()
        .unchecked()
        .run()
        .context("cannot run `cargo xtask build-agents`")?;
    if !output.status.success() {
        bail!("`cargo xtask build-agents` failed (above)");
    }
    Ok(())
}

struct Load {
    latencies: Vec<Duration>,
    errors: usize,
    elapsed: Duration,
}

impl Load {
    fn summary(mut self, agent: &str, endpoint: &'static str) -> Measured {
        self.latencies.sort();
        let n = self.latencies.len();
        let percentile = |p: usize| {
            if n == 0 {
                return 0.0;
            }
            self.latencies[(n * p / 100).min(n - 1)].as_secs_f64() * 1000.0
        };
        Measured {
            agent: agent.to_string(),
            endpoint,
            requests: n,
            errors: self.errors,
            requests_per_second: n as f64 / self.elapsed.as_secs_f64(),
            p50_ms: percentile(50),
            p99_ms: percentile(99),
        }
    }
}

/// `connections` closed loops against one endpoint; a warm-up second is not counted.
async fn load(
    base: &str,
    endpoint: Endpoint,
    payload: String,
    connections: usize,
    duration: Duration,
) -> anyhow::Result<Load> {
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(connections)
        .build()
        .context("cannot build the HTTP client")?;
    let warmup = Instant::now() + Duration::from_secs(1);
    let end = warmup + duration;
    let mut tasks = Vec::new();
    for _ in 0..connections {
        let client = client.clone();
        let (url, payload) = match endpoint {
            Endpoint::Ping => (format!("{base}/ping"), None),
            Endpoint::Invocations => (format!("{base}/invocations"), Some(payload.clone())),
            Endpoint::McpToolCall => (format!("{base}/mcp"), Some(payload.clone())),
        };
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut errors = 0;
            loop {
                let start = Instant::now();
                if start >= end {
                    break;
                }
                let request = match &payload {
                    None => client.get(&url),
                    Some(body) => client
                        .post(&url)
                        .header("content-type", "application/json")
                        // What Streamable HTTP requires of a client; ignored by /invocations.
                        .header("accept", "application/json, text/event-stream")
                        .body(body.clone()),
                };
                let ok = match request.send().await {
                    Ok(response) => {
                        let status = response.status();
                        response.bytes().await.is_ok() && status.is_success()
                    }
                    Err(_) => false,
                };
                if start < warmup {
                    continue;
                }
                if ok {
                    latencies.push(start.elapsed());
                } else {
                    errors += 1;
                }
            }
            (latencies, errors)
        }));
    }
    let mut all = Load {
        latencies: Vec::new(),
        errors: 0,
        elapsed: duration,
    };
    for task in tasks {
        let (latencies, errors) = task.await.context("a load task failed")?;
        all.latencies.extend(latencies);
        all.errors += errors;
    }
    Ok(all)
}
