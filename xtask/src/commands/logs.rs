//! `cargo xtask logs <agent> --env <env>`: what a deployed agent printed, from its runtime's log
//! groups in CloudWatch Logs (`/aws/bedrock-agentcore/runtimes/<runtime id>-<endpoint>`, one per
//! endpoint), oldest first, the agents' JSON lines shown as one readable line each.

use std::collections::HashSet;
use std::process::ExitCode;
use std::time::{Duration, SystemTime};

use anyhow::Context as _;
use aws_sdk_cloudwatchlogs::types::FilteredLogEvent;
use serde::Serialize;

use crate::Context;
use crate::environment::{Env, Environment};
use crate::ops::deployed::{Deployed, MANAGED_ENDPOINT};

#[derive(clap::Args)]
#[command(after_help = "Examples:
  cargo xtask logs assistant --env dev                     the last 10 minutes
  cargo xtask logs assistant --env dev --since 2h --follow
  cargo xtask logs triage --env staging --session <ID>     one conversation
  cargo xtask logs triage --env production --json | jq .   one JSON object per line

A line reads `TIME LEVEL message key=value… [session request]`; lines that are not JSON are shown
as printed.")]
pub struct Args {
    /// The agent, by id.
    #[arg(value_name = "AGENT")]
    pub agent: String,
    /// The environment it runs in.
    #[arg(long)]
    pub env: Env,
    /// How far back to start: 30s, 10m, 2h, 1d.
    #[arg(long, default_value = "10m", value_parser = parse_age)]
    pub since: Duration,
    /// Keep printing new lines as they arrive (until Ctrl-C).
    #[arg(short, long)]
    pub follow: bool,
    /// Only this runtime session's lines.
    #[arg(long)]
    pub session: Option<String>,
    /// Only the lines of invocations through this endpoint (default: every endpoint).
    #[arg(long)]
    pub endpoint: Option<String>,
}

/// One log event, for `--json`.
#[derive(Serialize)]
struct Line {
    timestamp: i64,
    group: String,
    stream: String,
    /// The agent's JSON line as JSON; any other line as a string.
    message: serde_json::Value,
}

pub fn run(ctx: &Context, args: Args) -> anyhow::Result<ExitCode> {
    let runtime = crate::async_runtime()?;
    let environment = Environment::load(&ctx.project, args.env)?;
    let deployed = runtime.block_on(Deployed::read(&ctx.project, &environment))?;
    let agent = deployed.agent(&environment, &args.agent)?;
    let endpoints: Vec<String> = match &args.endpoint {
        Some(endpoint) => vec![endpoint.clone()],
        None => vec!["DEFAULT".into(), MANAGED_ENDPOINT.into()],
    };
    let groups: Vec<String> = endpoints.iter().map(|e| agent.log_group(e)).collect();
    runtime.block_on(async {
        let logs = aws_sdk_cloudwatchlogs::Client::new(environment.aws().await);
        let mut from = crate::epoch_millis(SystemTime::now() - args.since);
        let mut seen = HashSet::new();
        let mut found_group = false;
        loop {
            let mut events = Vec::new();
            for group in &groups {
                match read(&logs, group, from).await {
                    Ok(read) => {
                        found_group = true;
                        events.extend(read.into_iter().map(|e| (group.clone(), e)));
                    }
                    Err(err) if is_missing_group(&err) => {}
                    Err(err) => {
                        return Err(anyhow::Error::new(err.into_service_error()))
                            .with_context(|| format!("cannot read {group}"));
                    }
                }
            }
            if !found_group {
                bail_help!(
                    "`{}` in {} has no log group ({})", args.agent, args.env, groups.join(", ");
                    "AgentCore writes them for a runtime's invocations; the agents stack creates \
                     them: `cargo xtask deploy {}`", args.env
                );
            }
            events.sort_by_key(|(_, e)| e.timestamp().unwrap_or_default());
            for (group, event) in events {
                let id = event.event_id().unwrap_or_default().to_string();
                if !seen.insert(id) {
                    continue;
                }
                if let Some(session) = &args.session
                    && !of_session(&event, session)
                {
                    continue;
                }
                from = from.max(event.timestamp().unwrap_or_default());
                print(ctx, &group, &event);
            }
            if !args.follow {
                return Ok(ExitCode::SUCCESS);
            }
            tokio::time::sleep(Duration::from_secs(2)).await;
        }
    })
}

async fn read(
    logs: &aws_sdk_cloudwatchlogs::Client,
    group: &str,
    from: i64,
) -> Result<
    Vec<FilteredLogEvent>,
    aws_sdk_cloudwatchlogs::error::SdkError<
        aws_sdk_cloudwatchlogs::operation::filter_log_events::FilterLogEventsError,
    >,
> {
    let mut pages = logs
        .filter_log_events()
        .log_group_name(group)
        .start_time(from)
        .into_paginator()
        .send();
    let mut events = Vec::new();
    while let Some(page) = pages.next().await {
        events.extend(page?.events.unwrap_or_default());
    }
    Ok(events)
}

fn is_missing_group(
    err: &aws_sdk_cloudwatchlogs::error::SdkError<
        aws_sdk_cloudwatchlogs::operation::filter_log_events::FilterLogEventsError,
    >,
) -> bool {
    err.as_service_error()
        .is_some_and(|e| e.is_resource_not_found_exception())
}

/// A session's lines: its stream (`…[runtime-logs]<session>`) or its JSON's session id.
fn of_session(event: &FilteredLogEvent, session: &str) -> bool {
    event
        .log_stream_name()
        .is_some_and(|s| s.ends_with(&format!("]{session}")))
        || event
            .message()
            .and_then(|m| serde_json::from_str::<serde_json::Value>(m).ok())
            .is_some_and(|v| v["span"]["session_id"] == session)
}

fn print(ctx: &Context, group: &str, event: &FilteredLogEvent) {
    let message = event.message().unwrap_or_default();
    if ctx.out.json {
        let line = Line {
            timestamp: event.timestamp().unwrap_or_default(),
            group: group.to_string(),
            stream: event.log_stream_name().unwrap_or_default().to_string(),
            message: serde_json::from_str(message)
                .unwrap_or_else(|_| serde_json::Value::String(message.to_string())),
        };
        if let Ok(text) = serde_json::to_string(&line) {
            println!("{text}");
        }
        return;
    }
    println!(
        "{}",
        readable(event.timestamp().unwrap_or_default(), message)
    );
}

/// `HH:MM:SS.mmm LEVEL message key=value… [session request]` for an agent's JSON line.
fn readable(timestamp: i64, message: &str) -> String {
    let time = chrono::DateTime::<chrono::Utc>::from_timestamp_millis(timestamp)
        .map(|t| t.format("%H:%M:%S%.3f").to_string())
        .unwrap_or_default();
    let Ok(serde_json::Value::Object(mut fields)) = serde_json::from_str(message) else {
        return format!("{time} {}", message.trim_end());
    };
    let level = fields
        .remove("level")
        .and_then(|l| l.as_str().map(str::to_string))
        .unwrap_or_default();
    let text = fields
        .remove("message")
        .map(|m| m.as_str().map_or_else(|| m.to_string(), str::to_string))
        .unwrap_or_default();
    fields.remove("timestamp");
    let span = fields.remove("span");
    let mut line = format!("{time} {level:<5} {text}");
    for (key, value) in &fields {
        let value = value
            .as_str()
            .map_or_else(|| value.to_string(), str::to_string);
        line.push_str(&format!(" {key}={value}"));
    }
    if let Some(span) = span {
        let ids: Vec<&str> = ["session_id", "mcp_session_id", "request_id"]
            .into_iter()
            .filter_map(|k| span[k].as_str())
            .collect();
        if !ids.is_empty() {
            line.push_str(&format!(" [{}]", ids.join(" ")));
        }
    }
    line
}

/// `30s`, `10m`, `2h`, `1d`.
fn parse_age(text: &str) -> Result<Duration, String> {
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let n: u64 = number
        .parse()
        .map_err(|_| format!("`{text}` is not an age like 30s, 10m, 2h or 1d"))?;
    let seconds = match unit {
        "s" => 1,
        "m" | "" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => return Err(format!("`{text}`: the unit is s, m, h or d")),
    };
    Ok(Duration::from_secs(n.saturating_mul(seconds)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages() {
        assert_eq!(parse_age("30s"), Ok(Duration::from_secs(30)));
        assert_eq!(parse_age("10m"), Ok(Duration::from_secs(600)));
        assert_eq!(parse_age("2h"), Ok(Duration::from_secs(7200)));
        assert!(parse_age("soon").is_err());
        assert!(parse_age("3w").is_err());
    }

    #[test]
    fn an_agents_json_line_reads_as_one_line() {
        let line = r#"{"timestamp":"2026-12-01T08:00:00Z","level":"INFO","message":"answered","tokens":42,"span":{"session_id":"s-1","request_id":"r-1","name":"invocation"}}"#;
        assert_eq!(
            readable(1_764_576_000_123, line),
            "08:00:00.123 INFO  answered tokens=42 [s-1 r-1]"
        );
        assert_eq!(readable(0, "plain text\n"), "00:00:00.000 plain text");
    }
}
