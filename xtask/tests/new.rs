//! `cargo xtask new`: in a scratch copy of the workspace, a new HTTP agent and a new MCP server
//! pass `check`, their own tests (with the lock file as `--locked` builds read it), and the
//! HTTP one builds its arm64 image; every refusal says why and leaves the tree as it was.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

mod support;

use support::workspace::{Scratch, fails_with, repo_root, run};

/// The target dir the workspace's own tests built into: the scratch's builds reuse its
/// compiled dependencies, as the deploy and run tests' scratch copies do.
fn shared_target() -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) => repo_root().join(dir),
        None => repo_root().join("target"),
    }
}

/// Where the pinned tools are (`cargo xtask test` names them; else the shared target's).
fn tools_dir() -> PathBuf {
    std::env::var_os("XTASK_TOOLS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| shared_target().join("xtask/tools"))
}

/// A scratch copy that is a git repository with everything committed, so that "changed
/// nothing" is `git status` saying nothing.
fn committed_scratch() -> Scratch {
    let ws = Scratch::copy_of_repo();
    git(ws.path(), &["init", "-q"]);
    commit_all(ws.path());
    ws
}

fn git(dir: &Path, args: &[&str]) -> String {
    let (out, text) = run(Command::new("git")
        .args(["-c", "user.name=test", "-c", "user.email=test@example.com"])
        .args(args)
        .current_dir(dir));
    assert!(out.status.success(), "git {args:?}: {text}");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn commit_all(dir: &Path) {
    git(dir, &["add", "-A"]);
    git(dir, &["commit", "-q", "-m", "scratch"]);
}

fn assert_unchanged(ws: &Scratch, after: &str) {
    let status = git(ws.path(), &["status", "--porcelain", "--ignored=no"]);
    assert!(status.is_empty(), "{after} changed the tree:\n{status}");
}

/// The commands a person runs after `new`, with the shared target dir and tools.
fn in_scratch(mut cmd: Command) -> Command {
    cmd.env("CARGO_TARGET_DIR", shared_target())
        .env("XTASK_TOOLS_DIR", tools_dir());
    cmd
}

fn ok(cmd: &mut Command, what: &str) -> String {
    let (out, text) = run(cmd);
    assert!(out.status.success(), "{what} failed:\n{text}");
    text
}

fn timed<T>(what: &str, f: impl FnOnce() -> T) -> T {
    let start = std::time::Instant::now();
    let value = f();
    eprintln!("{what}: {:.1} s", start.elapsed().as_secs_f64());
    value
}

#[test]
fn new_agents_pass_check_their_own_tests_and_build_an_image() {
    let ws = committed_scratch();

    let (out, text) = run(ws.xtask().args(["new", "demo", "--json"]));
    assert!(out.status.success(), "{text}");
    let created: Value = serde_json::from_slice(&out.stdout).expect("--json prints JSON");
    assert_eq!(created["protocol"], "HTTP", "{created}");
    for file in created["files"].as_array().expect("files") {
        let file = file.as_str().expect("a path");
        assert!(ws.file(file).is_file(), "{file} is not there");
    }
    for file in [
        "blueprint.yaml",
        "Cargo.toml",
        "build.rs",
        "src/main.rs",
        "tests/agent.rs",
        "Dockerfile",
        "Dockerfile.dockerignore",
    ] {
        assert!(ws.file(&format!("agents/demo/{file}")).is_file(), "{file}");
    }
    assert!(
        ws.read("Cargo.toml")
            .contains("    \"agents/assistant\",\n    \"agents/demo\",\n    \"agents/toolbox\","),
        "{}",
        ws.read("Cargo.toml")
    );
    let text = ok(
        ws.xtask().args([
            "new",
            "tools",
            "--protocol",
            "MCP",
            "--description",
            "Counts words for the other agents",
        ]),
        "new --protocol MCP",
    );
    assert!(text.contains("cargo test -p tools"), "next steps: {text}");
    assert!(
        ws.read("agents/tools/blueprint.yaml")
            .contains("description: \"Counts words for the other agents\""),
        "{}",
        ws.read("agents/tools/blueprint.yaml")
    );

    let text = timed("check", || ok(ws.xtask().arg("check"), "check"));
    assert!(text.contains("ok: 5 agent(s)"), "{text}");
    for (agent, row) in [("demo", "yes  -        -"), ("tools", "yes  -        -")] {
        assert!(
            text.lines()
                .any(|l| l.starts_with(agent) && l.ends_with(row)),
            "{agent} should be in dev only:\n{text}"
        );
    }

    // Their own tests, with the lock file as it is: CI and the Dockerfiles build `--locked`.
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut test = Command::new(&cargo);
    test.args(["test", "--locked", "-p", "demo", "-p", "tools"])
        .current_dir(ws.path());
    let text = timed("cargo test -p demo -p tools", || {
        ok(&mut in_scratch(test), "their tests")
    });
    assert!(
        text.contains("answers_a_prompt_with_the_blueprints_model ... ok")
            && text.contains("the_official_client_lists_and_calls_the_tool ... ok"),
        "{text}"
    );

    let mut fmt = Command::new(&cargo);
    fmt.args(["fmt", "--check", "-p", "demo", "-p", "tools"])
        .current_dir(ws.path());
    ok(&mut fmt, "cargo fmt --check");

    let mut build = ws.xtask();
    build.args(["build-agents", "demo", "--json"]);
    let (out, text) = timed("build-agents demo", || run(&mut in_scratch(build)));
    assert!(out.status.success(), "build-agents demo failed:\n{text}");
    let report: Value = serde_json::from_slice(&out.stdout).expect("--json prints JSON");
    let images = report["images"].as_array().expect("images");
    assert_eq!(images.len(), 1, "{report}");
    assert_eq!(images[0]["agent"], "demo", "{report}");
    assert!(
        images[0]["size"].as_u64().unwrap_or(0) > 1_000_000,
        "{report}"
    );
    let layout = ws.file("target/oci/demo");
    let config = Command::new(tools_dir().join("bin/skopeo"))
        .args(["inspect", "--config"])
        .arg(format!("oci:{}:latest", layout.display()))
        .output()
        .expect("skopeo");
    assert!(
        config.status.success(),
        "{}",
        String::from_utf8_lossy(&config.stderr)
    );
    let config: Value = serde_json::from_slice(&config.stdout).expect("JSON");
    assert_eq!(config["architecture"], "arm64");
    let env = config["config"]["Env"].to_string();
    assert!(
        env.contains("\"AGENT_ID=demo\"") && env.contains("\"PORT=8080\""),
        "{env}"
    );
}

#[test]
fn refusals_say_why_and_change_nothing() {
    let ws = committed_scratch();
    // A member without its folder: cargo itself fails on it, and `new` must not add it twice.
    ws.edit(
        "Cargo.toml",
        "    \"agents/triage\",\n",
        "    \"agents/triage\",\n    \"agents/ghost\",\n",
    );
    // A folder that is no crate (yet).
    ws.write("agents/notes/README.md", "ideas\n");
    commit_all(ws.path());

    let cases: &[(&[&str], &[&str])] = &[
        (&["assistant"], &["agent `assistant` already exists"]),
        (&["notes"], &["agents/notes already exists"]),
        (&["ghost"], &["`agents/ghost` is already a member"]),
        (&["Demo"], &["invalid agent id `Demo`", "lower-case letter"]),
        (
            &["a--b"],
            &["invalid agent id `a--b`", "`-` must stand between"],
        ),
        (
            &["my_agent"],
            &[
                "invalid agent id `my_agent`",
                "lower-case letters, digits and `-`",
            ],
        ),
        (&["x"], &["invalid agent id `x`", "2 to 32 characters"]),
        (
            &["agent-testkit"],
            &["`agent-testkit` is reserved", "a crate of this workspace"],
        ),
        (&["agentcore-runtime"], &["`agentcore-runtime` is reserved"]),
        (&["xtask"], &["`xtask` is reserved"]),
        (
            &["serde"],
            &["`serde` is reserved", "depends on a crate of that name"],
        ),
        (
            &["test"],
            &["invalid agent id `test`", "Rust or cargo keeps this name"],
        ),
        (
            &["match"],
            &["invalid agent id `match`", "Rust or cargo keeps this name"],
        ),
        // Fits dev, but not production's runtime name, where a promotion would take it.
        (
            &["a-rather-long-agent-identifier-x"],
            &[
                "AgentCore runtime name in production",
                "shorten the id to at most 27",
            ],
        ),
        (
            &["demo", "--model", "nova lite"],
            &["`nova lite` is not a Bedrock model id"],
        ),
        (
            &["demo", "--description", "two\nlines"],
            &["control character"],
        ),
        (&["demo", "--protocol", "A2A"], &["invalid value 'A2A'"]),
    ];
    for (args, needles) in cases {
        let mut cmd = ws.xtask();
        cmd.arg("new").args(*args);
        let text = fails_with(&mut cmd, needles);
        assert_unchanged(&ws, &format!("new {args:?} ({text})"));
    }
    // A refusal is an error (1), a command line clap cannot parse a usage error (64).
    let (out, _) = run(ws.xtask().args(["new", "Demo"]));
    assert_eq!(out.status.code(), Some(1));
    let (out, _) = run(ws.xtask().args(["new", "demo", "--protocol", "A2A"]));
    assert_eq!(out.status.code(), Some(64));

    let (out, text) = run(ws.xtask().args(["new", "demo", "--dry-run", "--json"]));
    assert!(out.status.success(), "{text}");
    let planned: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(planned["dry_run"], true);
    assert!(
        planned["files"]
            .as_array()
            .is_some_and(|f| f.iter().any(|f| f == "agents/demo/src/main.rs")),
        "{planned}"
    );
    assert_unchanged(&ws, "new --dry-run");
}

#[test]
fn a_failure_half_way_leaves_no_half_agent() {
    let ws = committed_scratch();
    // The last step, the lock file's update, fails: the folder and Cargo.toml must go back.
    let text = fails_with(
        ws.xtask().args(["new", "demo"]).env("CARGO", "/bin/false"),
        &["`cargo update --workspace` failed", "nothing was created"],
    );
    assert_unchanged(&ws, &format!("a failed new ({text})"));
    assert!(!ws.file("agents/demo").exists());
    let leftovers: Vec<_> = std::fs::read_dir(ws.file("agents"))
        .expect("agents/")
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with('.'))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}
