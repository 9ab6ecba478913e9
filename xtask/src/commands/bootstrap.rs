//! `cargo xtask bootstrap <env>`: the one thing Terraform cannot create for itself — the S3
//! bucket that holds an environment's state. Creates it when missing and makes sure it is
//! versioned (state history to roll back to), encrypted (state holds secrets) and closed to the
//! public, whether it was created now or found. Safe to run again: it changes only what differs.
//!
//! The bucket and region come from `infra/envs/<env>.backend.hcl` (rendered like the tfvars:
//! `${NAME}` from the process environment), the same file every stack's `terraform init` uses.
//! AWS is reached through the standard credential chain and `AWS_ENDPOINT_URL[_S3]`.

use std::process::ExitCode;

use aws_sdk_s3::Client;
use aws_sdk_s3::config::http::HttpResponse;
use aws_sdk_s3::error::{DisplayErrorContext, SdkError};
use aws_sdk_s3::types::{
    BucketLocationConstraint, BucketVersioningStatus, CreateBucketConfiguration,
    PublicAccessBlockConfiguration, ServerSideEncryption, ServerSideEncryptionByDefault,
    ServerSideEncryptionConfiguration, ServerSideEncryptionRule, VersioningConfiguration,
};
use serde::Serialize;

use crate::Context;
use crate::environment::Env;
use crate::environment::backend::Backend;
use crate::output::table;

#[derive(clap::Args)]
#[command(after_help = "Examples:
  TF_STATE_BUCKET=acme-tfstate-dev cargo xtask bootstrap dev
  cargo xtask bootstrap production --dry-run     say what would change, change nothing
  cargo xtask bootstrap staging --json | jq .created

The bucket and region come from infra/envs/<env>.backend.hcl; `${NAME}` placeholders in it
are filled from the process environment. Credentials and endpoints: the standard AWS
variables and profiles (AWS_PROFILE, AWS_REGION, AWS_ENDPOINT_URL, ...).")]
pub struct Args {
    /// The environment whose state bucket to create: dev, staging or production.
    env: Env,
    /// Only look: report what would be created or changed, and change nothing.
    #[arg(long)]
    dry_run: bool,
}

#[derive(Serialize)]
struct Report {
    ok: bool,
    env: Env,
    bucket: String,
    region: Option<String>,
    dry_run: bool,
    /// The bucket did not exist (and, unless dry-run, was created).
    created: bool,
    settings: Vec<Setting>,
}

#[derive(Serialize)]
struct Setting {
    name: &'static str,
    /// "ok" (already so), "set" (applied now), "would set" or "unknown, would set" (dry-run).
    state: &'static str,
}

pub fn run(ctx: &Context, args: Args) -> anyhow::Result<ExitCode> {
    let backend = Backend::load(&ctx.project, args.env)?;
    ctx.out.verbose(format!(
        "state bucket from {}: {}",
        backend.file.display(),
        backend.bucket
    ));
    let (bucket, region) = (backend.bucket, backend.region);
    let runtime = crate::async_runtime()?;
    let report = runtime.block_on(bootstrap(ctx, &args, bucket, region))?;
    if ctx.out.json {
        ctx.out.print_json(&report);
    } else {
        let rows: Vec<Vec<String>> = report
            .settings
            .iter()
            .map(|s| vec![s.name.to_string(), s.state.to_string()])
            .collect();
        println!("{}", table(&["setting", "state"], &rows));
        let verb = match (report.created, report.dry_run) {
            (true, true) => "would be created",
            (true, false) => "created",
            (false, _) => "exists",
        };
        println!(
            "\nstate bucket of {}: s3://{} {verb}{}",
            report.env,
            report.bucket,
            if report.dry_run {
                " (dry run: nothing changed)"
            } else {
                ""
            }
        );
    }
    Ok(ExitCode::SUCCESS)
}

async fn bootstrap(
    ctx: &Context,
    args: &Args,
    bucket: String,
    region: Option<String>,
) -> anyhow::Result<Report> {
    let config = crate::environment::aws_config(region.as_deref()).await;
    let region = region.or_else(|| config.region().map(ToString::to_string));
    let s3 = Client::new(&config);
    let dry = args.dry_run;
    let mut settings = Vec::new();

    let exists = bucket_exists(&s3, &bucket).await?;
    if !exists && !dry {
        let timer = ctx.out.timed(format!("create s3://{bucket}"));
        let mut create = s3.create_bucket().bucket(&bucket);
        // us-east-1 is the one region that takes no location constraint.
        if let Some(r) = region.as_deref().filter(|r| *r != "us-east-1") {
            create = create.create_bucket_configuration(
                CreateBucketConfiguration::builder()
                    .location_constraint(BucketLocationConstraint::from(r))
                    .build(),
            );
        }
        create
            .send()
            .await
            .map_err(|e| sdk_error(e, &format!("cannot create the bucket {bucket}")))?;
        timer.done();
    }

    // A bucket that is not there yet has none of the settings. A setting whose state cannot be
    // read (some S3-compatible stores answer in shapes the SDK rejects) is simply applied again:
    // every put below is idempotent.
    let versioned = if exists {
        versioning_enabled(&s3, &bucket).await
    } else {
        Some(false)
    };
    if let Some(state) = apply(ctx, "versioning", versioned, dry, &mut settings) {
        s3.put_bucket_versioning()
            .bucket(&bucket)
            .versioning_configuration(
                VersioningConfiguration::builder()
                    .status(BucketVersioningStatus::Enabled)
                    .build(),
            )
            .send()
            .await
            .map_err(|e| sdk_error(e, "cannot turn on versioning"))?;
        settings.push(state);
    }

    let encrypted = if exists {
        kms_encrypted(&s3, &bucket).await
    } else {
        Some(false)
    };
    if let Some(state) = apply(ctx, "encryption (aws:kms)", encrypted, dry, &mut settings) {
        let rule = ServerSideEncryptionRule::builder()
            .apply_server_side_encryption_by_default(
                ServerSideEncryptionByDefault::builder()
                    .sse_algorithm(ServerSideEncryption::AwsKms)
                    .build()?,
            )
            .bucket_key_enabled(true)
            .build();
        s3.put_bucket_encryption()
            .bucket(&bucket)
            .server_side_encryption_configuration(
                ServerSideEncryptionConfiguration::builder()
                    .rules(rule)
                    .build()?,
            )
            .send()
            .await
            .map_err(|e| sdk_error(e, "cannot set default encryption"))?;
        settings.push(state);
    }

    let blocked = if exists {
        public_access_blocked(&s3, &bucket).await
    } else {
        Some(false)
    };
    if let Some(state) = apply(ctx, "public access block", blocked, dry, &mut settings) {
        s3.put_public_access_block()
            .bucket(&bucket)
            .public_access_block_configuration(
                PublicAccessBlockConfiguration::builder()
                    .block_public_acls(true)
                    .ignore_public_acls(true)
                    .block_public_policy(true)
                    .restrict_public_buckets(true)
                    .build(),
            )
            .send()
            .await
            .map_err(|e| sdk_error(e, "cannot block public access"))?;
        settings.push(state);
    }

    Ok(Report {
        ok: true,
        env: args.env,
        bucket,
        region,
        dry_run: dry,
        created: !exists,
        settings,
    })
}

/// Decides what to do with one setting whose current state is `now` (None: unknown). Records
/// it in `settings` when there is nothing to do; otherwise returns the record to push once the
/// change is made.
fn apply(
    ctx: &Context,
    name: &'static str,
    now: Option<bool>,
    dry: bool,
    settings: &mut Vec<Setting>,
) -> Option<Setting> {
    let state = match (now, dry) {
        (Some(true), _) => "ok",
        (Some(false), true) => "would set",
        (None, true) => "unknown, would set",
        (_, false) => "set",
    };
    let setting = Setting { name, state };
    if now == Some(true) || dry {
        settings.push(setting);
        return None;
    }
    ctx.out.verbose(format!("setting {name}"));
    Some(setting)
}

/// true: ours to use; false: free to create; error: someone else's, or S3 cannot be reached.
async fn bucket_exists(s3: &Client, bucket: &str) -> anyhow::Result<bool> {
    match s3.head_bucket().bucket(bucket).send().await {
        Ok(_) => Ok(true),
        Err(err) => match status(&err) {
            Some(404) => Ok(false),
            Some(403) => {
                bail_help!("the bucket {bucket} exists but these credentials may not use it (403)"; "\
                 bucket names are global: pick another name for TF_STATE_BUCKET, or use the \
                 account that owns it")
            }
            _ => Err(sdk_error(
                err,
                &format!("cannot look up the bucket {bucket}"),
            )),
        },
    }
}

async fn versioning_enabled(s3: &Client, bucket: &str) -> Option<bool> {
    let out = s3
        .get_bucket_versioning()
        .bucket(bucket)
        .send()
        .await
        .ok()?;
    Some(out.status() == Some(&BucketVersioningStatus::Enabled))
}

async fn kms_encrypted(s3: &Client, bucket: &str) -> Option<bool> {
    match s3.get_bucket_encryption().bucket(bucket).send().await {
        Ok(out) => Some(
            out.server_side_encryption_configuration()
                .map(|c| c.rules())
                .unwrap_or_default()
                .iter()
                .filter_map(|r| r.apply_server_side_encryption_by_default())
                .any(|d| d.sse_algorithm() == &ServerSideEncryption::AwsKms),
        ),
        Err(err) if status(&err) == Some(404) => Some(false),
        Err(_) => None,
    }
}

async fn public_access_blocked(s3: &Client, bucket: &str) -> Option<bool> {
    match s3.get_public_access_block().bucket(bucket).send().await {
        Ok(out) => Some(out.public_access_block_configuration().is_some_and(|c| {
            c.block_public_acls() == Some(true)
                && c.ignore_public_acls() == Some(true)
                && c.block_public_policy() == Some(true)
                && c.restrict_public_buckets() == Some(true)
        })),
        Err(err) if status(&err) == Some(404) => Some(false),
        Err(_) => None,
    }
}

fn status<E>(err: &SdkError<E, HttpResponse>) -> Option<u16> {
    err.raw_response().map(|r| r.status().as_u16())
}

/// The SDK's error with its cause chain and what to check next.
fn sdk_error<E, R>(err: SdkError<E, R>, what: &str) -> anyhow::Error
where
    E: std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    let detail = DisplayErrorContext(&err).to_string();
    helped!("{what}: {detail}"; "check the credentials (AWS_PROFILE, `aws sts get-caller-identity`), \
         the region, and AWS_ENDPOINT_URL if you point at a stand-in")
}
