//! The toolbox MCP server, driven by the official MCP Python SDK's client over Streamable HTTP
//! as AgentCore's gateway would: the handshake, tools/list, good and bad tool calls, the
//! platform's session header, both protocol generations, and SIGTERM in the middle of a call.

use std::path::Path;
use std::time::Duration;

use agent_testkit::agent::{AgentProcess, bedrock_env};
use agent_testkit::converse::{Answer, StandIn};
use agent_testkit::mcp::{self, McpClient};
use serde_json::{Value, json};

const MODEL: &str = "us.amazon.nova-micro-v1:0";

fn start(standin: &StandIn, extra: &[(&str, &str)]) -> AgentProcess {
    let mut env = bedrock_env(standin.url(), MODEL, "eu-west-3");
    env.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    AgentProcess::start(Path::new(env!("CARGO_BIN_EXE_toolbox")), &env)
}

fn call(name: &str, arguments: Value) -> Value {
    json!({ "op": "call", "name": name, "arguments": arguments })
}

#[test]
fn the_official_client_lists_and_calls_every_tool() {
    let standin = StandIn::start();
    standin.answer(Answer::Text(
        "Billing moved to the 5th; Ana signs off.".into(),
    ));
    let agent = start(&standin, &[]);
    let steps = json!([
        { "op": "list_tools" },
        call("business_days", json!({ "start": "2026-12-21", "end": "2026-12-28", "holidays": ["2026-12-25"] })),
        call("due_date", json!({ "start": "2026-12-04", "business_days": 1 })),
        call("diff_text", json!({ "before": "a\nb\n", "after": "a\nB\n" })),
        call("summarize", json!({ "text": "A long memo about billing.", "max_words": 20 })),
    ]);
    let report = mcp::run(&agent.url("/mcp"), &[], "auto", &steps);
    assert_eq!(
        report["server"],
        json!({ "name": "toolbox", "version": "0.1.0" })
    );
    let steps = report["steps"].as_array().expect("steps");

    let tools = steps[0]["tools"].as_array().expect("tools");
    let names: Vec<&str> = tools.iter().filter_map(|t| t["name"].as_str()).collect();
    assert_eq!(
        names,
        ["business_days", "diff_text", "due_date", "summarize"],
        "{tools:?}"
    );
    for tool in tools {
        assert_eq!(tool["inputSchema"]["type"], "object", "{tool}");
        assert!(
            tool["description"].as_str().is_some_and(|d| d.len() > 20),
            "{tool}"
        );
    }
    let due = tools.iter().find(|t| t["name"] == "due_date").unwrap();
    assert_eq!(
        due["inputSchema"]["required"],
        json!(["start", "business_days"]),
        "{due}"
    );

    assert_eq!(
        steps[1]["structured"],
        json!({ "business_days": 4 }),
        "{}",
        steps[1]
    );
    assert_eq!(
        steps[2]["structured"],
        json!({ "due": "2026-12-07", "weekday": "Monday" }),
        "{}",
        steps[2]
    );
    assert_eq!(steps[3]["structured"]["lines_added"], 1);
    assert!(
        steps[3]["structured"]["unified_diff"]
            .as_str()
            .is_some_and(|d| d.contains("-b\n+B\n")),
        "{}",
        steps[3]
    );
    assert_eq!(
        steps[4]["structured"]["summary"],
        "Billing moved to the 5th; Ana signs off."
    );
    // What reached Bedrock: the blueprint's model (as overridden) and the document.
    let sent = &standin.requests()[0];
    assert_eq!(sent.model_id, MODEL);
    assert!(sent.body.to_string().contains("A long memo about billing."));
    assert!(sent.body.to_string().contains("at most 20 words"));
}

#[test]
fn bad_calls_are_errors_the_caller_can_read_and_the_server_lives_on() {
    let standin = StandIn::start();
    standin.answer(Answer::Fail {
        status: 503,
        error_type: "ServiceUnavailableException".into(),
        message: "arn:aws:bedrock:internal detail".into(),
    });
    let agent = start(&standin, &[]);
    let steps = json!([
        call("nope", json!({})),
        call(
            "due_date",
            json!({ "start": "yesterday", "business_days": 1 })
        ),
        call("due_date", json!({ "start": "2026-12-04" })),
        call(
            "business_days",
            json!({ "start": "2026-01-01", "end": "2026-01-02", "extra": 1 })
        ),
        call(
            "business_days",
            json!({ "start": "1990-01-01", "end": "2026-01-01" })
        ),
        call("summarize", json!({ "text": "  " })),
        call("summarize", json!({ "text": "A memo." })),
        call(
            "due_date",
            json!({ "start": "2026-12-04", "business_days": 0 })
        ),
    ]);
    let report = mcp::run(&agent.url("/mcp"), &[], "auto", &steps);
    let steps = report["steps"].as_array().expect("steps");
    // An unknown tool is a protocol error; bad arguments and failed work are tool errors the
    // model reads (MCP 2025-11-25 on: input validation errors go back to the model).
    assert_eq!(steps[0]["error"]["code"], -32602, "{}", steps[0]);
    for (step, needle) in [
        (1, "deserialize"),
        (2, "business_days"),
        (3, "extra"),
        (4, "limit"),
        (5, "`text` is empty"),
        (6, "unavailable"),
    ] {
        assert_eq!(steps[step]["is_error"], true, "{}", steps[step]);
        let text = steps[step]["text"].as_str().unwrap_or_default();
        assert!(text.contains(needle), "step {step}: {text}");
    }
    assert!(
        !steps[6]["text"].to_string().contains("arn:aws"),
        "{}",
        steps[6]
    );
    assert_eq!(steps[7]["structured"]["due"], "2026-12-04");
    assert_eq!(agent.ping()["status"], "Healthy");
}

#[test]
fn the_platforms_session_header_is_accepted_and_on_every_log_line() {
    let standin = StandIn::start();
    let agent = start(&standin, &[]);
    let session = "agentcore-runtime-session-0123456789abcdef";
    let headers = [
        ("Mcp-Session-Id", session),
        ("X-Amzn-Bedrock-AgentCore-Runtime-Request-Id", "req-mcp-1"),
    ];
    let steps = json!([call(
        "due_date",
        json!({ "start": "2026-12-04", "business_days": 2 })
    )]);
    for mode in ["auto", "legacy"] {
        let report = mcp::run(&agent.url("/mcp"), &headers, mode, &steps);
        assert_eq!(
            report["steps"][0]["structured"]["due"], "2026-12-08",
            "{mode}: {report}"
        );
    }
    let lines: Vec<Value> = agent
        .log_lines()
        .into_iter()
        .filter(|l| l["message"] == "mcp request")
        .collect();
    assert!(!lines.is_empty(), "{}", agent.logs());
    for line in &lines {
        assert_eq!(line["span"]["mcp_session_id"], session, "{line}");
        assert_eq!(line["span"]["request_id"], "req-mcp-1", "{line}");
    }
}

#[test]
fn stateful_sessions_when_the_blueprint_asks_for_them() {
    let standin = StandIn::start();
    let agent = start(&standin, &[("MCP_SESSIONS", "stateful")]);
    let steps = json!([
        { "op": "list_tools" },
        call("due_date", json!({ "start": "2026-12-04", "business_days": 1 })),
    ]);
    // The pre-2026-07-28 handshake: `initialize`, then a session id the client sends back.
    let report = mcp::run(&agent.url("/mcp"), &[], "legacy", &steps);
    assert_eq!(
        report["steps"][1]["structured"]["due"], "2026-12-07",
        "{report}"
    );
    assert!(
        agent.logs().contains("\"stateful\":true"),
        "{}",
        agent.logs()
    );
}

#[test]
fn sigterm_mid_call_lets_the_call_finish_then_exits_0() {
    let standin = StandIn::start();
    standin.answer(Answer::Text("Short.".into()));
    standin.hold();
    let mut agent = start(&standin, &[]);
    // Listed first: the client checks a result against the tool's output schema, and would
    // otherwise fetch the list after the answer, from a server that no longer takes requests.
    let steps = json!([
        { "op": "list_tools" },
        call("summarize", json!({ "text": "A memo to summarize." })),
    ]);
    let client = McpClient::spawn(&agent.url("/mcp"), &[], "auto", &steps);
    assert!(
        standin.wait_for_requests(1, Duration::from_secs(60)),
        "no Converse call:\n{}",
        agent.logs()
    );
    assert_eq!(agent.ping()["status"], "HealthyBusy");
    agent.terminate();
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while !agent.logs().contains("shutting down") && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(agent.is_running(), "exited mid-call:\n{}", agent.logs());
    standin.release();
    let report = client.finish();
    assert_eq!(
        report["steps"][1]["structured"]["summary"], "Short.",
        "{report}"
    );
    let status = agent
        .wait_exit(Duration::from_secs(30))
        .expect("the agent exits");
    assert_eq!(status.code(), Some(0), "{}", agent.logs());
}
