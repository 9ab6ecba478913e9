//! `triage` as a real process against the Converse stand-in: the structured record through a
//! forced tool call, and the model answers that must not pass as a record.

use std::path::Path;

use agent_testkit::agent::{AgentProcess, bedrock_env};
use agent_testkit::converse::{Answer, StandIn};
use agent_testkit::http;
use serde_json::{Value, json};

const MODEL: &str = "us.amazon.nova-micro-v1:0";
const SESSION: &str = "triage-session-0123456789abcdef0123456789ab";

fn start(standin: &StandIn) -> AgentProcess {
    let env = bedrock_env(standin.url(), MODEL, "us-west-2");
    AgentProcess::start(Path::new(env!("CARGO_BIN_EXE_triage")), &env)
}

fn record() -> Value {
    json!({
        "category": "billing",
        "priority": "high",
        "summary": "The customer was charged twice for March.",
        "needs_reply": true
    })
}

#[test]
fn returns_the_record_the_model_gave_through_the_forced_tool() {
    let standin = StandIn::start();
    standin.answer(Answer::ToolUse {
        name: "record_triage".into(),
        input: record(),
    });
    let agent = start(&standin);
    assert_eq!(agent.ping()["status"], "Healthy");
    let response = agent.invoke(
        &json!({ "text": "I was charged twice for March!!", "categories": ["billing", "bug"] }),
        Some(SESSION),
    );
    assert_eq!(response.status, 200, "{}", response.body);
    let mut expected = record();
    expected["session_id"] = json!(SESSION);
    assert_eq!(response.json(), expected);

    let call = &standin.requests()[0];
    assert_eq!(call.model_id, MODEL);
    assert!(
        call.authorization.contains("/us-west-2/bedrock/"),
        "{}",
        call.authorization
    );
    let tool_config = &call.body["toolConfig"];
    assert_eq!(tool_config["toolChoice"]["tool"]["name"], "record_triage");
    let schema = &tool_config["tools"][0]["toolSpec"]["inputSchema"]["json"];
    assert_eq!(
        schema["properties"]["category"]["enum"],
        json!(["billing", "bug"])
    );
    assert_eq!(
        call.body["messages"][0]["content"][0]["text"],
        "I was charged twice for March!!"
    );
}

#[test]
fn default_categories_apply_when_none_are_given() {
    let standin = StandIn::start();
    let mut input = record();
    input["category"] = json!("question");
    standin.answer(Answer::ToolUse {
        name: "record_triage".into(),
        input,
    });
    let agent = start(&standin);
    let response = agent.invoke(&json!({ "text": "How do I export my data?" }), None);
    assert_eq!(response.status, 200, "{}", response.body);
    assert_eq!(response.json()["category"], "question");
    let categories = &standin.requests()[0].body["toolConfig"]["tools"][0]["toolSpec"]["inputSchema"]
        ["json"]["properties"]["category"]["enum"];
    assert!(categories.as_array().unwrap().len() >= 4, "{categories}");
}

#[test]
fn free_text_or_an_off_schema_record_is_an_opaque_500() {
    let standin = StandIn::start();
    let agent = start(&standin);
    let cases = [
        Answer::Text("I think this is about billing.".into()),
        Answer::ToolUse {
            name: "record_triage".into(),
            input: json!({ "category": "billing", "priority": "someday" }),
        },
        Answer::ToolUse {
            name: "record_triage".into(),
            input: json!({ "category": "cooking", "priority": "low", "summary": "s", "needs_reply": false }),
        },
    ];
    for answer in cases {
        standin.answer(answer.clone());
        let response = agent.invoke(&json!({ "text": "help" }), None);
        assert_eq!(response.status, 500, "{answer:?}: {}", response.body);
        assert_eq!(response.json()["error"]["code"], "internal_error");
        assert!(
            !response.body.contains("record_triage"),
            "{}",
            response.body
        );
    }
}

#[test]
fn bad_requests_are_400s_that_say_what_to_send() {
    let standin = StandIn::start();
    let agent = start(&standin);
    for (payload, status, needle) in [
        (json!({ "text": "" }), 400, "`text` is empty"),
        (json!({ "text": "x".repeat(20_001) }), 400, "longer than"),
        (
            json!({ "text": "hi", "categories": ["a", " "] }),
            400,
            "empty entry",
        ),
        (json!({ "txt": "hi" }), 422, "txt"),
    ] {
        let response = agent.invoke(&payload, None);
        assert_eq!(response.status, status, "{}", response.body);
        let message = response.json()["error"]["message"]
            .as_str()
            .unwrap()
            .to_string();
        assert!(message.contains(needle), "{message}");
    }
    // Syntax before shape: truncated JSON is malformed even when its first key is not triage's.
    let truncated = http::post(
        &agent.url("/invocations"),
        &[("content-type", "application/json")],
        br#"{"prompt": "#,
    )
    .unwrap();
    assert_eq!(truncated.status, 400, "{}", truncated.body);
    assert_eq!(truncated.json()["error"]["code"], "malformed_json");
    assert!(standin.requests().is_empty());
}

#[test]
fn the_stand_ins_auto_answer_fits_the_tools_schema() {
    // What `cargo xtask bench agents` relies on: the stand-in answers triage's forced tool
    // call with a record built from the schema triage sent.
    let standin = StandIn::start();
    standin.answer(Answer::Auto);
    let agent = start(&standin);
    let response = agent.invoke(&json!({ "text": "hi", "categories": ["greeting"] }), None);
    assert_eq!(response.status, 200, "{}", response.body);
    let record = response.json();
    assert_eq!(record["category"], "greeting");
    assert_eq!(record["priority"], "low");
    assert_eq!(record["needs_reply"], true);
}
