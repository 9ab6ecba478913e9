//! `cargo xtask bench deploy`: what `deploy` costs on top of Terraform.
//!
//! Against local stand-ins (moto for AWS, the CNCF distribution registry for images) and the
//! test stacks (`tests/stacks`, the shipped stacks' interface on resources moto handles):
//! the per-phase timeline of a first deploy, then a no-op deploy against the sum of bare
//! `terraform plan` runs of the same stacks with the same inputs and data dirs.

use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context as _, bail};
use serde::Serialize;

use xtask::Context;
use xtask::output::table;

use crate::cloud::LocalCloud;

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
    let cloud = LocalCloud::start(&ctx.project.root)?;
    let (env, infra, registry_flag) = (&cloud.env, cloud.infra(), &cloud.registry_flag);
    let xtask = |args: &[&str]| cloud.xtask(args);

    ctx.out.step("bootstrap dev (moto)");
    xtask(&["bootstrap", "dev"])
        .stdout_null()
        .run()
        .context("bootstrap failed")?;

    let t = ctx.out.timed("first deploy dev");
    let start = Instant::now();
    let first = xtask(&["--json", "deploy", "dev", "--registry", registry_flag])
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
        xtask(&["deploy", "dev", "--registry", registry_flag])
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
            for (k, v) in env {
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
    drop(cloud);

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
