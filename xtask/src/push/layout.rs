//! Reading the image that `build-agents` wrote: a standard OCI image layout at
//! `target/oci/<agent-id>/` (`oci-layout`, `index.json` with exactly one image manifest,
//! `blobs/sha256/…`). That is the whole contract between the two commands.

use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};
use serde::Deserialize;

/// What a push needs to know about one image.
#[derive(Debug, Clone)]
pub struct Image {
    /// `sha256:…` of `manifest`.
    pub digest: String,
    pub media_type: String,
    /// The manifest exactly as stored: pushing other bytes would change the digest.
    pub manifest: Vec<u8>,
    /// The config first, then the layers in manifest order.
    pub blobs: Vec<Blob>,
}

#[derive(Debug, Clone)]
pub struct Blob {
    pub digest: String,
    pub size: u64,
    pub path: PathBuf,
}

impl Image {
    pub fn total_bytes(&self) -> u64 {
        self.blobs.iter().map(|b| b.size).sum()
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Descriptor {
    media_type: Option<String>,
    digest: String,
    size: u64,
}

#[derive(Deserialize)]
struct Index {
    manifests: Vec<Descriptor>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Manifest {
    media_type: Option<String>,
    config: Descriptor,
    layers: Vec<Descriptor>,
}

const IMAGE_MANIFEST_TYPES: &[&str] = &[
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.v2+json",
];

/// Reads and checks the layout at `dir`. `what` names the image in errors (e.g. "agent `x`").
pub fn read(dir: &Path, what: &str) -> anyhow::Result<Image> {
    if !dir.join("oci-layout").is_file() {
        bail_help!("{what} has no image at {} (no `oci-layout` file)", dir.display(); "build it first with `cargo xtask build-agents`");
    }
    let index_path = dir.join("index.json");
    let index: Index = serde_json::from_slice(
        &std::fs::read(&index_path)
            .with_context(|| format!("cannot read {}", index_path.display()))?,
    )
    .with_context(|| format!("{} is not an OCI image index", index_path.display()))?;
    let [descriptor] = index.manifests.as_slice() else {
        bail_help!("{} lists {} manifests; an agent's layout holds exactly one image", index_path.display(), index.manifests.len(); "rebuild it with `cargo xtask build-agents`");
    };
    let media_type = descriptor
        .media_type
        .clone()
        .unwrap_or_else(|| IMAGE_MANIFEST_TYPES[0].to_string());
    if !IMAGE_MANIFEST_TYPES.contains(&media_type.as_str()) {
        bail_help!("{}: the manifest is a `{media_type}`, not a single-platform image manifest", index_path.display(); "`build-agents` writes one linux/arm64 image per agent; rebuild it");
    }
    let manifest_path = blob_path(dir, &descriptor.digest)?;
    let manifest = std::fs::read(&manifest_path).with_context(|| {
        format!(
            "{what}: the manifest blob {} is missing",
            manifest_path.display()
        )
    })?;
    let actual = sha256_digest(&manifest);
    if actual != descriptor.digest || manifest.len() as u64 != descriptor.size {
        bail_help!("{what}: {} does not match its digest or size in index.json (the layout is damaged)", manifest_path.display(); "rebuild it with `cargo xtask build-agents`");
    }
    let parsed: Manifest = serde_json::from_slice(&manifest)
        .with_context(|| format!("{} is not an image manifest", manifest_path.display()))?;
    if let Some(inner) = &parsed.media_type
        && inner != &media_type
    {
        bail!(
            "{}: mediaType `{inner}` differs from index.json's `{media_type}`",
            manifest_path.display()
        );
    }
    let mut blobs = Vec::new();
    for d in std::iter::once(&parsed.config).chain(&parsed.layers) {
        let path = blob_path(dir, &d.digest)?;
        let size = std::fs::metadata(&path)
            .with_context(|| format!("{what}: blob {} is missing from the layout", d.digest))?
            .len();
        if size != d.size {
            bail_help!("{what}: blob {} has {size} bytes, the manifest says {}", d.digest, d.size; "rebuild it with `cargo xtask build-agents`");
        }
        if !blobs.iter().any(|b: &Blob| b.digest == d.digest) {
            blobs.push(Blob {
                digest: d.digest.clone(),
                size,
                path,
            });
        }
    }
    Ok(Image {
        digest: descriptor.digest.clone(),
        media_type,
        manifest,
        blobs,
    })
}

/// `sha256:<hex>` of `bytes`.
pub fn sha256_digest(bytes: &[u8]) -> String {
    use sha2::Digest as _;
    let hash = sha2::Sha256::digest(bytes);
    let hex: String = hash.iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256:{hex}")
}

fn blob_path(dir: &Path, digest: &str) -> anyhow::Result<PathBuf> {
    match digest.split_once(':') {
        Some(("sha256", hex)) if hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit()) => {
            Ok(dir.join("blobs").join("sha256").join(hex))
        }
        _ => bail!("`{digest}` is not a sha256 digest"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_digests_that_could_escape_the_layout() {
        assert!(blob_path(Path::new("x"), "sha256:../../etc/passwd").is_err());
        assert!(blob_path(Path::new("x"), "md5:abc").is_err());
    }

    #[test]
    fn a_missing_layout_says_how_to_build_it() {
        let err = read(Path::new("/nonexistent/oci/a"), "agent `a`").unwrap_err();
        let helps = crate::error::helps(&err);
        assert!(
            helps.iter().any(|h| h.contains("cargo xtask build-agents")),
            "{helps:?}"
        );
    }
}
