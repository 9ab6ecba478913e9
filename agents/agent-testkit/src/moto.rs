//! moto in server mode: S3, ECR, CodeBuild, SSM, STS, … on one local endpoint.

use std::path::PathBuf;
use std::process::Command;

use crate::{Server, free_port, tool};

pub struct Moto {
    pub server: Server,
    dir: tempfile::TempDir,
}

impl Moto {
    pub fn start() -> Moto {
        Moto::start_with(false)
    }

    /// moto with its request recorder on (`MOTO_ENABLE_RECORDING`): every request it receives
    /// is appended, body included, to a file [`Moto::requests_to`] reads. moto's CodeBuild
    /// ignores a build's source overrides, so this is how a test sees, from the emulator's
    /// side, what a client asked for.
    pub fn start_recording() -> Moto {
        Moto::start_with(true)
    }

    /// moto whose Step Functions executes state machines, sending their
    /// `aws-sdk:bedrockagentcore:*` tasks to the AgentCore data plane that will listen on
    /// 127.0.0.1:`data_plane_port` (`python/moto_stepfunctions.py` says how, and which gaps of
    /// moto's interpreter it fills). Every other API is moto's as usual.
    pub fn start_with_step_functions(data_plane_port: u16) -> Moto {
        let mut cmd = Command::new(tool("python3-pinned"));
        cmd.arg(crate::workspace_root().join("agents/agent-testkit/python/moto_stepfunctions.py"))
            // moto's interpreter sends an AWS SDK task to 127.0.0.1:$MOTO_PORT.
            .env("MOTO_PORT", data_plane_port.to_string());
        Moto::start_command(cmd, false)
    }

    fn start_with(recording: bool) -> Moto {
        Moto::start_command(Command::new(tool("moto_server")), recording)
    }

    fn start_command(mut cmd: Command, recording: bool) -> Moto {
        let dir = tempfile::tempdir().expect("tempdir");
        let port = free_port();
        cmd.args(["-H", "127.0.0.1", "-p", &port.to_string()]);
        if recording {
            cmd.env("MOTO_ENABLE_RECORDING", "true")
                .env("MOTO_RECORDER_FILEPATH", dir.path().join("recording.jsonl"));
        }
        let server = Server::start("moto_server", cmd, port, &dir.path().join("moto.log"));
        Moto { server, dir }
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

    pub fn recording_path(&self) -> PathBuf {
        self.dir.path().join("recording.jsonl")
    }

    /// The recorded requests whose `X-Amz-Target` header ends with `target` (e.g.
    /// `StartBuild`), as their JSON bodies.
    pub fn requests_to(&self, target: &str) -> Vec<serde_json::Value> {
        let text = std::fs::read_to_string(self.recording_path()).unwrap_or_default();
        text.lines()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .filter(|entry| {
                entry["headers"]
                    .as_object()
                    .and_then(|h| {
                        h.iter()
                            .find(|(k, _)| k.eq_ignore_ascii_case("x-amz-target"))
                    })
                    .and_then(|(_, v)| v.as_str())
                    .is_some_and(|v| v.ends_with(&format!(".{target}")))
            })
            .filter_map(|entry| {
                let body = entry["body"].as_str()?;
                let bytes = if entry["body_encoded"].as_bool() == Some(true) {
                    base64_decode(body)?
                } else {
                    body.as_bytes().to_vec()
                };
                serde_json::from_slice(&bytes).ok()
            })
            .collect()
    }
}

fn base64_decode(text: &str) -> Option<Vec<u8>> {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.decode(text).ok()
}
