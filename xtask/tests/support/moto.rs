//! moto in server mode: S3, ECR, CodeBuild, SSM, STS, … on one local endpoint.

use std::process::Command;

use super::{Server, free_port, tool};

pub struct Moto {
    pub server: Server,
    _dir: tempfile::TempDir,
}

impl Moto {
    pub fn start() -> Moto {
        let dir = tempfile::tempdir().expect("tempdir");
        let port = free_port();
        let mut cmd = Command::new(tool("moto_server"));
        cmd.args(["-H", "127.0.0.1", "-p", &port.to_string()]);
        let server = Server::start("moto_server", cmd, port, &dir.path().join("moto.log"));
        Moto { server, _dir: dir }
    }

    pub fn endpoint(&self) -> String {
        self.server.url()
    }

    /// The variables through which the AWS SDK, the AWS CLI and Terraform reach this moto,
    /// exactly as a user would redirect them: the standard endpoint and credential variables.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("AWS_ENDPOINT_URL", self.endpoint()),
            ("AWS_ACCESS_KEY_ID", "testing".into()),
            ("AWS_SECRET_ACCESS_KEY", "testing".into()),
            ("AWS_REGION", "us-east-1".into()),
            ("AWS_DEFAULT_REGION", "us-east-1".into()),
            ("AWS_EC2_METADATA_DISABLED", "true".into()),
        ]
    }

    /// Applies `env()` to a command.
    pub fn configure(&self, cmd: &mut Command) {
        cmd.env_remove("AWS_PROFILE");
        for (k, v) in self.env() {
            cmd.env(k, v);
        }
    }
}
