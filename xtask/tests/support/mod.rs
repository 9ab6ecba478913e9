//! Real local stand-ins for the cloud, started by the tests that need them: moto (the AWS
//! emulator) and the CNCF distribution registry. Each binds 127.0.0.1 on a free port and is
//! stopped, by its own process id, when the test drops it.
#![allow(dead_code)] // each test binary uses a different part of this

pub mod auth_registry;
pub mod aws;
pub mod images;
pub mod moto;
pub mod moto_recording;
pub mod registry;
pub mod terraform;
pub mod workspace;

use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A server process that is killed when dropped.
pub struct Server {
    pub name: &'static str,
    pub port: u16,
    child: Child,
}

impl Server {
    /// Starts `cmd` (which must listen on `port`) with its output in `log`, and waits until
    /// the port accepts connections.
    pub fn start(name: &'static str, mut cmd: Command, port: u16, log: &Path) -> Server {
        let out = std::fs::File::create(log).expect("create server log");
        let err = out.try_clone().expect("clone log handle");
        let child = cmd
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "cannot start {name} ({e}); run `cargo xtask test`, which installs the test \
                     servers, or `cargo xtask doctor`"
                )
            });
        let mut server = Server { name, port, child };
        server.wait_ready(log);
        server
    }

    fn wait_ready(&mut self, log: &Path) {
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            if TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                return;
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!(
                    "{} exited ({status}) before listening:\n{}",
                    self.name,
                    std::fs::read_to_string(log).unwrap_or_default()
                );
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!(
            "{} did not listen on port {} within 60 s",
            self.name, self.port
        );
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Stops the server now (e.g. to simulate an outage); `Drop` is then a no-op.
    pub fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A port nobody listens on right now.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("bind an ephemeral port")
}

/// The full path of a program the xtask installs (`target/xtask/tools/bin/`, or the folder
/// `cargo xtask test` names in `XTASK_TOOLS_DIR`): the tests never take one from the machine.
pub fn tool(name: &str) -> std::path::PathBuf {
    let dir = std::env::var_os("XTASK_TOOLS_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| workspace::repo_root().join("target/xtask/tools"));
    let path = dir.join("bin").join(name);
    assert!(
        path.exists(),
        "`{name}` is not installed in {}: run `cargo xtask test` (or `cargo xtask doctor --fix` \
         first, then `cargo test`), which installs the pinned test tools",
        dir.display()
    );
    path
}

/// Fails the test with a clear message when a tool it needs is not on PATH.
pub fn require_tool(tool: &str) {
    let found = std::env::var_os("PATH")
        .map(|paths| std::env::split_paths(&paths).any(|p| p.join(tool).is_file()))
        .unwrap_or(false);
    assert!(
        found,
        "`{tool}` is not on PATH: run `cargo xtask test` (it installs the test tools) or \
         `cargo xtask doctor` to see how to install it"
    );
}
