//! `cargo xtask bench deploy`: what `deploy` costs on top of Terraform.
//!
//! Against local stand-ins (moto for AWS, the CNCF distribution registry for images) and the
//! test stacks (`tests/stacks`, the shipped stacks' interface on resources moto handles):
//! the per-phase timeline of a first deploy, then a no-op deploy against the sum of bare
//! `terraform plan` runs of the same stacks with the same inputs and data dirs.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use serde::Serialize;

use crate::Context;
use crate::output::table;
use crate::toolchain::which;

#[derive(clap::Args)]
#[command(after_help = "Examples:
  cargo xtask bench deploy               one first deploy, 3 no-op deploys and plans
  cargo xtask bench deploy --runs 5 --json

Needs moto_server, docker-registry and terraform; TF_PLUGIN_MIRROR (default /opt/tf-plugins) is
used when it holds the aws provider. Builds the agents enabled in dev for aarch64.")]
pub struct Args {
    /// No-op deploys and bare plans to time; medians are reported.
    #[arg(long, value_name = "N", default_value_t = 3)]
    runs: usize,
}

#[derive(Serialize)]
struct Results {
    first_deploy: serde_json::Value,
    first_deploy_s: f64,
    noop_deploy_s: Vec<f64>,
    bare_plans_s: Vec<f64>,
    /// Median no-op deploy / median sum of bare plans (goal ≤ 1.15).
    ratio: f64,
}

pub fn run(ctx: &Context, args: Args) -> anyhow::Result<ExitCode> {
    for tool in ["moto_server", "docker-registry", "terraform"] {
        if which(tool).is_none() {
            bail_help!("`{tool}` is not on PATH"; "`cargo xtask doctor` says how to install it");
        }
    }
    let scratch = tempfile::tempdir()?;
    // tests/ is an infrastructure root of its own: the test stacks (tests/stacks) and the real
    // environment files (tests/envs -> ../infra/envs).
    let infra = ctx.project.root.join("tests");
    anyhow::ensure!(
        infra.join("stacks").is_dir() && infra.join("envs").is_dir(),
        "{} has no stacks/ and envs/",
        infra.display()
    );
    let moto = Server::start(
        "moto_server",
        &["-H", "127.0.0.1", "-p", "{port}"],
        scratch.path(),
    )?;
    let registry_config = scratch.path().join("registry.yml");
    let reg_port = free_port()?;
    std::fs::write(
        &registry_config,
        format!(
            "version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: {}\n\
             http:\n  addr: 127.0.0.1:{reg_port}\n",
            scratch.path().join("storage").display()
        ),
    )?;
    let registry = Server::start_on(
        "docker-registry",
        &["serve", &registry_config.display().to_string()],
        reg_port,
        scratch.path(),
    )?;

    let mut env: Vec<(String, String)> = vec![
        (
            "AWS_ENDPOINT_URL".into(),
            format!("http://127.0.0.1:{}", moto.port),
        ),
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
    let registry_flag = format!("127.0.0.1:{}/bench", registry.port);
    let xtask = |args: &[&str]| -> duct::Expression {
        let exe = std::env::current_exe().unwrap_or_else(|_| "cargo-xtask".into());
        let mut full = vec!["-C".to_string(), ctx.project.root.display().to_string()];
        full.extend(["--infra-dir".into(), infra.display().to_string()]);
        full.extend(args.iter().map(|s| s.to_string()));
        let mut cmd = duct::cmd(exe, full).stdin_null();
        for (k, v) in &env {
            cmd = cmd.env(k, v);
        }
        cmd.env_remove("AWS_PROFILE")
    };

    ctx.out.step("bootstrap dev (moto)");
    xtask(&["bootstrap", "dev"])
        .stdout_null()
        .run()
        .context("bootstrap failed")?;
    let t = ctx.out.timed("first deploy dev");
    let start = Instant::now();
    let first = xtask(&["--json", "deploy", "dev", "--registry", &registry_flag])
        .stdout_capture()
        .unchecked()
        .run()?;
    let first_deploy_s = start.elapsed().as_secs_f64();
    t.done();
    let first_deploy: serde_json::Value =
        serde_json::from_slice(&first.stdout).context("the first deploy printed no JSON")?;
    if !first.status.success() {
        bail!("the first deploy failed: {}", first_deploy["error"]);
    }

    let runs = args.runs.max(1);
    let mut noop = Vec::new();
    let mut plans = Vec::new();
    let work = ctx.project.root.join("target/xtask");
    for i in 0..runs {
        let t = ctx.out.timed(format!("no-op deploy {}/{runs}", i + 1));
        let start = Instant::now();
        xtask(&["deploy", "dev", "--registry", &registry_flag])
            .stdout_null()
            .stderr_null()
            .run()
            .context("a no-op deploy failed")?;
        noop.push(start.elapsed().as_secs_f64());
        t.done();

        let t = ctx
            .out
            .timed(format!("bare terraform plans {}/{runs}", i + 1));
        let start = Instant::now();
        for stack in ["platform", "agents", "workflows"] {
            let data = work.join("tf/dev").join(stack);
            let mut cmd = duct::cmd!(
                "terraform",
                "plan",
                "-input=false",
                "-detailed-exitcode",
                format!("-var-file={}", work.join("dev/dev.tfvars").display()),
                format!("-var-file={}", data.join("inputs.tfvars.json").display())
            )
            .dir(infra.join("stacks").join(stack))
            .env("TF_DATA_DIR", data.join("data"))
            .stdout_null()
            .stderr_null()
            .unchecked();
            for (k, v) in &env {
                cmd = cmd.env(k, v);
            }
            let status = cmd.run()?.status;
            if status.code() != Some(0) {
                bail!("bare `terraform plan` of {stack} did not report an empty plan ({status})");
            }
        }
        plans.push(start.elapsed().as_secs_f64());
        t.done();
    }
    drop(registry);
    drop(moto);

    let ratio = median(&noop) / median(&plans);
    let results = Results {
        first_deploy,
        first_deploy_s,
        noop_deploy_s: noop,
        bare_plans_s: plans,
        ratio,
    };
    if ctx.out.json {
        ctx.out.print_json(&results);
        return Ok(ExitCode::SUCCESS);
    }
    let mut rows: Vec<Vec<String>> = results.first_deploy["phases"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|p| {
            vec![
                format!("first deploy: {}", p["phase"].as_str().unwrap_or("?")),
                p["result"].as_str().unwrap_or("").to_string(),
                format!("{:.1}s", p["seconds"].as_f64().unwrap_or(0.0)),
            ]
        })
        .collect();
    rows.push(vec![
        "first deploy: total (wall)".into(),
        String::new(),
        format!("{first_deploy_s:.1}s"),
    ]);
    rows.push(vec![
        "no-op deploy (median)".into(),
        format!("{runs} run(s)"),
        format!("{:.2}s", median(&results.noop_deploy_s)),
    ]);
    rows.push(vec![
        "3 bare terraform plans (median)".into(),
        format!("{runs} run(s)"),
        format!("{:.2}s", median(&results.bare_plans_s)),
    ]);
    rows.push(vec![
        "ratio no-op deploy / plans".into(),
        "goal <= 1.15".into(),
        format!("{ratio:.2}"),
    ]);
    println!("{}", table(&["measure", "", "time"], &rows));
    println!("\ncommand: cargo xtask bench deploy --runs {runs}");
    Ok(ExitCode::SUCCESS)
}

fn median(values: &[f64]) -> f64 {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(f64::NAN)
}

fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

/// A local server process, killed when dropped.
struct Server {
    port: u16,
    handle: duct::Handle,
}

impl Server {
    fn start(program: &str, args: &[&str], log_dir: &Path) -> anyhow::Result<Server> {
        Server::start_on(program, args, free_port()?, log_dir)
    }

    /// Starts `program` with `{port}` in `args` replaced, and waits until it listens.
    fn start_on(program: &str, args: &[&str], port: u16, log_dir: &Path) -> anyhow::Result<Server> {
        let args: Vec<String> = args
            .iter()
            .map(|a| a.replace("{port}", &port.to_string()))
            .collect();
        let log: PathBuf = log_dir.join(format!("{program}.log"));
        let handle = duct::cmd(program, args)
            .stderr_to_stdout()
            .stdout_path(&log)
            .start()?;
        let deadline = Instant::now() + Duration::from_secs(60);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            if Instant::now() > deadline || handle.try_wait()?.is_some() {
                let _ = handle.kill();
                bail!(
                    "{program} did not start on port {port}: see {}",
                    log.display()
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Ok(Server { port, handle })
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.handle.kill();
    }
}
