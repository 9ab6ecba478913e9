//! `cargo xtask bench build`: what `build-agents` costs on top of cargo, in one run on one
//! machine.
//!
//! (a) The inner loop: a one-line change to one agent (a `#[used]` static whose value changes,
//!     so the binary really changes), then `cargo xtask build-agents --profile <p>` (all
//!     agents, as a developer runs it; `fast` by default, what dev deploys) against a bare
//!     `cargo build --profile <p> --target aarch64-unknown-linux-musl -p <agent>` with the same
//!     C toolchain. The bare build uses its own target dir (`target/bench-bare`): it has no path
//!     remapping, so its rustflags differ, and sharing one dir would make each rebuild the
//!     other's dependencies. Both are warmed up first; medians of `--runs`. Goal: ratio <= 1.10,
//!     and <= 15 s for `fast` on 2 cores.
//! (b) Packaging: writing one agent's image (tar, gzip, sha256, config, manifest, layout) in
//!     this process against `tar c | gzip` of the same two files into a file. Goal: ratio <= 1.2.
//! (c) Image size (what a pull transfers) against the binary's size.
//! (d) With `--profiles`: the choice of profiles, measured. For fat LTO with one codegen unit
//!     (`release`), thin LTO with 16, no LTO with 16, and that incremental (`fast`), each in a
//!     target dir of its own: the bare cargo rebuild after a one-line change (median of `--runs`, after a full
//!     build) and the stripped binary's size.
//!
//! The edited source file is restored when the benchmark ends, even when it fails.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use serde::Serialize;

use oci_image as oci;
use xtask::Context;
use xtask::ops::build_agents::{Profile, shell_words};
use xtask::output::table;
use xtask::toolchain;

#[derive(clap::Args)]
pub struct Args {
    /// The agent to change and rebuild (default: the first agent).
    #[arg(long, value_name = "AGENT")]
    agent: Option<String>,

    /// Measured rounds of each inner-loop build (after one warm-up each).
    #[arg(long, default_value_t = 3)]
    runs: usize,

    /// Measured rounds of packaging and of `tar c | gzip`.
    #[arg(long, default_value_t = 5)]
    package_runs: usize,

    /// Skip (a), the inner loop (minutes); package the agent's current aarch64 binary.
    #[arg(long)]
    packaging_only: bool,

    /// The profile of (a) and of the binary (b) packages.
    #[arg(long, value_enum, default_value_t = Profile::Fast)]
    profile: Profile,

    /// Also (d): rebuild time and binary size of fat LTO, thin LTO, no LTO and no LTO
    /// incremental (four full
    /// builds first: tens of minutes on 2 cores).
    #[arg(long)]
    profiles: bool,
}

#[derive(Serialize)]
struct Report {
    suite: &'static str,
    command: String,
    cores: usize,
    agent: String,
    toolchain: String,
    profile: Profile,
    inner_loop: Option<Ratio>,
    packaging: Ratio,
    profiles: Vec<Variant>,
    image_bytes: u64,
    binary_bytes: u64,
    image_to_binary: f64,
}

/// (d): one way to compile the agent, measured.
#[derive(Serialize)]
struct Variant {
    name: &'static str,
    rebuild_s: f64,
    binary_bytes: u64,
}

#[derive(Serialize)]
struct Ratio {
    ours: String,
    baseline: String,
    ours_s: f64,
    baseline_s: f64,
    ratio: f64,
    goal: f64,
}

pub fn run(ctx: &Context, args: Args) -> anyhow::Result<ExitCode> {
    if args.runs == 0 || args.package_runs == 0 {
        bail!("--runs and --package-runs must be at least 1");
    }
    let agents = ctx.project.agents()?;
    let agent = match &args.agent {
        Some(id) => blueprint::select(&agents, std::slice::from_ref(id))?.remove(0),
        None => agents
            .first()
            .cloned()
            .context("there are no agents to build under agents/")?,
    };
    let toolchain = toolchain::ensure(&ctx.project, &ctx.out)?;
    let root = &ctx.project.root;
    let main_rs = agent.dir.join("src/main.rs");
    let source = Restore::take(&main_rs)?;

    let xtask = crate::xtask_bin()?;
    let ours_argv = vec![
        xtask.display().to_string(),
        "build-agents".to_string(),
        "--profile".to_string(),
        args.profile.name().to_string(),
    ];
    let mut bare_argv: Vec<String> = vec![
        "cargo".into(),
        "build".into(),
        "--profile".into(),
        args.profile.name().into(),
        "--target".into(),
        toolchain::TARGET.into(),
        "-p".into(),
        agent.id().into(),
    ];
    let bare_target = root.join("target/bench-bare");
    let run_ours = || timed_run(root, &ours_argv, &[]);
    let bare_env = {
        let mut env = toolchain.set.clone();
        env.push(("CARGO_TARGET_DIR".into(), bare_target.display().to_string()));
        env
    };
    let run_bare = || timed_run(root, &bare_argv, &bare_env);

    // (a) the inner loop.
    let mut ours = Vec::new();
    let mut bare = Vec::new();
    let rounds = if args.packaging_only {
        0
    } else {
        args.runs + 1
    };
    for round in 0..rounds {
        let label = if round == 0 {
            "warm-up".to_string()
        } else {
            format!("round {round}")
        };
        let timer = ctx
            .out
            .timed(format!("{label}: one-line change, `build-agents`"));
        source.change(round * 2)?;
        let t = run_ours()?;
        timer.done();
        let timer = ctx
            .out
            .timed(format!("{label}: one-line change, bare cargo build"));
        source.change(round * 2 + 1)?;
        let b = run_bare()?;
        timer.done();
        if round > 0 {
            ours.push(t);
            bare.push(b);
        }
    }
    source.restore()?;
    bare_argv.insert(
        0,
        format!(
            "CARGO_TARGET_DIR={}",
            ctx.project.rel(&bare_target).display()
        ),
    );

    // (b) packaging, on the binary the last build-agents run produced.
    let binary = root
        .join("target")
        .join(toolchain::TARGET)
        .join(args.profile.name())
        .join(agent.id());
    let binary_bytes =
        std::fs::read(&binary).with_context(|| format!("cannot read {}", binary.display()))?;
    let ca = xtask::ops::build_agents::certs::ca_bundle();
    let scratch = root.join("target/bench-build");
    let _ = std::fs::remove_dir_all(&scratch);
    let files_dir = scratch.join("files");
    let bin_path = files_dir.join("usr/local/bin").join(agent.id());
    let ca_path = files_dir.join(xtask::ops::build_agents::certs::CA_BUNDLE_PATH);
    for (path, bytes) in [(&bin_path, &binary_bytes), (&ca_path, &ca)] {
        std::fs::create_dir_all(path.parent().context("file has a parent")?)?;
        std::fs::write(path, bytes).with_context(|| format!("cannot write {}", path.display()))?;
    }
    let timer = ctx
        .out
        .timed(format!("packaging {} x{}", agent.id(), args.package_runs));
    let mut package_times = Vec::new();
    let mut tar_times = Vec::new();
    let mut image_bytes = 0;
    for round in 0..=args.package_runs {
        let layout_dir = scratch.join(format!("layout-{round}"));
        let start = Instant::now();
        let layout = oci::Layout::create(&layout_dir)?;
        let entries = [
            oci::Entry {
                path: format!("usr/local/bin/{}", agent.id()),
                mode: 0o755,
                contents: &std::fs::read(&bin_path)?,
            },
            oci::Entry {
                path: xtask::ops::build_agents::certs::CA_BUNDLE_PATH.into(),
                mode: 0o644,
                contents: &std::fs::read(&ca_path)?,
            },
        ];
        let layer = oci::write_layer(&layout, &entries, 0)?;
        let spec = oci::ImageSpec {
            entrypoint: format!("/usr/local/bin/{}", agent.id()),
            env: Vec::new(),
            ports: vec![agent.blueprint.runtime.port],
            user: "65532:65532".into(),
            created: 0,
            annotations: Default::default(),
        };
        let image = oci::write_image(&layout, &layer, &spec)?;
        layout.index_written(&image, &[])?;
        let ours_t = start.elapsed();
        image_bytes = image.size;

        let out = scratch.join(format!("plain-{round}.tar.gz"));
        let start = Instant::now();
        duct::cmd!("tar", "c", "-C", &files_dir, ".")
            .pipe(duct::cmd!("gzip", "-c"))
            .stdout_path(&out)
            .run()
            .context("`tar c | gzip` failed (are tar and gzip installed?)")?;
        let tar_t = start.elapsed();
        if round > 0 {
            package_times.push(ours_t);
            tar_times.push(tar_t);
        }
    }
    timer.done();
    let _ = std::fs::remove_dir_all(&scratch);

    // (d) the profiles.
    let mut profiles = Vec::new();
    if args.profiles {
        for (n, (name, extra)) in VARIANTS.iter().enumerate() {
            let dir = root.join(format!("target/bench-profile-{n}"));
            let mut argv: Vec<String> = ["cargo", "build", "--release", "--target"]
                .map(String::from)
                .to_vec();
            argv.extend([toolchain::TARGET.into(), "-p".into(), agent.id().into()]);
            argv.extend(extra.iter().map(|a| a.to_string()));
            let mut env = toolchain.set.clone();
            env.push(("CARGO_TARGET_DIR".into(), dir.display().to_string()));
            let timer = ctx.out.timed(format!(
                "{name}: full build, then {} one-line changes",
                args.runs
            ));
            let mut times = Vec::new();
            for round in 0..=args.runs {
                source.change(1000 + n * 100 + round)?;
                let t = timed_run(root, &argv, &env)?;
                if round > 0 {
                    times.push(t);
                }
            }
            source.restore()?;
            timer.done();
            let binary = dir.join(toolchain::TARGET).join("release").join(agent.id());
            profiles.push(Variant {
                name,
                rebuild_s: median(&times),
                binary_bytes: std::fs::metadata(&binary)
                    .with_context(|| format!("cannot read {}", binary.display()))?
                    .len(),
            });
        }
    }

    let report = Report {
        suite: "build",
        command: format!(
            "cargo xtask bench build --agent {} --profile {} --runs {} --package-runs {}{}{}",
            agent.id(),
            args.profile,
            args.runs,
            args.package_runs,
            if args.packaging_only {
                " --packaging-only"
            } else {
                ""
            },
            if args.profiles { " --profiles" } else { "" }
        ),
        cores: std::thread::available_parallelism().map_or(1, |n| n.get()),
        agent: agent.id().to_string(),
        toolchain: toolchain.description.clone(),
        profile: args.profile,
        inner_loop: (!args.packaging_only).then(|| {
            ratio(
                "cargo xtask build-agents",
                &shell_words(&bare_argv),
                &ours,
                &bare,
                1.10,
            )
        }),
        packaging: ratio(
            "oci writer (tar, gzip, sha256, layout)",
            "tar c | gzip -c > file",
            &package_times,
            &tar_times,
            1.2,
        ),
        image_bytes,
        binary_bytes: binary_bytes.len() as u64,
        image_to_binary: image_bytes as f64 / binary_bytes.len() as f64,
        profiles,
    };
    print(ctx, &report);
    Ok(ExitCode::SUCCESS)
}

/// (d)'s variants: the release profile, overridden on the command line so that they differ only
/// in LTO, codegen units and incremental compilation (the last is Cargo.toml's `fast` profile).
const VARIANTS: [(&str, &[&str]); 4] = [
    ("release: fat LTO, 1 codegen unit", &[]),
    (
        "thin LTO, 16 codegen units",
        &[
            "--config",
            "profile.release.lto=\"thin\"",
            "--config",
            "profile.release.codegen-units=16",
        ],
    ),
    (
        "no LTO, 16 codegen units",
        &[
            "--config",
            "profile.release.lto=\"off\"",
            "--config",
            "profile.release.codegen-units=16",
        ],
    ),
    (
        "fast: no LTO, 16 codegen units, incremental",
        &[
            "--config",
            "profile.release.lto=\"off\"",
            "--config",
            "profile.release.codegen-units=16",
            "--config",
            "profile.release.incremental=true",
        ],
    ),
];

fn ratio(ours: &str, baseline: &str, a: &[Duration], b: &[Duration], goal: f64) -> Ratio {
    let (ours_s, baseline_s) = (median(a), median(b));
    Ratio {
        ours: ours.to_string(),
        baseline: baseline.to_string(),
        ours_s,
        baseline_s,
        ratio: ours_s / baseline_s.max(1e-9),
        goal,
    }
}

fn median(times: &[Duration]) -> f64 {
    let mut secs: Vec<f64> = times.iter().map(Duration::as_secs_f64).collect();
    secs.sort_by(f64::total_cmp);
    secs.get(secs.len() / 2).copied().unwrap_or(0.0)
}

fn print(ctx: &Context, report: &Report) {
    if ctx.out.json {
        ctx.out.print_json(report);
        return;
    }
    let row = |name: &str, r: &Ratio| {
        vec![
            name.to_string(),
            format!("{:.2} s", r.ours_s),
            format!("{:.2} s", r.baseline_s),
            format!("{:.2}", r.ratio),
            format!("<= {:.2}", r.goal),
            if r.ratio <= r.goal {
                "met".into()
            } else {
                "MISSED".into()
            },
        ]
    };
    println!(
        "{}",
        table(&["MEASURE", "OURS", "BASELINE", "RATIO", "GOAL", ""], &{
            let mut rows = Vec::new();
            if let Some(inner_loop) = &report.inner_loop {
                rows.push(row(
                    &format!("(a) one-line change, rebuild ({})", report.profile),
                    inner_loop,
                ));
            }
            rows.push(row("(b) packaging one image", &report.packaging));
            rows
        })
    );
    println!(
        "(c) image {:.2} MB / binary {:.2} MB = {:.2}",
        report.image_bytes as f64 / 1e6,
        report.binary_bytes as f64 / 1e6,
        report.image_to_binary
    );
    if !report.profiles.is_empty() {
        let rows: Vec<Vec<String>> = report
            .profiles
            .iter()
            .map(|v| {
                vec![
                    v.name.to_string(),
                    format!("{:.2} s", v.rebuild_s),
                    format!("{:.2} MB", v.binary_bytes as f64 / 1e6),
                ]
            })
            .collect();
        println!(
            "(d) profiles, bare cargo:\n{}",
            table(&["PROFILE", "ONE-LINE REBUILD", "STRIPPED BINARY"], &rows)
        );
    }
    println!(
        "baselines: (a) `{}`  (b) `{}`",
        report
            .inner_loop
            .as_ref()
            .map_or("-", |r| r.baseline.as_str()),
        report.packaging.baseline
    );
    println!(
        "agent {}, {} cores, C toolchain {}; command: {}",
        report.agent, report.cores, report.toolchain, report.command
    );
}

fn timed_run(root: &Path, argv: &[String], env: &[(String, String)]) -> anyhow::Result<Duration> {
    let mut cmd = duct::cmd(&argv[0], &argv[1..])
        .dir(root)
        .stdout_null()
        .stderr_capture();
    for (k, v) in env {
        cmd = cmd.env(k, v);
    }
    let start = Instant::now();
    let out = cmd
        .unchecked()
        .run()
        .with_context(|| format!("cannot run `{}`", argv[0]))?;
    let elapsed = start.elapsed();
    if !out.status.success() {
        bail!(
            "`{}` failed:\n{}",
            shell_words(argv),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(elapsed)
}

/// The agent's `main.rs`, changed by one line for each round and put back when dropped.
struct Restore {
    path: PathBuf,
    original: String,
}

impl Restore {
    fn take(path: &Path) -> anyhow::Result<Restore> {
        let original = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        Ok(Restore {
            path: path.to_path_buf(),
            original,
        })
    }

    /// Appends one line that changes the binary: `#[used]` keeps the static through LTO.
    fn change(&self, n: usize) -> anyhow::Result<()> {
        let text = format!(
            "{}#[used] static BENCH_ONE_LINE_CHANGE: [u8; 8] = {n}u64.to_le_bytes();\n",
            self.original
        );
        std::fs::write(&self.path, text)
            .with_context(|| format!("cannot write {}", self.path.display()))
    }

    fn restore(&self) -> anyhow::Result<()> {
        std::fs::write(&self.path, &self.original)
            .with_context(|| format!("cannot restore {}", self.path.display()))
    }
}

impl Drop for Restore {
    fn drop(&mut self) {
        let _ = self.restore();
    }
}
