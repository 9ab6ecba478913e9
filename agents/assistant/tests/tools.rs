//! The assistant with the environment's gateway tools: the real binary, its Converse calls
//! answered by the Converse stand-in (a model that calls a tool, then quotes its result), its
//! MCP calls by the gateway stand-in, which calls the real `toolbox` MCP server behind it.

use std::path::Path;

use agent_testkit::agent::{AgentProcess, bedrock_env, workspace_binary};
use agent_testkit::converse::{self, Answer};
use agent_testkit::{gateway, http};
use serde_json::{Value, json};

const MODEL: &str = "us.amazon.nova-test-v1:0";
const SESSION: &str = "session-t-0123456789abcdef0123456789abcdef";
const TOOL: &str = "toolbox___business_days";

struct World {
    bedrock: converse::StandIn,
    gateway: gateway::StandIn,
    _toolbox: AgentProcess,
}

/// The toolbox behind a gateway, under two target names: `toolbox` (the one the assistant is
/// given) and `elsewhere`, whose tools it must not see.
fn world() -> World {
    let toolbox = AgentProcess::start(&workspace_binary("toolbox"), &[]);
    let mcp = toolbox.url("/mcp");
    World {
        bedrock: converse::StandIn::start(),
        gateway: gateway::StandIn::start(&[("toolbox", &mcp), ("elsewhere", &mcp)]),
        _toolbox: toolbox,
    }
}

fn assistant(w: &World, extra: &[(&str, &str)]) -> AgentProcess {
    let mut env = bedrock_env(w.bedrock.url(), MODEL, "us-east-1");
    env.push(("AGENTCORE_GATEWAY_URL".into(), w.gateway.url()));
    env.push(("AGENTCORE_GATEWAY_TARGETS".into(), "toolbox".into()));
    env.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    AgentProcess::start(Path::new(env!("CARGO_BIN_EXE_assistant")), &env)
}

fn ask(agent: &AgentProcess, prompt: &str) -> Value {
    let response = agent.invoke(&json!({ "prompt": prompt }), Some(SESSION));
    assert_eq!(response.status, 200, "{}\n{}", response.body, agent.logs());
    response.json()
}

fn business_days_call() -> Answer {
    Answer::CallTool {
        name: TOOL.into(),
        input: json!({ "start": "2026-12-01", "end": "2026-12-08" }),
    }
}

/// The `toolResult` blocks of a Converse request's last message.
fn tool_results(request: &Value) -> Vec<Value> {
    let last = request["messages"].as_array().and_then(|m| m.last());
    let content = last.and_then(|m| m["content"].as_array()).cloned();
    let blocks = content.unwrap_or_default().into_iter();
    blocks
        .filter_map(|b| b.get("toolResult").cloned())
        .collect()
}

#[test]
fn a_tool_call_round_trips_through_the_gateway_to_the_real_mcp_server() {
    let w = world();
    w.bedrock.answer(business_days_call());
    let agent = assistant(&w, &[]);
    let answer = ask(
        &agent,
        "How many business days in the first week of December?",
    );
    // 2026-12-01 is a Tuesday: Tue, Wed, Thu, Fri, Mon — the toolbox's own count.
    assert_eq!(
        answer["answer"], r#"The tool said: {"business_days":5}"#,
        "{answer}"
    );
    assert_eq!(answer["stop_reason"], "end_turn");
    // Two model calls, their tokens summed.
    assert_eq!(answer["usage"]["input_tokens"], 24, "{answer}");

    let requests = w.bedrock.requests();
    assert_eq!(requests.len(), 2, "{requests:#?}");
    // The model was offered the selected target's tools only, with the schemas the MCP
    // server declares.
    let tools = requests[0].body["toolConfig"]["tools"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let names: Vec<&str> = tools
        .iter()
        .filter_map(|t| t["toolSpec"]["name"].as_str())
        .collect();
    assert!(names.contains(&TOOL), "{names:?}");
    assert!(
        names.iter().all(|n| n.starts_with("toolbox___")),
        "{names:?}"
    );
    let spec = tools
        .iter()
        .find(|t| t["toolSpec"]["name"] == TOOL)
        .unwrap();
    let schema = &spec["toolSpec"]["inputSchema"]["json"];
    assert!(schema["properties"]["start"].is_object(), "{spec}");
    assert!(spec["toolSpec"]["description"].is_string(), "{spec}");
    // The second call carries the model's toolUse and the tool's result for it.
    let messages = requests[1].body["messages"].as_array().unwrap();
    let tool_use = &messages[messages.len() - 2]["content"][0]["toolUse"];
    assert_eq!(tool_use["name"], TOOL, "{messages:#?}");
    let results = tool_results(&requests[1].body);
    assert_eq!(results.len(), 1, "{messages:#?}");
    assert_eq!(results[0]["toolUseId"], tool_use["toolUseId"]);
    assert_eq!(results[0]["status"], "success");
    assert_eq!(results[0]["content"][0]["json"]["business_days"], 5);

    // One call of the tool, with the model's arguments; after the handshake, requests carry
    // the protocol version the gateway chose (a signed header).
    let calls = w.gateway.tool_calls();
    assert_eq!(calls.len(), 1, "{:#?}", w.gateway.requests());
    assert_eq!(calls[0].tool.as_deref(), Some(TOOL));
    assert_eq!(calls[0].arguments["start"], "2026-12-01");
    assert_eq!(calls[0].protocol_version.as_deref(), Some("2025-11-25"));
    // Every gateway request was signed for the gateway's IAM authorizer, and the signature
    // verifies.
    for request in w.gateway.requests() {
        assert_eq!(request.signature, Ok(()), "{request:?}");
        assert!(
            request
                .authorization
                .contains("/us-east-1/bedrock-agentcore/aws4_request"),
            "{request:?}"
        );
    }
}

#[test]
fn a_streamed_answer_calls_tools_between_its_streams() {
    let w = world();
    w.bedrock.answer(business_days_call());
    let agent = assistant(&w, &[]);
    let body = json!({ "prompt": "How many business days?", "stream": true }).to_string();
    let (status, _, events) = http::post_sse(
        &agent.url("/invocations"),
        &[(agent_testkit::SESSION_HEADER, SESSION)],
        &body,
        |_| {},
    )
    .expect("stream");
    assert_eq!(status, 200, "{}", agent.logs());
    let chunks: Vec<Value> = events
        .iter()
        .map(|e| serde_json::from_str(&e.data).expect("JSON chunk"))
        .collect();
    let text: String = chunks.iter().filter_map(|c| c["delta"].as_str()).collect();
    assert_eq!(text, r#"The tool said: {"business_days":5}"#, "{chunks:#?}");
    let done = chunks.last().expect("a last chunk");
    assert_eq!(done["done"], true, "{chunks:#?}");
    assert_eq!(done["stop_reason"], "end_turn");
    // Both streams' tokens: 12 + 12 in.
    assert_eq!(done["usage"]["input_tokens"], 24, "{done}");
    let requests = w.bedrock.requests();
    assert_eq!(requests.len(), 2, "{requests:#?}");
    assert!(requests.iter().all(|r| r.stream));
    // The streamed toolUse input (in two deltas) reached the tool whole.
    assert_eq!(w.gateway.tool_calls()[0].arguments["end"], "2026-12-08");
    let results = tool_results(&requests[1].body);
    assert_eq!(results[0]["status"], "success", "{results:#?}");
}

#[test]
fn a_call_the_gateway_refuses_costs_the_tools_not_the_answer() {
    let w = world();
    w.bedrock.answer(Answer::Text("Without tools.".into()));
    // Credentials the gateway does not accept: the signature cannot verify.
    let agent = assistant(&w, &[("AWS_SECRET_ACCESS_KEY", "not-the-secret")]);
    let answer = ask(&agent, "Hello?");
    assert_eq!(answer["answer"], "Without tools.");
    let refused = w.gateway.requests();
    assert!(!refused.is_empty());
    assert!(
        refused
            .iter()
            .all(|r| r.signature == Err("the signature does not match the request".into())),
        "{refused:#?}"
    );
    assert!(w.bedrock.requests()[0].body.get("toolConfig").is_none());
    assert!(
        agent
            .logs()
            .contains("gateway unavailable: answering without its tools"),
        "{}",
        agent.logs()
    );
}

#[test]
fn a_tool_that_hangs_is_cut_at_its_timeout_and_the_model_is_told() {
    let w = world();
    w.gateway.hang(TOOL);
    w.bedrock.answer(business_days_call());
    let agent = assistant(&w, &[("TOOL_TIMEOUT_SECONDS", "1")]);
    let answer = ask(&agent, "How many business days?");
    assert!(
        answer["answer"]
            .as_str()
            .unwrap_or_default()
            .starts_with("The tool failed: "),
        "{answer}"
    );
    let requests = w.bedrock.requests();
    assert_eq!(requests.len(), 2, "{requests:#?}");
    let results = tool_results(&requests[1].body);
    assert_eq!(results[0]["status"], "error", "{results:#?}");
    let text = results[0]["content"][0]["text"]
        .as_str()
        .unwrap_or_default();
    assert!(text.contains("did not answer within 1 s"), "{text}");
    assert!(agent.logs().contains("tool call cut at its timeout"));
}

#[test]
fn a_model_that_keeps_calling_tools_is_stopped_at_the_step_limit() {
    let w = world();
    w.bedrock.answer(Answer::ToolUse {
        name: TOOL.into(),
        input: json!({ "start": "2026-12-01", "end": "2026-12-02" }),
    });
    let agent = assistant(&w, &[("TOOL_MAX_STEPS", "2")]);
    let answer = ask(&agent, "Count forever.");
    assert_eq!(answer["stop_reason"], "tool_steps_exhausted", "{answer}");
    // Two rounds of tools, then the third request's toolUse is not followed.
    assert_eq!(w.bedrock.requests().len(), 3);
    assert_eq!(w.gateway.tool_calls().len(), 2);
}

#[test]
fn a_gateway_that_cannot_be_reached_costs_the_tools_not_the_answer() {
    let bedrock = converse::StandIn::start();
    bedrock.answer(Answer::Text("Without tools.".into()));
    let mut env = bedrock_env(bedrock.url(), MODEL, "us-east-1");
    let nobody = format!("http://127.0.0.1:{}/mcp", agent_testkit::free_port());
    env.push(("AGENTCORE_GATEWAY_URL".into(), nobody));
    env.push(("TOOL_TIMEOUT_SECONDS".into(), "2".into()));
    let agent = AgentProcess::start(Path::new(env!("CARGO_BIN_EXE_assistant")), &env);
    let answer = ask(&agent, "Hello?");
    assert_eq!(answer["answer"], "Without tools.");
    // The next turn does not try again at once (30 s): one warning for both.
    ask(&agent, "Still there?");
    let requests = bedrock.requests();
    assert!(
        requests[0].body.get("toolConfig").is_none(),
        "{requests:#?}"
    );
    let warnings = agent
        .logs()
        .matches("gateway unavailable: answering without its tools")
        .count();
    assert_eq!(warnings, 1, "{}", agent.logs());
}
