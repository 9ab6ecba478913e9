//! A blocking HTTP client that reports every status as a value, not as an error.

use std::io::{BufRead, BufReader};

pub type Headers = Vec<(String, String)>;

pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Response {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The body as JSON; panics (in a test) with the body when it is not.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}), status {}: {}", self.status, self.body))
    }
}

pub fn client() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into()
}

pub fn get(url: &str) -> anyhow::Result<Response> {
    let response = client().get(url).call()?;
    collect(response)
}

/// POSTs `body` with the given headers (no Content-Type unless one is given).
pub fn post(url: &str, headers: &[(&str, &str)], body: &[u8]) -> anyhow::Result<Response> {
    let mut request = client().post(url);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    collect(request.send(body)?)
}

/// POSTs `body` with chunked transfer encoding, so no length is declared up front.
pub fn post_chunked(url: &str, headers: &[(&str, &str)], body: &[u8]) -> anyhow::Result<Response> {
    let mut request = client().post(url);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let mut reader = body;
    collect(request.send(ureq::SendBody::from_reader(&mut reader))?)
}

fn collect(mut response: ureq::http::Response<ureq::Body>) -> anyhow::Result<Response> {
    let status = response.status().as_u16();
    let headers = headers_of(&response);
    let body = response.body_mut().read_to_string()?;
    Ok(Response {
        status,
        headers,
        body,
    })
}

fn headers_of(response: &ureq::http::Response<ureq::Body>) -> Vec<(String, String)> {
    response
        .headers()
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or("").to_string()))
        .collect()
}

/// One server-sent event.
#[derive(Debug, Clone, PartialEq)]
pub struct SseEvent {
    pub event: Option<String>,
    pub data: String,
}

/// POSTs JSON and calls `on_event` for each server-sent event as it arrives.
pub fn post_sse(
    url: &str,
    headers: &[(&str, &str)],
    body: &str,
    mut on_event: impl FnMut(&SseEvent),
) -> anyhow::Result<(u16, Headers, Vec<SseEvent>)> {
    let mut request = client()
        .post(url)
        .header("content-type", "application/json");
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let mut response = request.send(body.as_bytes())?;
    let status = response.status().as_u16();
    let headers = headers_of(&response);
    let reader = BufReader::new(response.body_mut().as_reader());
    let mut events = Vec::new();
    let mut current = SseEvent {
        event: None,
        data: String::new(),
    };
    for line in reader.lines() {
        let line = line?;
        if line.is_empty() {
            if !current.data.is_empty() || current.event.is_some() {
                on_event(&current);
                events.push(current.clone());
            }
            current = SseEvent {
                event: None,
                data: String::new(),
            };
        } else if let Some(data) = line.strip_prefix("data:") {
            if !current.data.is_empty() {
                current.data.push('\n');
            }
            current
                .data
                .push_str(data.strip_prefix(' ').unwrap_or(data));
        } else if let Some(event) = line.strip_prefix("event:") {
            current.event = Some(event.trim().to_string());
        }
    }
    Ok((status, headers, events))
}
