//! An OTLP/HTTP receiver (`python/otlp_receiver.py`) that decodes what an agent exports with
//! the official OTLP protobuf definitions (`opentelemetry-proto` on PyPI, pinned with the test
//! tools), not with the code under test, and records it for the test to read.

use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::{Server, free_port, tool, workspace_root};

pub struct OtlpReceiver {
    pub server: Server,
    output: std::path::PathBuf,
    _dir: tempfile::TempDir,
}

impl OtlpReceiver {
    pub fn start() -> OtlpReceiver {
        let dir = tempfile::tempdir().expect("tempdir");
        let port = free_port();
        let output = dir.path().join("received.jsonl");
        let mut cmd = Command::new(tool("python3-pinned"));
        cmd.arg(workspace_root().join("agents/agent-testkit/python/otlp_receiver.py"))
            .arg(port.to_string())
            .arg(&output);
        let server = Server::start(
            "the OTLP receiver",
            cmd,
            port,
            &dir.path().join("receiver.log"),
        );
        OtlpReceiver {
            server,
            output,
            _dir: dir,
        }
    }

    /// The base URL, as `OTEL_EXPORTER_OTLP_ENDPOINT` takes it.
    pub fn url(&self) -> String {
        self.server.url()
    }

    /// Everything decoded so far: `{"signal": "span"|"metric"|"error", …}` records.
    pub fn received(&self) -> Vec<Value> {
        std::fs::read_to_string(&self.output)
            .unwrap_or_default()
            .lines()
            .map(|line| serde_json::from_str(line).expect("the receiver writes JSON lines"))
            .collect()
    }

    /// The records of one signal (`span`, `metric`).
    pub fn signal(&self, signal: &str) -> Vec<Value> {
        self.received()
            .into_iter()
            .filter(|r| r["signal"] == signal)
            .collect()
    }

    /// Waits until `done` holds for what was received (at most `timeout`) and returns it.
    pub fn wait_for(&self, timeout: Duration, done: impl Fn(&[Value]) -> bool) -> Vec<Value> {
        let deadline = Instant::now() + timeout;
        loop {
            let received = self.received();
            if done(&received) || Instant::now() >= deadline {
                return received;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}
