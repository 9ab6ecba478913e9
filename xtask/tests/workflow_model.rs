//! The extract of InvokeAgentRuntime's input that `check` validates workflows' invoke tasks
//! against (xtask/src/infra/workflows/invoke_agent_runtime.json) is what the pinned botocore's
//! published model of bedrock-agentcore says: `check` reads the committed copy, offline, and
//! this test derives it again from the source (`python3-pinned`, installed by `cargo xtask test`).

mod support;

use std::process::Command;

use support::workspace::repo_root;

const VENDORED: &str = "xtask/src/infra/workflows/invoke_agent_runtime.json";
const SCRIPT: &str = "xtask/tests/python/invoke_agent_runtime_shape.py";

#[test]
fn the_vendored_invoke_agent_runtime_shape_is_the_published_models() {
    let python = support::tool("python3-pinned");
    let root = repo_root();
    let out = Command::new(&python)
        .arg(root.join(SCRIPT))
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", python.display()));
    assert!(
        out.status.success(),
        "{SCRIPT} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let vendored = std::fs::read(root.join(VENDORED))
        .unwrap_or_else(|e| panic!("cannot read {VENDORED}: {e}"));
    assert!(
        vendored == out.stdout,
        "{VENDORED} is not what the pinned botocore's model gives; regenerate it with\n  \
         {} {SCRIPT} > {VENDORED}\n(from the workspace root) and review the diff. It gives:\n{}",
        python.display(),
        String::from_utf8_lossy(&out.stdout)
    );
}
