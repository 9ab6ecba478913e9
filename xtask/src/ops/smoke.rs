//! Smoke checks: the invocations a blueprint declares (`smoke:`), sent to an environment after
//! its agents phase through the same path as `invoke --env` (InvokeAgentRuntime on the managed
//! endpoint), each answer held to what the check expects.
//!
//! Every run is recorded beside the environment's state, `<env>/smoke/<agent>/<digest>.json`
//! in its state bucket: the digest's result in that environment. `promote staging production`
//! reads staging's records and refuses a digest whose checks did not pass there.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use blueprint::SmokeCheck;
use serde::{Deserialize, Serialize};

use crate::environment::backend::Backend;
use crate::environment::{Env, Environment};
use crate::ops::deployed::{Deployed, DeployedAgent, MANAGED_ENDPOINT};
use crate::ops::invoke::sse::SseParser;
use crate::ops::invoke::{self, InvokeOptions};
use oci_registry::ImageRef;

/// How long one check may take, first start of a session included.
const CHECK_TIMEOUT: Duration = Duration::from_secs(180);
/// How much of an answer a failure shows.
const SHOWN: usize = 2000;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CheckResult {
    pub check: String,
    pub passed: bool,
    /// What did not hold.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub problem: Option<String>,
    /// The answer (its start), to show with a failure.
    pub answer: String,
    pub seconds: f64,
}

/// One agent's checks on one digest in one environment: what is recorded.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Record {
    pub env: Env,
    pub agent: String,
    pub image: String,
    pub passed: bool,
    pub checks: Vec<CheckResult>,
    /// Seconds since the epoch.
    pub at: u64,
}

impl Record {
    pub fn failures(&self) -> String {
        self.checks
            .iter()
            .filter(|c| !c.passed)
            .map(|c| {
                format!(
                    "{} / {}: {}\n      answer: {}",
                    self.agent,
                    c.check,
                    c.problem.as_deref().unwrap_or("failed"),
                    if c.answer.is_empty() {
                        "(none)"
                    } else {
                        &c.answer
                    }
                )
            })
            .collect::<Vec<_>>()
            .join("\n  ")
    }
}

/// The agents of `environment` that declare checks, with what runs there.
pub fn checked_agents<'a>(
    environment: &'a Environment,
    deployed: &'a Deployed,
) -> Vec<(&'a blueprint::Agent, &'a DeployedAgent)> {
    environment
        .agents()
        .into_iter()
        .filter(|a| !a.blueprint.smoke.is_empty())
        .filter_map(|a| deployed.agents.get(a.id()).map(|d| (a, d)))
        .collect()
}

/// Runs every check of every agent that declares some (or only of those whose digest has no
/// passing record here, with `only_unproven`), records the results, and gives the records.
pub async fn run(
    environment: &Environment,
    deployed: &Deployed,
    only_unproven: bool,
) -> anyhow::Result<Vec<Record>> {
    let env = environment.env;
    let backend = &environment.terraform()?.backend;
    let s3 = backend.s3().await;
    let config = environment.aws().await;
    let mut records = Vec::new();
    for (agent, target) in checked_agents(environment, deployed) {
        if only_unproven
            && read(&s3, backend, env, agent.id(), &target.image)
                .await?
                .is_some_and(|r| r.passed)
        {
            continue;
        }
        // An agent that takes a JWT is checked with the token the pipeline gives it
        // (AGENTCORE_BEARER_TOKEN).
        let bearer = invoke::bearer_for(agent, env, None).map_err(|err| format!("{err:#}"));
        let mut checks = Vec::new();
        for check in &agent.blueprint.smoke {
            checks.push(run_one(config, env, agent.id(), target, &bearer, check).await);
        }
        let record = Record {
            env,
            agent: agent.id().to_string(),
            image: target.image.to_string(),
            passed: checks.iter().all(|c| c.passed),
            checks,
            at: std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_secs())
                .unwrap_or_default(),
        };
        write(&s3, backend, &record, &target.image).await?;
        records.push(record);
    }
    Ok(records)
}

async fn run_one(
    config: &aws_config::SdkConfig,
    env: Env,
    agent: &str,
    target: &DeployedAgent,
    bearer: &Result<Option<String>, String>,
    check: &SmokeCheck,
) -> CheckResult {
    let start = Instant::now();
    let outcome = tokio::time::timeout(
        CHECK_TIMEOUT,
        answer_of(config, env, agent, target, bearer, check),
    )
    .await
    .unwrap_or_else(|_| {
        Err((
            format!("no complete answer within {} s", CHECK_TIMEOUT.as_secs()),
            String::new(),
        ))
    });
    let (problem, answer) = match outcome {
        Ok(answer) => (None, answer),
        Err((problem, answer)) => (Some(problem), answer),
    };
    CheckResult {
        check: check.name.clone(),
        passed: problem.is_none(),
        problem,
        answer: answer.chars().take(SHOWN).collect(),
        seconds: start.elapsed().as_secs_f64(),
    }
}

/// The answer's text when it holds what the check expects; else what did not hold and the text.
async fn answer_of(
    config: &aws_config::SdkConfig,
    env: Env,
    agent: &str,
    target: &DeployedAgent,
    bearer: &Result<Option<String>, String>,
    check: &SmokeCheck,
) -> Result<String, (String, String)> {
    let expect = &check.expect;
    let bearer = bearer.clone().map_err(|why| (why, String::new()))?;
    let payload = serde_json::to_string(&check.payload)
        .map_err(|err| (format!("the payload is not JSON: {err}"), String::new()))?;
    let options = InvokeOptions {
        env,
        agent: agent.to_string(),
        endpoint: MANAGED_ENDPOINT.into(),
        payload,
        session: invoke::new_session_id(),
        user_id: None,
        headers: Vec::new(),
        mcp_session: None,
        mcp_protocol: None,
        bearer,
    };
    let mut answer = match invoke::invoke(config, target, &options).await {
        Ok(answer) => answer,
        Err(err) => {
            let text = format!("{err:#}");
            return match invoke::agent_error_status(&err) {
                Some(status) if status == expect.status => Ok(text),
                Some(status) => Err((format!("status {status}, expected {}", expect.status), text)),
                None => Err(("the invocation failed".into(), text)),
            };
        }
    };
    let mut body = Vec::new();
    while let Some(bytes) = answer.body.try_next().await.map_err(|err| {
        (
            format!("the answer broke off: {err}"),
            String::from_utf8_lossy(&body).into_owned(),
        )
    })? {
        body.extend_from_slice(&bytes);
    }
    let text = String::from_utf8_lossy(&body).into_owned();
    let fail = |problem: String| Err((problem, text.clone()));
    if answer.status != expect.status {
        return fail(format!(
            "status {}, expected {}",
            answer.status, expect.status
        ));
    }
    if expect.stream {
        if !answer.is_stream() {
            return fail(format!(
                "a {} answer, expected a stream",
                answer.content_type
            ));
        }
        let events = SseParser::default().push(&body);
        if events.is_empty() {
            return fail("the stream carried no event".into());
        }
        if let Some(error) = events.iter().find(|e| e.name.as_deref() == Some("error")) {
            return fail(format!("the stream ended with an error: {}", error.data));
        }
    }
    if !expect.fields.is_empty() {
        let Ok(json) = serde_json::from_slice::<serde_json::Value>(&body) else {
            return fail("the answer is not JSON".into());
        };
        let missing: Vec<&str> = expect
            .fields
            .iter()
            .map(String::as_str)
            .filter(|path| field(&json, path).is_none_or(serde_json::Value::is_null))
            .collect();
        if !missing.is_empty() {
            return fail(format!("no {} in the answer", missing.join(", ")));
        }
    }
    if let Some(wanted) = &expect.contains
        && !text.contains(wanted.as_str())
    {
        return fail(format!("the answer does not contain {wanted:?}"));
    }
    Ok(text)
}

/// The value at a dotted path (`record.category`, `items.0`).
fn field<'a>(json: &'a serde_json::Value, path: &str) -> Option<&'a serde_json::Value> {
    path.split('.').try_fold(json, |value, part| match value {
        serde_json::Value::Array(items) => items.get(part.parse::<usize>().ok()?),
        other => other.get(part),
    })
}

fn key(env: Env, agent: &str, image: &ImageRef) -> String {
    format!(
        "{env}/smoke/{agent}/{}.json",
        image.digest.trim_start_matches("sha256:")
    )
}

async fn write(
    s3: &aws_sdk_s3::Client,
    backend: &Backend,
    record: &Record,
    image: &ImageRef,
) -> anyhow::Result<()> {
    let key = key(record.env, &record.agent, image);
    s3.put_object()
        .bucket(&backend.bucket)
        .key(&key)
        .content_type("application/json")
        .body(serde_json::to_vec_pretty(record)?.into())
        .send()
        .await
        .map_err(|err| anyhow::Error::new(err.into_service_error()))
        .with_context(|| {
            format!(
                "cannot record the smoke checks in s3://{}/{key}",
                backend.bucket
            )
        })?;
    Ok(())
}

/// The recorded result of `agent`'s checks on `image` in `env`, if they ever ran.
pub async fn read(
    s3: &aws_sdk_s3::Client,
    backend: &Backend,
    env: Env,
    agent: &str,
    image: &ImageRef,
) -> anyhow::Result<Option<Record>> {
    let key = key(env, agent, image);
    match s3
        .get_object()
        .bucket(&backend.bucket)
        .key(&key)
        .send()
        .await
    {
        Ok(object) => {
            let bytes = object
                .body
                .collect()
                .await
                .with_context(|| format!("cannot read s3://{}/{key}", backend.bucket))?
                .into_bytes();
            serde_json::from_slice(&bytes)
                .map(Some)
                .with_context(|| format!("s3://{}/{key} is not a smoke record", backend.bucket))
        }
        Err(err) if err.as_service_error().is_some_and(|e| e.is_no_such_key()) => Ok(None),
        Err(err) => Err(anyhow::Error::new(err.into_service_error()))
            .with_context(|| format!("cannot read s3://{}/{key}", backend.bucket)),
    }
}

/// Production takes a digest only when its checks passed in staging: gives, per agent that
/// declares checks, why it may not go (empty: all may).
pub async fn unproven_in_staging(
    staging: &Environment,
    images: &BTreeMap<String, ImageRef>,
) -> anyhow::Result<Vec<String>> {
    let backend = &staging.terraform()?.backend;
    let s3 = backend.s3().await;
    let mut refused = Vec::new();
    for (id, image) in images {
        let declares = staging
            .all_agents
            .iter()
            .any(|a| a.id() == id && !a.blueprint.smoke.is_empty());
        if !declares {
            continue;
        }
        match read(&s3, backend, Env::Staging, id, image).await? {
            Some(record) if record.passed => {}
            Some(record) => refused.push(format!(
                "{id} ({}): failed in staging:\n  {}",
                image.digest,
                record.failures()
            )),
            None => refused.push(format!(
                "{id} ({}): its smoke checks never ran in staging",
                image.digest
            )),
        }
    }
    Ok(refused)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dotted_paths_reach_into_objects_and_arrays() {
        let json = serde_json::json!({"record": {"category": "billing"}, "items": [1, null]});
        assert_eq!(
            field(&json, "record.category"),
            Some(&serde_json::json!("billing"))
        );
        assert_eq!(field(&json, "items.0"), Some(&serde_json::json!(1)));
        assert_eq!(field(&json, "items.1"), Some(&serde_json::Value::Null));
        assert_eq!(field(&json, "record.priority"), None);
        assert_eq!(field(&json, "items.x"), None);
    }
}
