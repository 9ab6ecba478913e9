//! A local stand-in for Amazon Bedrock's Converse and ConverseStream, on the real wire format:
//! `POST /model/{modelId}/converse` answers Converse JSON, `POST /model/{modelId}/converse-stream`
//! answers an `application/vnd.amazon.eventstream` body of AWS event-stream frames. An agent
//! reaches it through `AWS_ENDPOINT_URL_BEDROCK_RUNTIME`, with any credentials.
//!
//! Tests choose the answer, see every request (body and SigV4 `Authorization` header), and can
//! hold answers back until they release them, to observe an agent mid-invocation.

use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aws_smithy_types::event_stream::{Header, HeaderValue, Message};
use aws_smithy_types::str_bytes::StrBytes;
use axum::Router;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use bytes::Bytes;
use serde_json::{Value, json};
use tokio::sync::watch;

use crate::in_process::InProcess;

/// What the stand-in answers.
#[derive(Debug, Clone)]
pub enum Answer {
    /// A text message; for ConverseStream, split into the chunks set with
    /// [`StandIn::stream_chunks`] (default: the words of the text).
    Text(String),
    /// A `toolUse` content block (structured output).
    ToolUse { name: String, input: Value },
    /// A model using a tool: a call of `name` with `input`, then, once the request carries
    /// the tool's result (a `toolResult` in its last message), a text answer quoting it:
    /// `The tool said: <the result's text or JSON>` (`The tool failed: …` for an error).
    CallTool { name: String, input: Value },
    /// A text answer, or, when the request forces a tool (`toolChoice.tool`), a call of that
    /// tool with an input made from its schema: any agent gets a well-formed answer.
    Auto,
    /// An AWS error response, e.g. 400 `ValidationException`.
    Fail {
        status: u16,
        error_type: String,
        message: String,
    },
}

/// One request the stand-in received.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub model_id: String,
    pub stream: bool,
    pub authorization: String,
    pub body: Value,
}

impl Recorded {
    /// The conversation the request carried: (role, first text block) per message, in order.
    pub fn messages(&self) -> Vec<(String, String)> {
        let text = |v: &Value| v.as_str().unwrap_or_default().to_string();
        self.body["messages"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|m| (text(&m["role"]), text(&m["content"][0]["text"])))
            .collect()
    }
}

const DEFAULT_TEXT: &str = "Hello from the stand-in.";

struct Shared {
    answer: Mutex<Answer>,
    chunks: Mutex<Option<Vec<String>>>,
    requests: Mutex<Vec<Recorded>>,
    /// `true` while answers flow; tests close it to hold answers back.
    gate: watch::Sender<bool>,
    hold_mid_stream: Mutex<bool>,
}

pub struct StandIn {
    server: InProcess,
    shared: Arc<Shared>,
}

impl StandIn {
    /// Starts on 127.0.0.1 on a free port, answering `Text("Hello from the stand-in.")`.
    pub fn start() -> StandIn {
        StandIn::start_on(0).expect("start the Converse stand-in")
    }

    pub fn start_on(port: u16) -> anyhow::Result<StandIn> {
        let shared = Arc::new(Shared {
            answer: Mutex::new(Answer::Text(DEFAULT_TEXT.into())),
            chunks: Mutex::new(None),
            requests: Mutex::new(Vec::new()),
            gate: watch::Sender::new(true),
            hold_mid_stream: Mutex::new(false),
        });
        let app = Router::new()
            .route("/model/{model_id}/converse", post(converse))
            .route("/model/{model_id}/converse-stream", post(converse_stream))
            .with_state(shared.clone());
        Ok(StandIn {
            server: InProcess::serve(port, app)?,
            shared,
        })
    }

    /// For `AWS_ENDPOINT_URL_BEDROCK_RUNTIME`.
    pub fn url(&self) -> &str {
        &self.server.url
    }

    pub fn answer(&self, answer: Answer) {
        *self.shared.answer.lock().unwrap() = answer;
    }

    pub fn stream_chunks(&self, chunks: &[&str]) {
        *self.shared.chunks.lock().unwrap() = Some(chunks.iter().map(|c| c.to_string()).collect());
    }

    /// Holds every answer back (before its first byte) until [`StandIn::release`].
    pub fn hold(&self) {
        self.shared.gate.send_replace(false);
    }

    /// Streams send their first chunk, then wait for [`StandIn::release`] before the rest.
    pub fn hold_after_first_chunk(&self) {
        *self.shared.hold_mid_stream.lock().unwrap() = true;
        self.shared.gate.send_replace(false);
    }

    pub fn release(&self) {
        self.shared.gate.send_replace(true);
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.shared.requests.lock().unwrap().clone()
    }

    /// Waits until `n` requests have arrived (at most `timeout`); true when they have.
    pub fn wait_for_requests(&self, n: usize, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if self.shared.requests.lock().unwrap().len() >= n {
                return true;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        false
    }
}

impl Drop for StandIn {
    fn drop(&mut self) {
        // Answers held back would keep the server from stopping (then, as a field, it stops).
        self.release();
    }
}

fn record(shared: &Shared, model_id: String, stream: bool, headers: &HeaderMap, body: &Bytes) {
    let authorization = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let body = serde_json::from_slice(body).unwrap_or(Value::Null);
    shared.requests.lock().unwrap().push(Recorded {
        model_id,
        stream,
        authorization,
        body,
    });
}

async fn wait_gate(shared: &Shared) {
    let mut open = shared.gate.subscribe();
    let _ = open.wait_for(|open| *open).await;
}

async fn converse(
    State(shared): State<Arc<Shared>>,
    Path(model_id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    record(&shared, model_id, false, &headers, &body);
    wait_gate(&shared).await;
    let mut answer = shared.answer.lock().unwrap().clone();
    let request: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    if let Answer::Auto = answer {
        answer = auto_answer(&request);
    }
    if let Answer::CallTool { name, input } = answer {
        answer = match tool_result(&request) {
            Some(said) => Answer::Text(said),
            None => Answer::ToolUse { name, input },
        };
    }
    let (content, stop_reason) = match answer {
        Answer::Fail {
            status,
            error_type,
            message,
        } => return aws_error(status, &error_type, &message),
        Answer::Text(text) => (json!([{ "text": text }]), "end_turn"),
        Answer::Auto | Answer::CallTool { .. } => (json!([{ "text": DEFAULT_TEXT }]), "end_turn"),
        Answer::ToolUse { name, input } => (
            json!([{ "toolUse": { "toolUseId": "tooluse_standin", "name": name, "input": input } }]),
            "tool_use",
        ),
    };
    axum::Json(json!({
        "output": { "message": { "role": "assistant", "content": content } },
        "stopReason": stop_reason,
        "usage": { "inputTokens": 12, "outputTokens": 7, "totalTokens": 19 },
        "metrics": { "latencyMs": 1 }
    }))
    .into_response()
}

async fn converse_stream(
    State(shared): State<Arc<Shared>>,
    Path(model_id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    record(&shared, model_id, true, &headers, &body);
    let mid_stream = *shared.hold_mid_stream.lock().unwrap();
    if !mid_stream {
        wait_gate(&shared).await;
    }
    let mut answer = shared.answer.lock().unwrap().clone();
    if let Answer::CallTool { name, input } = answer {
        let request: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
        answer = match tool_result(&request) {
            Some(said) => Answer::Text(said),
            None => Answer::ToolUse { name, input },
        };
    }
    let text = match answer {
        Answer::Fail {
            status,
            error_type,
            message,
        } => return aws_error(status, &error_type, &message),
        Answer::Text(text) => text,
        Answer::Auto | Answer::CallTool { .. } => DEFAULT_TEXT.to_string(),
        Answer::ToolUse { name, input } => return stream_body(tool_use_frames(&name, &input)),
    };
    let chunks = shared
        .chunks
        .lock()
        .unwrap()
        .clone()
        .unwrap_or_else(|| text.split_inclusive(' ').map(str::to_string).collect());
    let (tx, rx) = tokio::sync::mpsc::channel::<Bytes>(16);
    tokio::spawn(async move {
        let _ = tx
            .send(frame("messageStart", json!({ "role": "assistant" })))
            .await;
        for (i, chunk) in chunks.iter().enumerate() {
            let delta = json!({ "contentBlockIndex": 0, "delta": { "text": chunk } });
            if tx.send(frame("contentBlockDelta", delta)).await.is_err() {
                return;
            }
            if i == 0 && mid_stream {
                wait_gate(&shared).await;
            }
        }
        let _ = tx
            .send(frame("contentBlockStop", json!({ "contentBlockIndex": 0 })))
            .await;
        let _ = tx
            .send(frame("messageStop", json!({ "stopReason": "end_turn" })))
            .await;
        let _ = tx.send(metadata(chunks.len())).await;
    });
    stream_body(rx)
}

/// A streamed `toolUse`: its start (id and name), its input JSON in two deltas, the stop.
fn tool_use_frames(name: &str, input: &Value) -> tokio::sync::mpsc::Receiver<Bytes> {
    let input = input.to_string();
    let (head, tail) = input.split_at(input.len() / 2);
    let start = json!({ "contentBlockIndex": 0, "start": { "toolUse": { "toolUseId": "tooluse_standin", "name": name } } });
    let frames = [
        frame("messageStart", json!({ "role": "assistant" })),
        frame("contentBlockStart", start),
        frame(
            "contentBlockDelta",
            json!({ "contentBlockIndex": 0, "delta": { "toolUse": { "input": head } } }),
        ),
        frame(
            "contentBlockDelta",
            json!({ "contentBlockIndex": 0, "delta": { "toolUse": { "input": tail } } }),
        ),
        frame("contentBlockStop", json!({ "contentBlockIndex": 0 })),
        frame("messageStop", json!({ "stopReason": "tool_use" })),
        metadata(3),
    ];
    let (tx, rx) = tokio::sync::mpsc::channel::<Bytes>(frames.len());
    for frame in frames {
        let _ = tx.try_send(frame);
    }
    rx
}

fn metadata(output_tokens: usize) -> Bytes {
    frame(
        "metadata",
        json!({
            "usage": { "inputTokens": 12, "outputTokens": output_tokens, "totalTokens": 12 + output_tokens },
            "metrics": { "latencyMs": 1 }
        }),
    )
}

/// An `application/vnd.amazon.eventstream` body of the frames `rx` gives.
fn stream_body(rx: tokio::sync::mpsc::Receiver<Bytes>) -> Response {
    let body = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv()
            .await
            .map(|bytes| (Ok::<_, Infallible>(bytes), rx))
    });
    Response::builder()
        .header("content-type", "application/vnd.amazon.eventstream")
        .body(Body::from_stream(body))
        .unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response())
}

/// What the tool results of the request's last message say, quoted.
fn tool_result(request: &Value) -> Option<String> {
    let last = request["messages"].as_array()?.last()?;
    let results: Vec<&Value> = last["content"]
        .as_array()?
        .iter()
        .filter_map(|block| block.get("toolResult"))
        .collect();
    if results.is_empty() {
        return None;
    }
    let quoted: Vec<String> = results
        .iter()
        .map(|result| {
            let content = result["content"].as_array().into_iter().flatten();
            let said: Vec<String> = content
                .map(|c| match c.get("text") {
                    Some(Value::String(text)) => text.clone(),
                    _ => c["json"].to_string(),
                })
                .collect();
            let verb = if result["status"] == "error" {
                "failed"
            } else {
                "said"
            };
            format!("The tool {verb}: {}", said.join(" "))
        })
        .collect();
    Some(quoted.join("\n"))
}

fn auto_answer(request: &Value) -> Answer {
    let forced = &request["toolConfig"]["toolChoice"]["tool"]["name"];
    let Some(name) = forced.as_str() else {
        return Answer::Text(DEFAULT_TEXT.into());
    };
    let schema = request["toolConfig"]["tools"]
        .as_array()
        .and_then(|tools| tools.iter().find(|t| t["toolSpec"]["name"] == name))
        .map(|t| t["toolSpec"]["inputSchema"]["json"].clone())
        .unwrap_or(Value::Null);
    Answer::ToolUse {
        name: name.to_string(),
        input: example_of(&schema),
    }
}

/// A value that fits a JSON schema: the first of an `enum`, else a plain value of its type;
/// `true` for a flag, so that a workflow branching on it takes the branch that does something.
fn example_of(schema: &Value) -> Value {
    if let Some(first) = schema["enum"].as_array().and_then(|e| e.first()) {
        return first.clone();
    }
    match schema["type"].as_str() {
        Some("object") => Value::Object(
            schema["properties"]
                .as_object()
                .map(|p| p.iter().map(|(k, v)| (k.clone(), example_of(v))).collect())
                .unwrap_or_default(),
        ),
        Some("array") => json!([example_of(&schema["items"])]),
        Some("boolean") => json!(true),
        Some("integer") | Some("number") => json!(1),
        _ => json!("example"),
    }
}

/// One event-stream frame as Bedrock sends it: the event's members as a JSON payload.
fn frame(event_type: &'static str, payload: Value) -> Bytes {
    let message = Message::new(payload.to_string().into_bytes())
        .add_header(Header::new(
            ":event-type",
            HeaderValue::String(StrBytes::from(event_type)),
        ))
        .add_header(Header::new(
            ":content-type",
            HeaderValue::String(StrBytes::from("application/json")),
        ))
        .add_header(Header::new(
            ":message-type",
            HeaderValue::String(StrBytes::from("event")),
        ));
    let mut buffer = Vec::new();
    aws_smithy_eventstream::frame::write_message_to(&message, &mut buffer)
        .expect("encode an event-stream frame");
    Bytes::from(buffer)
}

/// An AWS error of the JSON protocols: the status, `x-amzn-errortype`, `{"message"}`.
pub(crate) fn aws_error(status: u16, error_type: &str, message: &str) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST);
    Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .header("x-amzn-errortype", error_type)
        .body(Body::from(json!({ "message": message }).to_string()))
        .unwrap_or_else(|_| status.into_response())
}
