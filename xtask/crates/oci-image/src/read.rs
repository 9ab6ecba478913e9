//! Reading an image back from an OCI image layout (`oci-layout`, `index.json`,
//! `blobs/sha256/…`) whose `index.json` lists the image manifest, tagged [`REF_NAME`], and the
//! artifacts about it (an SBOM), whose manifests name the image as their `subject`: everything
//! checked against its digest and size, ready to be pushed byte for byte.
//!
//! The image is picked by its tag, never by its place in `index.json`; a layout another tool
//! wrote without tags (`docker buildx`) may hold one manifest, which is then the image.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};
use serde::Deserialize;

use crate::sha256_digest;

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
    /// The artifacts about the image in the layout (its SBOM), in `index.json`'s order.
    pub referrers: Vec<Referrer>,
    /// The manifest's annotations (what the image says of itself: revision, build profile…).
    pub annotations: BTreeMap<String, String>,
}

/// An artifact whose manifest names the image as its `subject`, pushed after the image.
#[derive(Debug, Clone)]
pub struct Referrer {
    /// `sha256:…` of `manifest`.
    pub digest: String,
    pub media_type: String,
    /// What it is (`application/spdx+json` for an SBOM).
    pub artifact_type: Option<String>,
    /// The manifest exactly as stored.
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
    /// Bytes of the image's blobs (its referrers' are not counted).
    pub fn total_bytes(&self) -> u64 {
        self.blobs.iter().map(|b| b.size).sum()
    }

    /// The artifact of type `artifact_type` about the image (e.g. its SBOM), if the layout has one.
    pub fn referrer(&self, artifact_type: &str) -> Option<&Referrer> {
        self.referrers
            .iter()
            .find(|r| r.artifact_type.as_deref() == Some(artifact_type))
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Descriptor {
    media_type: Option<String>,
    digest: String,
    size: u64,
    artifact_type: Option<String>,
    #[serde(default)]
    annotations: BTreeMap<String, String>,
}

#[derive(Deserialize)]
struct Index {
    manifests: Vec<Descriptor>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Manifest {
    media_type: Option<String>,
    artifact_type: Option<String>,
    config: Descriptor,
    layers: Vec<Descriptor>,
    subject: Option<Descriptor>,
    #[serde(default)]
    annotations: BTreeMap<String, String>,
}

const IMAGE_MANIFEST_TYPES: &[&str] = &[
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.v2+json",
];

/// Reads and checks the layout at `dir`. `what` names the image in errors (e.g. "agent `x`").
pub fn read(dir: &Path, what: &str) -> anyhow::Result<Image> {
    let (index_path, index) = read_index(dir, what)?;
    let image = pick_image(&index, &index_path)?;
    let (media_type, manifest, parsed) = read_manifest(dir, image, &index_path, what)?;
    let blobs = blobs_of(dir, &parsed, what)?;

    let mut referrers = Vec::new();
    for other in index.manifests.iter().filter(|d| d.digest != image.digest) {
        let (media_type, manifest, parsed) = read_manifest(dir, other, &index_path, what)?;
        if parsed.subject.as_ref().map(|s| &s.digest) != Some(&image.digest) {
            continue; // not about this image: nothing a push of it should carry
        }
        referrers.push(Referrer {
            digest: other.digest.clone(),
            media_type,
            artifact_type: parsed.artifact_type.clone().or(other.artifact_type.clone()),
            blobs: blobs_of(dir, &parsed, what)?,
            manifest,
        });
    }
    Ok(Image {
        digest: image.digest.clone(),
        media_type,
        manifest,
        blobs,
        referrers,
        annotations: parsed.annotations,
    })
}

/// The digest and size of the image manifest of the layout at `dir`, without reading further.
pub fn image_entry(dir: &Path, what: &str) -> anyhow::Result<(String, u64)> {
    let (index_path, index) = read_index(dir, what)?;
    let image = pick_image(&index, &index_path)?;
    Ok((image.digest.clone(), image.size))
}

fn read_index(dir: &Path, what: &str) -> anyhow::Result<(PathBuf, Index)> {
    if !dir.join("oci-layout").is_file() {
        bail!(
            "{what} has no image at {} (no `oci-layout` file)",
            dir.display()
        );
    }
    let index_path = dir.join("index.json");
    let index: Index = serde_json::from_slice(
        &std::fs::read(&index_path)
            .with_context(|| format!("cannot read {}", index_path.display()))?,
    )
    .with_context(|| format!("{} is not an OCI image index", index_path.display()))?;
    Ok((index_path, index))
}

/// The image of a layout: the manifest tagged `latest`, or the only one of an untagged layout.
fn pick_image<'a>(index: &'a Index, index_path: &Path) -> anyhow::Result<&'a Descriptor> {
    let tagged: Vec<&Descriptor> = index
        .manifests
        .iter()
        .filter(|d| {
            d.annotations
                .get(oci_spec::image::ANNOTATION_REF_NAME)
                .map(String::as_str)
                == Some(crate::REF_NAME)
        })
        .collect();
    match (tagged.as_slice(), index.manifests.as_slice()) {
        ([image], _) => Ok(image),
        ([], [only]) => Ok(only),
        _ => {
            bail!(
                "{} lists {} manifests, {} of them tagged `{}`: a layout holds one image, \
             tagged `{}`, and the artifacts about it",
                index_path.display(),
                index.manifests.len(),
                tagged.len(),
                crate::REF_NAME,
                crate::REF_NAME
            )
        }
    }
}

/// A manifest of the layout, checked against its descriptor: media type, digest, size.
fn read_manifest(
    dir: &Path,
    descriptor: &Descriptor,
    index_path: &Path,
    what: &str,
) -> anyhow::Result<(String, Vec<u8>, Manifest)> {
    let media_type = descriptor
        .media_type
        .clone()
        .unwrap_or_else(|| IMAGE_MANIFEST_TYPES[0].to_string());
    if !IMAGE_MANIFEST_TYPES.contains(&media_type.as_str()) {
        bail!(
            "{}: the manifest {} is a `{media_type}`, not a single-platform image manifest",
            index_path.display(),
            descriptor.digest
        );
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
        bail!(
            "{what}: {} does not match its digest or size in index.json (the layout is damaged)",
            manifest_path.display()
        );
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
    Ok((media_type, manifest, parsed))
}

/// The blobs a manifest refers to (config, then layers), each checked to be there in full.
fn blobs_of(dir: &Path, manifest: &Manifest, what: &str) -> anyhow::Result<Vec<Blob>> {
    let mut blobs: Vec<Blob> = Vec::new();
    for d in std::iter::once(&manifest.config).chain(&manifest.layers) {
        let path = blob_path(dir, &d.digest)?;
        let size = std::fs::metadata(&path)
            .with_context(|| format!("{what}: blob {} is missing from the layout", d.digest))?
            .len();
        if size != d.size {
            bail!(
                "{what}: blob {} has {size} bytes, the manifest says {}",
                d.digest,
                d.size
            );
        }
        if !blobs.iter().any(|b| b.digest == d.digest) {
            blobs.push(Blob {
                digest: d.digest.clone(),
                size,
                path,
            });
        }
    }
    Ok(blobs)
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

    const SBOM: &str = "application/spdx+json";

    #[test]
    fn refuses_digests_that_could_escape_the_layout() {
        assert!(blob_path(Path::new("x"), "sha256:../../etc/passwd").is_err());
        assert!(blob_path(Path::new("x"), "md5:abc").is_err());
    }

    /// A layout as `build-agents` writes it, with `index.json` listing the SBOM first.
    fn layout_with_sbom(dir: &Path) -> (String, String) {
        use crate as oci;
        let layout = oci::Layout::create(dir).expect("layout");
        let files = [oci::Entry {
            path: "app".into(),
            mode: 0o755,
            contents: b"x",
        }];
        let layer = oci::write_layer(&layout, &files, 0).expect("layer");
        let spec = oci::ImageSpec {
            entrypoint: "/app".into(),
            env: vec![],
            ports: vec![],
            user: "1:1".into(),
            created: 0,
            annotations: Default::default(),
        };
        let image = oci::write_image(&layout, &layer, &spec).expect("image");
        let sbom = oci::write_artifact(
            &layout,
            &image.descriptor,
            SBOM,
            "app.spdx.json",
            br#"{"spdxVersion":"SPDX-2.3"}"#,
            0,
        )
        .expect("sbom");
        layout
            .index_written(&image, &[(&sbom, "sbom")])
            .expect("index");
        let path = dir.join("index.json");
        let mut index: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&path).expect("index")).expect("JSON");
        if let Some(manifests) = index["manifests"].as_array_mut() {
            manifests.reverse();
        }
        std::fs::write(&path, serde_json::to_vec(&index).expect("JSON")).expect("index");
        (image.digest, sbom.digest)
    }

    #[test]
    fn picks_the_image_by_its_tag_and_the_artifacts_about_it() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (image_digest, sbom_digest) = layout_with_sbom(dir.path());
        let image = read(dir.path(), "agent `a`").expect("layout");
        assert_eq!(image.digest, image_digest);
        assert_eq!(image.blobs.len(), 2, "config and layer");
        let sbom = image.referrer(SBOM).expect("the SBOM is found");
        assert_eq!(sbom.digest, sbom_digest);
        assert_eq!(sbom.blobs.len(), 2, "the empty config and the document");
        assert_eq!(sha256_digest(&sbom.manifest), sbom_digest);
        assert_eq!(image_entry(dir.path(), "a").expect("entry").0, image_digest);
    }

    #[test]
    fn a_layout_without_a_tagged_image_is_refused_unless_it_holds_one_manifest() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (image_digest, _) = layout_with_sbom(dir.path());
        let path = dir.path().join("index.json");
        let text = std::fs::read_to_string(&path).expect("index");
        std::fs::write(&path, text.replace("\"latest\"", "\"old\"")).expect("index");
        let err = read(dir.path(), "agent `a`").unwrap_err();
        assert!(
            format!("{err:#}").contains("0 of them tagged `latest`"),
            "{err:#}"
        );

        let mut index: serde_json::Value = serde_json::from_str(&text).expect("JSON");
        if let Some(manifests) = index["manifests"].as_array_mut() {
            manifests.retain(|m| m["digest"] == image_digest.as_str());
            manifests[0]["annotations"] = serde_json::json!({});
        }
        std::fs::write(&path, serde_json::to_vec(&index).expect("JSON")).expect("index");
        let image = read(dir.path(), "agent `a`").expect("the only manifest is the image");
        assert_eq!(image.digest, image_digest);
        assert!(image.referrers.is_empty());
    }

    #[test]
    fn a_missing_layout_says_where_it_was_looked_for() {
        let err = read(Path::new("/nonexistent/oci/a"), "agent `a`").unwrap_err();
        assert!(
            err.to_string()
                .contains("agent `a` has no image at /nonexistent/oci/a"),
            "{err}"
        );
    }
}
