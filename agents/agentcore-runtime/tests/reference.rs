//! The HTTP contract, differentially: every request here goes byte for byte to an agent on
//! `agentcore-runtime` and to the same agent on the official AgentCore Python SDK's server
//! (`bedrock-agentcore`, see `agent-testkit/python/reference_agent.py`), and both must answer
//! alike. Where they differ on purpose, the test says how and the README says why.

use std::net::TcpStream;
use std::time::{Duration, Instant};

use agent_testkit::http::{self, Response};
use agent_testkit::reference::ReferenceAgent;
use agentcore_runtime::{Config, Invocation, Reply, Runtime};
use serde_json::{Value, json};

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Request {
    prompt: String,
}

/// The reference agent's handler, in Rust: the same answer for the same prompt.
async fn handle(
    request: Request,
    inv: Invocation,
) -> Result<Reply, agentcore_runtime::HandlerError> {
    let header = |name: &str| inv.headers().get(name).and_then(|v| v.to_str().ok());
    Reply::json(&json!({
        "answer": format!("{} characters", request.prompt.chars().count()),
        "session_id": inv.session_id(),
        "request_id": inv.request_id(),
        "user_id": inv.user_id(),
        "tenant": inv.custom_header("Tenant"),
        "traceparent": header("traceparent"),
        "baggage": header("baggage"),
        "authorization": header("authorization"),
    }))
}

/// An agent on agentcore-runtime, in a thread of this test process, on a free port.
fn start_ours(extra: &[(&str, &str)]) -> u16 {
    let port = agent_testkit::free_port();
    let mut vars = vec![
        ("PORT".to_string(), port.to_string()),
        ("BIND_ADDRESS".to_string(), "127.0.0.1".to_string()),
    ];
    vars.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    let config = Config::from_lookup("reference", move |name| {
        vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone())
    })
    .unwrap();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Runtime::new().unwrap();
        runtime
            .block_on(Runtime::new(config).serve(handle))
            .unwrap();
    });
    let deadline = Instant::now() + Duration::from_secs(30);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "the agent did not listen");
        std::thread::sleep(Duration::from_millis(20));
    }
    port
}

struct Case {
    name: &'static str,
    method: &'static str,
    path: &'static str,
    headers: Vec<(&'static str, &'static str)>,
    body: Vec<u8>,
}

fn case(name: &'static str, method: &'static str, path: &'static str) -> Case {
    Case {
        name,
        method,
        path,
        headers: Vec::new(),
        body: Vec::new(),
    }
}

impl Case {
    fn header(mut self, name: &'static str, value: &'static str) -> Case {
        self.headers.push((name, value));
        self
    }
    fn body(mut self, body: impl Into<Vec<u8>>) -> Case {
        self.body = body.into();
        self
    }
    fn send(&self, port: u16) -> Response {
        http::raw(port, self.method, self.path, &self.headers, &self.body)
            .unwrap_or_else(|e| panic!("{}: {e:#}", self.name))
    }
}

fn json_body(response: &Response) -> Option<Value> {
    serde_json::from_str(&response.body).ok()
}

const PROMPT: &str = r#"{"prompt": "hi"}"#;

#[test]
fn the_same_requests_get_the_same_answers_as_the_official_sdk_server() {
    let reference = ReferenceAgent::start();
    let ours = start_ours(&[]);
    let big = format!(r#"{{"prompt": "{}"}}"#, "x".repeat(2 * 1024 * 1024));
    let invocation = |name| case(name, "POST", "/invocations");
    let cases = [
        invocation("JSON")
            .header("Content-Type", "application/json")
            .body(PROMPT),
        invocation("JSON with a charset")
            .header("Content-Type", "application/json; charset=utf-8")
            .body(PROMPT),
        invocation("no Content-Type").body(PROMPT),
        invocation("text/plain")
            .header("Content-Type", "text/plain")
            .body(PROMPT),
        invocation("octet-stream")
            .header("Content-Type", "application/octet-stream")
            .body(PROMPT),
        invocation("form-urlencoded")
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(PROMPT),
        invocation("a 2 MiB payload (over the old 1 MiB limit)")
            .header("Content-Type", "application/json")
            .body(big),
        invocation("truncated JSON")
            .header("Content-Type", "application/json")
            .body(r#"{"prompt": "#),
        invocation("truncated JSON whose first key the agent does not take")
            .header("Content-Type", "application/json")
            .body(r#"{"question": "#),
        invocation("not JSON, sent as text")
            .header("Content-Type", "text/plain")
            .body("hello"),
        invocation("an empty body").header("Content-Type", "application/json"),
        invocation("invalid UTF-8")
            .header("Content-Type", "application/json")
            .body(b"\xff\xfe{".to_vec()),
        case("GET /invocations", "GET", "/invocations"),
        case("GET /ping", "GET", "/ping"),
        case("POST /ping", "POST", "/ping").body(PROMPT),
        case("GET an unknown path", "GET", "/nope"),
        case("POST an unknown path", "POST", "/v1/invocations").body(PROMPT),
    ];
    let mut differences = Vec::new();
    for case in &cases {
        let theirs = case.send(reference.port());
        let mine = case.send(ours);
        if theirs.status != mine.status {
            differences.push(format!(
                "{}: the SDK server says {} ({}), agentcore-runtime {} ({})",
                case.name, theirs.status, theirs.body, mine.status, mine.body
            ));
            continue;
        }
        match mine.status {
            200 => {
                let (theirs, mine) = (json_body(&theirs), json_body(&mine));
                let keys = ["answer", "status"];
                for key in keys {
                    let (t, m) = (
                        theirs.as_ref().and_then(|b| b.get(key)),
                        mine.as_ref().and_then(|b| b.get(key)),
                    );
                    if t != m {
                        differences.push(format!("{}: `{key}` {t:?} vs {m:?}", case.name));
                    }
                }
            }
            400 => {
                // Both answer a JSON object with an `error`: the SDK's is a string with
                // `details`; ours an object with a code, a message and the request id.
                let theirs = json_body(&theirs).unwrap_or_default();
                let mine = json_body(&mine).unwrap_or_default();
                let said = theirs["error"].as_str().unwrap_or_default();
                assert!(
                    ["Invalid JSON", "Invalid encoding"].contains(&said),
                    "{}: {theirs}",
                    case.name
                );
                assert_eq!(
                    mine["error"]["code"], "malformed_json",
                    "{}: {mine}",
                    case.name
                );
                assert!(mine["error"]["request_id"].is_string(), "{}", case.name);
            }
            404 | 405 => {
                // Starlette answers routing errors in plain text; ours are JSON like every
                // other error of this runtime, so that a client parses one shape.
                assert!(
                    json_body(&theirs).is_none(),
                    "{}: {}",
                    case.name,
                    theirs.body
                );
                let mine = json_body(&mine).unwrap_or_default();
                assert!(mine["error"]["code"].is_string(), "{}: {mine}", case.name);
            }
            other => differences.push(format!("{}: unexpected status {other}", case.name)),
        }
    }
    assert!(
        differences.is_empty(),
        "agentcore-runtime differs from the official SDK's server:\n  {}",
        differences.join("\n  ")
    );
}

#[test]
fn the_platforms_headers_reach_the_handler_as_they_reach_the_sdks() {
    let reference = ReferenceAgent::start();
    let ours = start_ours(&[]);
    let request = case("platform headers", "POST", "/invocations")
        .header(
            "X-Amzn-Bedrock-AgentCore-Runtime-Session-Id",
            "0123456789-session-abcdefghijklmnop",
        )
        .header(
            "X-Amzn-Bedrock-AgentCore-Runtime-Request-Id",
            "4f1c-platform-request",
        )
        .header("X-Amzn-Bedrock-AgentCore-Runtime-User-Id", "alice")
        .header("X-Amzn-Bedrock-AgentCore-Runtime-Custom-Tenant", "blue")
        .header(
            "traceparent",
            "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
        )
        .header("baggage", "team=agents")
        .header("Authorization", "Bearer abc")
        .body(PROMPT);
    let theirs = request.send(reference.port()).json();
    let mine = request.send(ours).json();
    assert_eq!(theirs["session_id"], mine["session_id"]);
    assert_eq!(theirs["request_id"], "4f1c-platform-request");
    assert_eq!(mine["request_id"], "4f1c-platform-request");
    let forwarded = &theirs["headers"];
    assert_eq!(
        forwarded["x-amzn-bedrock-agentcore-runtime-custom-tenant"],
        mine["tenant"]
    );
    assert_eq!(forwarded["traceparent"], mine["traceparent"]);
    assert_eq!(forwarded["baggage"], mine["baggage"]);
    assert_eq!(forwarded["Authorization"], mine["authorization"]);
    // The SDK keeps the user id to itself (it is an `x-amzn-` header); ours hands it over.
    assert_eq!(mine["user_id"], "alice");

    // The platform's request id is the one errors name, so that AgentCore's logs and ours meet.
    let broken = case("broken", "POST", "/invocations")
        .header("X-Amzn-Bedrock-AgentCore-Runtime-Request-Id", "4f1c-broken")
        .body("{");
    assert_eq!(
        broken.send(ours).json()["error"]["request_id"],
        "4f1c-broken"
    );
}

#[test]
fn where_a_typed_agent_differs_the_shape_is_a_422_after_the_syntax_is_checked() {
    // The SDK's handlers take any JSON, so only a typed handler can tell a payload of the wrong
    // shape: ours says 422 `invalid_payload` where a Python handler decides for itself.
    let ours = start_ours(&[]);
    let wrong = case("wrong shape", "POST", "/invocations").body(r#"{"question": "hi"}"#);
    let response = wrong.send(ours);
    assert_eq!(response.status, 422, "{}", response.body);
    assert_eq!(response.json()["error"]["code"], "invalid_payload");
}

#[test]
fn the_default_body_limit_is_the_platforms_100_mib() {
    let ours = start_ours(&[]);
    // Declared, not sent: a length over the limit is refused before a byte of it is read.
    let declared = [("Content-Length", "104857601")];
    let over = http::raw(ours, "POST", "/invocations", &declared, b"").unwrap();
    assert_eq!(over.status, 413, "{}", over.body);
    assert_eq!(over.json()["error"]["code"], "payload_too_large");
}
