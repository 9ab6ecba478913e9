//! The AgentCore runtime contract, exercised on the real `assistant` process: `/ping`, the
//! invocation path, every kind of bad input, and graceful shutdown.

use std::path::Path;
use std::time::Duration;

use agent_testkit::agent::{AgentProcess, bedrock_env};
use agent_testkit::converse::{Answer, StandIn};
use agent_testkit::http;
use serde_json::json;

const MODEL: &str = "us.amazon.nova-lite-v1:0";
const SESSION: &str = "contract-test-session-0123456789abcdef0123";

fn start(standin: &StandIn, extra: &[(&str, &str)]) -> AgentProcess {
    let mut env = bedrock_env(standin.url(), MODEL, "eu-west-3");
    env.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    AgentProcess::start(Path::new(env!("CARGO_BIN_EXE_assistant")), &env)
}

#[test]
fn ping_is_healthy_when_idle() {
    let standin = StandIn::start();
    let agent = start(&standin, &[]);
    let ping = agent.ping();
    assert_eq!(ping["status"], "Healthy", "{ping}");
    let time = ping["time_of_last_update"].as_u64().expect("unix seconds");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    assert!(time > 1_700_000_000 && time <= now, "{ping}");
}

#[test]
fn ping_is_busy_while_an_invocation_is_in_flight() {
    let standin = StandIn::start();
    let agent = start(&standin, &[]);
    standin.hold();
    std::thread::scope(|s| {
        let call = s.spawn(|| agent.invoke(&json!({ "prompt": "slow one" }), Some(SESSION)));
        assert!(
            standin.wait_for_requests(1, Duration::from_secs(30)),
            "no Converse call"
        );
        assert_eq!(agent.ping()["status"], "HealthyBusy");
        standin.release();
        let response = call.join().unwrap();
        assert_eq!(response.status, 200, "{}", response.body);
    });
    assert_eq!(agent.ping()["status"], "Healthy");
}

#[test]
fn ping_is_busy_until_a_stream_ends() {
    let standin = StandIn::start();
    standin.hold_after_first_chunk();
    let agent = start(&standin, &[]);
    let url = agent.url("/invocations");
    let mut busy_mid_stream = None;
    let (status, _, events) = http::post_sse(
        &url,
        &[],
        &json!({ "prompt": "stream", "stream": true }).to_string(),
        |_event| {
            if busy_mid_stream.is_none() {
                // The stand-in holds the rest of the stream: the invocation is still running.
                busy_mid_stream = Some(agent.ping()["status"].clone());
                standin.release();
            }
        },
    )
    .unwrap();
    assert_eq!(status, 200);
    assert_eq!(busy_mid_stream, Some(json!("HealthyBusy")));
    assert!(events.len() > 1);
    // The server lets go of the stream just after its last bytes; allow it that moment.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while agent.ping()["status"] != "Healthy" && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(agent.ping()["status"], "Healthy");
}

#[test]
fn the_session_and_request_ids_reach_the_handler_and_every_log_line() {
    let standin = StandIn::start();
    let agent = start(&standin, &[]);
    let request_id = "7d1e0c3a-platform-request-id";
    let response = http::post(
        &agent.url("/invocations"),
        &[
            ("content-type", "application/json"),
            (agent_testkit::SESSION_HEADER, SESSION),
            ("X-Amzn-Bedrock-AgentCore-Runtime-Request-Id", request_id),
        ],
        json!({ "prompt": "hi" }).to_string().as_bytes(),
    )
    .unwrap();
    assert_eq!(response.status, 200, "{}", response.body);
    assert_eq!(response.json()["session_id"], SESSION);
    assert_eq!(
        response.header("x-amzn-bedrock-agentcore-runtime-session-id"),
        Some(SESSION)
    );
    let lines: Vec<_> = agent
        .log_lines()
        .into_iter()
        .filter(|line| line["span"]["session_id"] == SESSION)
        .collect();
    assert!(
        lines.iter().any(|line| line["message"] == "answered"),
        "no log line with the session id:\n{}",
        agent.logs()
    );
    assert!(
        lines
            .iter()
            .all(|line| line["span"]["request_id"] == request_id),
        "a line of the invocation without AgentCore's request id:\n{}",
        agent.logs()
    );
}

#[test]
fn malformed_json_is_a_400_naming_the_position() {
    let standin = StandIn::start();
    let agent = start(&standin, &[]);
    let response = http::post(
        &agent.url("/invocations"),
        &[("content-type", "application/json")],
        b"{\"prompt\": ",
    )
    .unwrap();
    assert_eq!(response.status, 400, "{}", response.body);
    let body = response.json();
    assert_eq!(body["error"]["code"], "malformed_json");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("line 1"),
        "{body}"
    );
    assert!(standin.requests().is_empty());
}

#[test]
fn a_payload_of_the_wrong_shape_is_a_422() {
    let standin = StandIn::start();
    let agent = start(&standin, &[]);
    let response = agent.invoke(&json!({ "question": "hi" }), None);
    assert_eq!(response.status, 422, "{}", response.body);
    let message = response.json()["error"]["message"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(message.contains("question"), "{message}");
}

#[test]
fn any_content_type_is_read_as_json_and_a_non_json_body_is_told_why() {
    // InvokeAgentRuntime's content type is optional: what the platform delivers is answered.
    let standin = StandIn::start();
    let agent = start(&standin, &[]);
    let url = agent.url("/invocations");
    let body = json!({ "prompt": "hi" }).to_string();
    let response = http::post(&url, &[("content-type", "text/plain")], body.as_bytes()).unwrap();
    assert_eq!(response.status, 200, "{}", response.body);
    let response = http::post(&url, &[("content-type", "text/plain")], b"hi there").unwrap();
    assert_eq!(response.status, 400, "{}", response.body);
    let message = response.json()["error"]["message"].to_string();
    assert!(message.contains("sent as `text/plain`"), "{message}");
}

#[test]
fn a_body_over_the_limit_is_a_413_declared_or_chunked() {
    let standin = StandIn::start();
    let agent = start(&standin, &[("MAX_BODY_BYTES", "1024")]);
    let url = agent.url("/invocations");
    let big = json!({ "prompt": "x".repeat(4096) }).to_string();
    let headers = [("content-type", "application/json")];
    let declared = http::post(&url, &headers, big.as_bytes()).unwrap();
    assert_eq!(declared.status, 413, "{}", declared.body);
    assert_eq!(declared.json()["error"]["code"], "payload_too_large");
    let chunked = http::post_chunked(&url, &headers, big.as_bytes()).unwrap();
    assert_eq!(chunked.status, 413, "{}", chunked.body);
    // Just under the limit still goes through.
    let small = json!({ "prompt": "x".repeat(900) }).to_string();
    let ok = http::post_chunked(&url, &headers, small.as_bytes()).unwrap();
    assert_eq!(ok.status, 200, "{}", ok.body);
}

#[test]
fn an_empty_prompt_is_the_handlers_400() {
    let standin = StandIn::start();
    let agent = start(&standin, &[]);
    let response = agent.invoke(&json!({ "prompt": "  " }), None);
    assert_eq!(response.status, 400, "{}", response.body);
    assert_eq!(response.json()["error"]["code"], "invalid_request");
    assert!(standin.requests().is_empty());
}

#[test]
fn a_failing_handler_is_a_500_that_leaks_nothing() {
    let standin = StandIn::start();
    let secret = "arn:aws:iam::123456789012:role/internal-detail";
    standin.answer(Answer::Fail {
        status: 400,
        error_type: "ValidationException".into(),
        message: format!("The provided model identifier is invalid for {secret}"),
    });
    let agent = start(&standin, &[]);
    let response = agent.invoke(&json!({ "prompt": "hi" }), Some(SESSION));
    assert_eq!(response.status, 500, "{}", response.body);
    let body = response.json();
    assert_eq!(body["error"]["code"], "internal_error");
    let request_id = body["error"]["request_id"].as_str().unwrap().to_string();
    for leak in [secret, "ValidationException", "Converse", MODEL] {
        assert!(
            !response.body.contains(leak),
            "the body leaks `{leak}`: {}",
            response.body
        );
    }
    // The cause is in the log, under the request id the client got.
    let logged = agent.log_lines().into_iter().any(|l| {
        l["level"] == "ERROR"
            && l["span"]["request_id"] == request_id.as_str()
            && l["error"]
                .as_str()
                .is_some_and(|e| e.contains("ValidationException"))
    });
    assert!(logged, "the cause is not logged:\n{}", agent.logs());
}

#[test]
fn unknown_routes_and_methods_get_json_errors() {
    let standin = StandIn::start();
    let agent = start(&standin, &[]);
    let missing = http::get(&agent.url("/nope")).unwrap();
    assert_eq!(missing.status, 404);
    assert_eq!(missing.json()["error"]["code"], "not_found");
    let wrong = http::get(&agent.url("/invocations")).unwrap();
    assert_eq!(wrong.status, 405);
    assert_eq!(wrong.json()["error"]["code"], "method_not_allowed");
}

#[test]
fn sigterm_lets_the_request_in_flight_finish_then_exits_0() {
    let standin = StandIn::start();
    let mut agent = start(&standin, &[]);
    standin.hold();
    let url = agent.url("/invocations");
    let call = std::thread::spawn(move || {
        http::post(
            &url,
            &[("content-type", "application/json")],
            json!({ "prompt": "finish me" }).to_string().as_bytes(),
        )
    });
    assert!(
        standin.wait_for_requests(1, Duration::from_secs(30)),
        "no Converse call"
    );
    agent.terminate();
    // The agent has seen the signal and is shutting down, but keeps the invocation it holds.
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while !agent.logs().contains("shutting down") && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(
        agent.logs().contains("\"signal\":\"SIGTERM\""),
        "{}",
        agent.logs()
    );
    assert!(
        agent.is_running(),
        "the agent exited with a request in flight:\n{}",
        agent.logs()
    );
    standin.release();
    let response = call
        .join()
        .unwrap()
        .expect("the request in flight completes");
    assert_eq!(response.status, 200, "{}", response.body);
    assert_eq!(response.json()["answer"], "Hello from the stand-in.");
    let status = agent
        .wait_exit(Duration::from_secs(30))
        .expect("the agent exits");
    assert_eq!(status.code(), Some(0), "{}", agent.logs());
}

#[test]
fn without_model_variables_the_blueprints_model_is_used() {
    let standin = StandIn::start();
    let env: Vec<(String, String)> = bedrock_env(standin.url(), MODEL, "eu-west-3")
        .into_iter()
        .filter(|(k, _)| !k.starts_with("MODEL_"))
        .collect();
    let agent = AgentProcess::start(Path::new(env!("CARGO_BIN_EXE_assistant")), &env);
    let response = agent.invoke(&json!({ "prompt": "hi" }), None);
    assert_eq!(response.status, 200, "{}", response.body);
    let call = &standin.requests()[0];
    assert_eq!(call.model_id, "us.amazon.nova-lite-v1:0");
    assert_eq!(call.body["inferenceConfig"]["maxTokens"], 1024);
}

#[test]
fn a_bad_setting_stops_the_agent_with_a_clear_error() {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_assistant"))
        .env("MODEL_MAX_TOKENS", "lots")
        .env("PORT", agent_testkit::free_port().to_string())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("MODEL_MAX_TOKENS=\"lots\" is not valid"),
        "{stderr}"
    );
}

#[test]
fn sigint_stops_an_idle_agent_with_exit_0() {
    let standin = StandIn::start();
    let mut agent = start(&standin, &[]);
    agent.signal("INT");
    let status = agent
        .wait_exit(Duration::from_secs(30))
        .expect("the agent exits");
    assert_eq!(status.code(), Some(0), "{}", agent.logs());
    assert!(
        agent.logs().contains("\"signal\":\"SIGINT\""),
        "{}",
        agent.logs()
    );
}
