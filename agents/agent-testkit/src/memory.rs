//! A local stand-in for AgentCore Memory's data plane (moto has none), on the rest-json wire
//! format of botocore's `bedrock-agentcore` model (2024-02-28), which the AWS SDKs send:
//! - CreateEvent: `POST /memories/{memoryId}/events` → 201 `{"event"}`;
//! - ListEvents: `POST /memories/{memoryId}/actor/{actorId}/sessions/{sessionId}` →
//!   `{"events", "nextToken"}`, newest first, `maxResults` per page at most;
//! - RetrieveMemoryRecords: `POST /memories/{memoryId}/retrieve` → `{"memoryRecordSummaries"}`,
//!   the records whose namespace starts with the request's `namespace`.
//!
//! An agent reaches it through `AWS_ENDPOINT_URL_BEDROCK_AGENTCORE`. Events are kept in memory
//! (they outlive the agent processes of a test, as the service's do); records are what a
//! test puts there, standing for what the strategies would extract. Tests see every request,
//! and can switch the service down: 500 `ServiceException`s, no listener at all, or requests
//! never answered.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use bytes::Bytes;
use serde_json::{Value, json};
use tokio::sync::watch;

use crate::converse::aws_error;
use crate::in_process::InProcess;

/// A memory id of the service's shape (`<name>-<10 alphanumerics>`).
pub const MEMORY_ID: &str = "standin_memory-a1b2c3d4e5";

/// One request the stand-in received.
#[derive(Debug, Clone)]
pub struct Recorded {
    /// `CreateEvent`, `ListEvents` or `RetrieveMemoryRecords`.
    pub operation: &'static str,
    pub memory_id: String,
    /// From the path for ListEvents, from the body for CreateEvent; empty for retrievals.
    pub actor_id: String,
    pub session_id: String,
    pub authorization: String,
    pub body: Value,
}

/// How the service is down.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outage {
    /// Every request answers 500 `ServiceException`.
    Errors,
    /// Nothing listens on its port: connections are refused.
    Refused,
    /// Requests are taken and never answered (until [`StandIn::up`], which answers them 500
    /// without applying them).
    Hangs,
}

struct Shared {
    /// Per (memory, actor, session), oldest first.
    events: Mutex<HashMap<(String, String, String), Vec<Value>>>,
    records: Mutex<Vec<(String, String)>>,
    requests: Mutex<Vec<Recorded>>,
    failing: Mutex<bool>,
    /// `true` while requests are held unanswered.
    hanging: watch::Sender<bool>,
    page_size: Mutex<Option<usize>>,
}

impl Default for Shared {
    fn default() -> Shared {
        Shared {
            events: Mutex::default(),
            records: Mutex::default(),
            requests: Mutex::default(),
            failing: Mutex::default(),
            hanging: watch::Sender::new(false),
            page_size: Mutex::default(),
        }
    }
}

pub struct StandIn {
    server: Mutex<Option<InProcess>>,
    port: u16,
    url: String,
    shared: Arc<Shared>,
}

impl StandIn {
    /// Starts on 127.0.0.1 on a free port, up, with no events and no records.
    pub fn start() -> StandIn {
        StandIn::start_on(0).expect("start the Memory stand-in")
    }

    /// As [`StandIn::start`], on `port` (0: a free one).
    pub fn start_on(port: u16) -> anyhow::Result<StandIn> {
        let shared = Arc::new(Shared::default());
        let server = InProcess::serve(port, app(shared.clone()))?;
        let url = server.url.clone();
        let port = url
            .rsplit(':')
            .next()
            .and_then(|p| p.parse().ok())
            .ok_or_else(|| anyhow::anyhow!("the stand-in serves on {url}, which has no port"))?;
        Ok(StandIn {
            server: Mutex::new(Some(server)),
            port,
            url,
            shared,
        })
    }

    /// For `AWS_ENDPOINT_URL_BEDROCK_AGENTCORE`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Takes the service down the given way, until [`StandIn::up`].
    pub fn down(&self, outage: Outage) {
        match outage {
            Outage::Errors => *self.shared.failing.lock().unwrap() = true,
            Outage::Refused => drop(self.server.lock().unwrap().take()),
            Outage::Hangs => {
                self.shared.hanging.send_replace(true);
            }
        }
    }

    /// Answers again, with the events it held before.
    pub fn up(&self) {
        *self.shared.failing.lock().unwrap() = false;
        self.shared.hanging.send_replace(false);
        let mut server = self.server.lock().unwrap();
        if server.is_none() {
            *server = Some(
                InProcess::serve(self.port, app(self.shared.clone()))
                    .expect("serve the Memory stand-in on its port again"),
            );
        }
    }

    /// Pages of ListEvents hold at most `n` events whatever `maxResults` asks (the service
    /// may return fewer): clients must follow `nextToken`.
    pub fn page_size(&self, n: usize) {
        *self.shared.page_size.lock().unwrap() = Some(n.max(1));
    }

    /// A long-term record in `namespace`, as a strategy would have extracted it.
    pub fn add_record(&self, namespace: &str, text: &str) {
        let record = (namespace.to_string(), text.to_string());
        self.shared.records.lock().unwrap().push(record);
    }

    /// The events of a session, oldest first, as the service returns them.
    pub fn events(&self, memory_id: &str, actor_id: &str, session_id: &str) -> Vec<Value> {
        let key = (memory_id.into(), actor_id.into(), session_id.into());
        let events = self.shared.events.lock().unwrap();
        events.get(&key).cloned().unwrap_or_default()
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.shared.requests.lock().unwrap().clone()
    }
}

impl Drop for StandIn {
    fn drop(&mut self) {
        // Requests held unanswered would keep the server from stopping.
        self.shared.hanging.send_replace(false);
    }
}

fn app(shared: Arc<Shared>) -> Router {
    Router::new()
        .route(
            "/memories/{memory_id}/events",
            post(|state, path, headers, body| on_memory("CreateEvent", state, path, headers, body)),
        )
        .route(
            "/memories/{memory_id}/actor/{actor_id}/sessions/{session_id}",
            post(list_events),
        )
        .route(
            "/memories/{memory_id}/retrieve",
            post(|state, path, headers, body| {
                on_memory("RetrieveMemoryRecords", state, path, headers, body)
            }),
        )
        .with_state(shared)
}

/// The operations whose path names only the memory.
async fn on_memory(
    operation: &'static str,
    State(shared): State<Arc<Shared>>,
    Path(memory_id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let ids = (memory_id.clone(), String::new(), String::new());
    match receive(&shared, operation, ids, &headers, &body).await {
        Err(refusal) => refusal.into_response(),
        Ok(request) if operation == "CreateEvent" => create_event(&shared, memory_id, &request),
        Ok(request) => retrieve(&shared, &request),
    }
}

/// Why a request gets no answer of its operation.
enum Refusal {
    Down,
    NotJson(String),
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        match self {
            Refusal::Down => aws_error(500, "ServiceException", "the stand-in is down"),
            Refusal::NotJson(problem) => validation(&format!("the body is not JSON: {problem}")),
        }
    }
}

/// Records the request, and reads its body unless the service is down.
async fn receive(
    shared: &Shared,
    operation: &'static str,
    (memory_id, actor_id, session_id): (String, String, String),
    headers: &HeaderMap,
    body: &Bytes,
) -> Result<Value, Refusal> {
    let parsed: Result<Value, _> = serde_json::from_slice(body);
    let body_value = parsed.as_ref().cloned().unwrap_or(Value::Null);
    let from_body = |field: &str| body_value[field].as_str().unwrap_or_default().to_string();
    let recorded = Recorded {
        operation,
        actor_id: if actor_id.is_empty() {
            from_body("actorId")
        } else {
            actor_id
        },
        session_id: if session_id.is_empty() {
            from_body("sessionId")
        } else {
            session_id
        },
        memory_id,
        authorization: headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string(),
        body: body_value.clone(),
    };
    shared.requests.lock().unwrap().push(recorded);
    let mut hanging = shared.hanging.subscribe();
    let held = *hanging.borrow_and_update();
    let _ = hanging.wait_for(|hanging| !*hanging).await;
    // A request held through the outage is not applied when the service comes back: its
    // client gave up long ago, and a test must not see it land at a moment of the scheduler's
    // choosing.
    if held || *shared.failing.lock().unwrap() {
        return Err(Refusal::Down);
    }
    parsed.map_err(|e| Refusal::NotJson(e.to_string()))
}

fn create_event(shared: &Shared, memory_id: String, request: &Value) -> Response {
    let (Some(actor), Some(timestamp), Some(payload)) = (
        request["actorId"].as_str(),
        request["eventTimestamp"].as_f64(),
        request["payload"].as_array(),
    ) else {
        return validation("actorId, eventTimestamp and payload are required");
    };
    if let Err(problem) = check_ids(&memory_id, actor, request["sessionId"].as_str()) {
        return validation(&problem);
    }
    let session = request["sessionId"]
        .as_str()
        .unwrap_or("default")
        .to_string();
    let mut events = shared.events.lock().unwrap();
    let stored = events
        .entry((memory_id.clone(), actor.to_string(), session.clone()))
        .or_default();
    let event = json!({
        "memoryId": memory_id,
        "actorId": actor,
        "sessionId": session,
        "eventId": format!("{}#{:08x}", (timestamp * 1000.0) as u64, stored.len()),
        "eventTimestamp": timestamp,
        "payload": payload,
    });
    stored.push(event.clone());
    (StatusCode::CREATED, axum::Json(json!({ "event": event }))).into_response()
}

async fn list_events(
    State(shared): State<Arc<Shared>>,
    Path((memory_id, actor_id, session_id)): Path<(String, String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let ids = (memory_id.clone(), actor_id.clone(), session_id.clone());
    let request = match receive(&shared, "ListEvents", ids, &headers, &body).await {
        Ok(request) => request,
        Err(refusal) => return refusal.into_response(),
    };
    if let Err(problem) = check_ids(&memory_id, &actor_id, Some(&session_id)) {
        return validation(&problem);
    }
    let max = request["maxResults"].as_u64().unwrap_or(20) as usize;
    if !(1..=100).contains(&max) {
        return validation("maxResults must be between 1 and 100");
    }
    let page = shared.page_size.lock().unwrap().map_or(max, |n| n.min(max));
    let start: usize = match request["nextToken"].as_str().map(str::parse).transpose() {
        Ok(start) => start.unwrap_or(0),
        Err(_) => return validation("nextToken is not one this service gave"),
    };
    let events = shared.events.lock().unwrap();
    let newest_first: Vec<Value> = events
        .get(&(memory_id, actor_id, session_id))
        .map(|e| e.iter().rev().cloned().collect())
        .unwrap_or_default();
    let include_payloads = request["includePayloads"].as_bool().unwrap_or(false);
    let listed: Vec<Value> = newest_first
        .iter()
        .skip(start)
        .take(page)
        .map(|e| {
            let mut e = e.clone();
            if !include_payloads {
                e["payload"] = json!([]);
            }
            e
        })
        .collect();
    let mut answer = json!({ "events": listed });
    if start + page < newest_first.len() {
        answer["nextToken"] = json!((start + page).to_string());
    }
    axum::Json(answer).into_response()
}

fn retrieve(shared: &Shared, request: &Value) -> Response {
    let Some(_query) = request["searchCriteria"]["searchQuery"].as_str() else {
        return validation("searchCriteria.searchQuery is required");
    };
    let top = request["searchCriteria"]["topK"]
        .as_u64()
        .or(request["maxResults"].as_u64())
        .unwrap_or(10) as usize;
    let prefix = request["namespace"].as_str().unwrap_or("/");
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64());
    let records = shared.records.lock().unwrap();
    let found: Vec<Value> = records
        .iter()
        .enumerate()
        .filter(|(_, (namespace, _))| namespace.starts_with(prefix))
        .take(top)
        .map(|(i, (namespace, text))| {
            json!({
                "memoryRecordId": format!("mem-standin-{i:036}"),
                "content": { "text": text },
                "memoryStrategyId": "standin-strategy",
                "namespaces": [namespace],
                "createdAt": now,
                "score": 0.9,
            })
        })
        .collect();
    axum::Json(json!({ "memoryRecordSummaries": found })).into_response()
}

/// The patterns of botocore's MemoryId, ActorId and SessionId, as far as a test can break them.
fn check_ids(memory_id: &str, actor_id: &str, session_id: Option<&str>) -> Result<(), String> {
    let word = |s: &str, extra: &[char]| {
        s.chars().next().is_some_and(|c| c.is_ascii_alphanumeric())
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || extra.contains(&c))
    };
    if memory_id.len() < 12 || !word(memory_id, &[]) {
        return Err(format!("memoryId `{memory_id}` is not a memory id"));
    }
    if actor_id.is_empty() || actor_id.len() > 255 || !word(actor_id, &['/', ':']) {
        return Err(format!("actorId `{actor_id}` breaks its pattern"));
    }
    if let Some(session) = session_id
        && (session.is_empty() || session.len() > 100 || !word(session, &[]))
    {
        return Err(format!("sessionId `{session}` breaks its pattern"));
    }
    Ok(())
}

/// ValidationException also names a `reason`.
fn validation(message: &str) -> Response {
    let mut response = aws_error(400, "ValidationException", message);
    *response.body_mut() =
        Body::from(json!({ "message": message, "reason": "FieldValidationFailed" }).to_string());
    response
}
