//! One deploy per environment at a time.
//!
//! Terraform locks each stack's state only while it runs; a deploy spans several stacks and the
//! image push between them, so it takes its own lock for the whole run: an object
//! `<env>/deploy.lock` in the environment's state bucket, created with a conditional write
//! (`If-None-Match: *`, the same S3 primitive Terraform's `use_lockfile` uses). Whoever holds it
//! is written inside, so a refused run can say who and since when.

use anyhow::Context as _;
use aws_sdk_s3::primitives::ByteStream;
use serde::{Deserialize, Serialize};

use crate::environment::Env;
use crate::environment::backend::Backend;
use crate::error::HelpExt as _;
use crate::oci::rfc3339;

#[derive(Debug, Serialize, Deserialize)]
pub struct Holder {
    pub who: String,
    pub host: String,
    pub pid: u32,
    pub command: String,
    /// Unix seconds.
    pub since: u64,
}

pub struct DeployLock {
    client: aws_sdk_s3::Client,
    bucket: String,
    key: String,
    released: bool,
}

impl DeployLock {
    pub async fn acquire(backend: &Backend, env: Env, command: &str) -> anyhow::Result<DeployLock> {
        let client = backend.s3().await;
        let key = format!("{env}/deploy.lock");
        let holder = Holder {
            who: std::env::var("USER").unwrap_or_else(|_| "unknown".into()),
            host: hostname(),
            pid: std::process::id(),
            command: command.to_string(),
            since: now(),
        };
        let put = client
            .put_object()
            .bucket(&backend.bucket)
            .key(&key)
            .if_none_match("*")
            .content_type("application/json")
            .body(ByteStream::from(serde_json::to_vec_pretty(&holder)?))
            .send()
            .await;
        match put {
            Ok(_) => Ok(DeployLock {
                client,
                bucket: backend.bucket.clone(),
                key,
                released: false,
            }),
            Err(err) if is_precondition_failed(&err) => {
                let held = current_holder(&client, &backend.bucket, &key).await;
                let who = match held {
                    Some(h) => format!(
                        "{}@{} (pid {}, `{}`) since {}",
                        h.who,
                        h.host,
                        h.pid,
                        h.command,
                        rfc3339(h.since)
                    ),
                    None => "an unknown holder".into(),
                };
                bail_help!("another deploy of `{env}` is running: the lock s3://{}/{key} is held by \
                     {who}", backend.bucket; "wait for it to finish; if that run died, remove the lock with \
                     `cargo xtask deploy {env} --break-lock`")
            }
            Err(err) => Err(anyhow::anyhow!(crate::error::one_line(&err)))
                .with_context(|| {
                    format!("cannot take the deploy lock s3://{}/{key}", backend.bucket)
                })
                .with_help(|| {
                    format!("does the state bucket exist? `cargo xtask bootstrap {env}` creates it")
                }),
        }
    }

    pub async fn release(mut self) -> anyhow::Result<()> {
        self.released = true;
        self.client
            .delete_object()
            .bucket(&self.bucket)
            .key(&self.key)
            .send()
            .await
            .map_err(|e| anyhow::anyhow!(crate::error::one_line(&e)))
            .with_context(|| {
                format!(
                    "cannot release the deploy lock s3://{}/{}",
                    self.bucket, self.key
                )
            })?;
        Ok(())
    }
}

impl Drop for DeployLock {
    fn drop(&mut self) {
        if !self.released {
            eprintln!(
                "warning: the deploy lock s3://{}/{} was not released; the next deploy will \
                 need --break-lock",
                self.bucket, self.key
            );
        }
    }
}

/// Removes a lock left by a run that died.
pub async fn break_lock(backend: &Backend, env: Env) -> anyhow::Result<Option<Holder>> {
    let client = backend.s3().await;
    let key = format!("{env}/deploy.lock");
    let holder = current_holder(&client, &backend.bucket, &key).await;
    client
        .delete_object()
        .bucket(&backend.bucket)
        .key(&key)
        .send()
        .await
        .map_err(|e| anyhow::anyhow!(crate::error::one_line(&e)))?;
    Ok(holder)
}

async fn current_holder(client: &aws_sdk_s3::Client, bucket: &str, key: &str) -> Option<Holder> {
    let object = client
        .get_object()
        .bucket(bucket)
        .key(key)
        .send()
        .await
        .ok()?;
    let bytes = object.body.collect().await.ok()?.into_bytes();
    serde_json::from_slice(&bytes).ok()
}

fn is_precondition_failed<E>(err: &aws_sdk_s3::error::SdkError<E>) -> bool {
    err.raw_response()
        .is_some_and(|r| r.status().as_u16() == 412 || r.status().as_u16() == 409)
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

fn hostname() -> String {
    std::fs::read_to_string("/etc/hostname")
        .map(|h| h.trim().to_string())
        .ok()
        .filter(|h| !h.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "unknown-host".into())
}
