//! `cargo xtask run` and `cargo xtask invoke`, end to end: the real xtask binary builds and
//! starts the real assistant, whose Bedrock calls reach the Converse stand-in through
//! `AWS_ENDPOINT_URL_BEDROCK_RUNTIME`; SIGTERM to `run` stops the agent gracefully.

mod support;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use agent_testkit::converse::StandIn;
use serde_json::{Value, json};
use support::wait_exit;
use support::workspace::{repo_root, run};

fn xtask() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_xtask"));
    cmd.arg("-C").arg(repo_root());
    cmd
}

/// `cargo xtask run assistant --json` against the stand-in; returns the process and its URL.
fn start_run(standin: &StandIn, port: u16) -> (Child, String) {
    start_agent(xtask(), standin, "assistant", Some(port))
}

/// `cargo xtask run <agent> --json` (on `port`, or the one `run` picks); the process and URL.
fn start_agent(
    mut cmd: Command,
    standin: &StandIn,
    agent: &str,
    port: Option<u16>,
) -> (Child, String) {
    cmd.args(["run", agent, "--json"]);
    if let Some(port) = port {
        cmd.args(["--port", &port.to_string()]);
    }
    cmd.args(["--bedrock-region", "ap-southeast-2"]);
    let mut child = support::bedrock_at(&mut cmd, standin.url())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start cargo xtask run");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .expect("read run's JSON line");
    let started: Value = serde_json::from_str(&line)
        .unwrap_or_else(|e| panic!("run printed no JSON line ({e}): {line:?}"));
    assert_eq!(started["agent"], agent);
    let url = started["url"].as_str().unwrap().to_string();
    if let Some(port) = port {
        assert_eq!(url, format!("http://127.0.0.1:{port}"));
    }
    (child, url)
}

#[test]
fn run_serves_the_agent_invoke_prints_its_answers_sigterm_stops_both() {
    let standin = StandIn::start();
    let port = support::free_port();
    let (mut xtask_run, url) = start_run(&standin, port);

    let (out, text) = run(xtask()
        .args(["invoke", "assistant", "--url", &url, "--session", "s-123"])
        .args(["--payload", r#"{"prompt": "Hello"}"#, "--json"]));
    assert!(out.status.success(), "{text}");
    let answer: Value = serde_json::from_slice(&out.stdout).expect("invoke --json is JSON");
    assert_eq!(answer["answer"], "Hello from the stand-in.");
    assert_eq!(answer["session_id"], "s-123");
    // The environment `run` gave the agent: the blueprint's model, the chosen Bedrock region.
    let call = &standin.requests()[0];
    assert_eq!(call.model_id, "us.amazon.nova-lite-v1:0");
    assert!(
        call.authorization.contains("/ap-southeast-2/bedrock/"),
        "{}",
        call.authorization
    );
    assert_eq!(call.body["inferenceConfig"]["maxTokens"], 1024);

    // Streamed: text for people, one JSON event per line for scripts.
    standin.stream_chunks(&["Hello ", "again"]);
    let stream = r#"{"prompt": "Hi", "stream": true}"#;
    let (out, text) =
        run(xtask().args(["invoke", "assistant", "--url", &url, "--payload", stream]));
    assert!(out.status.success(), "{text}");
    assert!(
        String::from_utf8_lossy(&out.stdout).starts_with("Hello again\n"),
        "{text}"
    );
    let mut from_stdin = xtask()
        .args([
            "invoke",
            "assistant",
            "--url",
            &url,
            "--payload",
            "-",
            "--json",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(&mut from_stdin.stdin.take().unwrap(), stream.as_bytes()).unwrap();
    let out = from_stdin.wait_with_output().unwrap();
    assert!(out.status.success());
    let events: Vec<Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("one JSON event per line"))
        .collect();
    assert_eq!(events[0], json!({ "delta": "Hello " }));
    assert_eq!(events.last().unwrap()["done"], true);

    // The agent's 4xx comes back as an error naming the problem, and a failed exit.
    let (out, text) = run(xtask().args([
        "invoke",
        "assistant",
        "--url",
        &url,
        "--payload",
        r#"{"prompt": ""}"#,
    ]));
    assert!(!out.status.success());
    assert!(
        text.contains("400") && text.contains("`prompt` is empty"),
        "{text}"
    );

    // SIGTERM to `run` reaches the agent: both exit 0 and the port is free again.
    let status = Command::new("kill")
        .args(["-TERM", &xtask_run.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let status = wait_exit(&mut xtask_run, Duration::from_secs(30)).expect("run exits");
    assert_eq!(status.code(), Some(0));
    assert!(
        std::net::TcpStream::connect(("127.0.0.1", port)).is_err(),
        "the agent still runs"
    );
}

#[test]
fn invoke_reports_bad_payloads_and_absent_agents_clearly() {
    let (out, text) = run(xtask().args(["invoke", "triage", "--payload", "{\"text\": "]));
    assert!(!out.status.success());
    assert!(
        text.contains("not valid JSON") && text.contains("line 1 column 9"),
        "{text}"
    );

    let url = format!("http://127.0.0.1:{}", support::free_port());
    let (out, text) = run(xtask().args([
        "invoke",
        "triage",
        "--url",
        &url,
        "--payload",
        r#"{"text": "hi"}"#,
    ]));
    assert!(!out.status.success());
    assert!(
        text.contains("nothing answers") && text.contains("cargo xtask run triage"),
        "{text}"
    );

    let (out, text) = run(xtask().args(["invoke", "asistant", "--payload", "{}"]));
    assert!(!out.status.success());
    assert!(text.contains("did you mean `assistant`"), "{text}");

    let (out, text) = run(xtask().args(["invoke", "toolbox", "--payload", "{}"]));
    assert!(!out.status.success());
    assert!(
        text.contains("`toolbox` is an MCP server") && text.contains("--tools"),
        "{text}"
    );
    let (out, text) = run(xtask().args(["invoke", "triage", "--tools"]));
    assert!(!out.status.success());
    assert!(text.contains("`triage` is an HTTP agent"), "{text}");
}

#[test]
fn invoke_lists_and_calls_the_tools_of_an_mcp_server() {
    let standin = StandIn::start();
    let (mut toolbox, url) = start_agent(xtask(), &standin, "toolbox", None);
    let (out, text) = run(xtask().args(["invoke", "toolbox", "--url", &url, "--tools", "--json"]));
    assert!(out.status.success(), "{text}");
    let listed: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let names: Vec<&str> = listed["tools"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|t| t["name"].as_str())
        .collect();
    assert!(names.contains(&"business_days"), "{listed}");

    let business_days = |payload: &str| {
        run(xtask()
            .args([
                "invoke",
                "toolbox",
                "--url",
                &url,
                "--tool",
                "business_days",
            ])
            .args(["--payload", payload]))
    };
    let (out, text) = business_days(
        r#"{"start": "2026-12-21", "end": "2026-12-28", "holidays": ["2026-12-25"]}"#,
    );
    assert!(out.status.success(), "{text}");
    let answer: Value = serde_json::from_slice(&out.stdout).expect("the structured result");
    assert_eq!(answer["business_days"], 4, "{answer}");

    // The tool's own failure fails the command with its words; an unknown tool is JSON-RPC's.
    let (out, text) = business_days(r#"{"start": "someday", "end": "2026-12-28"}"#);
    assert!(!out.status.success());
    assert!(text.contains("deserialize"), "{text}");
    let (out, text) = run(xtask().args(["invoke", "toolbox", "--url", &url, "--tool", "nope"]));
    assert!(!out.status.success());
    assert!(text.contains("-32602"), "{text}");
    let _ = toolbox.kill();
}

#[test]
fn run_refuses_a_busy_port_and_shows_its_environment_on_dry_run() {
    let busy = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = busy.local_addr().unwrap().port().to_string();
    let (out, text) = run(xtask().args(["run", "triage", "--port", &port]));
    assert!(!out.status.success());
    assert!(
        text.contains("is in use") && text.contains("--port"),
        "{text}"
    );

    let (out, text) = run(xtask()
        .args(["run", "triage", "--dry-run", "--json", "-e", "EXTRA=1"])
        .env("SSM_ROOT_PATH", "/platform/dev"));
    assert!(out.status.success(), "{text}");
    let plan: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(plan["env"]["MODEL_ID"], "us.amazon.nova-micro-v1:0");
    assert_eq!(plan["env"]["AGENT_ID"], "triage");
    assert_eq!(plan["env"]["PORT"], "8080");
    assert_eq!(plan["env"]["BIND_ADDRESS"], "127.0.0.1");
    assert_eq!(plan["env"]["SSM_ROOT_PATH"], "/platform/dev");
    assert_eq!(plan["env"]["EXTRA"], "1");

    let (out, text) = run(xtask().args(["run", "toolbox", "--dry-run", "--json"]));
    assert!(out.status.success(), "{text}");
    let plan: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(plan["env"]["PORT"], "8000");
    assert_eq!(plan["env"]["MCP_SESSIONS"], "stateless");
}

#[test]
fn two_agents_run_side_by_side_and_invoke_reaches_the_one_it_names() {
    let standin = StandIn::start();
    // Text for the assistant, the forced tool call for triage.
    standin.answer(agent_testkit::converse::Answer::Auto);
    // A copy of the workspace: its own record of what runs, apart from the other tests'.
    let ws = support::workspace::Scratch::copy_of_repo();
    let in_ws = || {
        let mut cmd = ws.xtask();
        cmd.env("CARGO_TARGET_DIR", repo_root().join("target"));
        cmd
    };
    // Both blueprints say 8080: the second `run` takes the next free port, and `invoke` finds
    // each agent where its `run` serves it.
    let (mut first, first_url) = start_agent(in_ws(), &standin, "assistant", None);
    let (mut second, second_url) = start_agent(in_ws(), &standin, "triage", None);
    assert_ne!(first_url, second_url);

    let (out, text) = run(in_ws().args([
        "invoke",
        "triage",
        "--json",
        "--payload",
        r#"{"text": "I was charged twice"}"#,
    ]));
    assert!(out.status.success(), "{text}");
    let answer: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert!(
        answer.get("category").is_some(),
        "triage did not answer: {answer}"
    );

    for child in [&mut first, &mut second] {
        let _ = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status();
        wait_exit(child, Duration::from_secs(30)).expect("run exits");
    }
    // Nothing runs triage now; the assistant's old port is not mistaken for it either.
    let (out, text) = run(in_ws().args(["invoke", "triage", "--payload", r#"{"text": "x"}"#]));
    assert!(!out.status.success(), "{text}");
}
