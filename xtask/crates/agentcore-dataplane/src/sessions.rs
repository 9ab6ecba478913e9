//! One process per runtime session: started on the session's first invocation, ready when its
//! `/ping` answers, stopped when idle or too old, as AgentCore does with a session's microVM.

use std::collections::HashMap;
use std::process::Stdio;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use tokio::io::{AsyncBufReadExt as _, BufReader};
use tokio::process::Child;
use tokio::sync::OnceCell;

use crate::errors::ServiceError;
use crate::{Event, Plane, Runtime};

/// How long a stopped process has between SIGTERM and SIGKILL (AgentCore gives 15 s).
const STOP_GRACE: Duration = Duration::from_secs(15);

type Key = (String, String);

pub struct Sessions {
    slots: Mutex<HashMap<Key, Arc<OnceCell<Arc<Process>>>>>,
    startup_timeout: Duration,
}

pub struct Process {
    pub port: u16,
    pid: u32,
    runtime: Arc<Runtime>,
    session: String,
    child: tokio::sync::Mutex<Child>,
    started: Instant,
    last_used: Mutex<Instant>,
    in_flight: AtomicUsize,
}

impl Process {
    fn idle_for(&self) -> Duration {
        self.last_used
            .lock()
            .map(|t| t.elapsed())
            .unwrap_or_default()
    }
}

/// An invocation in progress: the session is busy until it is dropped (after the answer's last
/// byte), and its idle time counts from then.
pub struct InFlight(Arc<Process>);

impl InFlight {
    pub fn enter(process: Arc<Process>) -> InFlight {
        process.in_flight.fetch_add(1, Ordering::SeqCst);
        InFlight(process)
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        if let Ok(mut t) = self.0.last_used.lock() {
            *t = Instant::now();
        }
        self.0.in_flight.fetch_sub(1, Ordering::SeqCst);
    }
}

impl Sessions {
    pub fn new(startup_timeout: Duration) -> Sessions {
        Sessions {
            slots: Mutex::new(HashMap::new()),
            startup_timeout,
        }
    }

    /// Whether the session has a process (or one is starting).
    pub fn has(&self, arn: &str, session: &str) -> bool {
        self.slots
            .lock()
            .is_ok_and(|slots| slots.contains_key(&(arn.to_string(), session.to_string())))
    }

    /// The session's process, started if it has none. Concurrent first invocations of a
    /// session wait for one start.
    pub async fn process(
        &self,
        plane: &Arc<Plane>,
        runtime: &Arc<Runtime>,
        endpoint: &str,
        session: &str,
    ) -> Result<Arc<Process>, ServiceError> {
        let key = (runtime.arn.clone(), session.to_string());
        let slot = self
            .slots
            .lock()
            .map_err(|_| ServiceError::internal("the session table is poisoned"))?
            .entry(key.clone())
            .or_default()
            .clone();
        let started = slot
            .get_or_try_init(|| start(plane, runtime, endpoint, session, self.startup_timeout))
            .await;
        match started {
            Ok(process) => {
                if let Ok(mut t) = process.last_used.lock() {
                    *t = Instant::now();
                }
                Ok(process.clone())
            }
            Err(err) => {
                // The next invocation of the session tries again.
                if let Ok(mut slots) = self.slots.lock() {
                    slots.remove(&key);
                }
                Err(err)
            }
        }
    }

    /// Removes the processes that are idle past the runtime's idle timeout or older than its
    /// maximum lifetime, and gives them to be stopped.
    fn expired(&self) -> Vec<(Arc<Process>, &'static str)> {
        let Ok(mut slots) = self.slots.lock() else {
            return Vec::new();
        };
        let mut expired = Vec::new();
        slots.retain(|_, slot| {
            let Some(process) = slot.get() else {
                return true;
            };
            let reason = if process.started.elapsed() >= process.runtime.max_lifetime {
                "maximum lifetime"
            } else if process.in_flight.load(Ordering::SeqCst) == 0
                && process.idle_for() >= process.runtime.idle_timeout
            {
                "idle timeout"
            } else {
                return true;
            };
            expired.push((process.clone(), reason));
            false
        });
        expired
    }

    pub async fn stop_all(&self, plane: &Plane) {
        let all: Vec<Arc<Process>> = match self.slots.lock() {
            Ok(mut slots) => slots
                .drain()
                .filter_map(|(_, s)| s.get().cloned())
                .collect(),
            Err(_) => Vec::new(),
        };
        let stops = all.into_iter().map(|p| stop(plane, p, "shutdown"));
        futures_util::future::join_all(stops).await;
    }
}

/// Stops the sessions whose time is up, every quarter second, until the server stops.
pub async fn reap(plane: Arc<Plane>) {
    loop {
        tokio::time::sleep(Duration::from_millis(250)).await;
        for (process, reason) in plane.sessions.expired() {
            tokio::spawn({
                let plane = plane.clone();
                async move { stop(&plane, process, reason).await }
            });
        }
    }
}

async fn stop(plane: &Plane, process: Arc<Process>, reason: &'static str) {
    let mut child = process.child.lock().await;
    if let Ok(pid) = i32::try_from(process.pid) {
        // SAFETY: kill(2) with a pid this process spawned and has not reaped.
        unsafe {
            libc::kill(pid, libc::SIGTERM);
        }
    }
    if tokio::time::timeout(STOP_GRACE, child.wait())
        .await
        .is_err()
    {
        let _ = child.kill().await;
    }
    plane.emit(Event::Stopped {
        runtime: process.runtime.arn.clone(),
        session: process.session.clone(),
        reason,
    });
}

async fn start(
    plane: &Arc<Plane>,
    runtime: &Arc<Runtime>,
    endpoint: &str,
    session: &str,
    startup_timeout: Duration,
) -> Result<Arc<Process>, ServiceError> {
    let began = Instant::now();
    let port = free_port()
        .map_err(|err| ServiceError::internal(format!("no free port for a session: {err}")))?;
    let Some((program, args)) = runtime.command.split_first() else {
        return Err(ServiceError::internal("the runtime has no command"));
    };
    let mut child = tokio::process::Command::new(program)
        .args(args)
        .env_clear()
        .envs(runtime.env.iter().map(|(k, v)| (k, v)))
        .env("PORT", port.to_string())
        .env("BIND_ADDRESS", "127.0.0.1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|err| {
            ServiceError::runtime_client(format!(
                "The runtime's container did not start: cannot run {}: {err}",
                program.to_string_lossy()
            ))
        })?;
    let pid = child.id().unwrap_or_default();
    let lines = [
        child
            .stdout
            .take()
            .map(|s| Box::new(s) as Box<dyn tokio::io::AsyncRead + Send + Unpin>),
        child
            .stderr
            .take()
            .map(|s| Box::new(s) as Box<dyn tokio::io::AsyncRead + Send + Unpin>),
    ];
    for stream in lines.into_iter().flatten() {
        let plane = plane.clone();
        let (runtime, endpoint, session) = (
            runtime.arn.clone(),
            endpoint.to_string(),
            session.to_string(),
        );
        tokio::spawn(async move {
            let mut lines = BufReader::new(stream).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                plane.emit(Event::Log {
                    runtime: runtime.clone(),
                    endpoint: endpoint.clone(),
                    session: session.clone(),
                    line,
                    at: SystemTime::now(),
                });
            }
        });
    }

    let ping = format!("http://127.0.0.1:{port}/ping");
    loop {
        if let Ok(Some(status)) = child.try_wait() {
            return Err(ServiceError::runtime_client(format!(
                "The runtime's process exited while starting ({status}). Please check your \
                 CloudWatch logs for more information."
            )));
        }
        let healthy = plane
            .client
            .get(&ping)
            .timeout(Duration::from_secs(2))
            .send()
            .await
            .is_ok_and(|r| r.status().is_success());
        if healthy {
            break;
        }
        if began.elapsed() > startup_timeout {
            let _ = child.kill().await;
            return Err(ServiceError::runtime_client(format!(
                "The runtime's process did not answer /ping within {} s.",
                startup_timeout.as_secs()
            )));
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    plane.emit(Event::Started {
        runtime: runtime.arn.clone(),
        session: session.to_string(),
        pid,
        took: began.elapsed(),
    });
    Ok(Arc::new(Process {
        port,
        pid,
        runtime: runtime.clone(),
        session: session.to_string(),
        child: tokio::sync::Mutex::new(child),
        started: Instant::now(),
        last_used: Mutex::new(Instant::now()),
        in_flight: AtomicUsize::new(0),
    }))
}

fn free_port() -> std::io::Result<u16> {
    std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()
        .map(|a| a.port())
}
