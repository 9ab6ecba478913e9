//! `cargo xtask run <agent> --watch`, end to end, in a scratch copy of the workspace: the real
//! xtask serves the real assistant, edits to its source are built and served on the same port,
//! and every request meanwhile is answered.
//!
//! A test binary of its own: the scratch's crates share the workspace's target dir (and with it
//! cargo's artifacts, named alike for both checkouts); a test building the workspace's
//! assistant at the same time would make cargo take the scratch's edit for built.

mod support;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use agent_testkit::converse::StandIn;
use serde_json::Value;
use support::wait_exit;
use support::workspace::{repo_root, run};

#[test]
fn run_watch_serves_each_saved_change_on_the_same_port_without_a_gap() {
    let ws = support::workspace::Scratch::copy_of_repo();
    let standin = StandIn::start();
    let port = support::free_port();
    let mut cmd = ws.xtask();
    // The scratch's crates share the workspace's compiled dependencies.
    cmd.env("CARGO_TARGET_DIR", repo_root().join("target"))
        .args([
            "run",
            "assistant",
            "--watch",
            "--json",
            "--port",
            &port.to_string(),
        ])
        .args(["--bedrock-region", "ap-southeast-2"]);
    support::bedrock_at(&mut cmd, standin.url())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("start cargo xtask run --watch");
    let log = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
    let collected = log.clone();
    let stderr = BufReader::new(child.stderr.take().unwrap());
    std::thread::spawn(move || {
        for line in stderr.lines().map_while(Result::ok) {
            let mut text = collected.lock().unwrap();
            text.push_str(&line);
            text.push('\n');
        }
    });
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .expect("read run's JSON line");
    let started: Value = serde_json::from_str(&line)
        .unwrap_or_else(|e| panic!("no JSON line ({e}): {line:?}\n{}", log.lock().unwrap()));
    let url = format!("http://127.0.0.1:{port}");
    assert_eq!(started["url"], url);
    let invocations = format!("{url}/invocations");
    // An empty prompt is refused by the agent's own code, with words the test changes.
    let ask = || {
        agent_testkit::http::post(
            &invocations,
            &[("content-type", "application/json")],
            br#"{"prompt": ""}"#,
        )
    };
    let answer = ask().expect("the agent answers through run's port");
    assert_eq!(answer.status, 400, "{}", answer.body);
    assert!(
        answer.body.contains("ask the assistant something"),
        "{}",
        answer.body
    );

    // A saved change: built again and served on the same port. Every request meanwhile is
    // answered, by the old build or the new one: never a closed port, never a 503.
    ws.edit(
        "agents/assistant/src/main.rs",
        "ask the assistant something",
        "ask the watched assistant something",
    );
    let deadline = Instant::now() + Duration::from_secs(240);
    loop {
        let answer = ask()
            .unwrap_or_else(|e| panic!("a request met no agent: {e}\n{}", log.lock().unwrap()));
        assert_eq!(
            answer.status,
            400,
            "{}\n{}",
            answer.body,
            log.lock().unwrap()
        );
        if answer.body.contains("ask the watched assistant something") {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the change was not served:\n{}",
            log.lock().unwrap()
        );
        std::thread::sleep(Duration::from_millis(200));
    }

    // A change that does not compile: said, and the last good build keeps serving.
    ws.edit(
        "agents/assistant/src/main.rs",
        "async fn run()",
        "async fn run() {",
    );
    let deadline = Instant::now() + Duration::from_secs(240);
    while !log
        .lock()
        .unwrap()
        .contains("the previous build still serves")
    {
        assert!(
            Instant::now() < deadline,
            "the failed build was not reported:\n{}",
            log.lock().unwrap()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    let answer = ask().expect("the last good build serves");
    assert!(
        answer.body.contains("ask the watched assistant something"),
        "{}",
        answer.body
    );

    // SIGTERM stops run and the agent it serves: no process is left working in the scratch.
    let (out, _) = run(Command::new("kill").args(["-TERM", &child.id().to_string()]));
    assert!(out.status.success());
    let status = wait_exit(&mut child, Duration::from_secs(20)).expect("run stopped");
    assert!(status.success(), "{status}\n{}", log.lock().unwrap());
    assert!(ask().is_err(), "the port still answers");
    let left: Vec<_> = std::fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| {
            std::fs::read_link(e.path().join("cwd")).is_ok_and(|cwd| cwd.starts_with(ws.path()))
        })
        .map(|e| e.path())
        .collect();
    assert!(left.is_empty(), "left running: {left:?}");
}
