//! `cargo xtask run <agent> --watch`: the agent built again and restarted when a file of its
//! crate, or of a workspace crate it uses, changes — on the same port, without a gap.
//!
//! `run` listens on the port itself and forwards every request to the agent, which listens on a
//! port of its own. After a change, the new build is started beside the one that serves, and
//! requests go to it once it listens; only then is the old process stopped (SIGTERM, as
//! AgentCore stops a session), so a request never meets a closed port. A build that fails
//! leaves the previous one serving. An agent that exits is answered for with a 503 that says
//! so, until the next change starts it again.

use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{ExitCode, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use notify::Watcher as _;
use tokio::process::{Child, Command};
use tokio::sync::{mpsc, watch};

use crate::Context;
use blueprint::Agent;

/// Changes closer together than this are one change: an editor's save is several events.
const QUIET: Duration = Duration::from_millis(300);

/// The longest a request waits for an agent that is starting.
const STARTING: Duration = Duration::from_secs(30);

/// Where requests go now.
#[derive(Clone, Debug)]
enum Upstream {
    Starting,
    Ready(u16),
    /// The agent exited: why, with what to do.
    Down(String),
}

/// Serves `agent` on `port` until SIGINT or SIGTERM, building it again (`profile`) and swapping
/// the process on every change. `env_for(port)` is the agent's environment on its own port.
pub fn serve(
    ctx: &Context,
    agent: &Agent,
    profile: &str,
    port: u16,
    env_for: &dyn Fn(u16) -> Vec<(String, String)>,
) -> anyhow::Result<ExitCode> {
    let dirs = watched_dirs(ctx, agent)?;
    let binary = super::build_host(ctx, agent, profile)?;
    // The build and the agents' start are waited on while the front keeps answering.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(async {
        let (changes, mut changed) = mpsc::unbounded_channel::<PathBuf>();
        let mut watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
            // Reads (cargo's own, among others) and metadata are not changes.
            let Ok(event) = event.map_err(drop).and_then(|e| if changes_content(&e.kind) { Ok(e) } else { Err(()) }) else {
                return;
            };
            for path in event.paths {
                if relevant(&path) {
                    let _ = changes.send(path);
                }
            }
        })
        .context("cannot watch the agent's files")?;
        for dir in &dirs {
            watcher
                .watch(dir, notify::RecursiveMode::Recursive)
                .with_context(|| format!("cannot watch {}", dir.display()))?;
        }

        let (upstream, routed) = watch::channel(Upstream::Starting);
        let listener = tokio::net::TcpListener::bind((Ipv4Addr::LOCALHOST, port))
            .await
            .with_context(|| format!("cannot listen on 127.0.0.1:{port}"))?;
        let front = Arc::new(Front {
            upstream: routed,
            client: reqwest::Client::new(),
        });
        let app = axum::Router::new().fallback(forward).with_state(front);
        tokio::spawn(async move { axum::serve(listener, app).await });

        let mut current = start(ctx, agent, &binary, env_for).await?;
        upstream.send_replace(Upstream::Ready(current.port));
        super::announce(ctx, agent, port, current.child.id().unwrap_or_default())?;
        eprintln!(
            "    watching {} for changes",
            dirs.iter()
                .map(|d| ctx.project.rel(d).display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        );
        let _record = super::local::Running::record(
            &ctx.project,
            agent.id(),
            port,
            std::process::id(),
        )?;

        let mut terminate =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
        let mut running = true;
        loop {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => break,
                _ = terminate.recv() => break,
                status = current.child.wait(), if running => {
                    running = false;
                    let status = status.map(|s| s.to_string()).unwrap_or_else(|e| e.to_string());
                    ctx.out.warn(format!("{} exited ({status}); its log is above", agent.id()));
                    upstream.send_replace(Upstream::Down(format!(
                        "{} exited ({status}): save a change to build and start it again",
                        agent.id()
                    )));
                }
                Some(first) = changed.recv() => {
                    // The rest of the same save.
                    while let Ok(Some(_)) = tokio::time::timeout(QUIET, changed.recv()).await {}
                    ctx.out.step(format!("{} changed: building {} again", ctx.project.rel(&first).display(), agent.id()));
                    let built = tokio::task::block_in_place(|| super::build_host(ctx, agent, profile));
                    let binary = match built {
                        Ok(binary) => binary,
                        Err(err) => {
                            ctx.out.warn(format!("{err:#}; {}", if running { "the previous build still serves" } else { "nothing serves until the next change" }));
                            continue;
                        }
                    };
                    match start(ctx, agent, &binary, env_for).await {
                        Ok(next) => {
                            upstream.send_replace(Upstream::Ready(next.port));
                            let previous = std::mem::replace(&mut current, next);
                            if running {
                                previous.stop().await;
                            }
                            running = true;
                            eprintln!("==> {} serves the new build on {}", agent.id(), super::url(port));
                        }
                        Err(err) => ctx.out.warn(format!("{err:#}; {}", if running { "the previous build still serves" } else { "nothing serves until the next change" })),
                    }
                }
            }
        }
        drop(watcher);
        if running {
            current.stop().await;
        }
        Ok(ExitCode::SUCCESS)
    })
}

/// The directories of the agent's crate and of every workspace crate it depends on (a change
/// to `agentcore-runtime` is a change to every agent).
fn watched_dirs(ctx: &Context, agent: &Agent) -> anyhow::Result<Vec<PathBuf>> {
    // The workspace's own packages only: nothing to download or resolve.
    let metadata = cargo_metadata::MetadataCommand::new()
        .current_dir(&ctx.project.root)
        .no_deps()
        .exec()
        .context("cannot read the workspace's packages (cargo metadata)")?;
    let dir_of = |p: &cargo_metadata::Package| {
        p.manifest_path
            .parent()
            .map(|d| d.as_std_path().to_path_buf())
    };
    let members = metadata.workspace_packages();
    let root = members
        .iter()
        .find(|p| p.name.as_str() == agent.id())
        .with_context(|| format!("`{}` is not a package of the workspace", agent.id()))?;
    let mut dirs: Vec<PathBuf> = dir_of(root).into_iter().collect();
    let mut todo = vec![*root];
    while let Some(package) = todo.pop() {
        // What the binary is built from: not the dev-dependencies (tests).
        let built_from = package
            .dependencies
            .iter()
            .filter(|d| d.kind != cargo_metadata::DependencyKind::Development);
        for path in built_from.filter_map(|d| d.path.as_ref()) {
            let Some(dep) = members
                .iter()
                .find(|p| dir_of(p).as_deref() == Some(path.as_std_path()))
            else {
                continue;
            };
            if let Some(dir) = dir_of(dep).filter(|d| !dirs.contains(d)) {
                dirs.push(dir);
                todo.push(dep);
            }
        }
    }
    dirs.sort();
    Ok(dirs)
}

fn changes_content(kind: &notify::EventKind) -> bool {
    use notify::event::{EventKind, ModifyKind};
    match kind {
        EventKind::Create(_) | EventKind::Remove(_) => true,
        EventKind::Modify(ModifyKind::Metadata(_)) => false,
        EventKind::Modify(_) => true,
        _ => false,
    }
}

/// Sources, manifests, blueprints: not what builds write, nor editors' scratch files.
fn relevant(path: &Path) -> bool {
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default();
    let scratch = name.starts_with('.') || name.ends_with('~') || name.ends_with(".swp");
    let built = path.components().any(|c| c.as_os_str() == "target");
    !scratch && !built
}

/// One process of the agent, on a port of its own.
struct Process {
    child: Child,
    port: u16,
}

impl Process {
    /// SIGTERM, as AgentCore ends a session, then SIGKILL if it does not stop.
    async fn stop(mut self) {
        if let Some(pid) = self.child.id() {
            let _ = duct::cmd!("kill", "-TERM", pid.to_string())
                .stderr_null()
                .unchecked()
                .run();
        }
        if tokio::time::timeout(Duration::from_secs(10), self.child.wait())
            .await
            .is_err()
        {
            let _ = self.child.kill().await;
        }
    }
}

/// Starts `binary` on a free port and waits until it listens.
async fn start(
    ctx: &Context,
    agent: &Agent,
    binary: &Path,
    env_for: &dyn Fn(u16) -> Vec<(String, String)>,
) -> anyhow::Result<Process> {
    let port = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .and_then(|l| l.local_addr())
        .context("no free port on 127.0.0.1")?
        .port();
    let mut command = Command::new(binary);
    command
        .current_dir(&ctx.project.root)
        .envs(env_for(port))
        .kill_on_drop(true);
    if ctx.out.json {
        // stdout is for run's JSON line; the agent's own JSON logs go to stderr.
        command.stdout(Stdio::from(std::io::stderr()));
    }
    let mut child = command
        .spawn()
        .with_context(|| format!("cannot start {}", binary.display()))?;
    let deadline = Instant::now() + STARTING;
    loop {
        if TcpStream::connect((Ipv4Addr::LOCALHOST, port)).is_ok() {
            return Ok(Process { child, port });
        }
        if let Some(status) = child.try_wait()? {
            anyhow::bail!("{} exited ({status}) before it listened", agent.id());
        }
        if Instant::now() > deadline {
            let _ = child.kill().await;
            anyhow::bail!(
                "{} did not listen within {} s",
                agent.id(),
                STARTING.as_secs()
            );
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

struct Front {
    upstream: watch::Receiver<Upstream>,
    client: reqwest::Client,
}

/// Every request, to the process that serves now; the answer streamed back as it comes (SSE).
async fn forward(State(front): State<Arc<Front>>, request: Request) -> Response {
    let mut routed = front.upstream.clone();
    let ready = tokio::time::timeout(
        STARTING,
        routed.wait_for(|u| !matches!(u, Upstream::Starting)),
    )
    .await;
    let port = match ready.ok().and_then(|r| r.ok()).map(|u| u.clone()) {
        Some(Upstream::Ready(port)) => port,
        Some(Upstream::Down(why)) => return unavailable(&why),
        _ => return unavailable("the agent is still starting; try again"),
    };
    let (parts, body) = request.into_parts();
    let Ok(body) = axum::body::to_bytes(body, usize::MAX).await else {
        return unavailable("the request's body could not be read");
    };
    let path = parts.uri.path_and_query().map_or("/", |p| p.as_str());
    let mut outgoing = front
        .client
        .request(parts.method, format!("http://127.0.0.1:{port}{path}"))
        .body(body);
    for (name, value) in &parts.headers {
        if !hop_by_hop(name) {
            outgoing = outgoing.header(name, value);
        }
    }
    let answer = match outgoing.send().await {
        Ok(answer) => answer,
        Err(err) => return unavailable(&format!("the agent did not answer: {err}")),
    };
    let mut response = Response::builder().status(answer.status());
    for (name, value) in answer.headers() {
        if !hop_by_hop(name) {
            response = response.header(name, value);
        }
    }
    response
        .body(Body::from_stream(answer.bytes_stream()))
        .unwrap_or_else(|err| unavailable(&err.to_string()))
}

fn hop_by_hop(name: &header::HeaderName) -> bool {
    [
        header::HOST,
        header::CONNECTION,
        header::TRANSFER_ENCODING,
        header::CONTENT_LENGTH,
    ]
    .contains(name)
}

/// A 503 in the agents' own error shape (`{"error": {"code", "message"}}`).
fn unavailable(why: &str) -> Response {
    let body = serde_json::json!({ "error": { "code": "agent_unavailable", "message": why } });
    (StatusCode::SERVICE_UNAVAILABLE, axum::Json(body)).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_sources_count_as_changes() {
        assert!(relevant(Path::new("/w/agents/assistant/src/main.rs")));
        assert!(relevant(Path::new("/w/agents/assistant/blueprint.yaml")));
        assert!(!relevant(Path::new("/w/agents/assistant/src/.main.rs.swp")));
        assert!(!relevant(Path::new("/w/agents/assistant/src/main.rs~")));
        assert!(!relevant(Path::new("/w/agents/assistant/target/debug/x")));
    }
}
