//! The assistant against a local stand-in that speaks Bedrock's Converse wire format, reached
//! through `AWS_ENDPOINT_URL_BEDROCK_RUNTIME` exactly as a user would redirect the SDK.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use agent_testkit::agent::{AgentProcess, bedrock_env};
use agent_testkit::converse::{Answer, StandIn};
use agent_testkit::http;
use serde_json::{Value, json};

const MODEL: &str = "eu.anthropic.claude-test-v1:0";

fn start(standin: &StandIn) -> AgentProcess {
    let env = bedrock_env(standin.url(), MODEL, "eu-west-3");
    AgentProcess::start(Path::new(env!("CARGO_BIN_EXE_assistant")), &env)
}

#[test]
fn answers_with_converse_in_the_bedrock_region_with_the_configured_model() {
    let standin = StandIn::start();
    standin.answer(Answer::Text("Paris.".into()));
    let agent = start(&standin);
    let response = agent.invoke(
        &json!({ "prompt": "Capital of France?", "system": "Answer in one word." }),
        None,
    );
    assert_eq!(response.status, 200, "{}", response.body);
    let body = response.json();
    assert_eq!(body["answer"], "Paris.");
    assert_eq!(body["stop_reason"], "end_turn");
    assert_eq!(
        body["usage"],
        json!({ "input_tokens": 12, "output_tokens": 7 })
    );

    let requests = standin.requests();
    assert_eq!(requests.len(), 1);
    let call = &requests[0];
    assert_eq!(call.model_id, MODEL);
    assert!(!call.stream);
    // Signed for BEDROCK_REGION, not for AWS_REGION (us-east-1): cross-region Bedrock.
    assert!(
        call.authorization
            .contains("/eu-west-3/bedrock/aws4_request"),
        "{}",
        call.authorization
    );
    assert_eq!(call.body["messages"][0]["role"], "user");
    assert_eq!(
        call.body["messages"][0]["content"][0]["text"],
        "Capital of France?"
    );
    assert_eq!(call.body["system"][0]["text"], "Answer in one word.");
    assert_eq!(call.body["inferenceConfig"]["maxTokens"], 256);
}

#[test]
fn a_session_keeps_its_conversation_and_only_its_own() {
    let standin = StandIn::start();
    let agent = start(&standin);
    let a = "session-a-0123456789abcdef0123456789abcdef";
    let b = "session-b-0123456789abcdef0123456789abcdef";
    for (session, prompt) in [(a, "first"), (a, "second"), (b, "other")] {
        let response = agent.invoke(&json!({ "prompt": prompt }), Some(session));
        assert_eq!(response.status, 200, "{}", response.body);
    }
    let texts = |body: &Value| -> Vec<String> {
        body["messages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["content"][0]["text"].as_str().unwrap().to_string())
            .collect()
    };
    let requests = standin.requests();
    assert_eq!(
        texts(&requests[1].body),
        ["first", "Hello from the stand-in.", "second"]
    );
    assert_eq!(texts(&requests[2].body), ["other"]);
}

#[test]
fn streams_converse_stream_as_server_sent_events_as_they_arrive() {
    let standin = StandIn::start();
    standin.answer(Answer::Text("Once upon a time".into()));
    standin.stream_chunks(&["Once ", "upon ", "a ", "time"]);
    standin.hold_after_first_chunk();
    let agent = start(&standin);

    // If the agent buffered the stream, the first event would only come after this release.
    let released_by_timer = Arc::new(AtomicBool::new(false));
    let standin = Arc::new(standin);
    let timer = {
        let (flag, standin) = (released_by_timer.clone(), standin.clone());
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_secs(30));
            flag.store(true, Ordering::SeqCst);
            standin.release();
        })
    };
    let mut first_event_while_held = None;
    let (status, headers, events) = http::post_sse(
        &agent.url("/invocations"),
        &[],
        &json!({ "prompt": "tell me a story", "stream": true }).to_string(),
        |_| {
            if first_event_while_held.is_none() {
                first_event_while_held = Some(!released_by_timer.load(Ordering::SeqCst));
                standin.release();
            }
        },
    )
    .unwrap();
    drop(timer);
    assert_eq!(status, 200);
    let content_type = headers
        .iter()
        .find(|(k, _)| k == "content-type")
        .map(|(_, v)| v.as_str());
    assert_eq!(content_type, Some("text/event-stream"));
    assert_eq!(
        first_event_while_held,
        Some(true),
        "the first chunk waited for the whole answer"
    );

    let chunks: Vec<Value> = events
        .iter()
        .map(|e| serde_json::from_str(&e.data).expect("each event is JSON"))
        .collect();
    let deltas: Vec<&str> = chunks.iter().filter_map(|c| c["delta"].as_str()).collect();
    assert_eq!(deltas, ["Once ", "upon ", "a ", "time"]);
    let last = chunks.last().unwrap();
    assert_eq!(last["done"], true, "{last}");
    assert_eq!(last["stop_reason"], "end_turn");
    assert_eq!(last["usage"]["output_tokens"], 4);
    assert!(standin.requests()[0].stream);
    assert_eq!(standin.requests()[0].model_id, MODEL);
}

#[test]
fn a_streamed_answer_joins_the_session_conversation() {
    let standin = StandIn::start();
    standin.answer(Answer::Text("streamed answer".into()));
    let agent = start(&standin);
    let session = "session-s-0123456789abcdef0123456789abcdef";
    let (status, _, _) = http::post_sse(
        &agent.url("/invocations"),
        &[(agent_testkit::SESSION_HEADER, session)],
        &json!({ "prompt": "one", "stream": true }).to_string(),
        |_| {},
    )
    .unwrap();
    assert_eq!(status, 200);
    let response = agent.invoke(&json!({ "prompt": "two" }), Some(session));
    assert_eq!(response.status, 200);
    let messages = standin.requests()[1].body["messages"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(messages.len(), 3);
    assert_eq!(messages[1]["content"][0]["text"], "streamed answer");
}

#[test]
fn a_failing_stream_is_a_500_without_internals() {
    let standin = StandIn::start();
    standin.answer(Answer::Fail {
        status: 403,
        error_type: "AccessDeniedException".into(),
        message: "You don't have access to the model eu.anthropic.claude-test-v1:0".into(),
    });
    let agent = start(&standin);
    let response = http::post(
        &agent.url("/invocations"),
        &[("content-type", "application/json")],
        json!({ "prompt": "hi", "stream": true })
            .to_string()
            .as_bytes(),
    )
    .unwrap();
    assert_eq!(response.status, 500, "{}", response.body);
    assert!(!response.body.contains("AccessDenied"), "{}", response.body);
    assert!(!response.body.contains(MODEL), "{}", response.body);
}
