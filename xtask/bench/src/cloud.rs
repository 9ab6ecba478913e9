//! The local cloud the deploying benchmarks (`deploy`, `scale`) run against: moto for AWS, the
//! CNCF registry for images, the Converse stand-in for Bedrock, the Memory stand-in for
//! AgentCore Memory and `cargo xtask dataplane` for AgentCore (the smoke phase invokes the
//! agents), with the environment that sends the xtask's
//! AWS SDK and Terraform there. The workspace's `tests/` is the infrastructure root: the test
//! stacks (`tests/stacks`, the shipped stacks' interface on resources moto handles) and the
//! real environment files (`tests/envs -> ../infra/envs`).

use std::path::{Path, PathBuf};

use anyhow::Context as _;

use agent_testkit::converse::{Answer, StandIn};
use agent_testkit::moto::Moto;
use agent_testkit::registry::Registry;

pub struct LocalCloud {
    // Dropped first: the data plane's agents before the services they call.
    _plane: DataPlane,
    _converse: StandIn,
    _memory: agent_testkit::memory::StandIn,
    _registry: Registry,
    _moto: Moto,
    _scratch: tempfile::TempDir,
    /// What every `cargo xtask` run gets.
    pub env: Vec<(String, String)>,
    /// `--registry` of deploy and push: the local registry, under `bench/`.
    pub registry_flag: String,
    root: PathBuf,
    exe: PathBuf,
}

impl LocalCloud {
    /// Starts the services for the workspace at `root`, and its data plane for dev.
    pub fn start(root: &Path) -> anyhow::Result<LocalCloud> {
        let infra = root.join("tests");
        anyhow::ensure!(
            infra.join("stacks").is_dir() && infra.join("envs").is_dir(),
            "{} has no stacks/ and envs/",
            infra.display()
        );
        let scratch = tempfile::tempdir()?;
        let moto = Moto::start();
        let registry = Registry::start();
        let mut env: Vec<(String, String)> = vec![
            ("AWS_ENDPOINT_URL".into(), moto.endpoint()),
            ("AWS_ACCESS_KEY_ID".into(), "bench".into()),
            ("AWS_SECRET_ACCESS_KEY".into(), "bench".into()),
            ("AWS_REGION".into(), "us-east-1".into()),
            ("AWS_BEDROCK_REGION".into(), "us-west-2".into()),
            ("TF_STATE_BUCKET".into(), "bench-tfstate".into()),
            ("VPC_ID".into(), "vpc-0123456789abcdef0".into()),
        ];
        for (i, n) in ["A", "B", "C"].iter().enumerate() {
            env.push((format!("PRIVATE_SUBNET_{n}"), format!("subnet-0{i}")));
            env.push((format!("PUBLIC_SUBNET_{n}"), format!("subnet-1{i}")));
        }
        let mirror = std::env::var("TF_PLUGIN_MIRROR").unwrap_or_else(|_| "/opt/tf-plugins".into());
        if Path::new(&mirror)
            .join("registry.terraform.io/hashicorp/aws")
            .is_dir()
        {
            let rc = scratch.path().join("terraform.rc");
            std::fs::write(
                &rc,
                format!(
                    "provider_installation {{\n  filesystem_mirror {{\n    path = \"{mirror}\"\n  }}\n  \
                     direct {{\n    exclude = [\"registry.terraform.io/*/*\"]\n  }}\n}}\n"
                ),
            )?;
            env.push(("TF_CLI_CONFIG_FILE".into(), rc.display().to_string()));
        }
        let converse = StandIn::start();
        converse.answer(Answer::Auto);
        env.push((
            "AWS_ENDPOINT_URL_BEDROCK_RUNTIME".into(),
            converse.url().to_string(),
        ));
        let memory = agent_testkit::memory::StandIn::start_on(0)?;
        let exe = crate::xtask_bin()?;
        let plane = DataPlane::start(&exe, root, &mut env, memory.url())?;
        Ok(LocalCloud {
            _plane: plane,
            _converse: converse,
            _memory: memory,
            registry_flag: format!("{}/bench", registry.host()),
            _registry: registry,
            _moto: moto,
            _scratch: scratch,
            env,
            root: root.to_path_buf(),
            exe,
        })
    }

    /// `cargo xtask -C <root> --infra-dir <root>/tests ARGS` against the local cloud.
    pub fn xtask(&self, args: &[&str]) -> duct::Expression {
        xtask(&self.exe, &self.root, &self.env, args)
    }

    /// The infrastructure root (`tests/`).
    pub fn infra(&self) -> PathBuf {
        self.root.join("tests")
    }
}

fn xtask(exe: &Path, root: &Path, env: &[(String, String)], args: &[&str]) -> duct::Expression {
    let mut full = vec!["-C".to_string(), root.display().to_string()];
    full.extend([
        "--infra-dir".into(),
        root.join("tests").display().to_string(),
    ]);
    full.extend(args.iter().map(|s| s.to_string()));
    let mut cmd = duct::cmd(exe, full).stdin_null();
    for (k, v) in env {
        cmd = cmd.env(k, v);
    }
    cmd.env_remove("AWS_PROFILE")
}

/// `cargo xtask dataplane` in the background, stopped when dropped.
struct DataPlane {
    handle: duct::ReaderHandle,
}

impl DataPlane {
    /// Starts `dataplane dev` with `env`, its agents' AgentCore (Memory) at `memory`, and
    /// points `AWS_ENDPOINT_URL_BEDROCK_AGENTCORE` in `env` at it.
    fn start(
        exe: &Path,
        root: &Path,
        env: &mut Vec<(String, String)>,
        memory: &str,
    ) -> anyhow::Result<DataPlane> {
        const VAR: &str = "AWS_ENDPOINT_URL_BEDROCK_AGENTCORE";
        env.retain(|(k, _)| k != VAR);
        let handle = xtask(
            exe,
            root,
            env,
            &["--json", "dataplane", "dev", "--port", "0"],
        )
        .env(VAR, memory)
        .stderr_null()
        .reader()
        .context("cannot start the data plane")?;
        let serving = agent_testkit::read_json_document(&mut std::io::BufReader::new(&handle))
            .map_err(|text| anyhow::anyhow!("the data plane stopped before it served: {text}"))?;
        let url = serving["url"].as_str().context("no url")?.to_string();
        env.push((VAR.into(), url));
        Ok(DataPlane { handle })
    }
}

impl DataPlane {
    /// SIGTERM, so that it stops its agents' processes itself (a SIGKILL would orphan them);
    /// SIGKILL if it has not exited after 10 s.
    fn stop(&self) {
        for pid in self.handle.pids() {
            let _ = duct::cmd!("kill", "-TERM", pid.to_string())
                .stderr_null()
                .unchecked()
                .run();
        }
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while std::time::Instant::now() < deadline {
            if matches!(self.handle.try_wait(), Ok(Some(_)) | Err(_)) {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        let _ = self.handle.kill();
    }
}

impl Drop for DataPlane {
    fn drop(&mut self) {
        self.stop();
    }
}
