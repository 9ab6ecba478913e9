//! `{{id}}` as a real process against the Converse stand-in, as AgentCore would call it.

use std::path::Path;

use agent_testkit::agent::{AgentProcess, bedrock_env};
use agent_testkit::converse::{Answer, StandIn};
use serde_json::json;

const SESSION: &str = "{{id}}-session-0123456789abcdef0123456789abcdef";

/// The agent on its blueprint's model: no MODEL_ID override, so the test sees what the
/// image will call.
fn start(standin: &StandIn) -> AgentProcess {
    let mut env = bedrock_env(standin.url(), "unused", "us-west-2");
    env.retain(|(name, _)| name != "MODEL_ID");
    AgentProcess::start(Path::new(env!("CARGO_BIN_EXE_{{id}}")), &env)
}

#[test]
fn answers_a_prompt_with_the_blueprints_model() {
    let standin = StandIn::start();
    standin.answer(Answer::Text("Ready.".into()));
    let agent = start(&standin);
    assert_eq!(agent.ping()["status"], "Healthy");

    let response = agent.invoke(&json!({ "prompt": "Are you there?" }), Some(SESSION));
    assert_eq!(response.status, 200, "{}", response.body);
    assert_eq!(
        response.json(),
        json!({ "answer": "Ready.", "session_id": SESSION })
    );

    let call = &standin.requests()[0];
    assert_eq!(call.model_id, "{{model_id}}");
    assert_eq!(
        call.body["messages"][0]["content"][0]["text"],
        "Are you there?"
    );
}

#[test]
fn an_empty_prompt_is_a_400_that_says_what_to_send() {
    let standin = StandIn::start();
    let agent = start(&standin);
    let response = agent.invoke(&json!({ "prompt": "  " }), None);
    assert_eq!(response.status, 400, "{}", response.body);
    assert!(
        response.body.contains("`prompt` is empty"),
        "{}",
        response.body
    );
    assert!(standin.requests().is_empty(), "Bedrock was called");
}
