//! The assistant with AgentCore Memory: the real binary, its Converse calls answered by the
//! Converse stand-in and its memory calls by the Memory stand-in, both reached through the
//! standard `AWS_ENDPOINT_URL_<SERVICE>` variables (`BEDROCK_AGENTCORE`: the SDK's service id,
//! "Bedrock AgentCore").

use std::path::Path;

use agent_testkit::agent::{AgentProcess, bedrock_env};
use agent_testkit::converse::{self, Answer};
use agent_testkit::http;
use agent_testkit::memory::{self, MEMORY_ID, Outage};
use serde_json::{Value, json};

const MODEL: &str = "eu.anthropic.claude-test-v1:0";
const SESSION: &str = "session-m-0123456789abcdef0123456789abcdef";
const USER_HEADER: &str = "X-Amzn-Bedrock-AgentCore-Runtime-User-Id";
/// A caller's `runtimeUserId`, and the actor id it becomes (`@` and `.` are not allowed there).
const USER: &str = "ada@example.com";
const ACTOR: &str = "ada_40example_2Ecom";

fn start(bedrock: &converse::StandIn, memory: &memory::StandIn) -> AgentProcess {
    let mut env = bedrock_env(bedrock.url(), MODEL, "eu-west-3");
    env.push((
        "AWS_ENDPOINT_URL_BEDROCK_AGENTCORE".into(),
        memory.url().into(),
    ));
    env.push(("AGENTCORE_MEMORY_ID".into(), MEMORY_ID.into()));
    AgentProcess::start(Path::new(env!("CARGO_BIN_EXE_assistant")), &env)
}

/// An invocation in `SESSION` by `USER`, answered whole.
fn ask(agent: &AgentProcess, prompt: &str) -> Value {
    let response = http::post(
        &agent.url("/invocations"),
        &[
            (agent_testkit::SESSION_HEADER, SESSION),
            (USER_HEADER, USER),
        ],
        json!({ "prompt": prompt }).to_string().as_bytes(),
    )
    .expect("POST /invocations");
    assert_eq!(response.status, 200, "{}", response.body);
    response.json()
}

fn pair(role: &str, text: &str) -> (String, String) {
    (role.to_string(), text.to_string())
}

#[test]
fn a_session_continues_in_a_new_process_from_what_memory_recorded() {
    let bedrock = converse::StandIn::start();
    let memory = memory::StandIn::start();
    // Pages of one event: the history is read by following nextToken.
    memory.page_size(1);
    bedrock.answer(Answer::Text("Hello Ada.".into()));
    let first = start(&bedrock, &memory);
    ask(&first, "My name is Ada.");
    bedrock.answer(Answer::Text("Noted streamed.".into()));
    let (status, _, _) = http::post_sse(
        &first.url("/invocations"),
        &[
            (agent_testkit::SESSION_HEADER, SESSION),
            (USER_HEADER, USER),
        ],
        &json!({ "prompt": "I like tea.", "stream": true }).to_string(),
        |_| {},
    )
    .expect("stream");
    assert_eq!(status, 200);
    // AgentCore ended the session's microVM; the next invocation gets a new process.
    drop(first);
    let second = start(&bedrock, &memory);
    bedrock.answer(Answer::Text("You are Ada.".into()));
    let answer = ask(&second, "Who am I?");
    assert_eq!(answer["answer"], "You are Ada.");

    let calls = bedrock.requests();
    assert_eq!(calls.len(), 3);
    assert_eq!(
        calls[2].messages(),
        vec![
            pair("user", "My name is Ada."),
            pair("assistant", "Hello Ada."),
            pair("user", "I like tea."),
            pair("assistant", "Noted streamed."),
            pair("user", "Who am I?"),
        ]
    );

    let requests = memory.requests();
    assert!(!requests.is_empty());
    for r in &requests {
        assert_eq!(r.memory_id, MEMORY_ID, "{r:?}");
        if r.operation != "RetrieveMemoryRecords" {
            assert_eq!(
                (r.actor_id.as_str(), r.session_id.as_str()),
                (ACTOR, SESSION),
                "{r:?}"
            );
        }
        // Signed like any SDK call, for the runtime's region and the service's signing name.
        assert!(
            r.authorization
                .contains("/us-east-1/bedrock-agentcore/aws4_request"),
            "{}",
            r.authorization
        );
    }
    let created: Vec<&Value> = requests
        .iter()
        .filter(|r| r.operation == "CreateEvent")
        .map(|r| &r.body)
        .collect();
    assert_eq!(created.len(), 3, "one event per exchange");
    assert_eq!(
        created[0]["payload"],
        json!([
            { "conversational": { "role": "USER", "content": { "text": "My name is Ada." } } },
            { "conversational": { "role": "ASSISTANT", "content": { "text": "Hello Ada." } } },
        ])
    );
    assert!(created[0]["eventTimestamp"].is_number(), "{}", created[0]);
    // The third invocation read two pages: the second with the token the first gave.
    let listed: Vec<&Value> = requests
        .iter()
        .filter(|r| r.operation == "ListEvents")
        .map(|r| &r.body)
        .skip(2)
        .collect();
    assert_eq!(listed.len(), 2, "{listed:?}");
    assert_eq!(listed[0]["includePayloads"], true);
    assert_eq!(listed[0].get("nextToken"), None);
    assert_eq!(listed[1]["nextToken"], "1");
}

#[test]
fn the_history_is_bounded_to_the_last_exchanges() {
    let bedrock = converse::StandIn::start();
    let memory = memory::StandIn::start();
    memory.page_size(4);
    let agent = start(&bedrock, &memory);
    for n in 0..12 {
        ask(&agent, &format!("question {n}"));
    }
    let last = bedrock.requests().pop().expect("a Converse call");
    let messages = last.messages();
    // Ten exchanges (agentcore_runtime::memory::HISTORY_EXCHANGES) and the new question.
    assert_eq!(messages.len(), 21, "{messages:?}");
    assert_eq!(messages[0], pair("user", "question 1"));
    assert_eq!(messages[20], pair("user", "question 11"));
    // Pages of 4, 4 and 2 for the last invocation: never more than it keeps.
    let pages: Vec<Value> = memory
        .requests()
        .iter()
        .filter(|r| r.operation == "ListEvents")
        .map(|r| r.body["maxResults"].clone())
        .collect();
    assert_eq!(pages[pages.len() - 3..], [json!(10), json!(6), json!(2)]);
}

#[test]
fn long_term_records_of_the_strategy_namespaces_reach_the_model() {
    let bedrock = converse::StandIn::start();
    let memory = memory::StandIn::start();
    // The assistant's blueprint: SUMMARIZATION in /summaries/{actorId}/{sessionId}.
    memory.add_record(
        &format!("/summaries/{ACTOR}/{SESSION}"),
        "Ada asked about tea before.",
    );
    memory.add_record("/summaries/someone-else/s-1", "Not Ada's.");
    let agent = start(&bedrock, &memory);
    ask(&agent, "What should I drink?");

    let system = bedrock.requests()[0].body["system"][0]["text"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(system.contains("Ada asked about tea before."), "{system}");
    assert!(!system.contains("Not Ada's."), "{system}");
    let retrieved: Vec<Value> = memory
        .requests()
        .into_iter()
        .filter(|r| r.operation == "RetrieveMemoryRecords")
        .map(|r| r.body)
        .collect();
    assert_eq!(retrieved.len(), 1);
    assert_eq!(
        retrieved[0]["namespace"],
        format!("/summaries/{ACTOR}/{SESSION}")
    );
    assert_eq!(
        retrieved[0]["searchCriteria"]["searchQuery"],
        "What should I drink?"
    );
}

#[test]
fn without_a_user_id_the_documented_default_actor_is_used() {
    let bedrock = converse::StandIn::start();
    let memory = memory::StandIn::start();
    let agent = start(&bedrock, &memory);
    let response = agent.invoke(&json!({ "prompt": "hi" }), Some(SESSION));
    assert_eq!(response.status, 200, "{}", response.body);
    let events = memory.events(MEMORY_ID, "anonymous", SESSION);
    assert_eq!(events.len(), 1, "{:?}", memory.requests());
}

#[test]
fn memory_down_still_answers_and_warns_in_the_log() {
    // A memory that never answers is cut at agentcore_runtime::memory::CALL_TIMEOUT.
    for outage in [Outage::Errors, Outage::Refused, Outage::Hangs] {
        let bedrock = converse::StandIn::start();
        bedrock.answer(Answer::Text("Still here.".into()));
        let memory = memory::StandIn::start();
        let agent = start(&bedrock, &memory);
        memory.down(outage);
        let answer = ask(&agent, "Are you there?");
        assert_eq!(answer["answer"], "Still here.", "{outage:?}");
        // The model got the question, without history.
        assert_eq!(
            bedrock.requests()[0].messages(),
            vec![pair("user", "Are you there?")]
        );
        let warnings: Vec<Value> = agent
            .log_lines()
            .into_iter()
            .filter(|l| l["level"] == "WARN")
            .collect();
        let operations: Vec<&str> = warnings
            .iter()
            .filter(|l| {
                l["message"]
                    .as_str()
                    .is_some_and(|m| m.contains("memory unavailable"))
            })
            .filter_map(|l| l["operation"].as_str())
            .collect();
        for op in ["ListEvents", "RetrieveMemoryRecords", "CreateEvent"] {
            assert!(operations.contains(&op), "{outage:?}: {warnings:#?}");
        }
        // Counted: the third failure of this process says so.
        assert!(
            warnings.iter().any(|l| l["failures"] == 3),
            "{outage:?}: {warnings:#?}"
        );

        // Back up, memory is used again.
        memory.up();
        ask(&agent, "And now?");
        assert_eq!(
            memory.events(MEMORY_ID, ACTOR, SESSION).len(),
            1,
            "{outage:?}"
        );
    }
}
