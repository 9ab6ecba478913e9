//! `{{id}}` driven by the official MCP Python SDK's client over Streamable HTTP, as
//! AgentCore's gateway would: the tools listed, one called, bad arguments refused.

use std::path::Path;

use agent_testkit::agent::AgentProcess;
use agent_testkit::mcp;
use serde_json::json;

fn start() -> AgentProcess {
    AgentProcess::start(Path::new(env!("CARGO_BIN_EXE_{{id}}")), &[])
}

#[test]
fn the_official_client_lists_and_calls_the_tool() {
    let agent = start();
    let steps = json!([
        { "op": "list_tools" },
        { "op": "call", "name": "word_count", "arguments": { "text": "one two\nthree" } },
    ]);
    let report = mcp::run(&agent.url("/mcp"), &[], "auto", &steps);
    assert_eq!(
        report["server"],
        json!({ "name": "{{id}}", "version": "0.1.0" })
    );
    let tools = report["steps"][0]["tools"].as_array().expect("tools");
    let names: Vec<&str> = tools.iter().filter_map(|t| t["name"].as_str()).collect();
    assert_eq!(names, ["word_count"], "{report}");
    assert_eq!(
        report["steps"][1]["structured"],
        json!({ "words": 3, "lines": 2, "characters": 13 }),
        "{report}"
    );
}

#[test]
fn bad_arguments_are_errors_the_caller_can_read() {
    let agent = start();
    let steps = json!([
        { "op": "call", "name": "word_count", "arguments": { "txt": "typo" } },
        { "op": "call", "name": "nope", "arguments": {} },
    ]);
    let report = mcp::run(&agent.url("/mcp"), &[], "auto", &steps);
    let steps = report["steps"].as_array().expect("steps");
    // Arguments that do not fit the schema are a tool error the calling model reads; an
    // unknown tool is a protocol error.
    assert_eq!(steps[0]["is_error"], true, "{}", steps[0]);
    assert!(
        steps[0]["text"].as_str().is_some_and(|t| t.contains("txt")),
        "{}",
        steps[0]
    );
    assert_eq!(steps[1]["error"]["code"], -32602, "{}", steps[1]);
    assert_eq!(agent.ping()["status"], "Healthy");
}
