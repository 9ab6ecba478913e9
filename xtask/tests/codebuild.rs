//! `cargo xtask build-agents --remote <env>` end to end against moto (S3, CodeBuild, SSM),
//! reached only through the standard AWS variables. moto's request recorder shows what the
//! StartBuild calls asked for, since moto's CodeBuild keeps no source override.

mod support;

use std::io::Read as _;

use support::images::{git_commit_all, only_agent};
use support::moto::Moto;
use support::workspace::{Scratch, run};

const AGENT: &str = "pushtest";
const BUCKET: &str = "agentcore-dev-codebuild-src-123456789012";

struct Aws {
    rt: tokio::runtime::Runtime,
    config: aws_config::SdkConfig,
}

impl Aws {
    fn new(moto: &Moto) -> Aws {
        let (rt, config) = support::aws::sdk(&moto.endpoint());
        Aws { rt, config }
    }

    fn s3(&self) -> aws_sdk_s3::Client {
        aws_sdk_s3::Client::from_conf(
            aws_sdk_s3::config::Builder::from(&self.config)
                .force_path_style(true)
                .build(),
        )
    }

    /// What the platform and agents phases would have created for agent `AGENT` in dev.
    fn platform(&self, with_project: bool) {
        self.rt.block_on(async {
            self.s3()
                .create_bucket()
                .bucket(BUCKET)
                .send()
                .await
                .expect("create bucket");
            aws_sdk_ssm::Client::new(&self.config)
                .put_parameter()
                .name("/platform/dev/platform/codebuild_source_bucket")
                .value(BUCKET)
                .r#type(aws_sdk_ssm::types::ParameterType::String)
                .send()
                .await
                .expect("put parameter");
            if with_project {
                use aws_sdk_codebuild::types::*;
                aws_sdk_codebuild::Client::new(&self.config)
                    .create_project()
                    .name("agentcore-dev-images")
                    .source(
                        ProjectSource::builder()
                            .r#type(SourceType::S3)
                            .location(format!("{BUCKET}/source/agentcore-dev.zip"))
                            .build()
                            .expect("source"),
                    )
                    .artifacts(
                        ProjectArtifacts::builder()
                            .r#type(ArtifactsType::NoArtifacts)
                            .build()
                            .expect("artifacts"),
                    )
                    .environment(
                        ProjectEnvironment::builder()
                            .r#type(EnvironmentType::ArmContainer)
                            .compute_type(ComputeType::BuildGeneral1Large)
                            .image("aws/codebuild/amazonlinux-aarch64-standard:3.0")
                            .build()
                            .expect("environment"),
                    )
                    .service_role("arn:aws:iam::123456789012:role/agentcore-dev-codebuild")
                    .send()
                    .await
                    .expect("create project");
            }
        });
    }

    fn object(&self, key: &str) -> Vec<u8> {
        self.rt.block_on(async {
            let out = self
                .s3()
                .get_object()
                .bucket(BUCKET)
                .key(key)
                .send()
                .await
                .expect("get object");
            out.body
                .collect()
                .await
                .expect("read object")
                .into_bytes()
                .to_vec()
        })
    }
}

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest as _;
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn remote_build(scratch: &Scratch, moto: &Moto, extra: &[&str]) -> (std::process::Output, String) {
    let mut cmd = scratch.xtask();
    cmd.args(extra)
        .args(["build-agents", "--remote", "dev", AGENT]);
    moto.configure(&mut cmd);
    run(&mut cmd)
}

#[test]
fn uploads_a_deterministic_source_archive_and_builds_from_it() {
    let moto = Moto::start_recording();
    let aws = Aws::new(&moto);
    aws.platform(true);
    let scratch = Scratch::copy_of_repo();
    only_agent(&scratch, AGENT, false);
    let commit = git_commit_all(&scratch);
    // Ignored files stay out of the archive.
    scratch.write("target/oci/big.bin", "build output");
    scratch.write("infra/stacks/platform/.terraform/junk", "provider cache");

    let (out, text) = remote_build(&scratch, &moto, &["--json"]);
    assert!(out.status.success(), "remote build failed:\n{text}");
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("--json output");
    let key = report["key"].as_str().expect("key").to_string();
    assert_eq!(report["bucket"], BUCKET);
    assert_eq!(report["uploaded"], true);
    assert_eq!(report["project"], "agentcore-dev-images");
    assert_eq!(report["agents"], serde_json::json!([AGENT]));
    assert_eq!(report["status"], "SUCCEEDED");

    // The object is named by its own content, and holds the tracked files only.
    let archive = aws.object(&key);
    assert_eq!(key, format!("source/{}.zip", sha256_hex(&archive)));
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(&archive)).expect("a zip archive");
    let names: Vec<String> = zip
        .file_names()
        .map(|n| n.expect("entry name").to_string())
        .collect();
    assert!(
        names.contains(&format!("agents/{AGENT}/blueprint.yaml")),
        "{names:?}"
    );
    assert!(
        names.contains(&"infra/buildspec.yml".to_string()),
        "the buildspec travels with the source: {names:?}"
    );
    assert!(
        !names
            .iter()
            .any(|n| n.starts_with("target/") || n.contains(".terraform/")),
        "{names:?}"
    );
    let mut blueprint = String::new();
    zip.by_name(&format!("agents/{AGENT}/blueprint.yaml"))
        .expect("blueprint in archive")
        .read_to_string(&mut blueprint)
        .expect("read blueprint");
    assert_eq!(
        blueprint,
        scratch.read(&format!("agents/{AGENT}/blueprint.yaml"))
    );

    // The same tree gives the same archive: nothing is uploaded the second time.
    let (out, text) = remote_build(&scratch, &moto, &[]);
    assert!(out.status.success(), "second remote build failed:\n{text}");
    assert!(text.contains("is already there"), "{text}");
    assert!(
        text.contains("BUILD") && text.contains("SUCCEEDED"),
        "no phase progress shown:\n{text}"
    );

    let starts = moto.requests_to("StartBuild");
    assert_eq!(starts.len(), 2, "{starts:?}");
    for start in &starts {
        // One build of the environment's project, for every agent asked for.
        assert_eq!(start["projectName"], "agentcore-dev-images");
        assert_eq!(start["sourceTypeOverride"], "S3");
        assert_eq!(start["sourceLocationOverride"], format!("{BUCKET}/{key}"));
        let vars = start["environmentVariablesOverride"]
            .as_array()
            .expect("variables");
        assert!(
            vars.iter()
                .any(|v| v["name"] == "XTASK_SOURCE_REVISION" && v["value"] == commit.as_str()),
            "{vars:?}"
        );
        assert!(
            vars.iter()
                .any(|v| v["name"] == "AGENT_IDS" && v["value"] == AGENT),
            "{vars:?}"
        );
    }
}

#[test]
fn a_missing_project_or_a_dirty_tree_for_staging_fails_clearly() {
    let moto = Moto::start_recording();
    let aws = Aws::new(&moto);
    aws.platform(false);
    let scratch = Scratch::copy_of_repo();
    only_agent(&scratch, AGENT, true);
    git_commit_all(&scratch);

    let (out, text) = remote_build(&scratch, &moto, &[]);
    assert!(
        !out.status.success(),
        "a build of a missing project passed:\n{text}"
    );
    assert!(
        text.contains("agentcore-dev-images") && text.contains("cargo xtask deploy dev"),
        "{text}"
    );

    let starts = moto.requests_to("StartBuild").len();
    scratch.write("notes.txt", "not committed\n");
    let mut cmd = scratch.xtask();
    cmd.args(["build-agents", "--remote", "staging", AGENT]);
    moto.configure(&mut cmd);
    let (out, text) = run(&mut cmd);
    assert!(
        !out.status.success(),
        "a dirty tree was built for staging:\n{text}"
    );
    assert!(
        text.contains("dirty git tree") && text.contains("notes.txt"),
        "{text}"
    );
    assert_eq!(
        moto.requests_to("StartBuild").len(),
        starts,
        "a build was started for staging"
    );
}

#[test]
fn agents_not_enabled_in_the_environment_are_not_built_there() {
    let moto = Moto::start_recording();
    let aws = Aws::new(&moto);
    aws.platform(true);
    let scratch = Scratch::copy_of_repo();
    // Enabled in dev only.
    only_agent(&scratch, AGENT, false);
    git_commit_all(&scratch);

    let mut cmd = scratch.xtask();
    cmd.args(["build-agents", "--remote", "staging", AGENT]);
    moto.configure(&mut cmd);
    let (out, text) = run(&mut cmd);
    assert!(!out.status.success(), "{text}");
    assert!(
        text.contains(&format!("agent `{AGENT}` is not enabled for staging"))
            && text.contains("execution_modes.staging: true"),
        "{text}"
    );
    assert!(
        moto.requests_to("StartBuild").is_empty(),
        "a build was started for an agent staging does not run"
    );
}
