//! A real agent process on a free port, configured only through its environment, the way
//! AgentCore configures it.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use crate::http::{self, Response};

pub struct AgentProcess {
    pub port: u16,
    child: Child,
    log: PathBuf,
    _dir: Option<tempfile_dir::Dir>,
}

/// The variables that point an agent's AWS SDK at `bedrock_url` with dummy credentials,
/// and no other AWS configuration from the machine running the tests.
pub fn bedrock_env(bedrock_url: &str, model_id: &str, region: &str) -> Vec<(String, String)> {
    [
        ("AWS_ENDPOINT_URL_BEDROCK_RUNTIME", bedrock_url),
        ("AWS_ACCESS_KEY_ID", "testing"),
        ("AWS_SECRET_ACCESS_KEY", "testing"),
        ("AWS_REGION", "us-east-1"),
        ("BEDROCK_REGION", region),
        ("AWS_EC2_METADATA_DISABLED", "true"),
        ("AWS_CONFIG_FILE", "/dev/null"),
        ("AWS_SHARED_CREDENTIALS_FILE", "/dev/null"),
        ("MODEL_ID", model_id),
        ("MODEL_MAX_TOKENS", "256"),
        ("MODEL_TEMPERATURE", "0.1"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}

/// Another agent's binary, built by cargo as the test's own was (cargo gives a test only its
/// own crate's binaries): `cargo build -p <agent>`, in the same target dir and profile.
pub fn workspace_binary(agent: &str) -> PathBuf {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let root = crate::workspace_root();
    let output = Command::new(&cargo)
        .current_dir(&root)
        .args([
            "build",
            "--quiet",
            "--message-format=json",
            "-p",
            agent,
            "--bin",
            agent,
        ])
        .stderr(Stdio::inherit())
        .output()
        .unwrap_or_else(|e| {
            let (cargo, root) = (cargo.display(), root.display());
            panic!("cannot run {cargo} in {root} to build `{agent}`: {e}")
        });
    assert!(output.status.success(), "cargo could not build `{agent}`");
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter(|m| m["reason"] == "compiler-artifact" && m["target"]["name"] == agent)
        .find_map(|m| m["executable"].as_str().map(PathBuf::from))
        .unwrap_or_else(|| panic!("cargo built no executable for `{agent}`"))
}

impl AgentProcess {
    /// Starts `binary` with `env` (plus `PORT`) and waits until `/ping` answers.
    pub fn start(binary: &Path, env: &[(String, String)]) -> AgentProcess {
        let dir = tempfile_dir::Dir::new();
        let log = dir.path.join("agent.log");
        let port = crate::free_port();
        let out = std::fs::File::create(&log).expect("create the agent's log");
        let err = out.try_clone().expect("clone the log handle");
        let mut cmd = Command::new(binary);
        cmd.env_remove("AWS_PROFILE")
            .env_remove("AWS_ENDPOINT_URL")
            .envs(env.iter().map(|(k, v)| (k, v)))
            .env("PORT", port.to_string())
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err);
        let child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", binary.display()));
        let mut agent = AgentProcess {
            port,
            child,
            log,
            _dir: Some(dir),
        };
        agent.wait_ready();
        agent
    }

    fn wait_ready(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            if http::get(&self.url("/ping")).is_ok() {
                return;
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!(
                    "the agent exited ({status}) before serving:\n{}",
                    self.logs()
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!(
            "the agent did not answer /ping within 60 s:\n{}",
            self.logs()
        );
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    pub fn ping(&self) -> serde_json::Value {
        http::get(&self.url("/ping")).expect("GET /ping").json()
    }

    /// POSTs a JSON payload to `/invocations`, optionally in a session.
    pub fn invoke(&self, payload: &serde_json::Value, session: Option<&str>) -> Response {
        let mut headers = vec![("content-type", "application/json")];
        if let Some(id) = session {
            headers.push((crate::SESSION_HEADER, id));
        }
        http::post(
            &self.url("/invocations"),
            &headers,
            payload.to_string().as_bytes(),
        )
        .expect("POST /invocations")
    }

    /// Everything the agent wrote to stdout and stderr so far.
    pub fn logs(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// The JSON log lines.
    pub fn log_lines(&self) -> Vec<serde_json::Value> {
        self.logs()
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect()
    }

    /// Sends SIGTERM, as AgentCore does when it stops a session.
    pub fn terminate(&self) {
        self.signal("TERM");
    }

    /// Sends a signal by name (`TERM`, `INT`, …).
    pub fn signal(&self, name: &str) {
        let status = Command::new("kill")
            .args([&format!("-{name}"), &self.child.id().to_string()])
            .status()
            .expect("run kill");
        assert!(status.success(), "kill -{name} failed");
    }

    /// Waits for the process to exit (at most `timeout`).
    pub fn wait_exit(&mut self, timeout: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }

    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }
}

impl Drop for AgentProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A temporary folder removed on drop, without pulling a crate in for it.
mod tempfile_dir {
    use std::path::PathBuf;
    use std::sync::atomic::{AtomicU32, Ordering};

    pub struct Dir {
        pub path: PathBuf,
    }

    impl Dir {
        pub fn new() -> Dir {
            static N: AtomicU32 = AtomicU32::new(0);
            let path = std::env::temp_dir().join(format!(
                "agent-testkit-{}-{}",
                std::process::id(),
                N.fetch_add(1, Ordering::Relaxed)
            ));
            std::fs::create_dir_all(&path).expect("create a temporary folder");
            Dir { path }
        }
    }

    impl Drop for Dir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.path);
        }
    }
}
