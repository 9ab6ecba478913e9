//! Downloads a pinned file, checking its SHA-256 while it arrives.

use std::io::Write as _;
use std::path::Path;

use anyhow::{Context as _, bail};
use futures_util::StreamExt as _;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use sha2::{Digest as _, Sha256};

use super::pins::Download;

/// Downloads `download` to `to`; the file is there only if its SHA-256 is the pinned one.
///
/// The system's trust store is used (rustls' platform verifier), so a company proxy whose CA
/// the machine trusts works as it does for pip and apt.
pub fn fetch(download: &Download, to: &Path, label: &str) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the download runtime")?;
    let partial = to.with_extension("partial");
    let result = runtime.block_on(stream_to(download, &partial, label));
    if let Err(err) = result {
        let _ = std::fs::remove_file(&partial);
        return Err(err);
    }
    std::fs::rename(&partial, to).with_context(|| format!("cannot move to {}", to.display()))
}

async fn stream_to(download: &Download, path: &Path, label: &str) -> anyhow::Result<()> {
    let cannot = || {
        format!(
            "cannot download {label} from {}\n  \
             help: the machine needs to reach that host (or a proxy for it, with \
             HTTPS_PROXY/HTTP_PROXY); then run the same command again",
            download.url
        )
    };
    let response = reqwest::Client::new()
        .get(download.url)
        .send()
        .await
        .with_context(cannot)?;
    let status = response.status();
    if !status.is_success() {
        bail!(
            "{}: the server answered {status}\n  help: a pin that is gone from its archive \
             must be moved: see xtask/crates/pinned-tools/src/pins.rs",
            cannot()
        );
    }
    let bar = progress_bar(response.content_length(), label);
    let mut file = std::io::BufWriter::new(
        std::fs::File::create(path).with_context(|| format!("cannot create {}", path.display()))?,
    );
    let mut hasher = Sha256::new();
    let mut body = response.bytes_stream();
    while let Some(chunk) = body.next().await {
        let chunk = chunk.with_context(cannot)?;
        hasher.update(&chunk);
        file.write_all(&chunk)
            .with_context(|| format!("cannot write {}", path.display()))?;
        bar.inc(chunk.len() as u64);
    }
    file.flush()
        .with_context(|| format!("cannot write {}", path.display()))?;
    bar.finish_and_clear();
    let got = hex(&hasher.finalize());
    if got != download.sha256 {
        bail!(
            "{label} from {} has SHA-256 {got}, but {} is pinned\n  \
             help: the file changed on the server, or something between altered it; nothing \
             was installed",
            download.url,
            download.sha256
        );
    }
    Ok(())
}

/// Lower-case hex of `bytes`.
fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The SHA-256 of `bytes`, in hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

fn progress_bar(len: Option<u64>, label: &str) -> ProgressBar {
    let bar = ProgressBar::with_draw_target(len, ProgressDrawTarget::stderr());
    bar.set_style(
        ProgressStyle::with_template("    {msg} {bytes}/{total_bytes} {bar:30} {eta}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar.set_message(format!("download {label}"));
    bar
}
