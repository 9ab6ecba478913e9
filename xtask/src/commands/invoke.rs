//! `cargo xtask invoke <agent> --payload JSON`: send one invocation to an agent running locally
//! (`cargo xtask run`) and print its answer, a streamed one as it arrives.
//!
//! The payload is checked as JSON before it is sent, so a typo is reported with its position
//! here rather than as the agent's 400. Server-sent events are printed one per line as they
//! come; for people, a chunk of the form `{"delta": "text"}` is printed as its text.

use std::io::{Read, Write};
use std::process::ExitCode;

use anyhow::{Context as _, bail};

use crate::Context;

/// AgentCore's session header; the agent reads the session id from it.
const SESSION_HEADER: &str = "X-Amzn-Bedrock-AgentCore-Runtime-Session-Id";

#[derive(clap::Args)]
#[command(after_help = "Examples:
  cargo xtask invoke assistant --payload '{\"prompt\": \"Hello\"}'
  cargo xtask invoke assistant --payload '{\"prompt\": \"Tell a story\", \"stream\": true}'
  echo '{\"text\": \"I was charged twice\"}' | cargo xtask invoke triage --payload -
  cargo xtask invoke triage --payload @ticket.json --session my-session-id --json
  cargo xtask invoke assistant --url http://127.0.0.1:9090 --payload '{\"prompt\": \"hi\"}'")]
pub struct Args {
    /// The agent to invoke, by id (its blueprint gives the default port).
    #[arg(value_name = "AGENT")]
    pub agent: String,

    /// The JSON payload; `-` reads it from stdin, `@FILE` from a file.
    #[arg(short, long, value_name = "JSON|-|@FILE")]
    pub payload: String,

    /// The agent's base URL (default: http://127.0.0.1:<the blueprint's port>).
    #[arg(long)]
    pub url: Option<String>,

    /// Session id, sent as the X-Amzn-Bedrock-AgentCore-Runtime-Session-Id header.
    #[arg(long)]
    pub session: Option<String>,
}

pub fn run(ctx: &Context, args: Args) -> anyhow::Result<ExitCode> {
    let agent = ctx.project.agent(&args.agent)?;
    let base = args
        .url
        .clone()
        .map(Ok)
        .unwrap_or_else(|| local_url(ctx, &agent))?;
    if agent.blueprint.runtime.protocol == blueprint::Protocol::Mcp {
        bail_help!(
            "`{}` is an MCP server: it serves tools at {}/mcp, not invocations",
            agent.blueprint.id,
            base.trim_end_matches('/');
            "call its tools with any MCP client over Streamable HTTP (the MCP Inspector, or the \
             `mcp` Python SDK as agents/agent-testkit/python/mcp_client.py does)"
        );
    }
    let url = format!("{}/invocations", base.trim_end_matches('/'));
    let payload = read_payload(&args.payload)?;
    ctx.out.verbose(format!("POST {url}"));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(send(ctx, &agent.blueprint.id, &url, payload, args.session))
}

/// The payload text, checked to be JSON.
fn read_payload(arg: &str) -> anyhow::Result<String> {
    let (text, source) = if arg == "-" {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .context("cannot read the payload from stdin")?;
        (text, "stdin".to_string())
    } else if let Some(path) = arg.strip_prefix('@') {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read the payload file {path}"))?;
        (text, path.to_string())
    } else {
        (arg.to_string(), "--payload".to_string())
    };
    if let Err(err) = serde_json::from_str::<serde_json::Value>(&text) {
        bail_help!("the payload ({source}) is not valid JSON: {err}"; "quote it for the shell, e.g. --payload '{{\"prompt\": \"Hello\"}}'");
    }
    Ok(text)
}

async fn send(
    ctx: &Context,
    agent: &str,
    url: &str,
    payload: String,
    session: Option<String>,
) -> anyhow::Result<ExitCode> {
    let client = reqwest::Client::new();
    let mut request = client
        .post(url)
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .body(payload);
    if let Some(id) = &session {
        request = request.header(SESSION_HEADER, id);
    }
    let mut response = request.send().await.map_err(|err| {
        if err.is_connect() {
            helped!("nothing answers at {url}"; "start the agent with `cargo xtask run {agent}` \
                 (or pass --url)")
        } else {
            anyhow::anyhow!("the request to {url} failed: {err}")
        }
    })?;
    let status = response.status();
    let is_stream = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/event-stream"));

    if !status.is_success() {
        let body = response.text().await.unwrap_or_default();
        let error = serde_json::from_str::<serde_json::Value>(&body)
            .ok()
            .map(|v| v["error"].clone());
        let message = error
            .as_ref()
            .and_then(|e| {
                Some(format!(
                    "{}: {}",
                    e["code"].as_str()?,
                    e["message"].as_str()?
                ))
            })
            .unwrap_or(body);
        // An internal error's cause is only in the agent's log, under its request id.
        if let Some(id) = error.as_ref().and_then(|e| e["request_id"].as_str()) {
            bail_help!("{agent} answered {status}: {message}"; "the cause is in the agent's log: look for request id {id}");
        }
        bail!("{agent} answered {status}: {message}");
    }
    if !is_stream {
        let body = response.text().await.context("the answer broke off")?;
        match serde_json::from_str::<serde_json::Value>(&body) {
            Ok(value) if ctx.out.json => ctx.out.print_json(&value),
            Ok(value) => println!("{}", serde_json::to_string_pretty(&value)?),
            Err(_) => println!("{body}"),
        }
        return Ok(ExitCode::SUCCESS);
    }

    let mut events = SseParser::default();
    let mut stdout = std::io::stdout();
    let mut failed = false;
    let mut mid_line = false;
    while let Some(bytes) = response.chunk().await.context("the stream broke off")? {
        for event in events.push(&bytes) {
            failed |= event.name.as_deref() == Some("error");
            let line = render(&event, ctx.out.json);
            mid_line = !ctx.out.json && !line.ends_with('\n');
            write!(stdout, "{line}")?;
            stdout.flush()?;
        }
    }
    if mid_line {
        writeln!(stdout)?;
    }
    Ok(if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

/// How one event is shown: NDJSON for scripts; for people, text deltas inline.
fn render(event: &Event, json: bool) -> String {
    let value = serde_json::from_str::<serde_json::Value>(&event.data).ok();
    if json {
        let value = value.unwrap_or_else(|| serde_json::Value::String(event.data.clone()));
        let line = match &event.name {
            Some(name) => serde_json::json!({ "event": name, "data": value }),
            None => value,
        };
        return format!("{line}\n");
    }
    if event.name.as_deref() == Some("error") {
        return format!("\nerror: {}\n", event.data);
    }
    match value {
        Some(serde_json::Value::String(text)) => text,
        Some(serde_json::Value::Object(o)) if o.get("delta").is_some_and(|d| d.is_string()) => {
            o["delta"].as_str().unwrap_or_default().to_string()
        }
        Some(v) if v["done"] == true => format!("\n{v}\n"),
        _ => format!("{}\n", event.data),
    }
}

#[derive(Debug, PartialEq)]
struct Event {
    name: Option<String>,
    data: String,
}

/// Server-sent events from a byte stream split anywhere.
#[derive(Default)]
struct SseParser {
    buffer: Vec<u8>,
    name: Option<String>,
    data: Vec<String>,
}

impl SseParser {
    fn push(&mut self, bytes: &[u8]) -> Vec<Event> {
        self.buffer.extend_from_slice(bytes);
        let mut events = Vec::new();
        while let Some(end) = self.buffer.iter().position(|b| *b == b'\n') {
            let line: Vec<u8> = self.buffer.drain(..=end).collect();
            let line = String::from_utf8_lossy(&line);
            let line = line.trim_end_matches(['\n', '\r']);
            if line.is_empty() {
                if !self.data.is_empty() {
                    events.push(Event {
                        name: self.name.take(),
                        data: std::mem::take(&mut self.data).join("\n"),
                    });
                }
                self.name = None;
            } else if let Some(data) = line.strip_prefix("data:") {
                self.data
                    .push(data.strip_prefix(' ').unwrap_or(data).to_string());
            } else if let Some(name) = line.strip_prefix("event:") {
                self.name = Some(name.trim().to_string());
            }
        }
        events
    }
}

/// Where `cargo xtask run` serves `agent` now; without a running `run`, the blueprint's port,
/// unless another agent's `run` has it (then that agent, not this one, would answer).
fn local_url(ctx: &Context, agent: &blueprint::Agent) -> anyhow::Result<String> {
    let project = &ctx.project;
    if let Some(port) = crate::commands::run::local::port_of(project, agent.id()) {
        return Ok(format!("http://127.0.0.1:{port}"));
    }
    let port = agent.blueprint.runtime.port;
    if let Some(other) = crate::commands::run::local::agent_on(project, port) {
        bail_help!(
            "`{}` is not running; 127.0.0.1:{port} serves `{other}`", agent.id();
            "start it with `cargo xtask run {}` (it takes the next free port), or pass --url",
            agent.id()
        );
    }
    Ok(format!("http://127.0.0.1:{port}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_events_split_anywhere() {
        let stream = b"data: {\"delta\":\"He\"}\n\ndata: {\"delta\":\"llo\"}\r\n\r\nevent: error\ndata: {\"error\":1}\n\n";
        let mut parser = SseParser::default();
        let mut events = Vec::new();
        for piece in stream.chunks(5) {
            events.extend(parser.push(piece));
        }
        assert_eq!(events.len(), 3);
        assert_eq!(events[1].data, "{\"delta\":\"llo\"}");
        assert_eq!(events[2].name.as_deref(), Some("error"));
    }

    #[test]
    fn deltas_print_inline_for_people() {
        let delta = Event {
            name: None,
            data: "{\"delta\":\"Hi \"}".into(),
        };
        assert_eq!(render(&delta, false), "Hi ");
        assert_eq!(render(&delta, true), "{\"delta\":\"Hi \"}\n");
    }

    #[test]
    fn a_bad_payload_says_where() {
        let err = read_payload("{\"prompt\": }").unwrap_err().to_string();
        assert!(err.contains("line 1 column 12"), "{err}");
    }
}
