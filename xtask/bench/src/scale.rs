//! `cargo xtask bench scale`: what one more agent costs.
//!
//! A scratch copy of the workspace (the files git lists, under `target/bench-scale/`) gets
//! synthetic agents from `cargo xtask new` until it has N of them, for each N of `--agents`
//! (ascending, so each step adds agents to the last). At each N, with the `cargo xtask` binary
//! as a user runs it, against the workspace's own target dir (its dependencies are warm):
//! - `check`;
//! - `build-agents --profile <p>` after a one-line change to `agentcore-runtime`, the crate every
//!   agent is built on (every agent recompiles, relinks and is re-packaged);
//! - the packaging inside that build (its wall time, `package_seconds` of build-agents' JSON);
//! - `build-agents` after a one-line change to one agent;
//! - an unchanged `push dev` of every image to a local registry;
//! - `plan dev` after a deploy of them all (to moto and the test stacks, `crate::cloud`): what a
//!   no-op deploy's Terraform costs with N agents.
//!
//! Then the marginal cost of one more agent, `(t(N_max) - t(N_min)) / (N_max - N_min)`, for
//! each measure. Goal: <= 5 s after a shared-crate change on 2 cores, `fast` profile.
//! The repository's own agents are in the copy too: they add a constant to every N.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use serde::Serialize;

use xtask::Context;
use xtask::ops::build_agents::Profile;
use xtask::output::table;

use crate::cloud::LocalCloud;

#[derive(clap::Args)]
#[command(after_help = "Examples:
  cargo xtask bench scale                      2, 8 and 32 synthetic agents, fast profile
  cargo xtask bench scale --agents 2,4 --json  a quick look, for scripts

Builds every agent for aarch64 at each step: tens of minutes at 32 on 2 cores.")]
pub struct Args {
    /// How many synthetic agents to measure with, ascending.
    #[arg(
        long,
        value_name = "N,N,...",
        value_delimiter = ',',
        default_value = "2,8,32"
    )]
    agents: Vec<usize>,

    /// The profile of the builds (dev's default is `fast`).
    #[arg(long, value_enum, default_value_t = Profile::Fast)]
    profile: Profile,
}

#[derive(Serialize)]
struct Step {
    synthetic: usize,
    agents: usize,
    #[serde(flatten)]
    measures: Measures,
}

/// What one step measures, in seconds; or what one more agent adds to it.
#[derive(Serialize)]
struct Measures {
    check_s: f64,
    shared_change_s: f64,
    packaging_s: f64,
    one_agent_change_s: f64,
    unchanged_push_s: f64,
    noop_plan_s: f64,
}

impl Measures {
    /// Each measure of `self` and `other` through `f`.
    fn zip(&self, other: &Measures, f: impl Fn(f64, f64) -> f64) -> Measures {
        Measures {
            check_s: f(self.check_s, other.check_s),
            shared_change_s: f(self.shared_change_s, other.shared_change_s),
            packaging_s: f(self.packaging_s, other.packaging_s),
            one_agent_change_s: f(self.one_agent_change_s, other.one_agent_change_s),
            unchanged_push_s: f(self.unchanged_push_s, other.unchanged_push_s),
            noop_plan_s: f(self.noop_plan_s, other.noop_plan_s),
        }
    }

    /// The table's cells, in its columns' order.
    fn cells(&self) -> Vec<String> {
        [
            self.check_s,
            self.shared_change_s,
            self.packaging_s,
            self.one_agent_change_s,
            self.unchanged_push_s,
            self.noop_plan_s,
        ]
        .into_iter()
        .map(secs)
        .collect()
    }
}

fn secs(s: f64) -> String {
    format!("{s:.2} s")
}

#[derive(Serialize)]
struct Report {
    suite: &'static str,
    command: String,
    cores: usize,
    profile: Profile,
    steps: Vec<Step>,
    /// Seconds per agent added, between the smallest and the largest N.
    marginal: Option<Marginal>,
}

#[derive(Serialize)]
struct Marginal {
    #[serde(flatten)]
    measures: Measures,
    /// The goal for `shared_change_s`.
    goal_s: f64,
}

pub fn run(ctx: &Context, args: Args) -> anyhow::Result<ExitCode> {
    if args.agents.is_empty() || args.agents.windows(2).any(|w| w[0] >= w[1]) {
        bail!("--agents takes counts in ascending order, e.g. 2,8,32");
    }
    let root = &ctx.project.root;
    let ws = root.join("target/bench-scale/ws");
    let _ = std::fs::remove_dir_all(&ws);
    let timer = ctx
        .out
        .timed("copying the workspace's files to target/bench-scale/ws");
    copy_workspace(root, &ws)?;
    timer.done();

    let cloud = LocalCloud::start(&ws)?;
    let target_dir = ctx.project.target_dir();
    let xtask = |cloud: &LocalCloud, args: &[String]| -> duct::Expression {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        cloud
            .xtask(&args)
            .env("CARGO_TARGET_DIR", &target_dir)
            // Not a git checkout: the images take their timestamps from here.
            .env("SOURCE_DATE_EPOCH", "1700000000")
    };
    let words = |list: &[&str]| list.iter().map(|s| s.to_string()).collect::<Vec<String>>();
    let build = words(&["--json", "build-agents", "--profile", args.profile.name()]);
    let push = words(&["push", "dev", "--registry", &cloud.registry_flag]);
    let deploy = words(&[
        "deploy",
        "dev",
        "--registry",
        &cloud.registry_flag,
        "--profile",
        args.profile.name(),
    ]);
    run_quiet(xtask(&cloud, &words(&["bootstrap", "dev"])))?;

    let runtime_lib = ws.join("agents/agentcore-runtime/src/lib.rs");
    let runtime_source = std::fs::read_to_string(&runtime_lib)
        .with_context(|| format!("cannot read {}", runtime_lib.display()))?;
    let mut steps = Vec::new();
    let mut synthetic = 0;
    // The first synthetic agent's main.rs as `new` wrote it: each step changes that by a line.
    let mut agent_source: Option<String> = None;
    for &n in &args.agents {
        let timer = ctx
            .out
            .timed(format!("{n} synthetic agents: `cargo xtask new`"));
        while synthetic < n {
            synthetic += 1;
            run_quiet(xtask(&cloud, &words(&["new", &synthetic_id(synthetic)])))?;
        }
        timer.done();
        let agents = std::fs::read_dir(ws.join("agents"))?
            .flatten()
            .filter(|e| e.path().join("blueprint.yaml").is_file())
            .count();

        let timer = ctx.out.timed(format!(
            "{n}: first build of {agents} agents (not measured)"
        ));
        run_quiet(xtask(&cloud, &build))?;
        run_quiet(xtask(&cloud, &push))?;
        timer.done();

        let timer = ctx.out.timed(format!("{n}: measuring"));
        let check = timed(xtask(&cloud, &words(&["check"])))?;

        append_line(&runtime_lib, &runtime_source, n)?;
        let started = Instant::now();
        let output = run_quiet(xtask(&cloud, &build))?;
        let shared_change = started.elapsed();
        let packaging = packaging_seconds(&output)?;

        let agent_main = ws.join(format!("agents/{}/src/main.rs", synthetic_id(1)));
        if agent_source.is_none() {
            agent_source = Some(
                std::fs::read_to_string(&agent_main)
                    .with_context(|| format!("cannot read {}", agent_main.display()))?,
            );
        }
        append_line(&agent_main, agent_source.as_deref().unwrap_or_default(), n)?;
        let one_agent_change = timed(xtask(&cloud, &build))?;

        run_quiet(xtask(&cloud, &push))?;
        let unchanged_push = timed(xtask(&cloud, &push))?;
        timer.done();

        let timer = ctx.out.timed(format!("{n}: deploy dev, then a no-op plan"));
        run_quiet(xtask(&cloud, &deploy))?;
        let noop_plan = timed(xtask(&cloud, &words(&["plan", "dev"])))?;
        timer.done();

        steps.push(Step {
            synthetic: n,
            agents,
            measures: Measures {
                check_s: check.as_secs_f64(),
                shared_change_s: shared_change.as_secs_f64(),
                packaging_s: packaging,
                one_agent_change_s: one_agent_change.as_secs_f64(),
                unchanged_push_s: unchanged_push.as_secs_f64(),
                noop_plan_s: noop_plan.as_secs_f64(),
            },
        });
    }

    let marginal = match (steps.first(), steps.last()) {
        (Some(a), Some(b)) if b.agents > a.agents => {
            let added = (b.agents - a.agents) as f64;
            Some(Marginal {
                measures: b.measures.zip(&a.measures, |b, a| (b - a) / added),
                goal_s: 5.0,
            })
        }
        _ => None,
    };
    let report = Report {
        suite: "scale",
        command: format!(
            "cargo xtask bench scale --agents {} --profile {}",
            args.agents
                .iter()
                .map(|n| n.to_string())
                .collect::<Vec<_>>()
                .join(","),
            args.profile
        ),
        cores: std::thread::available_parallelism().map_or(1, |n| n.get()),
        profile: args.profile,
        steps,
        marginal,
    };
    print(ctx, &report);
    Ok(ExitCode::SUCCESS)
}

fn synthetic_id(n: usize) -> String {
    format!("synth-{n:03}")
}

/// The files `git ls-files` lists (tracked, and new ones not ignored), copied as they are.
fn copy_workspace(root: &Path, to: &Path) -> anyhow::Result<()> {
    let listed = duct::cmd!(
        "git",
        "ls-files",
        "-z",
        "--cached",
        "--others",
        "--exclude-standard"
    )
    .dir(root)
    .read()
    .context("the benchmark copies the files git lists: run it in a git checkout")?;
    for rel in listed.split('\0').filter(|p| !p.is_empty()) {
        let from = root.join(rel);
        let dest: PathBuf = to.join(rel);
        let Ok(meta) = std::fs::symlink_metadata(&from) else {
            continue; // deleted in the working tree
        };
        std::fs::create_dir_all(dest.parent().context("a file has a parent")?)?;
        if meta.file_type().is_symlink() {
            // `tests/envs -> ../infra/envs`: a link within the copy stays one.
            std::os::unix::fs::symlink(std::fs::read_link(&from)?, &dest)
                .with_context(|| format!("cannot link {}", dest.display()))?;
        } else if meta.is_file() {
            std::fs::copy(&from, &dest)
                .with_context(|| format!("cannot copy {} to {}", from.display(), dest.display()))?;
        }
    }
    Ok(())
}

/// `original` plus one line that changes the compiled code: `#[used]` keeps the static.
fn append_line(path: &Path, original: &str, n: usize) -> anyhow::Result<()> {
    let text =
        format!("{original}#[used] static BENCH_SCALE_CHANGE: [u8; 8] = {n}u64.to_le_bytes();\n");
    std::fs::write(path, text).with_context(|| format!("cannot write {}", path.display()))
}

/// The wall time of packaging in `build-agents --json`'s report.
fn packaging_seconds(json: &str) -> anyhow::Result<f64> {
    let report: serde_json::Value =
        serde_json::from_str(json).context("build-agents --json printed no JSON report")?;
    report["package_seconds"]
        .as_f64()
        .context("no package_seconds in build-agents' report")
}

/// Runs `cmd`, its output captured; its stdout, or its stderr in the error.
fn run_quiet(cmd: duct::Expression) -> anyhow::Result<String> {
    let out = cmd
        .stdout_capture()
        .stderr_capture()
        .unchecked()
        .run()
        .context("cannot run the xtask")?;
    if !out.status.success() {
        bail!("a step failed:\n{}", String::from_utf8_lossy(&out.stderr));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

fn timed(cmd: duct::Expression) -> anyhow::Result<Duration> {
    let started = Instant::now();
    run_quiet(cmd)?;
    Ok(started.elapsed())
}

fn print(ctx: &Context, report: &Report) {
    if ctx.out.json {
        ctx.out.print_json(report);
        return;
    }
    let mut rows: Vec<Vec<String>> = report
        .steps
        .iter()
        .map(|s| {
            let mut row = vec![format!("{} (+{} synthetic)", s.agents, s.synthetic)];
            row.extend(s.measures.cells());
            row
        })
        .collect();
    if let Some(m) = &report.marginal {
        let mut row = vec!["one more agent".to_string()];
        row.extend(m.measures.cells());
        let shared = m.measures.shared_change_s;
        let met = if shared <= m.goal_s { "met" } else { "MISSED" };
        row[2] = format!("{} (goal <= {:.0} s: {met})", secs(shared), m.goal_s);
        rows.push(row);
    }
    println!(
        "{}",
        table(
            &[
                "AGENTS",
                "CHECK",
                "SHARED-CRATE CHANGE",
                "OF IT PACKAGING",
                "ONE-AGENT CHANGE",
                "UNCHANGED PUSH",
                "NO-OP PLAN",
            ],
            &rows
        )
    );
    println!(
        "{} cores, `{}` profile; command: {}",
        report.cores, report.profile, report.command
    );
}
