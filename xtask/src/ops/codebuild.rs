//! `cargo xtask build-agents --remote <env>`: build on native ARM in AWS CodeBuild instead of
//! cross-compiling here.
//!
//! 1. The files git tracks (plus new files `.gitignore` does not exclude) go into a zip archive
//!    that is byte-for-byte the same for the same files: sorted entries, fixed timestamps and
//!    modes. Its SHA-256 names the S3 object, `source/<sha256>.zip` in the environment's
//!    CodeBuild source bucket (`<ssm_root_path>/platform/codebuild_source_bucket`), so an
//!    unchanged tree is not uploaded twice.
//! 2. ONE build of the environment's project (`<project_name>-<env>-images`, created by the
//!    agents phase) starts with its source overridden to that object, for all the agents asked
//!    for: they compile in one cargo invocation, shared dependencies once, and the project's S3
//!    cache brings the previous build's target dir, so a commit that changed one agent
//!    recompiles that one (an unchanged agent gives the same bytes, and its push sends nothing).
//!    The project's buildspec is `infra/buildspec.yml`, which runs `cargo xtask build-agents
//!    --push <env> <agents>`: one build definition, here and there. The agents, the revision and
//!    its commit time travel as environment overrides (`AGENT_IDS`, `XTASK_SOURCE_REVISION`,
//!    `SOURCE_DATE_EPOCH`) because the archive has no `.git`.
//! 3. The build is followed phase by phase; a failed one shows its failing phase and the tail
//!    of its CloudWatch log; Ctrl-C stops it.

use std::io::Write as _;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use aws_sdk_codebuild::types::{
    Build, EnvironmentVariable, EnvironmentVariableType, SourceType, StatusType,
};
use serde::Serialize;
use xshell::{Shell, cmd};

use crate::Context;
use crate::environment::Env;
use crate::environment::Environment;
use crate::error::HelpExt as _;
use crate::project::Project;
use crate::revision;

/// How often a running build is asked for its state.
const POLL: Duration = Duration::from_secs(5);
/// Lines of the build log shown when a build fails.
const LOG_TAIL: i32 = 40;

/// A deterministic zip of the workspace's source.
pub struct Archive {
    pub bytes: Vec<u8>,
    pub files: usize,
    /// Hex SHA-256 of `bytes`.
    pub sha256: String,
}

impl Archive {
    /// The S3 key: content-addressed, under the `source/` prefix the build role may read.
    pub fn key(&self) -> String {
        format!("source/{}.zip", self.sha256)
    }
}

/// Zips the files `git ls-files --cached --others --exclude-standard` lists, as they are in the
/// working tree: what a clone would hold plus new files not ignored, never `target/`.
pub fn source_archive(project: &Project) -> anyhow::Result<Archive> {
    let sh = Shell::new()?;
    sh.change_dir(&project.root);
    let listed = cmd!(sh, "git ls-files -z --cached --others --exclude-standard")
        .quiet()
        .ignore_stderr()
        .read()
        .map_err(|_| {
            helped!("{} is not a git checkout", project.root.display(); "the remote build archives the files git \
                 tracks; run it from a clone of the repository")
        })?;
    let mut paths: Vec<&str> = listed.split('\0').filter(|p| !p.is_empty()).collect();
    paths.sort_unstable();
    paths.dedup();
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let base = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .compression_level(Some(6))
        .last_modified_time(zip::DateTime::default());
    let mut files = 0;
    for rel in paths {
        let path = project.root.join(rel);
        let Ok(meta) = std::fs::symlink_metadata(&path) else {
            continue; // deleted in the working tree but not yet in the index
        };
        if meta.file_type().is_symlink() {
            let target = std::fs::read_link(&path)?;
            zip.add_symlink(rel, target.to_string_lossy(), base.unix_permissions(0o777))?;
        } else if meta.is_file() {
            let executable = {
                use std::os::unix::fs::PermissionsExt as _;
                meta.permissions().mode() & 0o111 != 0
            };
            zip.start_file(
                rel,
                base.unix_permissions(if executable { 0o755 } else { 0o644 }),
            )?;
            zip.write_all(&std::fs::read(&path).with_context(|| format!("cannot read {rel}"))?)?;
        } else {
            continue;
        }
        files += 1;
    }
    let bytes = zip.finish()?.into_inner();
    let sha256 = oci_image::sha256_digest(&bytes)
        .trim_start_matches("sha256:")
        .to_string();
    Ok(Archive {
        bytes,
        files,
        sha256,
    })
}

#[derive(Serialize)]
struct Report {
    ok: bool,
    env: Env,
    bucket: String,
    key: String,
    files: usize,
    bytes: usize,
    uploaded: bool,
    /// The environment's image build project.
    project: String,
    /// The agents the build compiles and pushes.
    agents: Vec<String>,
    /// The build's id, once started.
    build: Option<String>,
    /// CodeBuild's status of the build (`NOT_STARTED` before it is).
    status: String,
}

/// Runs the remote build of `ids` (default: every agent enabled in `env`).
pub fn run(ctx: &Context, env: Env, ids: &[String], dry_run: bool) -> anyhow::Result<ExitCode> {
    let environment = Environment::load(&ctx.project, env)?;
    // Only agents the environment runs: a named agent that is not enabled there is refused.
    let agents: Vec<String> = environment
        .named_agents(ids)?
        .iter()
        .map(|a| a.id().to_string())
        .collect();
    let rev = environment
        .revision
        .clone()
        .context("the remote build archives the files git tracks, but this is not a git checkout")
        .help("run it from a clone of the repository")?;
    revision::require_clean(env, &rev, "build remotely")?;

    let timer = ctx.out.timed("archiving the workspace's source");
    let archive = source_archive(&ctx.project)?;
    timer.done();
    ctx.out.step(format!(
        "source: {} files, {} (sha256 {})",
        archive.files,
        crate::output::human_bytes(archive.bytes.len() as u64),
        &archive.sha256[..12]
    ));

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    runtime.block_on(remote(ctx, &environment, &agents, &rev, archive, dry_run))
}

async fn remote(
    ctx: &Context,
    environment: &Environment,
    agents: &[String],
    rev: &revision::Revision,
    archive: Archive,
    dry_run: bool,
) -> anyhow::Result<ExitCode> {
    let env = environment.env;
    let settings = &environment.settings;
    let aws = environment.aws().await;
    let ssm = aws_sdk_ssm::Client::new(aws);
    let bucket_param = settings.param("platform/codebuild_source_bucket");
    let bucket = ssm
        .get_parameter()
        .name(&bucket_param)
        .send()
        .await
        .map_err(|e| {
            helped!("cannot read the CodeBuild source bucket of {env} from SSM parameter {bucket_param}: {}", crate::error::one_line(&e); "deploy the platform phase first (`cargo xtask deploy {env}`)")
        })?
        .parameter()
        .and_then(|p| p.value())
        .map(str::to_string)
        .with_context(|| format!("SSM parameter {bucket_param} has no value"))?;
    let key = archive.key();
    let project = format!("{}-{env}-images", settings.project_name);
    let mut report = Report {
        ok: false,
        env,
        bucket: bucket.clone(),
        key: key.clone(),
        files: archive.files,
        bytes: archive.bytes.len(),
        uploaded: false,
        project: project.clone(),
        agents: agents.to_vec(),
        build: None,
        status: "NOT_STARTED".into(),
    };
    if dry_run {
        ctx.out.step(format!(
            "would upload s3://{bucket}/{key} and start one build of {project} for {} \
             (revision {})",
            agents.join(", "),
            rev.tag()
        ));
        report.ok = true;
        finish(ctx, &report);
        return Ok(ExitCode::SUCCESS);
    }

    let s3 = aws_sdk_s3::Client::new(aws);
    if s3
        .head_object()
        .bucket(&bucket)
        .key(&key)
        .send()
        .await
        .is_ok()
    {
        ctx.out
            .step(format!("s3://{bucket}/{key} is already there"));
    } else {
        let timer = ctx.out.timed(format!("uploading s3://{bucket}/{key}"));
        s3.put_object()
            .bucket(&bucket)
            .key(&key)
            .content_type("application/zip")
            .body(archive.bytes.into())
            .send()
            .await
            .map_err(|e| {
                helped!("cannot upload the source to s3://{bucket}/{key}: {}", crate::error::one_line(&e); "check that your \
                     credentials may write to the bucket")
            })?;
        timer.done();
        report.uploaded = true;
    }

    let codebuild = aws_sdk_codebuild::Client::new(aws);
    let mut start = codebuild
        .start_build()
        .project_name(&project)
        .source_type_override(SourceType::S3)
        .source_location_override(format!("{bucket}/{key}"))
        .environment_variables_override(plain_var("AGENT_IDS", &agents.join(" "))?)
        .environment_variables_override(plain_var("XTASK_SOURCE_REVISION", &rev.tag())?);
    if let Some(time) = rev.commit_time {
        start = start
            .environment_variables_override(plain_var("SOURCE_DATE_EPOCH", &time.to_string())?);
    }
    let started = start.send().await.map_err(|e| {
        let text = crate::error::one_line(&e);
        let help = if text.contains("cannot be found") || text.contains("ResourceNotFound") {
            format!("the agents phase creates it: `cargo xtask deploy {env}`")
        } else {
            "check your AWS credentials and that they allow codebuild:StartBuild".to_string()
        };
        helped!("cannot start CodeBuild project {project}: {text}"; "{help}")
    })?;
    let id = started
        .build_value()
        .and_then(|b| b.id())
        .context("CodeBuild returned no build id")?
        .to_string();
    ctx.out
        .step(format!("started {id} for {}", agents.join(", ")));
    report.build = Some(id.clone());
    report.status = "IN_PROGRESS".into();

    let build = tokio::select! {
        result = follow(ctx, &codebuild, &id) => result?,
        _ = tokio::signal::ctrl_c() => {
            ctx.out.step("interrupted: stopping the build");
            stop(ctx, &codebuild, &id).await;
            report.status = "STOPPED".into();
            finish(ctx, &report);
            return Ok(ExitCode::from(130));
        }
    };
    report.status = build
        .build_status()
        .map(|s| s.as_str().to_string())
        .unwrap_or_default();
    report.ok = build.build_status() == Some(&StatusType::Succeeded);
    if !report.ok && !ctx.out.json {
        let logs = aws_sdk_cloudwatchlogs::Client::new(aws);
        eprintln!("{}", failure_summary(env, &build));
        eprintln!("{}", log_tail(&logs, &build).await);
    }
    finish(ctx, &report);
    Ok(if report.ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

fn plain_var(name: &str, value: &str) -> anyhow::Result<EnvironmentVariable> {
    Ok(EnvironmentVariable::builder()
        .name(name)
        .value(value)
        .r#type(EnvironmentVariableType::Plaintext)
        .build()?)
}

/// Polls until the build is complete, printing each phase as it ends.
async fn follow(
    ctx: &Context,
    codebuild: &aws_sdk_codebuild::Client,
    id: &str,
) -> anyhow::Result<Build> {
    let start = Instant::now();
    let mut shown = 0;
    loop {
        let out = codebuild
            .batch_get_builds()
            .ids(id)
            .send()
            .await
            .map_err(|e| {
                anyhow::anyhow!(
                    "cannot read the state of build {id}: {}",
                    crate::error::one_line(&e)
                )
            })?;
        if let Some(build) = out.builds().first() {
            let finished: Vec<_> = build
                .phases()
                .iter()
                .filter(|p| p.phase_status().is_some())
                .collect();
            for phase in finished.iter().skip(shown) {
                if !ctx.out.json {
                    eprintln!(
                        "    [{:>5}] {:<16} {:<10} {}s",
                        elapsed(start),
                        phase.phase_type().map(|t| t.as_str()).unwrap_or("?"),
                        phase.phase_status().map(|s| s.as_str()).unwrap_or("?"),
                        phase.duration_in_seconds().unwrap_or(0)
                    );
                }
            }
            shown = finished.len().max(shown);
            if is_complete(build) {
                return Ok(build.clone());
            }
        }
        tokio::time::sleep(POLL).await;
    }
}

/// `buildComplete` is the documented flag; a final status is accepted too, since an emulator
/// (moto) may report SUCCEEDED while leaving the flag false.
fn is_complete(build: &Build) -> bool {
    build.build_complete()
        || build
            .build_status()
            .is_some_and(|s| *s != StatusType::InProgress)
}

fn elapsed(start: Instant) -> String {
    let s = start.elapsed().as_secs();
    format!("{}:{:02}", s / 60, s % 60)
}

/// What went wrong with a build that did not succeed: its status and the phase that failed,
/// with CodeBuild's own explanation.
pub fn failure_summary(env: Env, build: &Build) -> String {
    let status = build
        .build_status()
        .map(|s| s.as_str())
        .unwrap_or("UNKNOWN");
    let mut text = format!(
        "error: the remote build ended {status} ({})",
        build.id().unwrap_or("no id")
    );
    for phase in build.phases() {
        let failed = phase
            .phase_status()
            .is_some_and(|s| !matches!(s, StatusType::Succeeded | StatusType::InProgress));
        if failed {
            text.push_str(&format!(
                "\n  phase {} {}",
                phase.phase_type().map(|t| t.as_str()).unwrap_or("?"),
                phase.phase_status().map(|s| s.as_str()).unwrap_or("?")
            ));
            for c in phase.contexts() {
                text.push_str(&format!(
                    ": {} {}",
                    c.status_code().unwrap_or_default(),
                    c.message().unwrap_or_default()
                ));
            }
        }
    }
    text.push_str(&format!(
        "\n  help: the log below is the end of the build's output; fix the cause and run \
         `cargo xtask build-agents --remote {env}` again"
    ));
    text
}

async fn log_tail(logs: &aws_sdk_cloudwatchlogs::Client, build: &Build) -> String {
    let info = build.logs();
    let link = info
        .and_then(|l| l.deep_link())
        .unwrap_or("the CodeBuild console");
    let (Some(group), Some(stream)) = (
        info.and_then(|l| l.group_name()),
        info.and_then(|l| l.stream_name()),
    ) else {
        return format!("  (no build log recorded; see {link})");
    };
    match logs
        .get_log_events()
        .log_group_name(group)
        .log_stream_name(stream)
        .start_from_head(false)
        .limit(LOG_TAIL)
        .send()
        .await
    {
        Ok(out) => {
            let lines: Vec<String> = out
                .events()
                .iter()
                .filter_map(|e| e.message())
                .map(|m| format!("  | {}", m.trim_end()))
                .collect();
            if lines.is_empty() {
                format!("  (the build log is empty; see {link})")
            } else {
                format!(
                    "  last {} line(s) of {group}/{stream}:\n{}",
                    lines.len(),
                    lines.join("\n")
                )
            }
        }
        Err(e) => format!(
            "  (cannot read the build log {group}/{stream}: {}; see {link})",
            crate::error::one_line(&e)
        ),
    }
}

async fn stop(ctx: &Context, codebuild: &aws_sdk_codebuild::Client, id: &str) {
    match codebuild.stop_build().id(id).send().await {
        Ok(_) => ctx.out.step(format!("stopped {id}")),
        Err(e) => ctx.out.warn(format!(
            "cannot stop {id}: {} (stop it in the console)",
            crate::error::one_line(&e)
        )),
    }
}

fn finish(ctx: &Context, report: &Report) {
    if ctx.out.json {
        ctx.out.print_json(report);
        return;
    }
    let row = vec![
        report.agents.join(" "),
        report.project.clone(),
        report.status.clone(),
        report.build.clone().unwrap_or_default(),
    ];
    println!(
        "{}",
        crate::output::table(&["AGENTS", "PROJECT", "STATUS", "BUILD"], &[row])
    );
}

#[cfg(test)]
mod tests {
    use aws_sdk_codebuild::types::{BuildPhase, BuildPhaseType, PhaseContext};

    use super::*;

    #[test]
    fn a_failed_build_names_its_phase_and_reason() {
        let build = Build::builder()
            .id("agentcore-dev-images:1")
            .project_name("agentcore-dev-images")
            .build_status(StatusType::Failed)
            .phases(BuildPhase::builder().phase_type(BuildPhaseType::Install).phase_status(StatusType::Succeeded).build())
            .phases(
                BuildPhase::builder()
                    .phase_type(BuildPhaseType::Build)
                    .phase_status(StatusType::Failed)
                    .contexts(
                        PhaseContext::builder()
                            .status_code("COMMAND_EXECUTION_ERROR")
                            .message("Error while executing command: cargo xtask build-agents. Reason: exit status 101")
                            .build(),
                    )
                    .build(),
            )
            .build();
        let text = failure_summary(Env::Dev, &build);
        assert!(text.contains("ended FAILED"), "{text}");
        assert!(
            text.contains("phase BUILD FAILED: COMMAND_EXECUTION_ERROR"),
            "{text}"
        );
        assert!(!text.contains("INSTALL"), "{text}");
    }
}
