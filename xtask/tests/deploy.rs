//! `deploy`, `plan`, `promote` and the production guards, end to end through the commands users
//! run: real Terraform on the test stacks (tests/stacks, same phases, inputs, outputs and state
//! keys as infra/stacks) against moto, state in moto's S3, images built for aarch64 and pushed
//! to a real OCI registry. Every assertion reads the outside world: S3 objects, SSM parameters,
//! the registry's access log — not our own output.
//!
//! One scenario, in order, because each step stands on the previous one's state and the image
//! build is the expensive part.

mod support;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use agent_testkit::converse::{Answer, StandIn};
use support::images::git_commit_all;
use support::moto::Moto;
use support::registry::Registry;
use support::workspace::{Scratch, repo_root, run};

const BUCKET: &str = "agentcore-tfstate-test";

struct World {
    /// The environments' AgentCore data plane (`cargo xtask dataplane`): every command reaches
    /// it through AWS_ENDPOINT_URL_BEDROCK_AGENTCORE, as a user would redirect the SDK.
    plane: std::cell::OnceCell<DataPlane>,
    /// Bedrock, for the agents the data plane runs.
    converse: StandIn,
    /// AgentCore Memory, for the agents the data plane runs (moto has none).
    memory: agent_testkit::memory::StandIn,
    ws: Scratch,
    moto: Moto,
    registry: Registry,
    cli_config: PathBuf,
    _tf: tempfile::TempDir,
}

impl World {
    fn new() -> World {
        let ws = Scratch::copy_of_repo();
        // The test infrastructure root: the test stacks with the real environment files.
        // tests/stacks/<phase>/../../../agents is the workspace's agents/ from here too.
        for phase in ["platform", "agents", "workflows"] {
            copy_dir(
                &ws.file(&format!("tests/stacks/{phase}")),
                &ws.file(&format!("testinfra/stacks/{phase}")),
            );
        }
        copy_dir(&ws.file("infra/envs"), &ws.file("testinfra/envs"));
        // Terraform writes its lock file beside each root module: the repository ignores the
        // test stacks' (tests/stacks), and so does this copy of them. An untracked file that is
        // not ignored makes the tree dirty.
        let ignore = ws.read(".gitignore");
        ws.write(
            ".gitignore",
            &format!("{ignore}testinfra/stacks/*/.terraform.lock.hcl\n"),
        );
        // The toolbox takes a JWT instead of IAM-signed calls (`auth.jwt`), as an MCP server
        // behind an identity provider would.
        let toolbox = ws.read("agents/toolbox/blueprint.yaml");
        ws.write(
            "agents/toolbox/blueprint.yaml",
            &format!(
                "{toolbox}auth:\n  jwt:\n    discovery_url: https://idp.example.com/.well-known/\
                 openid-configuration\n    allowed_clients: [xtask-tests]\n"
            ),
        );
        git_commit_all(&ws);
        let tf = tempfile::tempdir().expect("tempdir");
        let cli_config = support::terraform::cli_config(tf.path());
        // Step Functions (moto's interpreter) reaches the agents through the data plane, as
        // the service does: the plane's port is chosen before moto starts, and held (bound here)
        // until the plane starts, so that no server started meanwhile takes it.
        let reserved = std::net::TcpListener::bind(("127.0.0.1", 0)).expect("reserve a port");
        let plane_port = reserved.local_addr().expect("the reserved port").port();
        let world = World {
            plane: std::cell::OnceCell::new(),
            converse: StandIn::start(),
            memory: agent_testkit::memory::StandIn::start(),
            ws,
            moto: Moto::start_with_step_functions(plane_port),
            registry: Registry::start(),
            cli_config,
            _tf: tf,
        };
        let (out, text) = run(&mut world.xtask(&["bootstrap", "dev"]));
        assert!(out.status.success(), "bootstrap failed:\n{text}");
        // Each agent gets what it asks for: text, or the record its forced tool describes.
        world.converse.answer(Answer::Auto);
        drop(reserved);
        let plane = DataPlane::start(&world, plane_port);
        assert!(world.plane.set(plane).is_ok());
        world
    }

    fn plane(&self) -> &DataPlane {
        self.plane.get().expect("the data plane runs")
    }

    /// `cargo xtask --infra-dir testinfra ARGS` on the scratch workspace, reaching moto through
    /// the standard AWS variables, with the environment files' placeholders set.
    fn xtask(&self, args: &[&str]) -> Command {
        let mut cmd = self.ws.xtask();
        cmd.args(["--infra-dir", "testinfra"]).args(args);
        self.moto.configure(&mut cmd);
        if let Some(plane) = self.plane.get() {
            cmd.env("AWS_ENDPOINT_URL_BEDROCK_AGENTCORE", &plane.url);
        }
        cmd.env("TF_CLI_CONFIG_FILE", &self.cli_config)
            // Share compiled dependencies with the workspace's own build.
            .env("CARGO_TARGET_DIR", repo_root().join("target"))
            .env("TF_STATE_BUCKET", BUCKET)
            .env("AWS_BEDROCK_REGION", "us-west-2")
            .env("VPC_ID", "vpc-0123456789abcdef0")
            .stdin(Stdio::null());
        for (i, name) in ["A", "B", "C"].iter().enumerate() {
            cmd.env(format!("PRIVATE_SUBNET_{name}"), format!("subnet-0{i}"));
            cmd.env(format!("PUBLIC_SUBNET_{name}"), format!("subnet-1{i}"));
        }
        cmd
    }

    fn ok(&self, args: &[&str]) -> String {
        let (out, text) = run(&mut self.xtask(args));
        assert!(out.status.success(), "`{}` failed:\n{text}", args.join(" "));
        text
    }

    fn fails(&self, args: &[&str], needles: &[&str]) -> Output {
        let (out, text) = run(&mut self.xtask(args));
        assert!(
            !out.status.success(),
            "`{}` should have failed:\n{text}",
            args.join(" ")
        );
        assert!(!text.contains("panicked"), "{text}");
        for needle in needles {
            assert!(
                text.contains(needle),
                "`{needle}` not in the output of `{}`:\n{text}",
                args.join(" ")
            );
        }
        out
    }

    fn registry_flag(&self) -> String {
        format!("{}/agentcore", self.registry.host())
    }

    fn aws(&self, args: &[&str]) -> (Output, String) {
        let mut cmd = Command::new(support::tool("aws"));
        self.moto.configure(&mut cmd);
        run(cmd.args(args).args(["--output", "json"]))
    }

    fn ssm(&self, name: &str) -> Option<serde_json::Value> {
        let (out, _) = self.aws(&["ssm", "get-parameter", "--name", name]);
        out.status.success().then(|| {
            serde_json::from_slice::<serde_json::Value>(&out.stdout).expect("json")["Parameter"]
                .clone()
        })
    }

    fn ssm_value(&self, name: &str) -> String {
        self.ssm(name)
            .and_then(|p| p["Value"].as_str().map(str::to_string))
            .unwrap_or_else(|| panic!("no SSM parameter {name}"))
    }

    /// The platform stack's `memory_id` output, from its state object.
    fn platform_memory_id(&self, env: &str) -> String {
        let url = format!("s3://{BUCKET}/{env}/platform.tfstate");
        let (out, text) = self.aws(&["s3", "cp", &url, "-"]);
        assert!(out.status.success(), "{text}");
        let state: serde_json::Value = serde_json::from_slice(&out.stdout).expect("a state");
        let id = state["outputs"]["memory_id"]["value"].as_str();
        id.unwrap_or_else(|| panic!("{url} outputs no memory_id"))
            .to_string()
    }

    fn state_objects(&self) -> Vec<String> {
        let (out, text) = self.aws(&["s3api", "list-objects-v2", "--bucket", BUCKET]);
        assert!(out.status.success(), "{text}");
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_default();
        v["Contents"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|o| o["Key"].as_str().map(str::to_string))
            .collect()
    }

    /// Blob uploads the registry completed so far, from its own access log.
    fn blob_uploads(&self) -> usize {
        self.registry
            .log()
            .lines()
            .filter(|l| {
                l.contains("\"PUT ") && l.contains("/blobs/uploads/") && l.contains("\" 201")
            })
            .count()
    }

    fn enabled_agents(&self, env: &str) -> Vec<String> {
        let (out, text) = run(self.xtask(&["--json", "check"]).env_remove("AWS_REGION"));
        assert!(out.status.success(), "{text}");
        let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
        report["agents"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|a| {
                a["enabled"]
                    .as_array()
                    .is_some_and(|e| e.iter().any(|x| x == env))
            })
            .filter_map(|a| a["id"].as_str().map(str::to_string))
            .collect()
    }
}

fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("read dir").flatten() {
        let path = entry.path();
        let name = entry.file_name();
        if name.to_string_lossy().starts_with(".terraform") && path.is_dir() {
            continue;
        }
        if path.is_dir() {
            copy_dir(&path, &to.join(name));
        } else {
            std::fs::copy(&path, to.join(name)).expect("copy");
        }
    }
}

fn digest(uri: &str) -> &str {
    uri.rsplit_once('@').map_or(uri, |(_, d)| d)
}

#[test]
fn deploy_promote_and_guard_production() {
    let w = World::new();
    let reg = w.registry_flag();
    let dev_agents = w.enabled_agents("dev");
    assert!(!dev_agents.is_empty(), "no agent is enabled in dev");
    let first = &dev_agents[0];

    // --dry-run prints the plan of work and changes nothing.
    let text = w.ok(&["deploy", "dev", "--dry-run", "--registry", &reg]);
    assert!(
        text.contains("terraform init") && text.contains("-backend-config=key=dev/agents.tfstate"),
        "{text}"
    );
    assert!(w.state_objects().is_empty(), "a dry run wrote state");

    // A failure in the agents phase: someone created one of its resources by hand.
    let squatter = format!("/platform/dev/agents/{first}/runtime_arn");
    let (out, text) = w.aws(&[
        "ssm",
        "put-parameter",
        "--name",
        &squatter,
        "--value",
        "by-hand",
        "--type",
        "String",
    ]);
    assert!(out.status.success(), "{text}");
    w.fails(
        &["deploy", "dev", "--registry", &reg],
        &[
            "phase `agents` of dev failed",
            "terraform apply of stack `agents`",
        ],
    );
    let objects = w.state_objects();
    assert!(
        objects.contains(&"dev/platform.tfstate".to_string()),
        "{objects:?}"
    );
    assert!(
        !objects.iter().any(|o| o.starts_with("dev/workflows")),
        "workflows were touched: {objects:?}"
    );
    assert!(
        !objects.contains(&"dev/deploy.lock".to_string()),
        "the deploy lock was left behind"
    );
    assert!(
        w.ssm("/platform/dev/platform/kms_key_arn").is_some(),
        "platform outputs are not in SSM"
    );

    // The re-run picks up where it stopped: the platform has nothing left to do.
    w.aws(&["ssm", "delete-parameter", "--name", &squatter]);
    let (out, text) = run(&mut w.xtask(&["--json", "deploy", "dev", "--registry", &reg]));
    assert!(out.status.success(), "the re-run failed:\n{text}");
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON on stdout");
    let phases = report["phases"].as_array().cloned().unwrap_or_default();
    let platform = phases
        .iter()
        .find(|p| p["phase"] == "platform")
        .expect("platform phase");
    assert_eq!(
        platform["applied"], false,
        "the platform was applied again: {report}"
    );

    // State and SSM show every phase, in order, each fed by the one before.
    let objects = w.state_objects();
    for stack in ["platform", "agents", "workflows"] {
        assert!(
            objects.contains(&format!("dev/{stack}.tfstate")),
            "{objects:?}"
        );
    }
    let modified = |name: &str| {
        w.ssm(name)
            .and_then(|p| p["LastModifiedDate"].as_f64())
            .unwrap_or_else(|| panic!("no {name}"))
    };
    let arn = w.ssm_value(&format!("/platform/dev/agents/{first}/runtime_arn"));
    let image = w.ssm_value(&format!("/platform/dev/agents/{first}/image"));
    assert!(
        image.starts_with(&format!(
            "{}/agentcore/dev/{first}@sha256:",
            w.registry.host()
        )),
        "{image}"
    );
    let (out, text) = run(Command::new(support::tool("skopeo"))
        .args(["inspect", "--tls-verify=false", "--raw"])
        .arg(format!("docker://{image}")));
    assert!(
        out.status.success(),
        "the pinned image is not in the registry:\n{text}"
    );
    // dev builds with the fast profile by default, and its images say so.
    let manifest: serde_json::Value = serde_json::from_str(&text).expect("a manifest");
    assert_eq!(
        manifest["annotations"]["dev.agentcore-monorepo.cargo-profile"], "fast",
        "{manifest}"
    );
    let (out, text) = w.aws(&[
        "ssm",
        "get-parameters-by-path",
        "--path",
        "/platform/dev/workflows",
        "--recursive",
    ]);
    assert!(out.status.success(), "{text}");
    assert!(
        text.contains(&arn),
        "no workflow definition names the runtime ARN {arn}:\n{text}"
    );
    assert!(
        modified("/platform/dev/platform/kms_key_arn")
            <= modified(&format!("/platform/dev/agents/{first}/runtime_arn"))
    );

    // A second deploy changes nothing and uploads no blob (the registry says so).
    let uploads = w.blob_uploads();
    assert!(uploads > 0, "the first deploy uploaded nothing?");
    let text = w.ok(&["deploy", "dev", "--registry", &reg]);
    assert_eq!(
        w.blob_uploads(),
        uploads,
        "the second deploy uploaded blobs:\n{text}"
    );
    assert_eq!(text.matches("no changes").count(), 3, "{text}");

    operate_dev(&w, &dev_agents);
    run_workflows(&w);

    // plan: 0 without drift, 2 with.
    let (out, text) = run(&mut w.xtask(&["plan", "dev"]));
    assert_eq!(out.status.code(), Some(0), "{text}");
    w.ws.edit(
        "testinfra/envs/dev.tfvars",
        "log_retention_days     = 7",
        "log_retention_days     = 14",
    );
    let (out, text) = run(&mut w.xtask(&["plan", "dev"]));
    assert_eq!(out.status.code(), Some(2), "{text}");
    w.ws.edit(
        "testinfra/envs/dev.tfvars",
        "log_retention_days     = 14",
        "log_retention_days     = 7",
    );

    // Two deploys of one environment at once: the second is refused with the holder.
    let mut a = w
        .xtask(&["deploy", "dev", "--registry", &reg])
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .expect("spawn");
    let deadline = Instant::now() + Duration::from_secs(120);
    while !w.state_objects().contains(&"dev/deploy.lock".to_string()) {
        assert!(
            Instant::now() < deadline,
            "the first deploy never took its lock"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    w.fails(
        &["deploy", "dev", "--registry", &reg],
        &[
            "another deploy of `dev` is running",
            "since",
            "cargo xtask deploy dev",
        ],
    );
    // A drift check during a deploy reads the state without locking it: it never stands in
    // the deploy's way (the deploy below still succeeds), and it says a deploy is running.
    let (out, text) = run(&mut w.xtask(&["plan", "dev"]));
    assert!(
        matches!(out.status.code(), Some(0) | Some(2)),
        "a plan during a deploy failed:\n{text}"
    );
    assert!(text.contains("a deploy of dev is running"), "{text}");
    let stderr = BufReader::new(a.stderr.take().expect("stderr"))
        .lines()
        .map_while(Result::ok)
        .collect::<Vec<_>>()
        .join("\n");
    assert!(
        a.wait().expect("wait").success(),
        "the first deploy failed:\n{stderr}"
    );

    // SIGTERM (what `timeout`, `kill` and a cancelled CI job send) while a phase is applied:
    // Terraform stops cleanly, every lock is released, nothing is left running, and a plain
    // re-run completes.
    w.ws.edit(
        "testinfra/envs/dev.tfvars",
        "log_retention_days     = 7",
        "log_retention_days     = 14",
    );
    // Committed: dev must keep running clean builds (promotion takes only those).
    git_commit_all(&w.ws);
    let mut a = w
        .xtask(&["deploy", "dev", "--registry", &reg])
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .expect("spawn");
    let mut lines = BufReader::new(a.stderr.take().expect("stderr")).lines();
    let mut seen = Vec::new();
    for line in lines.by_ref().map_while(Result::ok) {
        let planned = line.contains("dev / platform: ") && line.contains("to change");
        seen.push(line);
        if planned {
            break;
        }
    }
    assert!(
        seen.last().is_some_and(|l| l.contains("dev / platform: ")),
        "the deploy never planned a change:\n{}",
        seen.join("\n")
    );
    let (out, text) = run(Command::new("kill").args(["-TERM", &a.id().to_string()]));
    assert!(out.status.success(), "{text}");
    seen.extend(lines.map_while(Result::ok));
    let status = a.wait().expect("wait");
    let stderr = seen.join("\n");
    assert!(!status.success(), "the deploy ignored SIGTERM:\n{stderr}");
    assert!(stderr.contains("terminated"), "{stderr}");
    let left: Vec<String> = w
        .state_objects()
        .into_iter()
        .filter(|k| k.ends_with(".tflock") || k.ends_with("deploy.lock"))
        .collect();
    assert!(left.is_empty(), "locks left behind: {left:?}\n{stderr}");
    assert_eq!(
        terraform_processes_in(w.ws.path()),
        Vec::<String>::new(),
        "terraform (or a provider) is still running"
    );
    w.ok(&["deploy", "dev", "--registry", &reg]);

    // rollback: the image dev ran before serves again, through Terraform (state stays true:
    // plan is clean), and the current one can be served again by its digest.
    let current = w.ssm_value(&format!("/platform/dev/agents/{first}/image"));
    assert_ne!(
        digest(&current),
        digest(&image),
        "the new commit gave no new image"
    );
    let text = w.ok(&["rollback", "dev", first, "--list"]);
    assert!(
        text.contains(digest(&current))
            && text.contains(digest(&image))
            && text.contains("current"),
        "{text}"
    );
    w.ok(&["rollback", "dev", first]);
    let back = w.ssm_value(&format!("/platform/dev/agents/{first}/image"));
    assert_eq!(
        digest(&back),
        digest(&image),
        "rollback served another image"
    );
    let (out, text) = run(&mut w.xtask(&["plan", "dev"]));
    assert_eq!(
        out.status.code(),
        Some(0),
        "plan is not clean after a rollback:\n{text}"
    );
    w.fails(
        &["rollback", "dev", first, "--to", "999"],
        &["never ran version `999`", digest(&current)],
    );
    let hex12 = &digest(&current)["sha256:".len().."sha256:".len() + 12];
    w.ok(&["rollback", "dev", first, "--to", hex12]);
    assert_eq!(
        digest(&w.ssm_value(&format!("/platform/dev/agents/{first}/image"))),
        digest(&current)
    );

    // promote dev → staging copies dev's bytes and builds nothing (no cargo on PATH).
    support::images::git_commit_all(&w.ws);
    let (out, text) = run(&mut w.xtask(&["bootstrap", "staging"]));
    assert!(out.status.success(), "{text}");
    let promote = || {
        run(w
            .xtask(&["promote", "dev", "staging", "--registry", &reg])
            .env("PATH", "/usr/local/bin:/usr/bin:/bin")
            .env_remove("CARGO"))
    };
    // dev runs fast-profile images: promote refuses them before staging is touched.
    let blueprints = || -> Vec<String> {
        dev_agents
            .iter()
            .map(|id| {
                std::fs::read_to_string(w.ws.path().join(format!("agents/{id}/blueprint.yaml")))
                    .expect("blueprint")
            })
            .collect()
    };
    let before = blueprints();
    let (out, text) = promote();
    assert!(!out.status.success(), "promoted fast images:\n{text}");
    assert!(
        text.contains("built with the `fast` profile")
            && text.contains("cargo xtask deploy dev --profile release"),
        "{text}"
    );
    assert!(
        w.ssm(&format!("/platform/staging/agents/{first}/image"))
            .is_none(),
        "staging got an image"
    );
    assert_eq!(blueprints(), before, "promote edited a blueprint");
    w.fails(
        &["deploy", "staging", "--profile", "fast", "--registry", &reg],
        &["`--profile fast` is for dev only"],
    );
    // dev again, with the release images promote takes (built already: the same commit).
    w.ok(&["deploy", "dev", "--profile", "release", "--registry", &reg]);
    let dev_digests: Vec<(String, String)> = dev_agents
        .iter()
        .map(|id| {
            (
                id.clone(),
                digest(&w.ssm_value(&format!("/platform/dev/agents/{id}/image"))).to_string(),
            )
        })
        .collect();
    let (out, text) = promote();
    assert!(out.status.success(), "promote failed:\n{text}");
    for (id, d) in &dev_digests {
        let staged = w.ssm_value(&format!("/platform/staging/agents/{id}/image"));
        assert_eq!(
            digest(&staged),
            d,
            "staging runs other bytes than dev for {id}"
        );
        assert!(staged.contains("/agentcore/staging/"), "{staged}");
    }
    // status: staging runs dev's bytes.
    let (out, text) = run(&mut w.xtask(&["--json", "status", "dev", "staging"]));
    assert!(out.status.success(), "{text}");
    let status: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    for (id, _) in &dev_digests {
        let row = status_row(&status, id, "staging");
        assert_eq!(row["behind_dev"], "same", "{row}");
    }

    // Production: confirmation, a clean tree, and only what staging runs.
    support::images::git_commit_all(&w.ws);
    w.fails(
        &["deploy", "production"],
        &[
            "refusing to deploy production without confirmation",
            "--yes",
        ],
    );
    w.ws.write("agents/uncommitted.txt", "work in progress\n");
    w.fails(&["deploy", "production", "--yes"], &["dirty tree"]);
    std::fs::remove_file(w.ws.file("agents/uncommitted.txt")).expect("rm");
    // Production has no image for an agent that staging does not run.
    w.ws.edit(
        &format!("agents/{first}/blueprint.yaml"),
        "production: false",
        "production: true",
    );
    support::images::git_commit_all(&w.ws);
    let (out, text) = run(&mut w.xtask(&["bootstrap", "production"]));
    assert!(out.status.success(), "{text}");
    w.fails(
        &["deploy", "production", "--yes"],
        &[
            &format!("agent `{first}` has no image in production"),
            "promote staging production",
        ],
    );

    // A smoke check that fails in staging (Bedrock is down: the agents answer 5xx) fails the
    // checks, shows the answer, and keeps those digests out of production: production is not
    // touched.
    w.converse.answer(Answer::Fail {
        status: 503,
        error_type: "ServiceUnavailableException".into(),
        message: "Bedrock is down".into(),
    });
    w.fails(
        &["deploy", "staging", "--only", "smoke"],
        &[
            "smoke checks failed in staging",
            &format!("{first} / answers"),
            "Received error (5",
        ],
    );
    let to_production = [
        "promote",
        "staging",
        "production",
        "--yes",
        "--registry",
        &reg,
    ];
    w.fails(
        &to_production,
        &[
            "smoke checks did not pass in staging",
            &format!("{first} / answers"),
            "cargo xtask deploy staging --only smoke",
        ],
    );
    assert!(
        w.ssm(&format!("/platform/production/agents/{first}/image"))
            .is_none(),
        "production was touched"
    );
    w.converse.answer(Answer::Auto);
    let text = w.ok(&["deploy", "staging", "--only", "smoke"]);
    assert!(text.contains("check(s) passed"), "{text}");

    // Promoted, production runs staging's bytes, with the model its blueprint names for
    // production (`environments.production`): only production's smoke checks reach Bedrock
    // with it.
    let on_production_model = || {
        w.converse
            .requests()
            .iter()
            .filter(|r| r.model_id.contains("nova-pro"))
            .count()
    };
    assert_eq!(on_production_model(), 0);
    w.ok(&to_production);
    let staged = w.ssm_value(&format!("/platform/staging/agents/{first}/image"));
    let live = w.ssm_value(&format!("/platform/production/agents/{first}/image"));
    assert_eq!(digest(&live), digest(&staged));
    assert!(on_production_model() > 0, "production's model was not used");

    // Staging moves on (a new commit gives new image metadata, hence a new digest): production
    // may no longer be deployed with what it has.
    w.ws.write("NOTES.md", "a new commit\n");
    git_commit_all(&w.ws);
    w.ok(&["deploy", "staging", "--registry", &reg]);
    let restaged = w.ssm_value(&format!("/platform/staging/agents/{first}/image"));
    assert_ne!(
        digest(&restaged),
        digest(&staged),
        "the new commit did not give a new image"
    );
    w.fails(
        &["deploy", "production", "--yes"],
        &[
            "production may only run images that staging runs",
            digest(&restaged),
            "cargo xtask promote staging production",
        ],
    );

    // Taking an agent out of production destroys its runtime: not without --allow-destroy.
    // Its image repository (platform phase) stays: repositories outlive runtimes. (Production
    // first catches up with staging, so that only the removal is in the way.)
    w.ok(&to_production);
    let live = w.ssm_value(&format!("/platform/production/agents/{first}/image"));
    assert_eq!(digest(&live), digest(&restaged));
    w.ws.edit(
        &format!("agents/{first}/blueprint.yaml"),
        "production: true",
        "production: false",
    );
    git_commit_all(&w.ws);
    let out = w.fails(
        &["deploy", "production", "--yes"],
        &[
            "the plan of `agents` in production destroys",
            "--allow-destroy",
        ],
    );
    let text = String::from_utf8_lossy(&out.stderr);
    assert!(!text.contains("aws_ecr_repository"), "{text}");
    assert_eq!(
        w.ssm_value(&format!("/platform/production/agents/{first}/image")),
        live,
        "production changed"
    );

    // Stopping the data plane stops every session's process.
    let status = w.plane().stop();
    assert!(status.success(), "{}", w.plane().stderr());
    let root = w.ws.path().to_string_lossy().to_string();
    let left: Vec<String> = processes_with(&root)
        .into_iter()
        .filter(|p| p.contains("qemu-aarch64-static"))
        .collect();
    assert!(
        left.is_empty(),
        "sessions outlived the data plane: {left:?}"
    );
}

fn strs(args: &[String]) -> Vec<&str> {
    args.iter().map(String::as_str).collect()
}

/// A session id of the length AgentCore requires (33 to 256 characters).
const SESSION: &str = "deploy-test-session-0000000000000001";

/// `cargo xtask dataplane` in the background, stopped with SIGTERM when dropped; its stderr is
/// collected as it comes (agents' lines, sessions started and stopped).
struct DataPlane {
    child: std::sync::Mutex<std::process::Child>,
    url: String,
    stderr: std::sync::Arc<std::sync::Mutex<String>>,
}

impl DataPlane {
    /// Its agents reach Bedrock and Memory through the stand-ins, as the runtime's role would
    /// reach the services.
    fn start(w: &World, port: u16) -> DataPlane {
        let port = port.to_string();
        let mut child = w
            .xtask(&[
                "--json",
                "dataplane",
                "--port",
                &port,
                "--idle-timeout",
                "4",
            ])
            .env("AWS_ENDPOINT_URL_BEDROCK_RUNTIME", w.converse.url())
            .env("AWS_ENDPOINT_URL_BEDROCK_AGENTCORE", w.memory.url())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start the data plane");
        let stderr = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
        let lines = BufReader::new(child.stderr.take().expect("stderr"));
        let collected = stderr.clone();
        std::thread::spawn(move || {
            for line in lines.lines().map_while(Result::ok) {
                let mut text = collected.lock().unwrap();
                text.push_str(&line);
                text.push('\n');
            }
        });
        // `--json` prints one JSON document (pretty) once the port is open.
        let mut stdout = BufReader::new(child.stdout.take().expect("stdout"));
        let serving = agent_testkit::read_json_document(&mut stdout).unwrap_or_else(|text| {
            panic!(
                "the data plane printed no JSON: {text:?}\n{}",
                stderr.lock().unwrap()
            )
        });
        let url = serving["url"]
            .as_str()
            .unwrap_or_else(|| {
                panic!(
                    "the data plane printed no url: {serving}\n{}",
                    stderr.lock().unwrap()
                )
            })
            .to_string();
        DataPlane {
            child: std::sync::Mutex::new(child),
            url,
            stderr,
        }
    }

    fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    /// Waits until its stderr holds `needle`.
    fn wait_for(&self, needle: &str, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if self.stderr().contains(needle) {
                return true;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        false
    }

    /// SIGTERM, then its exit status.
    fn stop(&self) -> std::process::ExitStatus {
        let mut child = self.child.lock().unwrap();
        let _ = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status();
        child.wait().expect("wait for the data plane")
    }
}

impl Drop for DataPlane {
    fn drop(&mut self) {
        let running = self
            .child
            .get_mut()
            .is_ok_and(|c| matches!(c.try_wait(), Ok(None)));
        if running {
            self.stop();
        }
    }
}

/// The processes whose command line holds `needle` (e.g. an image digest's hex).
fn processes_with(needle: &str) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(Result::ok)
        .filter_map(|e| std::fs::read(e.path().join("cmdline")).ok())
        .map(|raw| String::from_utf8_lossy(&raw).replace('\0', " "))
        .filter(|cmdline| cmdline.contains(needle))
        .collect()
}

/// Operating what dev runs, through the commands a user runs and the AWS SDK's real path:
/// the local data plane serves InvokeAgentRuntime from the arm64 image the registry holds,
/// `invoke --env` reaches it through AWS_ENDPOINT_URL_BEDROCK_AGENTCORE, `logs` reads what the
/// agent printed from CloudWatch Logs (moto), `status` shows what runs.
/// The row of `status --json` for `agent` in `env`.
fn status_row<'a>(status: &'a serde_json::Value, agent: &str, env: &str) -> &'a serde_json::Value {
    status["agents"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|r| r["agent"] == agent && r["env"] == env)
        .unwrap_or_else(|| panic!("no row for {agent} in {env}: {status}"))
}

fn operate_dev(w: &World, dev_agents: &[String]) {
    let agent = "assistant";
    assert!(dev_agents.iter().any(|a| a == agent), "{dev_agents:?}");
    let image = w.ssm_value(&format!("/platform/dev/agents/{agent}/image"));
    let hex = digest(&image).trim_start_matches("sha256:").to_string();
    let pulls = || {
        w.registry
            .log()
            .matches(&format!(
                "GET /v2/agentcore/dev/{agent}/manifests/sha256:{hex}"
            ))
            .count()
    };
    let calls_before = w.converse.requests().len();
    // The data plane pulled the digest the state pins, from the registry, when the deploy
    // changed it (and ran the smoke checks through it).
    assert!(
        pulls() > 0,
        "the image was not pulled by digest:\n{}\n{}",
        w.plane().stderr(),
        w.registry.log()
    );
    let plane = w.plane();
    let converse = &w.converse;
    let sessions_before = plane.stderr().matches("started (pid").count();

    let invoke = |env: &str, extra: &[&str], payload: &str| -> Vec<String> {
        let mut args = vec!["invoke", agent, "--env", env];
        args.extend(extra);
        args.extend(["--payload", payload]);
        args.into_iter().map(str::to_string).collect()
    };
    let fails = |args: Vec<String>, needles: &[&str]| {
        w.fails(&strs(&args), needles);
    };
    let runs = |args: Vec<String>| run(&mut w.xtask(&strs(&args)));

    // JSON: the arm64 binary of the image answers, under qemu, with dev's settings.
    let mut json = vec!["--json".to_string()];
    json.extend(invoke(
        "dev",
        &["--session", SESSION],
        r#"{"prompt": "Hello"}"#,
    ));
    let (out, text) = runs(json);
    assert!(out.status.success(), "{text}\n{}", plane.stderr());
    let answer: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON answer");
    assert_eq!(answer["answer"], "Hello from the stand-in.", "{text}");
    assert_eq!(answer["session_id"], SESSION);
    let running = processes_with(&hex);
    assert!(
        running.iter().any(|p| p.contains("qemu-aarch64-static")),
        "no process runs the image's entrypoint under qemu: {running:?}"
    );
    let call = &converse.requests()[calls_before];
    assert!(
        call.authorization.contains("/us-west-2/bedrock/"),
        "dev's bedrock_region did not reach the runtime: {}",
        call.authorization
    );

    // Streamed, as it arrives; the same session reaches the same process.
    converse.stream_chunks(&["Hello ", "again"]);
    let (out, text) = runs(invoke(
        "dev",
        &["--session", SESSION],
        r#"{"prompt": "Hi", "stream": true}"#,
    ));
    assert!(out.status.success(), "{text}");
    assert!(
        String::from_utf8_lossy(&out.stdout).starts_with("Hello again\n"),
        "{text}"
    );
    // The session's turns are kept in the memory the platform stack deployed: the second
    // call's model request carries the first turn, and both exchanges are events of it.
    let first_turn = [
        ("user".to_string(), "Hello".to_string()),
        (
            "assistant".to_string(),
            "Hello from the stand-in.".to_string(),
        ),
    ];
    let second = &converse.requests()[calls_before + 1];
    assert_eq!(
        second.messages(),
        [&first_turn[..], &[("user".into(), "Hi".into())]].concat(),
        "{}",
        second.body
    );
    let memory_id = w.platform_memory_id("dev");
    let recorded = |operation: &str| {
        w.memory
            .requests()
            .into_iter()
            .filter(|r| r.operation == operation && r.session_id == SESSION)
            .collect::<Vec<_>>()
    };
    let events = recorded("CreateEvent");
    assert_eq!(events.len(), 2, "one event per exchange: {events:#?}");
    assert!(
        events.iter().all(|e| e.memory_id == memory_id),
        "not the platform's memory {memory_id}: {events:#?}"
    );
    assert_eq!(
        plane.stderr().matches("started (pid").count(),
        sessions_before + 1,
        "one session, one process:\n{}",
        plane.stderr()
    );

    // Without --session a new one is made (and printed); it is a new process.
    let (out, text) = runs(invoke("dev", &[], r#"{"prompt": "New"}"#));
    assert!(out.status.success(), "{text}");
    assert!(text.contains("--session xtask-"), "{text}");

    // Bad input: each refused with what to do.
    fails(
        invoke("dev", &["--session", "short"], "{}"),
        &["AgentCore takes 33 to 256"],
    );
    fails(
        invoke("dev", &[], r#"{"prompt": 5}"#),
        &[
            "Received error (422) from runtime",
            &format!("cargo xtask logs {agent} --env dev"),
        ],
    );
    fails(
        invoke("dev", &["--endpoint", "canary"], "{}"),
        &["endpoint `canary`"],
    );
    fails(
        invoke("production", &[], "{}"),
        &["not enabled in production", "execution_modes.production"],
    );
    fails(
        invoke("staging", &[], "{}"),
        &["staging was never deployed", "cargo xtask deploy staging"],
    );
    let (out, text) = run(w
        .xtask(&["invoke", agent, "--env", "dev", "--payload", "{}"])
        .env(
            "AWS_ENDPOINT_URL_BEDROCK_AGENTCORE",
            format!("http://127.0.0.1:{}", support::free_port()),
        ));
    assert!(!out.status.success());
    assert!(text.contains("cargo xtask dataplane dev"), "{text}");
    // Throttled: the SDK tries again with its standard policy (3 attempts), then the command
    // says so and what to do; the agent was never reached.
    let throttled = agent_testkit::refusing::Refusing::throttling();
    let calls = converse.requests().len();
    let (out, text) = run(w
        .xtask(&["invoke", agent, "--env", "dev", "--payload", "{}"])
        .env("AWS_ENDPOINT_URL_BEDROCK_AGENTCORE", throttled.url()));
    assert!(!out.status.success(), "{text}");
    assert!(
        text.contains("still refuses `assistant` in dev after the SDK's retries")
            && text.contains("Rate exceeded")
            && text.contains("wait and try again"),
        "{text}"
    );
    assert_eq!(
        throttled.requests(),
        3,
        "not retried as the SDK's standard policy says"
    );
    assert_eq!(converse.requests().len(), calls);
    // A runtime a deploy is changing: the data plane answers as if it were missing, the
    // control plane says why, and the command says to wait.
    let lost = agent_testkit::refusing::Refusing::start(
        404,
        "ResourceNotFoundException",
        "No endpoint or agent found with qualifier 'live'",
    );
    let control = agent_testkit::control_plane::ControlPlane::start("UPDATING", None);
    let (out, text) = run(w
        .xtask(&["invoke", agent, "--env", "dev", "--payload", "{}"])
        .env("AWS_ENDPOINT_URL_BEDROCK_AGENTCORE", lost.url())
        .env("AWS_ENDPOINT_URL_BEDROCK_AGENTCORE_CONTROL", control.url()));
    assert!(!out.status.success(), "{text}");
    assert!(
        text.contains("`assistant` in dev is not READY: its runtime is UPDATING")
            && text.contains("try again in a minute"),
        "{text}"
    );
    let arn = w.ssm_value(&format!("/platform/dev/agents/{agent}/runtime_arn"));
    let runtime_id = arn.rsplit('/').next().unwrap_or_default().to_string();
    assert_eq!(control.asked(), vec![runtime_id.clone()]);
    assert_eq!(converse.requests().len(), calls);
    // status shows what the control plane says; a failed update shows its reason (--json).
    let failed =
        agent_testkit::control_plane::ControlPlane::start("UPDATE_FAILED", Some("image not found"));
    let (out, text) = run(w
        .xtask(&["--json", "status", "dev"])
        .env("AWS_ENDPOINT_URL_BEDROCK_AGENTCORE_CONTROL", failed.url()));
    assert!(out.status.success(), "{text}");
    let status: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let row = status_row(&status, agent, "dev");
    assert_eq!(row["runtime_status"], "UPDATE_FAILED", "{row}");
    assert_eq!(row["failure_reason"], "image not found", "{row}");
    assert!(failed.asked().contains(&runtime_id), "{:?}", failed.asked());

    // An MCP server's tools, through InvokeAgentRuntime: listed, and one called. The toolbox
    // takes a JWT: without one the call is refused before it is sent; signed with IAM, the
    // service refuses it (the AWS CLI, not this project, signs); with a token, it answers.
    w.fails(
        &["invoke", "toolbox", "--env", "dev", "--tools"],
        &[
            "takes a JWT",
            "--token",
            "https://idp.example.com/.well-known",
        ],
    );
    w.fails(
        &[
            "invoke",
            agent,
            "--env",
            "dev",
            "--token",
            "abc",
            "--payload",
            "{}",
        ],
        &["takes IAM-signed invocations", "leave out --token"],
    );
    let toolbox_arn = w.ssm_value("/platform/dev/agents/toolbox/runtime_arn");
    let mut signed = Command::new(support::tool("aws"));
    w.moto.configure(&mut signed);
    let (out, text) = run(signed
        .env("AWS_ENDPOINT_URL_BEDROCK_AGENTCORE", &plane.url)
        .args([
            "bedrock-agentcore",
            "invoke-agent-runtime",
            "--agent-runtime-arn",
        ])
        .args([&toolbox_arn, "--qualifier", "live", "--payload", "e30="])
        .arg(std::env::temp_dir().join("xtask-signed-answer")));
    assert!(!out.status.success(), "{text}");
    assert!(
        text.contains("AccessDeniedException") && text.contains("Authorization method mismatch"),
        "{text}"
    );
    let token = ["--token", "eyJ.test.token"];
    let mut args = vec!["--json", "invoke", "toolbox", "--env", "dev", "--tools"];
    args.extend(token);
    let (out, text) = run(&mut w.xtask(&args));
    assert!(out.status.success(), "{text}\n{}", plane.stderr());
    let listed: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert!(
        listed["tools"]
            .as_array()
            .is_some_and(|t| t.iter().any(|t| t["name"] == "due_date")),
        "{listed}"
    );
    let (out, text) = run(&mut w.xtask(&[
        "invoke",
        "toolbox",
        "--env",
        "dev",
        "--tool",
        "due_date",
        "--payload",
        r#"{"start": "2026-12-04", "business_days": 1}"#,
        token[0],
        token[1],
    ]));
    assert!(out.status.success(), "{text}");
    let due: serde_json::Value =
        serde_json::from_slice(&out.stdout).expect("the structured result");
    assert_eq!(due["due"], "2026-12-07", "{due}");

    // logs: what the agent printed, from the runtime's log group, one session's lines.
    let deadline = Instant::now() + Duration::from_secs(20);
    let lines = loop {
        let (out, text) = run(&mut w.xtask(&[
            "--json",
            "logs",
            agent,
            "--env",
            "dev",
            "--session",
            SESSION,
        ]));
        assert!(out.status.success(), "{text}");
        let lines: Vec<serde_json::Value> = String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(|l| serde_json::from_str(l).expect("one JSON object per line"))
            .collect();
        if lines.len() >= 2 || Instant::now() > deadline {
            break lines;
        }
        std::thread::sleep(Duration::from_millis(500));
    };
    assert!(
        lines.len() >= 2
            && lines
                .iter()
                .all(|l| l["message"]["span"]["session_id"] == SESSION
                    || l["stream"].as_str().is_some_and(|s| s.ends_with(SESSION))),
        "{lines:#?}"
    );
    assert!(
        lines
            .iter()
            .all(|l| l["group"].as_str().is_some_and(|g| g.ends_with("-live"))),
        "{lines:#?}"
    );
    let text = w.ok(&["logs", agent, "--env", "dev", "--session", SESSION]);
    assert!(text.contains(&format!("[{SESSION} ")), "{text}");

    // status: the digest the registry holds, the commit it was built from.
    let (out, text) = run(&mut w.xtask(&["--json", "status", "dev"]));
    assert!(out.status.success(), "{text}");
    let status: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let row = status_row(&status, agent, "dev");
    assert_eq!(row["digest"], digest(&image));
    let head = Command::new("git")
        .args(["rev-parse", "HEAD"])
        .current_dir(w.ws.path())
        .output()
        .expect("git");
    assert_eq!(
        row["revision"].as_str(),
        Some(String::from_utf8_lossy(&head.stdout).trim()),
        "{row}"
    );

    // Idle sessions are stopped: the session above has no process after its idle timeout.
    assert!(
        plane.wait_for(
            &format!("session {} stopped (idle timeout)", &SESSION[..8]),
            Duration::from_secs(30)
        ),
        "{}",
        plane.stderr()
    );
    // An ended session's id is not refused: AgentCore starts the session again in a new
    // microVM, and so does the data plane; what the agent kept in process is gone, what it
    // kept in Memory is not.
    let starts = || {
        plane
            .stderr()
            .matches(&format!("session {} started", &SESSION[..8]))
            .count()
    };
    let before = starts();
    let calls = converse.requests().len();
    let (out, text) = runs(invoke(
        "dev",
        &["--session", SESSION],
        r#"{"prompt": "Hello again"}"#,
    ));
    assert!(out.status.success(), "{text}\n{}", plane.stderr());
    assert_eq!(starts(), before + 1, "{}", plane.stderr());
    let resumed = converse.requests()[calls].messages();
    assert!(
        resumed.starts_with(&first_turn),
        "the new process did not remember the first turn: {resumed:?}"
    );
    let reads = recorded("ListEvents");
    assert!(
        !reads.is_empty() && reads.iter().all(|r| r.memory_id == memory_id),
        "{reads:#?}"
    );
}

/// Terraform and provider processes whose working directory is inside `dir`.
/// The workflows dev deployed, executed by Step Functions (moto's interpreter): their invoke
/// tasks reach the agents' arm64 processes through the data plane, with the payload, session
/// and answer the `aws-sdk:bedrockagentcore:invokeAgentRuntime` integration gives them.
fn run_workflows(w: &World) {
    // moto cannot hold the stacks' state machines (tests/stacks/workflows): each is created
    // here from the definition the deploy rendered, one per execution (moto's executions of
    // one state machine share its history).
    let execute = |workflow: &str, run: &str, input: serde_json::Value| -> serde_json::Value {
        let definition = w.ssm_value(&format!("/platform/dev/workflows/{workflow}/definition"));
        let role = format!("arn:aws:iam::123456789012:role/agentcore-dev-{workflow}-sfn");
        let (out, text) = w.aws(&[
            "stepfunctions",
            "create-state-machine",
            "--name",
            &format!("agentcore-dev-{workflow}-{run}"),
            "--definition",
            &definition,
            "--role-arn",
            &role,
        ]);
        assert!(out.status.success(), "{text}");
        let machine: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
        let (out, text) = w.aws(&[
            "stepfunctions",
            "start-execution",
            "--state-machine-arn",
            machine["stateMachineArn"].as_str().expect("arn"),
            "--name",
            run,
            "--input",
            &input.to_string(),
        ]);
        assert!(out.status.success(), "{text}");
        let started: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
        let arn = started["executionArn"].as_str().expect("arn").to_string();
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            let (out, text) = w.aws(&[
                "stepfunctions",
                "describe-execution",
                "--execution-arn",
                &arn,
            ]);
            assert!(out.status.success(), "{text}");
            let execution: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
            if execution["status"] != "RUNNING" {
                return execution;
            }
            assert!(
                Instant::now() < deadline,
                "{workflow} still runs: {execution}\n{}",
                w.plane().stderr()
            );
            std::thread::sleep(Duration::from_millis(300));
        }
    };
    // The session a task gives an agent: its name and the SHA-256 of the execution's ARN.
    let session = |agent: &str, execution: &serde_json::Value| {
        use sha2::Digest as _;
        let arn = execution["executionArn"].as_str().expect("arn");
        format!("{agent}-{:x}", sha2::Sha256::digest(arn.as_bytes()))
    };
    let output = |execution: &serde_json::Value| -> serde_json::Value {
        serde_json::from_str(execution["output"].as_str().unwrap_or("null")).expect("output")
    };

    // Triage classifies the event's detail; it needs a reply, so the assistant drafts one: the
    // execution's output holds both answers, each agent in its own session of this execution.
    let text = "My invoice for March never arrived.";
    let execution = execute(
        "triage-and-answer",
        "request-1",
        serde_json::json!({ "detail": { "text": text } }),
    );
    assert_eq!(
        execution["status"],
        "SUCCEEDED",
        "{execution}\n{}",
        w.plane().stderr()
    );
    let result = output(&execution);
    let record = &result["triage"]["record"];
    assert_eq!(record["needs_reply"], true, "{result}");
    assert!(record["category"].is_string(), "{result}");
    assert_eq!(
        record["session_id"],
        session("triage", &execution),
        "{result}"
    );
    let reply = &result["answer"]["reply"];
    assert_eq!(reply["answer"], "Hello from the stand-in.", "{result}");
    assert_eq!(
        reply["session_id"],
        session("assistant", &execution),
        "{result}"
    );
    // The agents received the payload as JSON, not a JSON string of it: triage classified
    // the text, and the assistant's prompt is the one the Pass state built.
    let prompts: Vec<String> = w
        .converse
        .requests()
        .iter()
        .map(|r| r.body.to_string())
        .collect();
    assert!(prompts.iter().any(|p| p.contains(text)), "{prompts:?}");
    assert!(
        prompts.iter().any(|p| p.contains("Draft a reply to this")),
        "{prompts:?}"
    );

    // The scheduled digest: one task, its answer parsed back from the response string.
    let execution = execute("assistant-digest", "digest-1", serde_json::json!({}));
    assert_eq!(execution["status"], "SUCCEEDED", "{execution}");
    let result = output(&execution);
    assert_eq!(
        result["digest"]["digest"]["answer"], "Hello from the stand-in.",
        "{result}"
    );
    assert_eq!(
        result["digest"]["digest"]["session_id"],
        session("assistant", &execution),
        "{result}"
    );

    // An agent that fails (triage refuses empty text with a 400): the service's
    // RuntimeClientError is not among the retried errors, the Catch ends the execution
    // with the agent's failure recorded, and the assistant is never called.
    let calls = w.converse.requests().len();
    let execution = execute(
        "triage-and-answer",
        "request-2",
        serde_json::json!({ "detail": { "text": "" } }),
    );
    assert_eq!(execution["status"], "FAILED", "{execution}");
    assert_eq!(execution["error"], "AgentInvocationFailed", "{execution}");
    let cause = execution["cause"].as_str().unwrap_or_default();
    assert!(
        cause.contains("Received error (400) from runtime"),
        "{execution}"
    );
    let (out, text) = w.aws(&[
        "stepfunctions",
        "get-execution-history",
        "--execution-arn",
        execution["executionArn"].as_str().expect("arn"),
    ]);
    assert!(out.status.success(), "{text}");
    assert_eq!(
        text.matches("\"TaskScheduled\"").count(),
        1,
        "retried:\n{text}"
    );
    assert!(
        text.contains("BedrockAgentCore.RuntimeClientError"),
        "{text}"
    );
    assert_eq!(w.converse.requests().len(), calls, "a model was called");
}

fn terraform_processes_in(dir: &Path) -> Vec<String> {
    let dir = dir.canonicalize().unwrap_or_else(|_| dir.to_path_buf());
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let proc_dir = entry.path();
        let cmdline = std::fs::read(proc_dir.join("cmdline")).unwrap_or_default();
        let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
        if !cmdline.contains("terraform") {
            continue;
        }
        if std::fs::read_link(proc_dir.join("cwd")).is_ok_and(|cwd| cwd.starts_with(&dir)) {
            found.push(cmdline);
        }
    }
    found
}

/// The refusals that come before any cloud call: no moto, no build needed.
fn offline(ws: &Scratch, args: &[&str]) -> (Output, String) {
    run(&mut offline_command(ws, args))
}

/// `offline`'s command, to change its environment first.
fn offline_command(ws: &Scratch, args: &[&str]) -> Command {
    let mut cmd = ws.xtask();
    cmd.args(args).stdin(Stdio::null());
    for (k, v) in [
        ("AWS_REGION", "us-east-1"),
        ("AWS_BEDROCK_REGION", "us-west-2"),
        ("TF_STATE_BUCKET", "unused"),
        ("VPC_ID", "vpc-1"),
    ] {
        cmd.env(k, v);
    }
    for n in ["A", "B", "C"] {
        cmd.env(format!("PRIVATE_SUBNET_{n}"), "subnet-a");
        cmd.env(format!("PUBLIC_SUBNET_{n}"), "subnet-b");
    }
    cmd
}

#[test]
fn destroy_and_promote_refusals() {
    let ws = Scratch::copy_of_repo();
    let cases: [(&[&str], &[&str]); 5] = [
        (
            &["destroy", "staging"],
            &[
                "refusing to destroy staging",
                "removal_policy_destroy = false",
                "--force",
            ],
        ),
        (
            &["destroy", "production", "--force", "--yes"],
            &[
                "refusing to destroy production without a typed confirmation",
                "--yes is not enough",
                "type `production`",
            ],
        ),
        (
            &["destroy", "dev"],
            &["refusing to destroy dev without confirmation", "--yes"],
        ),
        (
            &["promote", "dev", "production"],
            &["one step at a time", "dev → staging → production"],
        ),
        (
            &["deploy", "prod"],
            &["unknown environment `prod`", "did you mean `production`?"],
        ),
    ];
    for (args, needles) in cases {
        let (out, text) = offline(&ws, args);
        assert!(
            !out.status.success(),
            "`{}` should fail:\n{text}",
            args.join(" ")
        );
        for needle in needles {
            assert!(
                text.contains(needle),
                "`{needle}` not in `{}`:\n{text}",
                args.join(" ")
            );
        }
    }
    // A promotion prepares the target environment before it copies or edits anything: with
    // production's variables incomplete (the README's exports once lacked *_SUBNET_C), it
    // fails at once, naming them, and no blueprint is touched.
    let before = ws.read("agents/assistant/blueprint.yaml");
    let (out, text) = run(
        offline_command(&ws, &["promote", "staging", "production", "--yes"])
            .env_remove("PRIVATE_SUBNET_C")
            .env_remove("PUBLIC_SUBNET_C"),
    );
    assert!(!out.status.success(), "{text}");
    assert!(
        text.contains("PRIVATE_SUBNET_C") && text.contains("production.tfvars"),
        "{text}"
    );
    assert!(!text.contains("pulling"), "it copied images first:\n{text}");
    assert_eq!(ws.read("agents/assistant/blueprint.yaml"), before);

    let (out, text) = offline(&ws, &["destroy", "dev", "--dry-run"]);
    assert!(out.status.success(), "{text}");
    assert!(
        text.contains(" plan ") && text.contains("-detailed-exitcode") && text.contains("-destroy"),
        "{text}"
    );
    let workflows = text.find("stacks/workflows").expect("workflows");
    let platform = text.find("stacks/platform").expect("platform");
    assert!(
        workflows < platform,
        "destroy must go in reverse order:\n{text}"
    );
    let (out, text) = offline(&ws, &["deploy", "dev", "--dry-run", "--only", "agents"]);
    assert!(out.status.success(), "{text}");
    assert!(
        text.contains("stacks/agents") && !text.contains("stacks/platform"),
        "{text}"
    );

    // --json means JSON, dry runs included.
    for args in [
        &["destroy", "dev", "--dry-run", "--json"][..],
        &["deploy", "dev", "--dry-run", "--json"][..],
    ] {
        let (out, text) = offline(&ws, args);
        assert!(out.status.success(), "{text}");
        let report: serde_json::Value = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("`{}` printed no JSON ({e}):\n{text}", args.join(" ")));
        assert_eq!(report["dry_run"], true, "{report}");
        assert!(
            report["commands"].as_array().is_some_and(|c| c
                .iter()
                .any(|l| l.as_str().is_some_and(|l| l.contains("terraform")))),
            "{report}"
        );
    }
}
