//! `cargo xtask invoke <agent> --payload JSON`: send one invocation to an agent running locally
//! (`cargo xtask run`), or with `--env` to the one deployed there (`ops::invoke`: the AWS SDK's
//! InvokeAgentRuntime), and print its answer, a streamed one as it arrives. For an MCP server,
//! `--tools` and `--tool NAME` (`ops::invoke::mcp`).
//!
//! The payload is checked as JSON before it is sent, so a typo is reported with its position
//! here rather than as the agent's 400. Server-sent events are printed one per line as they
//! come; for people, a chunk of the form `{"delta": "text"}` is printed as its text.

use std::io::{Read, Write};
use std::process::ExitCode;

use anyhow::{Context as _, bail};

use crate::Context;
use crate::environment::{Env, Environment};
use crate::ops::deployed::{Deployed, DeployedAgent, MANAGED_ENDPOINT};
use crate::ops::invoke::mcp::{self, Request, Transport};
use crate::ops::invoke::sse::{Event, SseParser};
use crate::ops::invoke::{self, CUSTOM_HEADER_PREFIX, InvokeOptions};
use crate::output::table;

/// AgentCore's session header; the agent reads the session id from it.
const SESSION_HEADER: &str = "X-Amzn-Bedrock-AgentCore-Runtime-Session-Id";
const USER_ID_HEADER: &str = "X-Amzn-Bedrock-AgentCore-Runtime-User-Id";

#[derive(clap::Args)]
#[command(after_help = "Examples:
  cargo xtask invoke assistant --payload '{\"prompt\": \"Hello\"}'
  cargo xtask invoke assistant --payload '{\"prompt\": \"Tell a story\", \"stream\": true}'
  echo '{\"text\": \"I was charged twice\"}' | cargo xtask invoke triage --payload -
  cargo xtask invoke triage --payload @ticket.json --session my-session-id --json
  cargo xtask invoke assistant --url http://127.0.0.1:9090 --payload '{\"prompt\": \"hi\"}'

Deployed agents (InvokeAgentRuntime through the AWS SDK, on the runtime the environment's state
names; AWS_PROFILE, AWS_REGION and AWS_ENDPOINT_URL_BEDROCK_AGENTCORE apply as to any SDK call):
  cargo xtask invoke assistant --env dev --payload '{\"prompt\": \"Hello\"}'
  cargo xtask invoke assistant --env dev --session <ID printed by the first call> --payload ...
  cargo xtask invoke triage --env staging --user-id alice --header tenant=acme --payload @t.json
  cargo xtask invoke assistant --env dev --token \"$JWT\" ...   an agent whose blueprint sets auth.jwt

MCP servers (protocol MCP): their tools, locally or deployed:
  cargo xtask invoke toolbox --tools
  cargo xtask invoke toolbox --env dev --tool business_days --payload '{\"start\": \"2026-12-01\", \"end\": \"2026-12-15\"}'")]
pub struct Args {
    /// The agent to invoke, by id (its blueprint gives the default port).
    #[arg(value_name = "AGENT")]
    pub agent: String,

    /// The JSON payload (for an MCP server, the tool's arguments); `-` reads it from stdin,
    /// `@FILE` from a file.
    #[arg(short, long, value_name = "JSON|-|@FILE")]
    pub payload: Option<String>,

    /// MCP servers: list their tools.
    #[arg(long, conflicts_with = "tool")]
    pub tools: bool,

    /// MCP servers: call this tool, with --payload as its arguments (default `{}`).
    #[arg(long, value_name = "NAME")]
    pub tool: Option<String>,

    /// The agent's base URL (default: http://127.0.0.1:<the blueprint's port>).
    #[arg(long, conflicts_with = "env")]
    pub url: Option<String>,

    /// Invoke the agent deployed in this environment instead of a local one.
    #[arg(long)]
    pub env: Option<Env>,

    /// The runtime endpoint to invoke through (with --env; `DEFAULT` serves the newest version).
    #[arg(long, requires = "env", default_value = MANAGED_ENDPOINT)]
    pub endpoint: String,

    /// Session id (33 to 256 characters with --env, where a new one is made and printed when
    /// absent), sent as X-Amzn-Bedrock-AgentCore-Runtime-Session-Id.
    #[arg(long)]
    pub session: Option<String>,

    /// The end user the invocation is for (X-Amzn-Bedrock-AgentCore-Runtime-User-Id).
    #[arg(long, value_name = "ID")]
    pub user_id: Option<String>,

    /// A custom header for the agent, NAME=VALUE (sent as
    /// X-Amzn-Bedrock-AgentCore-Runtime-Custom-NAME); repeatable.
    #[arg(long = "header", value_name = "NAME=VALUE", value_parser = parse_header)]
    pub headers: Vec<(String, String)>,

    /// With --env, for an agent whose blueprint sets `auth.jwt`: the JWT to send as
    /// `Authorization: Bearer` instead of signing with this shell's AWS credentials (default:
    /// AGENTCORE_BEARER_TOKEN, for such agents only).
    #[arg(long, requires = "env", value_name = "JWT")]
    pub token: Option<String>,
}

pub fn run(ctx: &Context, args: Args) -> anyhow::Result<ExitCode> {
    let agent = ctx.project.agent(&args.agent)?;
    let runtime = crate::async_runtime()?;
    if agent.blueprint.runtime.protocol == blueprint::Protocol::Mcp {
        return tools(ctx, &runtime, &agent, args);
    }
    if args.tools || args.tool.is_some() {
        bail_help!("`{}` is an HTTP agent: it has no MCP tools", agent.id(); "send it an invocation: --payload JSON");
    }
    let Some(payload) = &args.payload else {
        bail_help!("no payload for `{}`", agent.id(); "pass --payload JSON (or `-` for stdin, `@FILE`)");
    };
    let payload = read_payload(payload)?;
    if let Some(env) = args.env {
        let (target, options) = deployed_target(ctx, &runtime, &agent, env, payload, &args)?;
        return runtime.block_on(async {
            let config = target.environment.aws().await;
            let mut answer = invoke::invoke(config, &target.agent, &options).await?;
            let mut printer = Printer::new(ctx.out.json, answer.is_stream());
            while let Some(bytes) = answer
                .body
                .try_next()
                .await
                .context("the answer broke off")?
            {
                printer.chunk(&bytes)?;
            }
            printer.finish(ctx)
        });
    }
    let base = match args.url.clone() {
        Some(url) => url,
        None => local_url(ctx, &agent)?,
    };
    let url = format!("{}/invocations", base.trim_end_matches('/'));
    ctx.out.verbose(format!("POST {url}"));
    runtime.block_on(send(ctx, &agent.blueprint.id, &url, payload, &args))
}

/// What `--env` reaches: the agent as its environment's agents stack names it.
struct Target {
    environment: Environment,
    agent: DeployedAgent,
}

/// The deployed agent and the options of an invocation of it (a new session, printed, unless
/// --session continues one).
fn deployed_target(
    ctx: &Context,
    runtime: &tokio::runtime::Runtime,
    blueprint: &blueprint::Agent,
    env: Env,
    payload: String,
    args: &Args,
) -> anyhow::Result<(Target, InvokeOptions)> {
    let environment = Environment::load(&ctx.project, env)?;
    let deployed = runtime.block_on(Deployed::read(&ctx.project, &environment))?;
    let agent = deployed.agent(&environment, &args.agent)?.clone();
    let bearer = invoke::bearer_for(blueprint, env, args.token.clone())?;
    let session = match &args.session {
        Some(session) => session.clone(),
        None => {
            let session = invoke::new_session_id();
            ctx.out.note(format!(
                "session {session} (continue the conversation with --session {session})"
            ));
            session
        }
    };
    ctx.out.verbose(format!(
        "InvokeAgentRuntime {} (endpoint {})",
        agent.runtime_arn, args.endpoint
    ));
    let options = InvokeOptions {
        env,
        agent: args.agent.clone(),
        endpoint: args.endpoint.clone(),
        payload,
        session,
        user_id: args.user_id.clone(),
        headers: args.headers.clone(),
        mcp_session: None,
        mcp_protocol: None,
        bearer,
    };
    Ok((Target { environment, agent }, options))
}

/// An MCP server: its tools listed (`--tools`) or one called (`--tool NAME`), locally or
/// through its runtime (`--env`).
fn tools(
    ctx: &Context,
    runtime: &tokio::runtime::Runtime,
    agent: &blueprint::Agent,
    args: Args,
) -> anyhow::Result<ExitCode> {
    let request = match (&args.tool, args.tools) {
        (Some(name), _) => {
            let arguments = match &args.payload {
                Some(payload) => serde_json::from_str(&read_payload(payload)?)?,
                None => serde_json::json!({}),
            };
            Request::CallTool {
                name: name.clone(),
                arguments,
            }
        }
        (None, true) => Request::ListTools,
        (None, false) => bail_help!(
            "`{}` is an MCP server: it serves tools, not invocations", agent.id();
            "list them with --tools, call one with --tool NAME --payload '{{\"arg\": …}}' (or use \
             any MCP client over Streamable HTTP, such as the MCP Inspector)"
        ),
    };
    let calling = matches!(request, Request::CallTool { .. });
    let result = match args.env {
        Some(env) => {
            let (target, options) =
                deployed_target(ctx, runtime, agent, env, String::new(), &args)?;
            runtime.block_on(async {
                let mut transport = Transport::Deployed {
                    config: target.environment.aws().await,
                    agent: &target.agent,
                    options: Box::new(options),
                };
                mcp::exchange(&mut transport, request).await
            })?
        }
        None => {
            let base = match args.url.clone() {
                Some(url) => url,
                None => local_url(ctx, agent)?,
            };
            let url = format!("{}/mcp", base.trim_end_matches('/'));
            ctx.out.verbose(format!("POST {url}"));
            runtime.block_on(mcp::exchange(&mut Transport::Local { url }, request))?
        }
    };
    if ctx.out.json {
        ctx.out.print_json(&result);
    } else if calling {
        let text: Vec<&str> = result["content"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|c| c["text"].as_str())
            .collect();
        match result.get("structuredContent") {
            Some(structured) if result["isError"] != true => {
                println!("{}", serde_json::to_string_pretty(structured)?)
            }
            _ => println!("{}", text.join("\n")),
        }
    } else {
        let rows: Vec<Vec<String>> = result["tools"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|t| {
                vec![
                    t["name"].as_str().unwrap_or_default().to_string(),
                    t["description"]
                        .as_str()
                        .unwrap_or_default()
                        .lines()
                        .next()
                        .unwrap_or_default()
                        .to_string(),
                ]
            })
            .collect();
        println!("{}", table(&["TOOL", "DESCRIPTION"], &rows));
    }
    // A tool's own failure is its answer, for a model to read; here it is a failed command.
    Ok(if result["isError"] == true {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

/// `NAME=VALUE` of `--header`.
fn parse_header(text: &str) -> Result<(String, String), String> {
    let (name, value) = text
        .split_once('=')
        .ok_or_else(|| format!("`{text}` is not NAME=VALUE"))?;
    let name = name.trim();
    let name = name
        .get(..CUSTOM_HEADER_PREFIX.len())
        .filter(|p| p.eq_ignore_ascii_case(CUSTOM_HEADER_PREFIX))
        .map_or(name, |_| &name[CUSTOM_HEADER_PREFIX.len()..]);
    if name.is_empty()
        || !name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        return Err(format!(
            "`{name}` is not a header name (letters, digits, `-`, `_`)"
        ));
    }
    Ok((name.to_string(), value.to_string()))
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
    args: &Args,
) -> anyhow::Result<ExitCode> {
    let client = reqwest::Client::new();
    let mut request = client
        .post(url)
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .body(payload);
    if let Some(id) = &args.session {
        request = request.header(SESSION_HEADER, id);
    }
    if let Some(id) = &args.user_id {
        request = request.header(USER_ID_HEADER, id);
    }
    for (name, value) in &args.headers {
        request = request.header(format!("{CUSTOM_HEADER_PREFIX}{name}"), value);
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
    let mut printer = Printer::new(ctx.out.json, is_stream);
    while let Some(bytes) = response.chunk().await.context("the answer broke off")? {
        printer.chunk(&bytes)?;
    }
    printer.finish(ctx)
}

/// Prints an answer as it arrives: a JSON answer once complete, events one by one.
struct Printer {
    json: bool,
    /// `None` for a JSON answer, which is kept whole.
    events: Option<SseParser>,
    body: Vec<u8>,
    failed: bool,
    mid_line: bool,
}

impl Printer {
    fn new(json: bool, is_stream: bool) -> Printer {
        Printer {
            json,
            events: is_stream.then(SseParser::default),
            body: Vec::new(),
            failed: false,
            mid_line: false,
        }
    }

    fn chunk(&mut self, bytes: &[u8]) -> anyhow::Result<()> {
        let Some(events) = &mut self.events else {
            self.body.extend_from_slice(bytes);
            return Ok(());
        };
        let mut stdout = std::io::stdout();
        for event in events.push(bytes) {
            self.failed |= event.name.as_deref() == Some("error");
            let line = render(&event, self.json);
            self.mid_line = !self.json && !line.ends_with('\n');
            write!(stdout, "{line}")?;
            stdout.flush()?;
        }
        Ok(())
    }

    /// Success unless the stream carried an `error` event.
    fn finish(self, ctx: &Context) -> anyhow::Result<ExitCode> {
        if self.events.is_none() {
            let body = String::from_utf8_lossy(&self.body);
            match serde_json::from_str::<serde_json::Value>(&body) {
                Ok(value) if ctx.out.json => ctx.out.print_json(&value),
                Ok(value) => println!("{}", serde_json::to_string_pretty(&value)?),
                Err(_) => println!("{body}"),
            }
            return Ok(ExitCode::SUCCESS);
        }
        if self.mid_line {
            println!();
        }
        Ok(if self.failed {
            ExitCode::FAILURE
        } else {
            ExitCode::SUCCESS
        })
    }
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
