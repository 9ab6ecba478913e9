//! What the xtask's end-to-end tests share: the stand-ins of `agent-testkit` (moto, the CNCF
//! registry, each on a free port of 127.0.0.1 and stopped by its own process id when dropped),
//! and helpers for scratch workspaces, images, Terraform and the AWS SDK pointed at moto.
#![allow(dead_code)] // each test binary uses a different part of this

pub mod aws;
pub mod images;
pub mod terraform;
pub mod workspace;

#[allow(unused_imports)] // each test binary uses a different part of this
pub use agent_testkit::{Server, free_port, moto, registry, tool};

/// Fails the test with a clear message when a tool it needs is not on PATH (what the xtask
/// cannot install: terraform).
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

/// Waits for `child` to exit; kills it (and gives nothing) after `timeout`.
pub fn wait_exit(
    child: &mut std::process::Child,
    timeout: std::time::Duration,
) -> Option<std::process::ExitStatus> {
    let deadline = std::time::Instant::now() + timeout;
    while std::time::Instant::now() < deadline {
        if let Ok(Some(status)) = child.try_wait() {
            return Some(status);
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let _ = child.kill();
    None
}

/// A command's AWS SDK, as an agent's, pointed at the Converse stand-in at `url` with test
/// credentials, the way a user redirects it: nothing of this machine's AWS setup is used.
pub fn bedrock_at<'a>(
    cmd: &'a mut std::process::Command,
    url: &str,
) -> &'a mut std::process::Command {
    cmd.env("AWS_ENDPOINT_URL_BEDROCK_RUNTIME", url)
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env_remove("AWS_PROFILE")
}
