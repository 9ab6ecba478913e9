//! The CNCF distribution registry (Debian's `docker-registry`), with filesystem storage, an
//! optional password, and a request log to assert what a client did from the registry's side.

use std::path::PathBuf;
use std::process::Command;

use crate::{Server, free_port, tool};

pub struct Registry {
    pub server: Server,
    dir: tempfile::TempDir,
    /// The htpasswd file, when the registry asks for a password.
    auth: Option<std::path::PathBuf>,
}

impl Registry {
    pub fn start() -> Registry {
        let dir = tempfile::tempdir().expect("tempdir");
        let port = free_port();
        Registry::start_at(dir, port, None)
    }

    /// The registry behind HTTP basic auth (htpasswd), the way ECR's registry answers: a push
    /// without the right password is refused, so a push that succeeds proves the credentials
    /// were sent.
    pub fn start_with_auth(user: &str, password: &str) -> Registry {
        let dir = tempfile::tempdir().expect("tempdir");
        let port = free_port();
        let hash = bcrypt::hash(password, 4).expect("bcrypt");
        let htpasswd = dir.path().join("htpasswd");
        std::fs::write(&htpasswd, format!("{user}:{hash}\n")).expect("write htpasswd");
        Registry::start_at(dir, port, Some(htpasswd))
    }

    fn start_at(dir: tempfile::TempDir, port: u16, auth: Option<std::path::PathBuf>) -> Registry {
        let config = dir.path().join("config.yml");
        let storage = dir.path().join("storage");
        let auth_config = auth
            .as_ref()
            .map(|htpasswd| {
                format!(
                    "auth:\n  htpasswd:\n    realm: test-registry\n    path: {}\n",
                    htpasswd.display()
                )
            })
            .unwrap_or_default();
        std::fs::write(
            &config,
            format!(
                "version: 0.1\nlog:\n  level: info\n  accesslog:\n    disabled: false\n\
                 storage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: true\n\
                 {auth_config}http:\n  addr: 127.0.0.1:{port}\n",
                storage.display()
            ),
        )
        .expect("write registry config");
        let mut cmd = Command::new(tool("docker-registry"));
        cmd.arg("serve").arg(&config);
        let log = dir.path().join("registry.log");
        // Append across restarts so a test can read the whole history.
        let server = Server::start("docker-registry", cmd, port, &log);
        Registry { server, dir, auth }
    }

    /// `127.0.0.1:PORT`, as registries are named in image references.
    pub fn host(&self) -> String {
        format!("127.0.0.1:{}", self.server.port)
    }

    pub fn log_path(&self) -> PathBuf {
        self.dir.path().join("registry.log")
    }

    /// The access log so far: one line per request the registry served.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.log_path()).unwrap_or_default()
    }

    /// Stops the registry, keeping its storage, and starts it again on the same port.
    pub fn restart(self) -> Registry {
        let Registry {
            mut server,
            dir,
            auth,
        } = self;
        let port = server.port;
        server.stop();
        let old = dir.path().join("registry.log");
        let _ = std::fs::rename(
            &old,
            dir.path()
                .join(format!("registry.{}.log", std::process::id())),
        );
        Registry::start_at(dir, port, auth)
    }

    /// Stops the registry, keeping its storage (restart with `restart`).
    pub fn stop(&mut self) {
        self.server.stop();
    }
}
