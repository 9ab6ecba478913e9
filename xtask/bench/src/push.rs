//! `cargo xtask bench push`: how the push compares with `skopeo copy` of the same OCI image
//! layout, and what a push costs when nothing changed.
//!
//! Each run starts fresh CNCF distribution registries (`docker-registry`) on 127.0.0.1:
//! one for `skopeo copy oci:<layout> docker://…`, one for our push (the same code as
//! `cargo xtask push`, called in-process), so neither finds blobs the other uploaded. The
//! unchanged push then goes through a byte-counting TCP relay in front of our registry; its
//! requests are counted from the registry's access log.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use anyhow::{Context as _, bail};
use indicatif::ProgressBar;
use serde::Serialize;

use agent_testkit::registry::Registry as TestRegistry;
use oci_image::Image;
use oci_registry::Registry;
use xtask::Context;
use xtask::error::HelpExt as _;
use xtask::ops::push::target::{Credentials, Destination};

#[derive(clap::Args)]
#[command(after_help = "Examples:
  cargo xtask bench push                        the first agent image in target/oci/
  cargo xtask bench push --agent assistant --runs 5
  cargo xtask bench push --layout /tmp/img      any OCI image layout with one image

Runs the pinned registry and skopeo the tests use.")]
pub struct Args {
    /// Push target/oci/<AGENT>/ (default: the first image found there).
    #[arg(long, value_name = "AGENT", conflicts_with = "layout")]
    agent: Option<String>,

    /// Push this OCI image layout instead.
    #[arg(long, value_name = "DIR")]
    layout: Option<PathBuf>,

    /// Runs of each measurement; medians are reported.
    #[arg(long, value_name = "N", default_value_t = 3)]
    runs: usize,
}

#[derive(Serialize)]
struct Results {
    layout: String,
    image_bytes: u64,
    blobs: usize,
    runs: usize,
    skopeo_first_push_s: Vec<f64>,
    xtask_first_push_s: Vec<f64>,
    /// Median xtask time / median skopeo time (below 1: we are faster).
    ratio: f64,
    unchanged_requests: usize,
    unchanged_bytes_sent: u64,
    unchanged_bytes_received: u64,
}

pub fn run(ctx: &Context, args: Args) -> anyhow::Result<ExitCode> {
    if args.runs == 0 {
        bail!("--runs 0 would measure nothing: pass --runs 1 or more (the default is 3)");
    }
    let dir = match (&args.layout, &args.agent) {
        (Some(dir), _) => dir.clone(),
        (None, Some(agent)) => ctx.project.root.join("target/oci").join(agent),
        (None, None) => first_layout(&ctx.project.root.join("target/oci"))?,
    };
    let mut image = oci_image::read::read(&dir, &format!("the image at {}", dir.display()))?;
    // Like for like: `skopeo copy` of the image copies only the image, not the SBOM about it.
    let source = if image.referrers.is_empty() {
        format!("oci:{}", dir.display())
    } else {
        format!("oci:{}:{}", dir.display(), oci_image::REF_NAME)
    };
    image.referrers.clear();
    let runs = args.runs;
    ctx.out.step(format!(
        "{} ({} blobs, {}), {runs} run(s)",
        ctx.project.rel(&dir).display(),
        image.blobs.len(),
        xtask::output::human_bytes(image.total_bytes())
    ));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let mut skopeo = Vec::new();
    let mut ours = Vec::new();
    let mut unchanged = (0, 0, 0);
    for i in 0..runs {
        let target = TestRegistry::start();
        let start = Instant::now();
        let status = duct::cmd!(
            agent_testkit::tool("skopeo"),
            "copy",
            "--quiet",
            "--dest-tls-verify=false",
            &source,
            format!("docker://{}/bench/skopeo:bench", target.host())
        )
        .stdout_null()
        .stderr_capture()
        .unchecked()
        .run()?;
        skopeo.push(start.elapsed().as_secs_f64());
        if !status.status.success() {
            bail!(
                "skopeo copy failed: {}",
                String::from_utf8_lossy(&status.stderr)
            );
        }
        drop(target);

        let target = TestRegistry::start();
        let registry = Registry::new(&[target.host().as_str()], oci_registry::retry::DEFAULT)?;
        let dest = destination(&target.host());
        let start = Instant::now();
        runtime.block_on(push(&registry, &image, &dest))?;
        ours.push(start.elapsed().as_secs_f64());

        // Nothing changed: measure what a second push costs, on the wire and in requests.
        let before = requests(&target);
        let (sent, received) = runtime.block_on(async {
            let relay = Relay::start(target.server.port).await?;
            let relay_host = format!("127.0.0.1:{}", relay.port);
            let registry = Registry::new(&[relay_host.as_str()], oci_registry::retry::DEFAULT)?;
            push(&registry, &image, &destination(&relay_host)).await?;
            anyhow::Ok(relay.totals())
        })?;
        unchanged = (requests(&target) - before, sent, received);
        ctx.out.verbose(format!(
            "run {}: skopeo {:.3}s, xtask {:.3}s",
            i + 1,
            skopeo[i],
            ours[i]
        ));
    }
    let results = Results {
        layout: ctx.project.rel(&dir).display().to_string(),
        image_bytes: image.total_bytes(),
        blobs: image.blobs.len(),
        runs,
        ratio: median(&ours) / median(&skopeo),
        skopeo_first_push_s: skopeo,
        xtask_first_push_s: ours,
        unchanged_requests: unchanged.0,
        unchanged_bytes_sent: unchanged.1,
        unchanged_bytes_received: unchanged.2,
    };
    if ctx.out.json {
        ctx.out.print_json(&results);
    } else {
        let rows = vec![
            vec![
                "first push, skopeo copy".into(),
                format!("{:.3} s", median(&results.skopeo_first_push_s)),
            ],
            vec![
                "first push, cargo xtask push".into(),
                format!("{:.3} s", median(&results.xtask_first_push_s)),
            ],
            vec![
                "ratio xtask / skopeo".into(),
                format!("{:.2}", results.ratio),
            ],
            vec![
                "unchanged push: requests".into(),
                results.unchanged_requests.to_string(),
            ],
            vec![
                "unchanged push: bytes sent / received".into(),
                format!(
                    "{} / {}",
                    results.unchanged_bytes_sent, results.unchanged_bytes_received
                ),
            ],
        ];
        println!(
            "{}",
            xtask::output::table(&["MEASUREMENT (median)", "VALUE"], &rows)
        );
        println!(
            "(cargo xtask bench push --runs {runs}; {} blobs, {} bytes)",
            results.blobs, results.image_bytes
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn destination(host: &str) -> Destination {
    Destination {
        name: "bench".into(),
        host: host.to_string(),
        repository: "bench/xtask".into(),
    }
}

async fn push(registry: &Registry, image: &Image, dest: &Destination) -> anyhow::Result<()> {
    registry
        .push(
            image,
            dest,
            &Credentials::Anonymous,
            Some("bench"),
            &ProgressBar::hidden(),
            false,
        )
        .await
        .map(|_| ())
}

fn first_layout(oci: &Path) -> anyhow::Result<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(oci)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.join("index.json").is_file())
        .collect();
    dirs.sort();
    dirs.into_iter()
        .next()
        .with_context(|| format!("no image in {}", oci.display()))
        .help("build one with `cargo xtask build-agents`, or pass --layout DIR")
}

fn median(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    sorted.get(sorted.len() / 2).copied().unwrap_or(f64::NAN)
}

/// Requests the registry served so far, from its access log.
fn requests(registry: &TestRegistry) -> usize {
    registry
        .log()
        .lines()
        .filter(|l| l.contains(" /v2/") && l.contains(" HTTP/1.1\" "))
        .count()
}

/// A TCP relay that counts the bytes each way as they pass.
struct Relay {
    port: u16,
    sent: Arc<AtomicU64>,
    received: Arc<AtomicU64>,
    task: tokio::task::JoinHandle<()>,
}

impl Relay {
    async fn start(upstream: u16) -> anyhow::Result<Relay> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let port = listener.local_addr()?.port();
        let sent = Arc::new(AtomicU64::new(0));
        let received = Arc::new(AtomicU64::new(0));
        let (s, r) = (sent.clone(), received.clone());
        let task = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let Ok(server) = tokio::net::TcpStream::connect(("127.0.0.1", upstream)).await
                else {
                    continue;
                };
                let (client_read, client_write) = client.into_split();
                let (server_read, server_write) = server.into_split();
                tokio::spawn(pump(client_read, server_write, s.clone()));
                tokio::spawn(pump(server_read, client_write, r.clone()));
            }
        });
        Ok(Relay {
            port,
            sent,
            received,
            task,
        })
    }

    /// Bytes sent to and received from the registry so far.
    fn totals(self) -> (u64, u64) {
        self.task.abort();
        (
            self.sent.load(Ordering::Relaxed),
            self.received.load(Ordering::Relaxed),
        )
    }
}

async fn pump(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    counter: Arc<AtomicU64>,
) {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = match from.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        counter.fetch_add(n as u64, Ordering::Relaxed);
        if to.write_all(&buf[..n]).await.is_err() {
            break;
        }
    }
    let _ = to.shutdown().await;
}
