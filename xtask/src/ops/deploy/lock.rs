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
use oci_image::rfc3339;

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
                let who = held
                    .map(|h| h.describe())
                    .unwrap_or_else(|| "an unknown holder".into());
                bail_help!("another deploy of `{env}` is running: the lock s3://{}/{key} is held by \
                     {who}", backend.bucket; "wait for it to finish; if that run died, remove the lock with \
                     `cargo xtask deploy {env} --break-lock`")
            }
            Err(err) => {
                let help = state_bucket_help(&err, env);
                Err(anyhow::anyhow!(crate::error::one_line(&err)))
                    .with_context(|| {
                        format!("cannot take the deploy lock s3://{}/{key}", backend.bucket)
                    })
                    .help(help)
            }
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

    /// Releases the lock after the work it guarded, whatever that work's `result`: the work's
    /// error comes first, a failed release is the error only when the work succeeded.
    pub fn release_after(
        self,
        runtime: &tokio::runtime::Runtime,
        result: anyhow::Result<()>,
    ) -> anyhow::Result<()> {
        let released = runtime.block_on(self.release());
        result.and(released)
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

/// Removes the locks a run that died left behind: the deploy lock, and the state locks
/// Terraform's S3 backend keeps beside each stack's state (`<key>.tflock`). Refused while the
/// holder still runs on this machine.
pub async fn break_lock(
    backend: &Backend,
    env: Env,
    state_keys: &[String],
) -> anyhow::Result<Option<Holder>> {
    let client = backend.s3().await;
    let key = format!("{env}/deploy.lock");
    let holder = current_holder(&client, &backend.bucket, &key).await;
    if let Some(h) = &holder
        && h.host == hostname()
        && is_running(h.pid)
    {
        bail_help!(
            "the deploy lock of `{env}` is held by a run that is still going: pid {} on this \
             machine (`{}`, since {})", h.pid, h.command, rfc3339(h.since);
            "wait for it, or stop it (`kill {}`: it stops Terraform cleanly and releases the \
             locks itself)", h.pid
        );
    }
    let keys = std::iter::once(key).chain(state_keys.iter().map(|k| format!("{k}.tflock")));
    for key in keys {
        client
            .delete_object()
            .bucket(&backend.bucket)
            .key(&key)
            .send()
            .await
            .map_err(|e| anyhow::anyhow!(crate::error::one_line(&e)))
            .with_context(|| format!("cannot remove s3://{}/{key}", backend.bucket))?;
    }
    Ok(holder)
}

/// Who holds the deploy lock of `env` now, if anyone.
pub async fn holder(backend: &Backend, env: Env) -> Option<Holder> {
    let client = backend.s3().await;
    current_holder(&client, &backend.bucket, &format!("{env}/deploy.lock")).await
}

impl Holder {
    pub fn describe(&self) -> String {
        format!(
            "{}@{} (pid {}, `{}`) since {}",
            self.who,
            self.host,
            self.pid,
            self.command,
            rfc3339(self.since)
        )
    }
}

/// What to do when the state bucket cannot be reached, by what went wrong: credentials, the
/// endpoint, or the bucket.
fn state_bucket_help<E: std::error::Error + 'static>(
    err: &aws_sdk_s3::error::SdkError<E>,
    env: Env,
) -> String {
    use aws_sdk_s3::error::SdkError;
    let text = crate::error::one_line(err);
    match err {
        _ if text.contains("NoSuchBucket") || text.contains("does not exist") => {
            format!("create the state bucket: `cargo xtask bootstrap {env}`")
        }
        SdkError::ConstructionFailure(_) | SdkError::DispatchFailure(_)
            if text.contains("credentials") =>
        {
            "no AWS credentials were found: `aws configure sso`, or export AWS_PROFILE / \
             AWS_ACCESS_KEY_ID"
                .into()
        }
        SdkError::DispatchFailure(_) | SdkError::TimeoutError(_) => {
            "the S3 endpoint did not answer: check the network, and AWS_ENDPOINT_URL* if set".into()
        }
        _ if text.contains("AccessDenied") || text.contains("Forbidden") => {
            "your AWS identity may not write to the state bucket (`aws sts get-caller-identity` \
             says who you are)"
                .into()
        }
        _ => format!("does the state bucket exist? `cargo xtask bootstrap {env}` creates it"),
    }
}

/// Whether process `pid` runs on this machine.
fn is_running(pid: u32) -> bool {
    std::path::Path::new("/proc").join(pid.to_string()).exists()
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
