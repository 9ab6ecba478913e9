//! `cargo xtask build-agents`, checked from outside with tools we did not write: skopeo reads
//! the images, umoci unpacks them, qemu-aarch64-static runs the unpacked entrypoint, and the
//! agent answers `/ping`. Then reproducibility across two checkouts and the inner-loop cache.
//!
//! These tests build real agents for aarch64: the first run in a fresh target dir takes minutes.
//! Tools: skopeo, umoci, qemu-user-static, and a C cross toolchain (zig or gcc-aarch64-linux-gnu).

mod support;

use std::io::{Read as _, Write as _};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use support::workspace::{Scratch, repo_root, run};

const AGENTS: [&str; 2] = ["assistant", "triage"];

/// Tests that build in this checkout take turns: they write the same `target/oci/`.
static CHECKOUT: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn lock_checkout() -> std::sync::MutexGuard<'static, ()> {
    CHECKOUT
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// `build-agents --json` in `root`; the images it reports, by agent id.
fn build(root: &Path, agents: &[&str], env: &[(String, String)]) -> Vec<Value> {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_xtask"));
    cmd.arg("-C")
        .arg(root)
        .args(["build-agents", "--json"])
        .args(agents);
    // Each checkout builds into its own `target/` with its own tools, whatever the caller's
    // environment says.
    cmd.env_remove("CARGO_TARGET_DIR")
        .env_remove("XTASK_TOOLS_DIR")
        .env_remove("SOURCE_DATE_EPOCH");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let (out, text) = run(&mut cmd);
    assert!(
        out.status.success(),
        "build-agents failed in {}:\n{text}",
        root.display()
    );
    let report: Value = serde_json::from_slice(&out.stdout).expect("--json prints JSON");
    assert_eq!(report["ok"], true, "{report}");
    for phase in ["compile_seconds", "package_seconds"] {
        assert!(report[phase].as_f64().is_some(), "no {phase}: {report}");
    }
    report["images"].as_array().expect("images").clone()
}

fn image<'a>(images: &'a [Value], agent: &str) -> &'a Value {
    images
        .iter()
        .find(|i| i["agent"] == agent)
        .unwrap_or_else(|| panic!("no image for {agent} in {images:?}"))
}

fn digest(images: &[Value], agent: &str) -> String {
    image(images, agent)["digest"]
        .as_str()
        .expect("digest")
        .to_string()
}

fn tool_json(program: &str, args: &[&str]) -> Value {
    let out = Command::new(support::tool(program))
        .args(args)
        .output()
        .expect("run tool");
    assert!(
        out.status.success(),
        "{program} {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("tool prints JSON")
}

#[test]
fn images_are_arm64_annotated_and_their_entrypoint_answers_ping() {
    let root = repo_root();
    let _turn = lock_checkout();
    let images = build(&root, &AGENTS, &[]);
    assert_eq!(images.len(), AGENTS.len());

    for agent in AGENTS {
        let layout = root.join("target/oci").join(agent);
        let reference = format!("oci:{}:latest", layout.display());
        let built = image(&images, agent);
        assert!(built["size"].as_u64().unwrap_or(0) > 1_000_000, "{built}");

        // The manifest, exactly as a registry would serve it.
        let manifest = tool_json("skopeo", &["inspect", "--raw", &reference]);
        let annotations = &manifest["annotations"];
        for key in ["source", "revision", "created", "version", "title"] {
            let value = &annotations[format!("org.opencontainers.image.{key}")];
            assert!(
                value.as_str().is_some_and(|v| !v.is_empty()),
                "{key} missing: {manifest}"
            );
        }
        assert_eq!(annotations["org.opencontainers.image.version"], "0.1.0");
        // build-agents builds release unless told otherwise; the image says so.
        assert_eq!(
            annotations["dev.agentcore-monorepo.cargo-profile"], "release",
            "{manifest}"
        );
        assert_eq!(built["profile"], "release", "{built}");
        assert_eq!(
            manifest["layers"].as_array().map(Vec::len),
            Some(1),
            "{manifest}"
        );
        let raw = Command::new(support::tool("skopeo"))
            .args(["inspect", "--raw", &reference])
            .output();
        let raw = raw.expect("skopeo").stdout;
        assert_eq!(
            built["digest"].as_str(),
            Some(format!("sha256:{}", sha256_hex(&raw)).as_str()),
            "the digest printed is the manifest's"
        );

        let config = tool_json("skopeo", &["inspect", "--config", &reference]);
        assert_eq!(config["architecture"], "arm64");
        assert_eq!(config["os"], "linux");
        let run_config = &config["config"];
        assert_eq!(
            run_config["ExposedPorts"],
            serde_json::json!({"8080/tcp": {}})
        );
        let env: Vec<String> = run_config["Env"]
            .as_array()
            .expect("Env")
            .iter()
            .filter_map(|e| e.as_str().map(str::to_string))
            .collect();
        assert!(env.contains(&format!("AGENT_ID={agent}")), "{env:?}");

        // The root file system, as a container runtime would lay it out.
        let mut running = RunningImage::start(&layout, &config);
        let bundle_ca = running.rootfs.join("etc/ssl/certs/ca-certificates.crt");
        let ca = std::fs::read_to_string(&bundle_ca).expect("the image has a CA bundle");
        assert!(ca.matches("BEGIN CERTIFICATE").count() > 100);
        assert!(env.contains(&"PORT=8080".to_string()), "{env:?}");

        // Its entrypoint, with the image's own environment, answers AgentCore's health check.
        let (port, log) = (running.port, running.log.clone());
        let (status, body) = get_when_up(port, "/ping", &mut running.process, &log);
        assert_eq!(status, 200, "{agent}: {body}");
        let ping: Value = serde_json::from_str(&body).expect("ping answers JSON");
        assert_eq!(ping["status"], "Healthy", "{body}");
    }
}

#[test]
fn the_mcp_agents_arm64_image_answers_the_official_mcp_client() {
    let root = repo_root();
    let _turn = lock_checkout();
    build(&root, &["toolbox"], &[]);
    let layout = root.join("target/oci/toolbox");
    let reference = format!("oci:{}:latest", layout.display());
    let config = tool_json("skopeo", &["inspect", "--config", &reference]);
    let run_config = &config["config"];
    assert_eq!(
        run_config["ExposedPorts"],
        serde_json::json!({"8000/tcp": {}})
    );
    let env = run_config["Env"].to_string();
    assert!(
        env.contains("\"PORT=8000\"") && env.contains("\"MCP_SESSIONS=stateless\""),
        "{env}"
    );

    let mut running = RunningImage::start(&layout, &config);
    let (port, log) = (running.port, running.log.clone());
    let (status, body) = get_when_up(port, "/ping", &mut running.process, &log);
    assert_eq!(status, 200, "{body}");
    let steps = serde_json::json!([
        { "op": "list_tools" },
        { "op": "call", "name": "business_days",
          "arguments": { "start": "2026-12-01", "end": "2026-12-15" } },
    ]);
    let url = format!("http://127.0.0.1:{port}/mcp");
    let report =
        agent_testkit::mcp::run(&url, &[("Mcp-Session-Id", "qemu-session")], "auto", &steps);
    let tools = report["steps"][0]["tools"].as_array().expect("tools");
    assert_eq!(tools.len(), 4, "{report}");
    assert_eq!(
        report["steps"][1]["structured"],
        serde_json::json!({ "business_days": 10 }),
        "{report}"
    );
}

#[test]
fn same_commit_same_digest_on_another_machine_and_after_other_builds() {
    let root = repo_root();
    // The same commit and working tree at another path, with its own empty target dir. Taken
    // before this checkout's build, and again if the agents' source changed meanwhile (people
    // edit this checkout while tests run; CI's never changes). This checkout's target dir is
    // the shared, previously used one (CI keeps it between runs).
    let (clone, here) = (0..3)
        .find_map(|_| {
            let clone = clone_with_working_tree(&root);
            let here = {
                let _turn = lock_checkout();
                build(&root, &AGENTS, &[])
            };
            same_build_inputs(&root, clone.path()).then_some((clone, here))
        })
        .expect("the agents' source kept changing during the test");
    // Another machine, as far as one machine can be one: another checkout path, target dir
    // and so its own zig install; another HOME and CARGO_HOME (every crate downloaded again to
    // another path); and a system cross toolchain in the way: failing stand-ins for every
    // aarch64 C compiler first on PATH, the variables that point cargo and cc-rs at them, and
    // flags that would change the code.
    let elsewhere = Elsewhere::new();
    let there = build(clone.path(), &AGENTS, &elsewhere.env());
    for agent in AGENTS {
        assert_eq!(
            digest(&here, agent),
            digest(&there, agent),
            "{agent}: the same source gave different images in another checkout, cargo home \
             and environment"
        );
    }
    assert_eq!(
        elsewhere.invoked(),
        "",
        "a system cross compiler was run instead of the pinned zig"
    );

    // Nothing changed: every layer is reused and the digests stay.
    let again = build(clone.path(), &AGENTS, &elsewhere.env());
    for agent in AGENTS {
        assert_eq!(image(&again, agent)["cached"], true, "{again:?}");
        assert_eq!(digest(&again, agent), digest(&there, agent));
    }

    // A one-line change to one agent: only that agent gets a new layer. (The others' manifests
    // may still change: the edit can turn the revision annotation into `<commit>-dirty`.)
    let triage_layer = layer_digest(clone.path(), "triage");
    let assistant_layer = layer_digest(clone.path(), "assistant");
    let main_rs = clone.path().join("agents/assistant/src/main.rs");
    let text = std::fs::read_to_string(&main_rs).expect("read main.rs");
    assert!(
        text.contains("ask the assistant something"),
        "the test's edit target moved"
    );
    std::fs::write(
        &main_rs,
        text.replacen(
            "ask the assistant something",
            "ask the assistant anything",
            1,
        ),
    )
    .expect("edit main.rs");
    let changed = build(clone.path(), &AGENTS, &elsewhere.env());
    assert_eq!(image(&changed, "assistant")["cached"], false);
    assert_ne!(digest(&changed, "assistant"), digest(&there, "assistant"));
    assert_eq!(image(&changed, "triage")["cached"], true);
    assert_eq!(layer_digest(clone.path(), "triage"), triage_layer);

    // Another checkout building in the target dir where the edit was built last: this one,
    // whose (unedited) files are older than those artifacts, so that cargo alone would take
    // them for up to date. Its image has its own code: the first layer, not the edit's.
    {
        let mut env = elsewhere.env();
        env.push((
            "CARGO_TARGET_DIR".into(),
            clone.path().join("target").display().to_string(),
        ));
        let _turn = lock_checkout();
        build(&root, &["assistant"], &env);
        assert_eq!(
            layer_digest(&root, "assistant"),
            assistant_layer,
            "a target dir shared with another checkout put that checkout's code in the image"
        );
    }

    // The change undone, in the target dir that has now built both versions: the first
    // digests again. What a target dir held before never shows in an image.
    std::fs::write(&main_rs, &text).expect("restore main.rs");
    let back = build(clone.path(), &AGENTS, &elsewhere.env());
    for agent in AGENTS {
        assert_eq!(
            digest(&back, agent),
            digest(&there, agent),
            "{agent}: the digest depends on the target dir's history"
        );
    }

    // SOURCE_DATE_EPOCH wins over the commit time, and changes the digest with it.
    let mut pinned_env = elsewhere.env();
    pinned_env.push(("SOURCE_DATE_EPOCH".into(), "1700000000".into()));
    let pinned = build(clone.path(), &["triage"], &pinned_env);
    assert_ne!(digest(&pinned, "triage"), digest(&there, "triage"));
    let layout = clone.path().join("target/oci/triage");
    let manifest = tool_json(
        "skopeo",
        &[
            "inspect",
            "--raw",
            &format!("oci:{}:latest", layout.display()),
        ],
    );
    assert_eq!(
        manifest["annotations"]["org.opencontainers.image.created"],
        "2023-11-14T22:13:20Z"
    );
}

#[test]
fn unknown_agent_and_missing_docker_engine_are_explained() {
    let scratch = Scratch::copy_of_repo();
    let (out, text) = run(scratch.xtask().args(["build-agents", "asistant"]));
    assert!(!out.status.success());
    assert!(
        text.contains("no agent `asistant`") && text.contains("did you mean `assistant`"),
        "{text}"
    );

    let (out, text) = run(scratch.xtask().args(["build-agents", "--dry-run"]));
    assert!(out.status.success(), "{text}");
    assert!(
        text.contains("--profile release --target aarch64-unknown-linux-musl"),
        "{text}"
    );
    assert!(
        text.contains("-p assistant -p toolbox -p triage"),
        "one cargo invocation for all: {text}"
    );
    let (out, text) = run(scratch
        .xtask()
        .args(["build-agents", "--dry-run", "--profile", "fast"]));
    assert!(out.status.success(), "{text}");
    assert!(text.contains("--profile fast --target"), "{text}");
    let (out, text) =
        run(scratch
            .xtask()
            .args(["build-agents", "--builder", "docker", "--profile", "fast"]));
    assert!(!out.status.success());
    assert!(
        text.contains("`--profile fast` is for the native builder"),
        "{text}"
    );

    let engine = Command::new("docker")
        .arg("info")
        .output()
        .is_ok_and(|o| o.status.success());
    if engine {
        eprintln!("a Docker engine runs here: the no-engine message cannot be checked");
        return;
    }
    let (out, text) = run(scratch
        .xtask()
        .args(["build-agents", "--builder", "docker"]));
    assert!(!out.status.success());
    assert!(text.contains("Docker"), "{text}");
    assert!(text.contains("without `--builder docker`"), "{text}");
}

/// Another user's machine inside this one: its own HOME and CARGO_HOME, and a cross toolchain
/// of the kind people install by hand, as failing stand-ins that note when they are run.
struct Elsewhere {
    dir: tempfile::TempDir,
}

impl Elsewhere {
    /// `rustup` too: the aarch64 target is installed, so nothing may need rustup to see it.
    const STAND_INS: [&'static str; 9] = [
        "rustup",
        "aarch64-linux-gnu-gcc",
        "aarch64-linux-gnu-ar",
        "aarch64-linux-musl-gcc",
        "aarch64-linux-musl-ar",
        "aarch64-linux-gnu-ld",
        "clang",
        "zig",
        "cargo-zigbuild",
    ];

    fn new() -> Elsewhere {
        let dir = tempfile::tempdir().expect("tempdir");
        let shadow = dir.path().join("shadow");
        std::fs::create_dir_all(&shadow).expect("mkdir");
        std::fs::create_dir_all(dir.path().join("home")).expect("mkdir");
        for name in Self::STAND_INS {
            let path = shadow.join(name);
            std::fs::write(
                &path,
                format!(
                    "#!/bin/sh\necho {name} >> '{}'\necho '{name}: a stand-in of the test' >&2\nexit 97\n",
                    dir.path().join("invoked").display()
                ),
            )
            .expect("write stand-in");
            std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o755))
                .expect("chmod");
        }
        Elsewhere { dir }
    }

    fn env(&self) -> Vec<(String, String)> {
        let home = self.dir.path().join("home");
        let rustup_home = std::env::var("RUSTUP_HOME")
            .unwrap_or_else(|_| format!("{}/.rustup", std::env::var("HOME").expect("HOME")));
        let path = format!(
            "{}:{}",
            self.dir.path().join("shadow").display(),
            std::env::var("PATH").expect("PATH")
        );
        [
            ("HOME", home.display().to_string()),
            ("CARGO_HOME", home.join(".cargo").display().to_string()),
            ("RUSTUP_HOME", rustup_home),
            ("PATH", path),
            (
                "CC_aarch64_unknown_linux_musl",
                "aarch64-linux-gnu-gcc".into(),
            ),
            (
                "CC_aarch64-unknown-linux-musl",
                "aarch64-linux-musl-gcc".into(),
            ),
            (
                "AR_aarch64_unknown_linux_musl",
                "aarch64-linux-gnu-ar".into(),
            ),
            ("TARGET_CC", "clang".into()),
            ("CFLAGS_aarch64-unknown-linux-musl", "-O0".into()),
            ("RUSTFLAGS", "-Ctarget-cpu=native".into()),
            ("CARGO_PROFILE_RELEASE_LTO", "false".into()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect()
    }

    /// The stand-ins that ran, one per line.
    fn invoked(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("invoked")).unwrap_or_default()
    }
}

/// The digest of the one layer of an agent's image, as skopeo reads it.
fn layer_digest(root: &Path, agent: &str) -> String {
    let layout = root.join("target/oci").join(agent);
    let manifest = tool_json(
        "skopeo",
        &[
            "inspect",
            "--raw",
            &format!("oci:{}:latest", layout.display()),
        ],
    );
    manifest["layers"][0]["digest"]
        .as_str()
        .expect("layer digest")
        .to_string()
}

/// A `git clone` of `root` at a new path, with the working tree's tracked and untracked files
/// copied over it: the same commit and the same (possibly uncommitted) source.
struct Clone {
    _dir: tempfile::TempDir,
    path: PathBuf,
}

impl Clone {
    fn path(&self) -> &Path {
        &self.path
    }
}

fn clone_with_working_tree(root: &Path) -> Clone {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("checkout");
    let (out, text) = run(Command::new("git")
        .args(["clone", "--quiet", "--shared"])
        .arg(root)
        .arg(&path));
    assert!(out.status.success(), "git clone failed:\n{text}");
    copy_tree(Scratch::copy_of_repo().path(), &path);
    Clone { _dir: dir, path }
}

/// Whether everything that goes into the images is the same in both checkouts: the commit
/// (revision and timestamps) and its dirty state, and the files of the agents' binaries.
fn same_build_inputs(a: &Path, b: &Path) -> bool {
    let git = |dir: &Path, args: &[&str]| {
        let out = Command::new("git")
            .args(args)
            .current_dir(dir)
            .output()
            .expect("git");
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    };
    let head = ["rev-parse", "HEAD"];
    let dirty = ["status", "--porcelain", "--untracked-files=no"];
    if git(a, &head) != git(b, &head) || git(a, &dirty).is_empty() != git(b, &dirty).is_empty() {
        return false;
    }
    let listed = Command::new("git")
        .args([
            "ls-files",
            "-z",
            "--cached",
            "--others",
            "--exclude-standard",
            "--",
        ])
        .args([
            "agents",
            "Cargo.toml",
            "Cargo.lock",
            ".cargo",
            "rust-toolchain.toml",
        ])
        .current_dir(a)
        .output()
        .expect("git ls-files");
    listed
        .stdout
        .split(|c| *c == 0)
        .filter(|f| !f.is_empty())
        .map(|f| String::from_utf8_lossy(f).into_owned())
        .all(|f| std::fs::read(a.join(&f)).ok() == std::fs::read(b.join(&f)).ok())
}

fn copy_tree(from: &Path, to: &Path) {
    for entry in std::fs::read_dir(from).expect("read dir") {
        let entry = entry.expect("entry");
        let target: PathBuf = to.join(entry.file_name());
        if entry.file_type().expect("type").is_dir() {
            std::fs::create_dir_all(&target).expect("mkdir");
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy");
        }
    }
}

/// An image's entrypoint running under qemu in the root file system umoci unpacked from its
/// OCI layout, with the image's own environment (its `PORT` moved to a free one).
struct RunningImage {
    process: Killed,
    port: u16,
    rootfs: PathBuf,
    log: PathBuf,
    _dir: tempfile::TempDir,
}

impl RunningImage {
    fn start(layout: &Path, config: &Value) -> RunningImage {
        let dir = tempfile::tempdir().expect("tempdir");
        let bundle = dir.path().join("bundle");
        let (out, text) = run(Command::new(support::tool("umoci"))
            .args(["unpack", "--rootless", "--image"])
            .arg(format!("{}:latest", layout.display()))
            .arg(&bundle));
        assert!(out.status.success(), "umoci unpack failed:\n{text}");
        let rootfs = bundle.join("rootfs");
        let run_config = &config["config"];
        let entrypoint = run_config["Entrypoint"][0].as_str().expect("entrypoint");
        let port = support::free_port();
        // By full path: the image's PATH below is not the host's.
        let program = rootfs.join(entrypoint.trim_start_matches('/'));
        let mut cmd = Command::new(support::tool("qemu-aarch64-static"));
        cmd.arg(&program).current_dir(&rootfs).env_clear();
        let env = run_config["Env"].as_array().expect("Env");
        for pair in env.iter().filter_map(Value::as_str) {
            if let Some((k, v)) = pair.split_once('=') {
                cmd.env(k, v);
            }
        }
        cmd.env("PORT", port.to_string())
            .env("AWS_REGION", "us-east-1");
        let log = dir.path().join("agent.log");
        let log_file = std::fs::File::create(&log).expect("log");
        let child = cmd
            .stdin(Stdio::null())
            .stdout(log_file.try_clone().expect("log"))
            .stderr(log_file)
            .spawn()
            .expect("start the agent under qemu");
        RunningImage {
            process: Killed(child),
            port,
            rootfs,
            log,
            _dir: dir,
        }
    }
}

/// A child process killed (by its own id) when the test ends, pass or fail.
struct Killed(std::process::Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// GET `path` once the agent listens (qemu takes a moment to start it); fails with the
/// agent's log if it exits or never listens.
fn get_when_up(port: u16, path: &str, agent: &mut Killed, log: &Path) -> (u16, String) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Ok(stream) = TcpStream::connect(("127.0.0.1", port)) {
            return http_get(stream, path);
        }
        if let Ok(Some(status)) = agent.0.try_wait() {
            panic!(
                "the agent exited ({status}):\n{}",
                std::fs::read_to_string(log).unwrap_or_default()
            );
        }
        assert!(
            Instant::now() < deadline,
            "the agent did not listen on {port}:\n{}",
            std::fs::read_to_string(log).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn http_get(mut stream: TcpStream, path: &str) -> (u16, String) {
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .expect("timeout");
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
    )
    .expect("send request");
    let mut response = String::new();
    stream.read_to_string(&mut response).expect("read response");
    let status = response
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("not an HTTP response: {response}"));
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    (status, body)
}

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest as _;
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The crates an image's notices list, as `name version`, from the notices file's crate lines
/// (a line `<name> <version>` right before its `  license:` line).
fn crates_in_notices(notices: &str) -> Vec<String> {
    let lines: Vec<&str> = notices.lines().collect();
    lines
        .windows(2)
        .filter(|w| w[1].starts_with("  license") && !w[0].starts_with(' ') && w[0].contains(' '))
        .map(|w| w[0].to_string())
        .collect()
}

/// The image of `agent` in this checkout's `target/oci/`, unpacked by umoci as a container
/// runtime would lay it out; gives the folder holding `rootfs/`.
fn unpack_image(root: &Path, agent: &str) -> tempfile::TempDir {
    let layout = root.join("target/oci").join(agent);
    let unpacked = tempfile::tempdir().expect("tempdir");
    let (out, text) = run(Command::new(support::tool("umoci"))
        .args(["unpack", "--rootless", "--image"])
        .arg(format!("{}:latest", layout.display()))
        .arg(unpacked.path().join("bundle")));
    assert!(out.status.success(), "umoci unpack failed:\n{text}");
    unpacked
}

#[test]
fn images_carry_the_licences_of_the_crates_linked_into_the_binary_and_of_the_ca_bundle() {
    let root = repo_root();
    let _turn = lock_checkout();
    build(&root, &AGENTS, &[]);

    for agent in AGENTS {
        let unpacked = unpack_image(&root, agent);
        let rootfs = unpacked.path().join("bundle/rootfs");
        let notices =
            std::fs::read_to_string(rootfs.join(format!("usr/share/doc/{agent}/copyright")))
                .expect(
                    "the image has its third-party notices at /usr/share/doc/<agent>/copyright",
                );
        assert!(
            notices.starts_with(&format!("Third-party software in /usr/local/bin/{agent}\n")),
            "{agent}: {}",
            &notices[..notices.len().min(300)]
        );
        let crates = crates_in_notices(&notices);
        let listed = |name: &str| crates.iter().any(|c| c.split(' ').next() == Some(name));
        // What the binary is made of: the runtime, TLS (aws-lc through aws-lc-rs), JSON, the agent.
        for name in [
            "tokio",
            "aws-lc-sys",
            "serde",
            "serde_json",
            "hyper",
            agent,
            "agentcore-runtime",
        ] {
            assert!(
                listed(name),
                "{agent}: `{name}` is not in the notices: {crates:?}"
            );
        }
        // What is not in it: proc macros and build-time crates (and what only those pull in).
        for name in [
            "serde_derive",
            "tokio-macros",
            "cc",
            "cmake",
            "syn",
            "proc-macro2",
        ] {
            assert!(
                !listed(name),
                "{agent}: `{name}` is listed but not linked: {crates:?}"
            );
        }
        let header = format!("{} crates, ", crates.len());
        assert!(
            notices.contains(&header),
            "{agent}: the count says `{header}`"
        );

        // The licence texts are there, each with the crates that ship it: tokio's MIT text.
        let tokio = crates
            .iter()
            .find(|c| c.starts_with("tokio "))
            .expect("tokio");
        let shipped_by = format!("    {tokio} LICENSE\n");
        let at = notices
            .find(&shipped_by)
            .unwrap_or_else(|| panic!("{agent}: no licence text shipped by {tokio}"));
        let block = &notices[at..];
        let text = &block[..block.find("\n--- [").unwrap_or(block.len())];
        assert!(
            text.contains("MIT License") && text.contains("Tokio"),
            "{agent}: {text}"
        );
        let aws_lc = notices
            .split("\n\n")
            .find(|block| block.starts_with("aws-lc-sys "))
            .expect("aws-lc-sys is listed");
        assert!(
            aws_lc.contains("BSD-3-Clause") && aws_lc.contains("texts:        ["),
            "{aws_lc}"
        );

        // Each distinct text once, with every crate that ships it: the common licences (the
        // Apache-2.0 and MIT texts) are shipped by many crates, and listed once.
        let texts: Vec<(&str, &str)> = notices
            .split("\n--- [")
            .skip(1)
            .filter_map(|t| t.split_once("\n\n"))
            .collect();
        let distinct: std::collections::BTreeSet<&str> =
            texts.iter().map(|(_, body)| *body).collect();
        assert_eq!(
            distinct.len(),
            texts.len(),
            "{agent}: a licence text is repeated"
        );
        let widest = texts
            .iter()
            .map(|(head, _)| head.lines().count() - 1)
            .max()
            .unwrap_or(0);
        assert!(
            widest >= 10,
            "{agent}: no text is shipped by 10 crates or more ({widest})"
        );

        // Nothing of this machine: no absolute path into the checkout or the cargo home.
        for here in [root.display().to_string(), "/.cargo/registry".to_string()] {
            assert!(
                !notices.contains(&here),
                "{agent}: the notices contain `{here}`"
            );
        }

        let ca = std::fs::read_to_string(rootfs.join("usr/share/doc/ca-certificates/copyright"))
            .expect("the image has the CA bundle's licence");
        let (first, rest) = ca.split_once('\n').expect("a header line");
        assert!(
            first.starts_with("/etc/ssl/certs/ca-certificates.crt: Mozilla's root certificates")
                && first.contains("webpki-root-certs 1."),
            "{first}"
        );
        assert!(
            rest.contains("Community Data License Agreement - Permissive - Version 2.0"),
            "{ca}"
        );
    }
}

#[test]
fn the_sbom_is_valid_spdx_of_the_notices_crates_attached_to_the_image() {
    let root = repo_root();
    let _turn = lock_checkout();
    let images = build(&root, &AGENTS, &[]);
    let pyspdxtools = support::tool("pyspdxtools");

    for agent in AGENTS {
        let layout = root.join("target/oci").join(agent);
        let image_digest = digest(&images, agent);
        let sbom_digest = image(&images, agent)["sbom"]
            .as_str()
            .unwrap_or_else(|| panic!("build-agents reports no SBOM for {agent}"))
            .to_string();

        // The artifact, read by skopeo from the layout: an OCI 1.1 artifact about the image.
        let out = Command::new(support::tool("skopeo"))
            .args(["inspect", "--raw"])
            .arg(format!("oci:{}:sbom", layout.display()))
            .output()
            .expect("skopeo");
        assert!(
            out.status.success(),
            "skopeo inspect: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(format!("sha256:{}", sha256_hex(&out.stdout)), sbom_digest);
        let artifact: Value = serde_json::from_slice(&out.stdout).expect("manifest JSON");
        assert_eq!(artifact["artifactType"], "application/spdx+json");
        assert_eq!(artifact["subject"]["digest"], image_digest.as_str());
        assert_eq!(
            artifact["subject"]["mediaType"],
            "application/vnd.oci.image.manifest.v1+json"
        );
        assert_eq!(
            artifact["config"]["mediaType"],
            "application/vnd.oci.empty.v1+json"
        );
        assert_eq!(artifact["config"]["size"], 2);
        assert_eq!(artifact["layers"].as_array().map(Vec::len), Some(1));
        assert_eq!(artifact["layers"][0]["mediaType"], "application/spdx+json");
        // The image is still what `:latest` names, unchanged by what is attached to it.
        let latest = Command::new(support::tool("skopeo"))
            .args(["inspect", "--raw"])
            .arg(format!("oci:{}:latest", layout.display()))
            .output()
            .expect("skopeo");
        assert_eq!(
            format!("sha256:{}", sha256_hex(&latest.stdout)),
            image_digest
        );

        // The document, checked by the SPDX project's own validator.
        let blob = artifact["layers"][0]["digest"]
            .as_str()
            .and_then(|d| d.strip_prefix("sha256:"))
            .expect("sha256 digest");
        let bytes = std::fs::read(layout.join("blobs/sha256").join(blob)).expect("SBOM blob");
        let work = tempfile::tempdir().expect("tempdir");
        let file = work.path().join(format!("{agent}.spdx.json"));
        std::fs::write(&file, &bytes).expect("write SBOM");
        let (out, text) = run(Command::new(&pyspdxtools).arg("-i").arg(&file));
        assert!(
            out.status.success(),
            "{agent}: pyspdxtools rejects the SBOM:\n{text}"
        );
        // … which does reject an invalid one, so the pass above means something.
        let mut broken: Value = serde_json::from_slice(&bytes).expect("SBOM JSON");
        broken["packages"][0]["licenseDeclared"] = "MIT AND (".into();
        let bad = work.path().join("broken.spdx.json");
        std::fs::write(&bad, serde_json::to_vec(&broken).expect("JSON")).expect("write");
        let (out, text) = run(Command::new(&pyspdxtools).arg("-i").arg(&bad));
        assert!(
            !out.status.success(),
            "pyspdxtools accepted a broken licence:\n{text}"
        );

        // One SPDX package per crate of the notices, the agent described by the document.
        let sbom: Value = serde_json::from_slice(&bytes).expect("SBOM JSON");
        let mut packages: Vec<String> = sbom["packages"]
            .as_array()
            .expect("packages")
            .iter()
            .map(|p| {
                format!(
                    "{} {}",
                    p["name"].as_str().unwrap_or(""),
                    p["versionInfo"].as_str().unwrap_or("")
                )
            })
            .collect();
        packages.sort();
        let unpacked = unpack_image(&root, agent);
        let notices = std::fs::read_to_string(
            unpacked
                .path()
                .join(format!("bundle/rootfs/usr/share/doc/{agent}/copyright")),
        )
        .expect("notices");
        let mut crates = crates_in_notices(&notices);
        crates.sort();
        assert_eq!(
            packages, crates,
            "{agent}: the SBOM and the notices list other crates"
        );
        assert_eq!(image(&images, agent)["crates"], packages.len());
        let described = sbom["relationships"]
            .as_array()
            .expect("relationships")
            .iter()
            .find(|r| r["relationshipType"] == "DESCRIBES")
            .expect("the document describes a package");
        let root_package = sbom["packages"]
            .as_array()
            .expect("packages")
            .iter()
            .find(|p| p["SPDXID"] == described["relatedSpdxElement"])
            .expect("the described package");
        assert_eq!(root_package["name"], agent);
        let tokio = sbom["packages"]
            .as_array()
            .expect("packages")
            .iter()
            .find(|p| p["name"] == "tokio")
            .expect("tokio");
        let version = tokio["versionInfo"].as_str().expect("version");
        assert_eq!(
            tokio["downloadLocation"],
            format!("https://crates.io/api/v1/crates/tokio/{version}/download")
        );
        assert_eq!(
            tokio["externalRefs"][0]["referenceLocator"],
            format!("pkg:cargo/tokio@{version}")
        );
        let lock = std::fs::read_to_string(root.join("Cargo.lock")).expect("Cargo.lock");
        let checksum = tokio["checksums"][0]["checksumValue"]
            .as_str()
            .expect("checksum");
        assert!(
            lock.contains(&format!("name = \"tokio\"\nversion = \"{version}\"\nsource = \"registry+https://github.com/rust-lang/crates.io-index\"\nchecksum = \"{checksum}\"")),
            "tokio's checksum is Cargo.lock's"
        );
        let text = String::from_utf8_lossy(&bytes);
        assert!(
            !text.contains(&root.display().to_string()),
            "{agent}: a path of this machine"
        );
        let manifest = tool_json(
            &support::tool("skopeo").display().to_string(),
            &[
                "inspect",
                "--raw",
                &format!("oci:{}:latest", layout.display()),
            ],
        );
        assert_eq!(
            sbom["creationInfo"]["created"],
            manifest["annotations"]["org.opencontainers.image.created"],
            "the SBOM's time is the image's"
        );
    }
}
