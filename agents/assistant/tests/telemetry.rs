//! The assistant's traces and metrics, exported over OTLP/HTTP to a receiver that decodes them
//! with the official OTLP protobuf definitions (agent-testkit's `otlp_receiver.py`), and the
//! same invocations answered alike when nothing receives them.

use std::net::TcpListener;
use std::path::Path;
use std::time::Duration;

use agent_testkit::agent::{AgentProcess, bedrock_env};
use agent_testkit::converse::{Answer, StandIn};
use agent_testkit::http;
use agent_testkit::otlp::OtlpReceiver;
use serde_json::{Value, json};

const MODEL: &str = "eu.anthropic.claude-test-v1:0";
const MEMORY_ID: &str = "agentcore_test_memory-0123456789";
const SESSION: &str = "otel-session-0123456789abcdef0123456789abcdef";
const REQUEST_ID: &str = "req-otel-0f6c2a1e";
/// The caller's trace context, as AgentCore passes it on.
const TRACE_ID: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const PARENT_ID: &str = "00f067aa0ba902b7";

/// How long the exports may take to arrive (the exporters send every 100-500 ms here).
const ARRIVAL: Duration = Duration::from_secs(60);

fn start(standin: &StandIn, otel: &[(&str, &str)]) -> AgentProcess {
    let mut env = bedrock_env(standin.url(), MODEL, "eu-west-3");
    env.extend(otel.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    AgentProcess::start(Path::new(env!("CARGO_BIN_EXE_assistant")), &env)
}

/// Export soon (not every 5 s and 60 s), so that the test waits little.
fn exporting_to(endpoint: &str) -> Vec<(&'static str, String)> {
    vec![
        ("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint.to_string()),
        ("OTEL_BSP_SCHEDULE_DELAY", "100".into()),
        ("OTEL_METRIC_EXPORT_INTERVAL", "500".into()),
    ]
}

fn invoke(agent: &AgentProcess, payload: &Value) -> http::Response {
    let traceparent = format!("00-{TRACE_ID}-{PARENT_ID}-01");
    http::post(
        &agent.url("/invocations"),
        &[
            ("content-type", "application/json"),
            (agent_testkit::SESSION_HEADER, SESSION),
            ("X-Amzn-Bedrock-AgentCore-Runtime-Request-Id", REQUEST_ID),
            ("traceparent", &traceparent),
        ],
        payload.to_string().as_bytes(),
    )
    .expect("POST /invocations")
}

fn spans_named<'a>(records: &'a [Value], name: &str) -> Vec<&'a Value> {
    records
        .iter()
        .filter(|r| r["signal"] == "span" && r["name"] == name)
        .collect()
}

/// The sum of a metric's points whose attributes include `with`.
fn metric_sum(records: &[Value], name: &str, with: &Value) -> Option<f64> {
    let mut sums = records
        .iter()
        .filter(|r| r["signal"] == "metric" && r["name"] == name)
        .flat_map(|r| r["points"].as_array().cloned().unwrap_or_default())
        .filter(|p| {
            with.as_object()
                .unwrap()
                .iter()
                .all(|(k, v)| &p["attributes"][k] == v)
        })
        .map(|p| {
            p["sum"]
                .as_f64()
                .or_else(|| p["value"].as_f64())
                .unwrap_or(0.0)
        });
    // Cumulative temporality: the newest export holds the total.
    sums.next_back()
}

#[test]
fn an_invocation_is_a_span_in_the_callers_trace_with_the_model_call_as_its_child() {
    let receiver = OtlpReceiver::start();
    let standin = StandIn::start();
    standin.answer(Answer::Text("Paris.".into()));
    let memory = agent_testkit::memory::StandIn::start();
    let mut otel = exporting_to(&receiver.url());
    otel.push(("AWS_ENDPOINT_URL_BEDROCK_AGENTCORE", memory.url().into()));
    otel.push(("AGENTCORE_MEMORY_ID", MEMORY_ID.into()));
    otel.push(("OTEL_SERVICE_NAME", "assistant-dev".into()));
    otel.push((
        "OTEL_RESOURCE_ATTRIBUTES",
        "deployment.environment.name=test".into(),
    ));
    let otel: Vec<(&str, &str)> = otel.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let agent = start(&standin, &otel);

    let response = invoke(&agent, &json!({ "prompt": "Capital of France?" }));
    assert_eq!(response.status, 200, "{}", response.body);
    let chat = format!("chat {MODEL}");
    let received = receiver.wait_for(ARRIVAL, |r| {
        !spans_named(r, "invocation").is_empty()
            && !spans_named(r, &chat).is_empty()
            && !spans_named(r, "memory CreateEvent").is_empty()
    });
    assert!(
        received.iter().all(|r| r["signal"] != "error"),
        "the receiver could not decode an export: {received:#?}"
    );

    let invocation = spans_named(&received, "invocation");
    assert_eq!(invocation.len(), 1, "{received:#?}");
    let invocation = invocation[0];
    assert_eq!(invocation["kind"], "SPAN_KIND_SERVER");
    assert_eq!(invocation["trace_id"], TRACE_ID, "the caller's trace");
    assert_eq!(invocation["parent_span_id"], PARENT_ID, "the caller's span");
    assert_eq!(invocation["attributes"]["session.id"], SESSION);
    assert_eq!(invocation["attributes"]["session_id"], SESSION);
    assert_eq!(invocation["attributes"]["request_id"], REQUEST_ID);
    assert_eq!(invocation["resource"]["service.name"], "assistant-dev");
    assert_eq!(
        invocation["resource"]["deployment.environment.name"],
        "test"
    );
    assert_eq!(invocation["content_type"], "application/x-protobuf");

    let model = spans_named(&received, &chat);
    assert_eq!(model.len(), 1, "{received:#?}");
    let model = model[0];
    assert_eq!(model["kind"], "SPAN_KIND_CLIENT");
    assert_eq!(model["trace_id"], TRACE_ID);
    assert_eq!(model["parent_span_id"], invocation["span_id"], "a child");
    let attributes = &model["attributes"];
    assert_eq!(attributes["gen_ai.operation.name"], "chat");
    assert_eq!(attributes["gen_ai.provider.name"], "aws.bedrock");
    assert_eq!(attributes["gen_ai.system"], "aws.bedrock");
    assert_eq!(attributes["gen_ai.request.model"], MODEL);
    // What the Converse stand-in reported.
    assert_eq!(attributes["gen_ai.usage.input_tokens"], 12);
    assert_eq!(attributes["gen_ai.usage.output_tokens"], 7);
    assert_eq!(
        attributes["gen_ai.response.finish_reasons"],
        json!(["end_turn"])
    );

    // The conversation read from and written to AgentCore Memory: a client span each, children
    // of the invocation, with the attributes AgentCore's own memory spans carry.
    for operation in ["ListEvents", "CreateEvent"] {
        let spans = spans_named(&received, &format!("memory {operation}"));
        assert_eq!(spans.len(), 1, "{operation}: {received:#?}");
        let span = spans[0];
        assert_eq!(span["kind"], "SPAN_KIND_CLIENT", "{span}");
        assert_eq!(span["parent_span_id"], invocation["span_id"], "{span}");
        assert_eq!(span["attributes"]["memory.id"], MEMORY_ID, "{span}");
        assert_eq!(span["attributes"]["session.id"], SESSION, "{span}");
        assert_eq!(span["attributes"]["memory.operation"], operation, "{span}");
    }

    // A streamed answer: the model span ends with the stream's metadata (one token a chunk).
    standin.stream_chunks(&["Par", "is", "."]);
    let (status, _, events) = http::post_sse(
        &agent.url("/invocations"),
        &[(agent_testkit::SESSION_HEADER, SESSION)],
        &json!({ "prompt": "And of Italy?", "stream": true }).to_string(),
        |_| {},
    )
    .expect("POST /invocations (stream)");
    assert_eq!(status, 200);
    assert!(events.iter().any(|e| e.data.contains("\"done\"")));
    let received = receiver.wait_for(ARRIVAL, |r| spans_named(r, &chat).len() == 2);
    let streamed = spans_named(&received, &chat)
        .into_iter()
        .find(|s| s["attributes"]["gen_ai.usage.output_tokens"] == 3)
        .unwrap_or_else(|| panic!("no streamed model span with 3 output tokens: {received:#?}"));
    assert_eq!(streamed["attributes"]["gen_ai.usage.input_tokens"], 12);

    // The metrics: two invocations answered 200, and the token usage of both calls.
    let token_usage = |r: &[Value], kind: &str| {
        metric_sum(
            r,
            "gen_ai.client.token.usage",
            &json!({ "gen_ai.token.type": kind }),
        )
    };
    let received = receiver.wait_for(ARRIVAL, |r| {
        token_usage(r, "output") == Some(10.0)
            && metric_sum(
                r,
                "agentcore.runtime.invocations",
                &json!({ "http.response.status_code": 200 }),
            ) == Some(2.0)
    });
    assert_eq!(token_usage(&received, "input"), Some(24.0), "{received:#?}");
    assert_eq!(
        token_usage(&received, "output"),
        Some(10.0),
        "{received:#?}"
    );
    let model_attributes = json!({
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "aws.bedrock",
        "gen_ai.request.model": MODEL,
    });
    assert!(
        metric_sum(
            &received,
            "gen_ai.client.operation.duration",
            &model_attributes
        )
        .is_some(),
        "{received:#?}"
    );
    assert_eq!(
        metric_sum(
            &received,
            "agentcore.runtime.invocations",
            &json!({ "agentcore.protocol": "http", "http.response.status_code": 200 }),
        ),
        Some(2.0),
        "{received:#?}"
    );
    let metric = received
        .iter()
        .find(|r| r["signal"] == "metric" && r["name"] == "gen_ai.client.token.usage")
        .unwrap();
    assert_eq!(metric["resource"]["service.name"], "assistant-dev");
}

/// The answers (status and body) of the same invocations, good and bad.
fn answers(agent: &AgentProcess) -> Vec<(u16, Value)> {
    [
        json!({ "prompt": "Capital of France?" }),
        json!({ "prompt": " " }),
    ]
    .iter()
    .map(|payload| {
        let response = invoke(agent, payload);
        let mut body = response.json();
        // Ids differ between runs, not what the caller is told.
        if let Some(map) = body.as_object_mut() {
            map.remove("request_id");
        }
        (response.status, body)
    })
    .collect()
}

#[test]
fn without_a_receiver_invocations_answer_as_without_telemetry_and_the_agent_still_stops() {
    let standin = StandIn::start();
    standin.answer(Answer::Text("Paris.".into()));
    let plain = start(&standin, &[]);
    let expected = answers(&plain);
    assert_eq!(expected[0].0, 200);
    assert_eq!(expected[1].0, 400);

    // A closed port: every export is refused.
    let closed = format!("http://127.0.0.1:{}", agent_testkit::free_port());
    let otel = exporting_to(&closed);
    let otel: Vec<(&str, &str)> = otel.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let refused = start(&standin, &otel);
    assert_eq!(answers(&refused), expected);

    // A collector that accepts connections and never answers, with a 10-minute export
    // timeout: the exports hang, the invocations may not, and neither may the stop.
    let silent = TcpListener::bind("127.0.0.1:0").expect("bind");
    let silent_url = format!("http://{}", silent.local_addr().unwrap());
    let mut otel = exporting_to(&silent_url);
    otel.push(("OTEL_EXPORTER_OTLP_TIMEOUT", "600000".into()));
    let otel: Vec<(&str, &str)> = otel.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let mut hung = start(&standin, &otel);
    for _ in 0..3 {
        assert_eq!(answers(&hung), expected);
    }
    hung.terminate();
    let status = hung.wait_exit(Duration::from_secs(60));
    assert!(
        status.is_some_and(|s| s.success()),
        "the agent did not stop cleanly while its collector hung ({status:?}):\n{}",
        hung.logs()
    );
    assert!(
        hung.logs().contains("telemetry not flushed"),
        "the lost telemetry is said: {}",
        hung.logs()
    );
}
