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

/// Sends `method path` with exactly `headers` (plus `Host`, `Connection: close` and the body's
/// `Content-Length` unless `headers` declares one) and `body`: no client library adds a
/// `Content-Type` or anything else, so a test decides every byte the server sees.
pub fn raw(
    port: u16,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> anyhow::Result<Response> {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port))?;
    stream.set_read_timeout(Some(std::time::Duration::from_secs(60)))?;
    let mut head =
        format!("{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n");
    if !headers
        .iter()
        .any(|(name, _)| name.eq_ignore_ascii_case("content-length"))
    {
        head.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes())?;
    stream.write_all(body)?;
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer)?;
    let text = String::from_utf8_lossy(&answer);
    let (head, rest) = text
        .split_once("\r\n\r\n")
        .ok_or_else(|| anyhow::anyhow!("no HTTP response head in {text:?}"))?;
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|line| line.split_whitespace().nth(1))
        .and_then(|code| code.parse().ok())
        .ok_or_else(|| anyhow::anyhow!("no status line in {head:?}"))?;
    let headers: Headers = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let chunked = headers
        .iter()
        .any(|(k, v)| k == "transfer-encoding" && v.eq_ignore_ascii_case("chunked"));
    let body = if chunked {
        dechunk(rest)
    } else {
        rest.to_string()
    };
    Ok(Response {
        status,
        headers,
        body,
    })
}

fn dechunk(mut rest: &str) -> String {
    let mut body = String::new();
    while let Some((size, after)) = rest.split_once("\r\n") {
        let size = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if size == 0 || after.len() < size {
            break;
        }
        body.push_str(&after[..size]);
        rest = after[size..].trim_start_matches("\r\n");
    }
    body
}
