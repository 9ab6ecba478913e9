//! `cargo xtask bench deploy`: what `deploy` costs on top of Terraform.
//!
//! Against local stand-ins (moto for AWS, the CNCF distribution registry for images) and the
//! test stacks (`tests/stacks`, the shipped stacks' interface on resources moto handles):
//! the per-phase timeline of a first deploy, then a no-op deploy against the sum of bare
//! `terraform plan` runs of the same stacks with the same inputs and data dirs.

use std::path::Path;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context as _, bail};
use serde::Serialize;

use agent_testkit::moto::Moto;
use agent_testkit::registry::Registry;
use xtask::Context;
use xtask::output::table;

#[derive(clap::Args)]
#[command(after_help = "Examples:
  cargo xtask bench deploy               one first deploy, 3 no-op deploys and plans
  cargo xtask bench deploy --runs 5 --json

Runs the pinned moto and registry the tests use, and terraform; TF_PLUGIN_MIRROR (default /opt/tf-plugins) is
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
    if args.runs == 0 {
        bail!("--runs 0 would measure nothing: pass --runs 1 or more (the default is 3)");
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
    let registry_flag = format!("{}/bench", registry.host());
    let exe = crate::xtask_bin()?;
    let xtask_with = |env: &[(String, String)], args: &[&str]| -> duct::Expression {
        let mut full = vec!["-C".to_string(), ctx.project.root.display().to_string()];
        full.extend(["--infra-dir".into(), infra.display().to_string()]);
        full.extend(args.iter().map(|s| s.to_string()));
        let mut cmd = duct::cmd(&exe, full).stdin_null();
        for (k, v) in env {
            cmd = cmd.env(k, v);
        }
        cmd.env_remove("AWS_PROFILE")
    };

    // The smoke phase invokes the agents: the local data plane runs them, Bedrock is the
    // Converse stand-in.
    let converse = agent_testkit::converse::StandIn::start();
    converse.answer(agent_testkit::converse::Answer::Auto);
    env.push((
        "AWS_ENDPOINT_URL_BEDROCK_RUNTIME".into(),
        converse.url().to_string(),
    ));
    let plane = DataPlane::start(&xtask_with(
        &env,
        &["--json", "dataplane", "dev", "--port", "0"],
    ))?;
    env.push((
        "AWS_ENDPOINT_URL_BEDROCK_AGENTCORE".into(),
        plane.url.clone(),
    ));
    let xtask = |args: &[&str]| xtask_with(&env, args);

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

    let runs = args.runs;
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
    drop(plane);
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

/// `cargo xtask dataplane` in the background, stopped when dropped.
struct DataPlane {
    handle: duct::ReaderHandle,
    url: String,
}

impl DataPlane {
    fn start(cmd: &duct::Expression) -> anyhow::Result<DataPlane> {
        let handle = cmd
            .stderr_null()
            .reader()
            .context("cannot start the data plane")?;
        let serving = agent_testkit::read_json_document(&mut std::io::BufReader::new(&handle))
            .map_err(|text| anyhow::anyhow!("the data plane stopped before it served: {text}"))?;
        let url = serving["url"].as_str().context("no url")?.to_string();
        Ok(DataPlane { handle, url })
    }
}

impl Drop for DataPlane {
    fn drop(&mut self) {
        let _ = self.handle.kill();
    }
}

fn median(values: &[f64]) -> f64 {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(f64::NAN)
}
