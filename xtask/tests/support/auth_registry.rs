//! The CNCF distribution registry behind HTTP basic auth (htpasswd), the way ECR's registry
//! answers: a push without the right password is refused, so a push that succeeds proves the
//! credentials were sent.

use std::path::PathBuf;
use std::process::Command;

use super::{Server, free_port, tool};

pub struct AuthRegistry {
    pub server: Server,
    dir: tempfile::TempDir,
}

impl AuthRegistry {
    pub fn start(user: &str, password: &str) -> AuthRegistry {
        let dir = tempfile::tempdir().expect("tempdir");
        let port = free_port();
        let hash = bcrypt::hash(password, 4).expect("bcrypt");
        let htpasswd = dir.path().join("htpasswd");
        std::fs::write(&htpasswd, format!("{user}:{hash}\n")).expect("write htpasswd");
        let config = dir.path().join("config.yml");
        std::fs::write(
            &config,
            format!(
                "version: 0.1\nlog:\n  level: info\n  accesslog:\n    disabled: false\n\
                 storage:\n  filesystem:\n    rootdirectory: {}\n\
                 auth:\n  htpasswd:\n    realm: test-registry\n    path: {}\n\
                 http:\n  addr: 127.0.0.1:{port}\n",
                dir.path().join("storage").display(),
                htpasswd.display()
            ),
        )
        .expect("write registry config");
        let mut cmd = Command::new(tool("docker-registry"));
        cmd.arg("serve").arg(&config);
        let server = Server::start(
            "docker-registry",
            cmd,
            port,
            &dir.path().join("registry.log"),
        );
        AuthRegistry { server, dir }
    }

    pub fn host(&self) -> String {
        format!("127.0.0.1:{}", self.server.port)
    }

    pub fn log_path(&self) -> PathBuf {
        self.dir.path().join("registry.log")
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.log_path()).unwrap_or_default()
    }
}
