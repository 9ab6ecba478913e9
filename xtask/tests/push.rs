//! `cargo xtask push` against a real OCI registry (the CNCF distribution server) and, for the
//! ECR path, moto (ECR tokens and SSM) reached only through the standard AWS variables.
//!
//! What the registry received is read from its own access log, never from our counters.

mod support;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use support::images::{
    attach_sbom, git_commit_all, layout_blobs, layout_digest, only_agent, umoci_layout,
};
use support::moto::Moto;
use support::registry::Registry;
use support::workspace::{Scratch, run};

const AGENT: &str = "pushtest";

/// A scratch workspace with one committed agent whose image layout is in `target/oci/`.
fn workspace_with_image(layers: &[usize], staging: bool) -> (Scratch, String) {
    let scratch = Scratch::copy_of_repo();
    only_agent(&scratch, AGENT, staging);
    umoci_layout(&scratch.file(&format!("target/oci/{AGENT}")), layers, 7);
    let commit = git_commit_all(&scratch);
    (scratch, commit)
}

/// The sha256 hex digests of the blobs whose upload the registry completed (PUT … 201).
fn uploaded_blobs(log: &str) -> Vec<String> {
    log.lines()
        .filter(|l| {
            l.contains("\"PUT ") && l.contains("/blobs/uploads/") && l.contains("HTTP/1.1\" 201")
        })
        .filter_map(|l| l.split("digest=sha256%3A").nth(1))
        .map(|rest| rest.chars().take(64).collect())
        .collect()
}

/// Requests of the access log (`"METHOD /v2/…"` lines).
fn requests(log: &str) -> Vec<&str> {
    log.lines()
        .filter(|l| l.contains("\"") && l.contains(" /v2/"))
        .collect()
}

fn skopeo_inspect(reference: &str) -> serde_json::Value {
    let out = Command::new(support::tool("skopeo"))
        .args(["inspect", "--raw", "--tls-verify=false"])
        .arg(format!("docker://{reference}"))
        .output()
        .expect("run skopeo");
    assert!(
        out.status.success(),
        "skopeo inspect {reference}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("manifest JSON")
}

fn skopeo_digest(reference: &str) -> String {
    let out = Command::new(support::tool("skopeo"))
        .args(["inspect", "--tls-verify=false", "--format", "{{.Digest}}"])
        .arg(format!("docker://{reference}"))
        .output()
        .expect("run skopeo");
    assert!(
        out.status.success(),
        "skopeo inspect {reference}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

#[test]
fn pushes_an_image_and_a_second_push_uploads_no_blob() {
    let registry = Registry::start();
    let (scratch, commit) = workspace_with_image(&[300_000, 50_000], false);
    let layout = scratch.file(&format!("target/oci/{AGENT}"));
    let digest = layout_digest(&layout);

    // A dry run asks, and changes nothing.
    let (out, text) = run(scratch.xtask().args([
        "--json",
        "push",
        "dev",
        AGENT,
        "--dry-run",
        "--registry",
        &registry.host(),
    ]));
    assert!(out.status.success(), "dry run failed:\n{text}");
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("--json output");
    assert_eq!(report["images"][0]["blobs_uploaded"], 3, "{report}");
    for method in ["\"POST ", "\"PATCH ", "\"PUT "] {
        assert!(
            !registry.log().contains(method),
            "a dry run sent {method}:\n{}",
            registry.log()
        );
    }

    let (out, text) = run(scratch.xtask().args([
        "--json",
        "push",
        "dev",
        AGENT,
        "--registry",
        &registry.host(),
    ]));
    assert!(out.status.success(), "first push failed:\n{text}");
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("--json output");
    let image = &report["images"][0];
    let repo = format!("{}/agentcore/dev/{AGENT}", registry.host());
    assert_eq!(image["uri"], format!("{repo}@{digest}"));
    assert_eq!(image["tag"], commit.as_str());
    assert_eq!(image["blobs_uploaded"], 3);

    // The registry serves the image under the revision tag and under its digest.
    assert_eq!(skopeo_digest(&format!("{repo}:{commit}")), digest);
    let manifest = skopeo_inspect(&format!("{repo}@{digest}"));
    assert_eq!(manifest["layers"].as_array().map(Vec::len), Some(2));
    let mut uploaded = uploaded_blobs(&registry.log());
    uploaded.sort();
    let mut expected: Vec<String> = layout_blobs(&layout)
        .iter()
        .map(|d| d.trim_start_matches("sha256:").to_string())
        .collect();
    expected.sort();
    assert_eq!(uploaded, expected, "the first push uploads every blob once");

    let before = registry.log().lines().count();
    let (out, text) =
        run(scratch
            .xtask()
            .args(["push", "dev", AGENT, "--registry", &registry.host()]));
    assert!(out.status.success(), "second push failed:\n{text}");
    let log = registry.log();
    let second: Vec<&str> = log.lines().skip(before).collect();
    let second = second.join("\n");
    assert!(
        uploaded_blobs(&second).is_empty(),
        "a second push uploaded blobs:\n{second}"
    );
    for method in ["\"POST ", "\"PATCH ", "\"PUT "] {
        assert!(
            !second.contains(method),
            "unexpected {method} in an unchanged push:\n{second}"
        );
    }
    assert!(text.contains("unchanged"), "{text}");
}

#[test]
fn ecr_path_uses_the_token_records_the_digest_and_never_shows_the_token() {
    let moto = Moto::start();
    // moto's GetAuthorizationToken answers `AWS:<account>-auth-token`, base64-encoded.
    let password = "123456789012-auth-token";
    let token = "QVdTOjEyMzQ1Njc4OTAxMi1hdXRoLXRva2Vu";
    let registry = Registry::start_with_auth("AWS", password);
    let (scratch, commit) = workspace_with_image(&[100_000], false);
    let digest = layout_digest(&scratch.file(&format!("target/oci/{AGENT}")));
    let repo_url = format!("{}/agentcore/dev/{AGENT}", registry.host());

    let aws = Aws::new(&moto);
    aws.put_param(
        &format!("/platform/dev/ecr/{AGENT}/repository_url"),
        &repo_url,
    );

    // Without the token the registry refuses the push: a successful ECR-path push below proves
    // the token was sent.
    let (out, text) = run(scratch.xtask().args([
        "push",
        "dev",
        AGENT,
        "--registry",
        &format!("{}/agentcore", registry.host()),
    ]));
    assert!(
        !out.status.success(),
        "an anonymous push to an authenticated registry passed:\n{text}"
    );

    let mut outputs = Vec::new();
    for flags in [&[][..], &["-v"][..], &["-vv"][..], &["--json", "-vv"][..]] {
        let mut cmd = scratch.xtask();
        cmd.args(flags).args(["push", "dev", AGENT]);
        moto.configure(&mut cmd);
        let (out, text) = run(&mut cmd);
        assert!(out.status.success(), "push {flags:?} failed:\n{text}");
        outputs.push(text);
    }
    // A failing run prints errors too: point the registry at a closed port.
    aws.put_param(
        &format!("/platform/dev/ecr/{AGENT}/repository_url"),
        &format!("127.0.0.1:{}/agentcore/dev/{AGENT}", support::free_port()),
    );
    let mut cmd = scratch.xtask();
    cmd.args(["-vv", "push", "dev", AGENT]);
    moto.configure(&mut cmd);
    let (out, text) = run(&mut cmd);
    assert!(
        !out.status.success(),
        "push to a closed port passed:\n{text}"
    );
    outputs.push(text);

    for text in &outputs {
        assert!(
            !text.contains(token),
            "the ECR token appears in the output:\n{text}"
        );
        assert!(
            !text.contains(password),
            "the ECR password appears in the output:\n{text}"
        );
    }
    assert!(
        outputs[0].contains(&format!("{repo_url}@{digest}")),
        "{}",
        outputs[0]
    );
    assert_eq!(
        aws.get_param(&format!("/platform/dev/images/{AGENT}/digest")),
        digest
    );
    assert_eq!(
        aws.get_param(&format!("/platform/dev/images/{AGENT}/uri")),
        format!("{repo_url}@{digest}")
    );
    assert_eq!(
        skopeo_digest_with_creds(&format!("{repo_url}:{commit}"), password),
        digest
    );
}

fn skopeo_digest_with_creds(reference: &str, password: &str) -> String {
    let out = Command::new(support::tool("skopeo"))
        .args([
            "inspect",
            "--tls-verify=false",
            "--format",
            "{{.Digest}}",
            "--creds",
        ])
        .arg(format!("AWS:{password}"))
        .arg(format!("docker://{reference}"))
        .output()
        .expect("run skopeo");
    assert!(
        out.status.success(),
        "skopeo inspect {reference}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

#[test]
fn a_push_cut_off_half_way_fails_clearly_and_resumes_with_only_the_missing_blobs() {
    let mut registry = Registry::start();
    let (scratch, _) = workspace_with_image(&[64 << 20, 96 << 20], false);
    let layout = scratch.file(&format!("target/oci/{AGENT}"));

    let child = scratch
        .xtask()
        .args(["push", "dev", AGENT, "--registry", &registry.host()])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start push");
    // Stop the registry as soon as it has stored the first blob, while the rest is in flight.
    let deadline = Instant::now() + Duration::from_secs(120);
    while uploaded_blobs(&registry.log()).is_empty() {
        assert!(
            Instant::now() < deadline,
            "the registry never stored a blob:\n{}",
            registry.log()
        );
        std::thread::sleep(Duration::from_millis(2));
    }
    registry.stop();
    let before = uploaded_blobs(&registry.log());
    let out = child.wait_with_output().expect("wait for push");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        !out.status.success(),
        "the push passed although the registry stopped:\n{text}"
    );
    assert!(
        text.contains(&format!("agent `{AGENT}`")),
        "the error does not name the agent:\n{text}"
    );
    assert!(
        text.contains("run the same command again"),
        "the error does not say what to do:\n{text}"
    );
    let all: Vec<String> = layout_blobs(&layout)
        .iter()
        .map(|d| d.trim_start_matches("sha256:").to_string())
        .collect();
    assert!(
        before.len() < all.len(),
        "every blob was stored before the stop: {before:?}"
    );

    let registry = registry.restart();
    let (out, text) =
        run(scratch
            .xtask()
            .args(["push", "dev", AGENT, "--registry", &registry.host()]));
    assert!(out.status.success(), "the re-run failed:\n{text}");
    let after = uploaded_blobs(&registry.log());
    for blob in &before {
        assert!(
            !after.contains(blob),
            "blob {blob} was uploaded again after the restart"
        );
    }
    let mut stored: Vec<String> = before.iter().chain(&after).cloned().collect();
    stored.sort();
    let mut expected = all.clone();
    expected.sort();
    assert_eq!(
        stored, expected,
        "each blob is stored exactly once across the two runs"
    );
    let digest = layout_digest(&layout);
    assert_eq!(
        skopeo_digest(&format!(
            "{}/agentcore/dev/{AGENT}@{digest}",
            registry.host()
        )),
        digest
    );
    assert!(!requests(&registry.log()).is_empty());
}

#[test]
fn staging_refuses_a_dirty_tree_and_a_missing_image_says_how_to_build_it() {
    let registry = Registry::start();
    let (scratch, _) = workspace_with_image(&[10_000], true);
    scratch.write("notes.txt", "not committed\n");
    let (out, text) =
        run(scratch
            .xtask()
            .args(["push", "staging", AGENT, "--registry", &registry.host()]));
    assert!(
        !out.status.success(),
        "a dirty tree was pushed to staging:\n{text}"
    );
    assert!(
        text.contains("dirty git tree") && text.contains("notes.txt"),
        "{text}"
    );
    assert!(
        requests(&registry.log()).is_empty(),
        "the registry was contacted:\n{}",
        registry.log()
    );

    // dev accepts it, tagged as dirty.
    let (out, text) = run(scratch.xtask().args([
        "--json",
        "push",
        "dev",
        AGENT,
        "--registry",
        &registry.host(),
    ]));
    assert!(out.status.success(), "{text}");
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("--json output");
    assert!(
        report["images"][0]["tag"]
            .as_str()
            .is_some_and(|t| t.contains("-dirty-")),
        "{report}"
    );

    std::fs::remove_dir_all(scratch.file(&format!("target/oci/{AGENT}"))).expect("remove layout");
    let (out, text) =
        run(scratch
            .xtask()
            .args(["push", "dev", AGENT, "--registry", &registry.host()]));
    assert!(!out.status.success());
    assert!(
        text.contains("cargo xtask build-agents") && text.contains(AGENT),
        "{text}"
    );
}

/// The AWS SDK pointed at moto, for setting up and checking SSM from the test.
struct Aws {
    rt: tokio::runtime::Runtime,
    ssm: aws_sdk_ssm::Client,
}

impl Aws {
    fn new(moto: &Moto) -> Aws {
        let (rt, config) = support::aws::sdk(&moto.endpoint());
        Aws {
            ssm: aws_sdk_ssm::Client::new(&config),
            rt,
        }
    }

    fn put_param(&self, name: &str, value: &str) {
        self.rt
            .block_on(
                self.ssm
                    .put_parameter()
                    .name(name)
                    .value(value)
                    .overwrite(true)
                    .r#type(aws_sdk_ssm::types::ParameterType::String)
                    .send(),
            )
            .expect("put SSM parameter");
    }

    fn find_param(&self, name: &str) -> Option<String> {
        let out = self.rt.block_on(self.ssm.get_parameter().name(name).send());
        match out {
            Ok(out) => out.parameter().and_then(|p| p.value()).map(str::to_string),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|e| e.is_parameter_not_found()) =>
            {
                None
            }
            Err(e) => panic!("SSM parameter {name}: {e:?}"),
        }
    }

    fn get_param(&self, name: &str) -> String {
        let out = self
            .rt
            .block_on(self.ssm.get_parameter().name(name).send())
            .unwrap_or_else(|e| panic!("SSM parameter {name}: {e:?}"));
        out.parameter()
            .and_then(|p| p.value())
            .expect("value")
            .to_string()
    }
}

#[test]
fn build_agents_push_builds_the_image_then_pushes_it_to_the_environment() {
    let moto = Moto::start();
    let registry = Registry::start();
    let scratch = Scratch::copy_of_repo();
    only_agent(&scratch, AGENT, false);
    let commit = git_commit_all(&scratch);
    let repo_url = format!("{}/agentcore/dev/{AGENT}", registry.host());
    let aws = Aws::new(&moto);
    aws.put_param(
        &format!("/platform/dev/ecr/{AGENT}/repository_url"),
        &repo_url,
    );

    let mut cmd = scratch.xtask();
    cmd.args(["build-agents", "--push", "dev", AGENT]);
    moto.configure(&mut cmd);
    let (out, text) = run(&mut cmd);
    assert!(out.status.success(), "build-agents --push failed:\n{text}");

    let digest = layout_digest(&scratch.file(&format!("target/oci/{AGENT}")));
    assert_eq!(
        aws.get_param(&format!("/platform/dev/images/{AGENT}/digest")),
        digest
    );
    // Tagged with the commit (`-dirty-<digest>` here: the build rewrites Cargo.lock for the one
    // agent).
    let tagged = [
        commit.clone(),
        format!(
            "{commit}-dirty-{}",
            &digest["sha256:".len().."sha256:".len() + 12]
        ),
    ]
    .iter()
    .any(|tag| {
        Command::new(support::tool("skopeo"))
            .args(["inspect", "--tls-verify=false", "--format", "{{.Digest}}"])
            .arg(format!("docker://{repo_url}:{tag}"))
            .output()
            .is_ok_and(|o| {
                o.status.success() && String::from_utf8_lossy(&o.stdout).trim() == digest
            })
    });
    assert!(tagged, "the image is not tagged with commit {commit}");
    let out = Command::new(support::tool("skopeo"))
        .args([
            "inspect",
            "--tls-verify=false",
            "--format",
            "{{.Os}}/{{.Architecture}}",
        ])
        .arg(format!("docker://{repo_url}@{digest}"))
        .output()
        .expect("run skopeo");
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "linux/arm64");
}

#[test]
fn every_agent_enabled_in_the_environment_is_pushed_in_one_run() {
    let registry = Registry::start();
    let scratch = Scratch::copy_of_repo();
    only_agent(&scratch, AGENT, false);
    // A second agent, enabled in dev, with its own image.
    let other = "pushtest-two";
    for file in ["blueprint.yaml", "Cargo.toml", "src/main.rs"] {
        let text = scratch
            .read(&format!("agents/{AGENT}/{file}"))
            .replace(AGENT, other);
        scratch.write(&format!("agents/{other}/{file}"), &text);
    }
    umoci_layout(&scratch.file(&format!("target/oci/{AGENT}")), &[20_000], 1);
    umoci_layout(&scratch.file(&format!("target/oci/{other}")), &[30_000], 2);
    git_commit_all(&scratch);

    let (out, text) =
        run(scratch
            .xtask()
            .args(["--json", "push", "dev", "--registry", &registry.host()]));
    assert!(out.status.success(), "{text}");
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("--json output");
    let agents: Vec<&str> = report["images"]
        .as_array()
        .expect("images")
        .iter()
        .filter_map(|i| i["agent"].as_str())
        .collect();
    assert_eq!(agents, [AGENT, other]);
    for agent in [AGENT, other] {
        let digest = layout_digest(&scratch.file(&format!("target/oci/{agent}")));
        assert_eq!(
            skopeo_digest(&format!(
                "{}/agentcore/dev/{agent}@{digest}",
                registry.host()
            )),
            digest
        );
    }
}

#[test]
fn a_plain_http_registry_reached_over_https_fails_at_once_and_says_why() {
    let (scratch, _) = workspace_with_image(&[1000], false);
    // A server answering plain HTTP on an address that is not loopback, so the push speaks
    // HTTPS to it (as to any remote registry).
    let ip = local_address().expect("this machine has a non-loopback IPv4 address");
    let listener = std::net::TcpListener::bind((ip, 0)).expect("bind");
    let port = listener.local_addr().expect("addr").port();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let mut stream = stream;
            let _ = std::io::Write::write_all(
                &mut stream,
                b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
            );
        }
    });
    let start = Instant::now();
    let (out, text) = run(scratch.xtask().args([
        "push",
        "dev",
        "--registry",
        &format!("{ip}:{port}/agentcore"),
    ]));
    assert!(!out.status.success(), "{text}");
    assert!(text.contains("plain HTTP"), "{text}");
    assert!(
        !text.contains("attempt 2/5"),
        "retried what cannot pass:\n{text}"
    );
    assert!(start.elapsed() < Duration::from_secs(20), "{text}");
}

/// This machine's address on its default route (no packet is sent to find it).
fn local_address() -> Option<std::net::Ipv4Addr> {
    let socket = std::net::UdpSocket::bind("0.0.0.0:0").ok()?;
    socket.connect("10.255.255.255:9").ok()?;
    match socket.local_addr().ok()?.ip() {
        std::net::IpAddr::V4(ip) if !ip.is_loopback() && !ip.is_unspecified() => Some(ip),
        _ => None,
    }
}

/// The raw manifest `reference` (`host/repo@digest`) as the registry serves it to skopeo.
fn skopeo_raw(reference: &str) -> Vec<u8> {
    let out = Command::new(support::tool("skopeo"))
        .args(["inspect", "--raw", "--tls-verify=false"])
        .arg(format!("docker://{reference}"))
        .output()
        .expect("run skopeo");
    assert!(
        out.status.success(),
        "skopeo inspect {reference}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

fn sha256_digest(bytes: &[u8]) -> String {
    use sha2::Digest as _;
    let hex: String = sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("sha256:{hex}")
}

const SBOM: &[u8] = br#"{"spdxVersion":"SPDX-2.3","name":"pushtest-0.1.0"}"#;

#[test]
fn the_sbom_is_pushed_by_digest_with_the_image_and_an_unchanged_push_uploads_nothing() {
    let registry = Registry::start();
    let (scratch, _) = workspace_with_image(&[40_000], false);
    let layout = scratch.file(&format!("target/oci/{AGENT}"));
    let image_digest = layout_digest(&layout);
    let sbom_digest = attach_sbom(&layout, SBOM);

    let (out, text) = run(scratch.xtask().args([
        "--json",
        "push",
        "dev",
        AGENT,
        "--registry",
        &registry.host(),
    ]));
    assert!(out.status.success(), "push failed:\n{text}");
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("--json output");
    let pushed = &report["images"][0];
    assert_eq!(pushed["digest"], image_digest.as_str(), "{report}");
    assert_eq!(pushed["sbom"], sbom_digest.as_str(), "{report}");
    assert_eq!(pushed["sbom_pushed"], true, "{report}");
    // The image's config and layer, the artifact's empty config and document.
    assert_eq!(pushed["blobs"], 4, "{report}");
    assert_eq!(pushed["blobs_uploaded"], 4, "{report}");

    // The registry serves the SBOM artifact under its digest, bytes unchanged, about the image.
    let repo = format!("{}/agentcore/dev/{AGENT}", registry.host());
    let raw = skopeo_raw(&format!("{repo}@{sbom_digest}"));
    assert_eq!(sha256_digest(&raw), sbom_digest);
    let artifact: serde_json::Value = serde_json::from_slice(&raw).expect("manifest JSON");
    assert_eq!(artifact["artifactType"], "application/spdx+json");
    assert_eq!(artifact["subject"]["digest"], image_digest.as_str());
    let log = registry.log();
    let manifest_path = format!("/v2/agentcore/dev/{AGENT}/manifests/{sbom_digest}");
    assert!(
        log.lines().any(|l| l.contains(&format!("\"PUT {manifest_path} "))
            && l.contains("HTTP/1.1\" 201")),
        "the SBOM was not put by digest:\n{log}"
    );
    assert!(
        log.lines().any(|l| l.contains(&format!("\"GET {manifest_path} "))
            && l.contains("HTTP/1.1\" 200")),
        "GET of the SBOM by digest did not answer 200:\n{log}"
    );
    let document = artifact["layers"][0]["digest"]
        .as_str()
        .expect("layer digest");
    let blob = agent_testkit::http::get(&format!(
        "http://{}/v2/agentcore/dev/{AGENT}/blobs/{document}",
        registry.host()
    ))
    .expect("GET the SBOM blob");
    assert_eq!((blob.status, blob.body.as_bytes()), (200, SBOM));
    let mut uploaded = uploaded_blobs(&log);
    uploaded.sort();
    let mut expected = layout_blobs(&layout);
    expected.push(
        artifact["config"]["digest"]
            .as_str()
            .expect("config")
            .to_string(),
    );
    expected.push(document.to_string());
    let mut expected: Vec<String> = expected
        .iter()
        .map(|d| d.trim_start_matches("sha256:").to_string())
        .collect();
    expected.sort();
    assert_eq!(
        uploaded, expected,
        "every blob of the image and the SBOM once"
    );

    // Again, unchanged: HEADs only, and the summary names the SBOM.
    let before = registry.log().lines().count();
    let (out, text) =
        run(scratch
            .xtask()
            .args(["push", "dev", AGENT, "--registry", &registry.host()]));
    assert!(out.status.success(), "second push failed:\n{text}");
    let log = registry.log();
    let second = log.lines().skip(before).collect::<Vec<_>>().join("\n");
    assert!(
        uploaded_blobs(&second).is_empty(),
        "blobs uploaded again:\n{second}"
    );
    for method in ["\"POST ", "\"PATCH ", "\"PUT "] {
        assert!(
            !second.contains(method),
            "unexpected {method} in an unchanged push:\n{second}"
        );
    }
    assert!(
        second.contains(&format!("\"HEAD {manifest_path} ")),
        "the SBOM was not looked up:\n{second}"
    );
    assert!(
        text.contains("unchanged") && text.contains(&sbom_digest),
        "{text}"
    );
}

#[test]
fn an_ecr_push_records_the_sbom_next_to_the_image_and_removes_a_stale_one() {
    let moto = Moto::start();
    let password = "123456789012-auth-token";
    let registry = Registry::start_with_auth("AWS", password);
    let (scratch, _) = workspace_with_image(&[20_000], false);
    let layout = scratch.file(&format!("target/oci/{AGENT}"));
    let sbom_digest = attach_sbom(&layout, SBOM);
    let aws = Aws::new(&moto);
    aws.put_param(
        &format!("/platform/dev/ecr/{AGENT}/repository_url"),
        &format!("{}/agentcore/dev/{AGENT}", registry.host()),
    );
    let push = || {
        let mut cmd = scratch.xtask();
        cmd.args(["push", "dev", AGENT]);
        moto.configure(&mut cmd);
        let (out, text) = run(&mut cmd);
        assert!(out.status.success(), "push failed:\n{text}");
    };

    push();
    let sbom_param = format!("/platform/dev/images/{AGENT}/sbom");
    assert_eq!(aws.get_param(&sbom_param), sbom_digest);
    assert_eq!(
        aws.get_param(&format!("/platform/dev/images/{AGENT}/digest")),
        layout_digest(&layout)
    );

    // Another image, without an SBOM: the old SBOM must not stay next to it.
    std::fs::remove_dir_all(&layout).expect("remove layout");
    umoci_layout(&layout, &[20_000], 8);
    push();
    assert_eq!(
        aws.get_param(&format!("/platform/dev/images/{AGENT}/digest")),
        layout_digest(&layout)
    );
    assert_eq!(aws.find_param(&sbom_param), None);
}
