//! An OCI image layout on disk: `oci-layout`, `index.json` and content-addressed `blobs/`.

use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use oci_spec::image::{Descriptor, ImageIndexBuilder, MediaType, OciLayoutBuilder};
use serde::Serialize;
use sha2::{Digest as _, Sha256};

/// The tag of the image in a layout (`org.opencontainers.image.ref.name`), so that
/// `umoci unpack --image target/oci/<agent>:latest` and `skopeo … oci:target/oci/<agent>:latest`
/// find it. The version is in the image's annotations; registries get their tags from `push`.
pub const REF_NAME: &str = "latest";

pub struct Layout {
    dir: PathBuf,
}

impl Layout {
    /// Opens `dir` as a layout, creating the skeleton (`oci-layout`, `blobs/sha256/`) if missing.
    pub fn create(dir: &Path) -> anyhow::Result<Layout> {
        let blobs = dir.join("blobs/sha256");
        std::fs::create_dir_all(&blobs)
            .with_context(|| format!("cannot create {}", blobs.display()))?;
        let layout = Layout {
            dir: dir.to_path_buf(),
        };
        let marker = OciLayoutBuilder::default()
            .image_layout_version("1.0.0")
            .build()
            .context("cannot describe the oci-layout file")?;
        layout.write_file("oci-layout", &canonical_json(&marker)?)?;
        Ok(layout)
    }

    pub fn blob_path(&self, digest: &str) -> PathBuf {
        let hex = digest.strip_prefix("sha256:").unwrap_or(digest);
        self.dir.join("blobs/sha256").join(hex)
    }

    pub fn has_blob(&self, digest: &str) -> bool {
        self.blob_path(digest).is_file()
    }

    /// Writes `bytes` as a blob; gives its digest and size.
    pub fn write_blob(&self, bytes: &[u8]) -> anyhow::Result<(String, u64)> {
        let digest = super::sha256_digest(bytes);
        if !self.has_blob(&digest) {
            self.write_file(
                &format!("blobs/sha256/{}", &digest["sha256:".len()..]),
                bytes,
            )?;
        }
        Ok((digest, bytes.len() as u64))
    }

    /// Writes a blob produced by `fill` into a hashing writer; the blob is named by its digest
    /// once complete, so a crash never leaves a blob whose name lies about its content.
    pub fn write_blob_streaming<T>(
        &self,
        fill: impl FnOnce(&mut HashWriter<BufWriter<std::fs::File>>) -> anyhow::Result<T>,
    ) -> anyhow::Result<(T, (String, u64))> {
        let tmp = self
            .dir
            .join(format!("blobs/.partial-{}", std::process::id()));
        let file = std::fs::File::create(&tmp)
            .with_context(|| format!("cannot create {}", tmp.display()))?;
        let mut writer = HashWriter::new(BufWriter::with_capacity(1 << 20, file));
        let value = fill(&mut writer)?;
        let (buffered, digest, size) = writer.finish();
        // Not fsynced, like cargo's own outputs: only a power loss right after a build could
        // leave a blob shorter than its name says (`rm -r target/oci` then rebuilds it).
        buffered
            .into_inner()
            .map_err(|e| e.into_error())
            .with_context(|| format!("cannot write {}", tmp.display()))?;
        let path = self.blob_path(&digest);
        std::fs::rename(&tmp, &path)
            .with_context(|| format!("cannot move the blob to {}", path.display()))?;
        Ok((value, (digest, size)))
    }

    /// Makes `manifest` the layout's one image, tagged [`REF_NAME`], and deletes blobs no
    /// longer referenced (older builds' layers) so the layout does not grow with every build.
    pub fn set_image(&self, manifest: Descriptor, keep: &[&str]) -> anyhow::Result<()> {
        self.set_index(manifest, &[], keep)
    }

    /// [`Layout::set_index`] for an image and artifacts this layout just wrote: every blob
    /// they use is kept, the rest deleted.
    pub fn index_written(
        &self,
        image: &crate::image::Image,
        artifacts: &[(&crate::artifact::Artifact, &str)],
    ) -> anyhow::Result<()> {
        let keep: Vec<&str> = image
            .blobs
            .iter()
            .chain(artifacts.iter().flat_map(|(a, _)| &a.blobs))
            .map(String::as_str)
            .collect();
        let artifacts: Vec<(Descriptor, &str)> = artifacts
            .iter()
            .map(|(a, tag)| (a.descriptor.clone(), *tag))
            .collect();
        self.set_index(image.descriptor.clone(), &artifacts, &keep)
    }

    /// Writes `index.json`: `image` tagged [`REF_NAME`], then `artifacts` (manifests whose
    /// `subject` is the image, such as its SBOM), each tagged with the name given beside it.
    /// Blobs that are neither in `keep` nor one of these manifests are deleted.
    ///
    /// Readers pick the image by its tag, not by its place in the index: `skopeo` and `umoci`
    /// given `<layout>:latest`, `push`, `run --arm64` (see `push::layout`).
    pub fn set_index(
        &self,
        image: Descriptor,
        artifacts: &[(Descriptor, &str)],
        keep: &[&str],
    ) -> anyhow::Result<()> {
        let tagged = |mut descriptor: Descriptor, tag: &str| {
            descriptor.set_annotations(Some(
                [(
                    oci_spec::image::ANNOTATION_REF_NAME.to_string(),
                    tag.to_string(),
                )]
                .into(),
            ));
            descriptor
        };
        let manifests: Vec<Descriptor> = std::iter::once(tagged(image, REF_NAME))
            .chain(artifacts.iter().map(|(d, tag)| tagged(d.clone(), tag)))
            .collect();
        let index = ImageIndexBuilder::default()
            .schema_version(2u32)
            .media_type(MediaType::ImageIndex)
            .manifests(manifests.clone())
            .build()
            .context("cannot describe index.json")?;
        self.write_file("index.json", &canonical_json(&index)?)?;

        let blobs = self.dir.join("blobs/sha256");
        let keep: Vec<&str> = keep
            .iter()
            .copied()
            .chain(manifests.iter().map(|m| m.digest().as_ref()))
            .map(|d| d.strip_prefix("sha256:").unwrap_or(d))
            .collect();
        for entry in std::fs::read_dir(&blobs)
            .with_context(|| format!("cannot list {}", blobs.display()))?
            .flatten()
        {
            let name = entry.file_name();
            if !keep.iter().any(|k| name == **k) {
                let _ = std::fs::remove_file(entry.path());
            }
        }
        Ok(())
    }

    fn write_file(&self, rel: &str, bytes: &[u8]) -> anyhow::Result<()> {
        let path = self.dir.join(rel);
        std::fs::write(&path, bytes).with_context(|| format!("cannot write {}", path.display()))
    }
}

/// JSON with object keys sorted at every level and no whitespace: the same document always
/// gives the same bytes, whatever order the `HashMap`s inside oci-spec's types iterate in.
pub fn canonical_json(value: &impl Serialize) -> anyhow::Result<Vec<u8>> {
    fn sort(value: serde_json::Value) -> serde_json::Value {
        match value {
            serde_json::Value::Object(map) => {
                let mut entries: Vec<_> = map.into_iter().collect();
                entries.sort_by(|a, b| a.0.cmp(&b.0));
                // Rebuilt in sorted order: sorted whether serde_json's `Map` is a BTreeMap or,
                // with the `preserve_order` feature some dependency may turn on, an IndexMap.
                serde_json::Value::Object(entries.into_iter().map(|(k, v)| (k, sort(v))).collect())
            }
            serde_json::Value::Array(items) => {
                serde_json::Value::Array(items.into_iter().map(sort).collect())
            }
            other => other,
        }
    }
    let value = serde_json::to_value(value).context("cannot encode an OCI document")?;
    Ok(serde_json::to_vec(&sort(value))?)
}

/// Passes writes through while hashing and counting them.
pub struct HashWriter<W> {
    inner: W,
    hasher: Sha256,
    len: u64,
}

impl<W: Write> HashWriter<W> {
    pub fn new(inner: W) -> HashWriter<W> {
        HashWriter {
            inner,
            hasher: Sha256::new(),
            len: 0,
        }
    }

    /// The inner writer, `sha256:…` of everything written, and its length.
    pub fn finish(self) -> (W, String, u64) {
        let digest = format!("sha256:{}", super::hex(&self.hasher.finalize()));
        (self.inner, digest, self.len)
    }
}

impl<W: Write> Write for HashWriter<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.len += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_json_sorts_keys_at_every_level() {
        let mut map = std::collections::HashMap::new();
        for k in ["zeta", "alpha", "mid"] {
            map.insert(
                k.to_string(),
                serde_json::json!({"b": 1, "a": [{"y": 0, "x": 0}]}),
            );
        }
        let text = String::from_utf8(canonical_json(&map).expect("json")).expect("utf-8");
        assert_eq!(
            text,
            r#"{"alpha":{"a":[{"x":0,"y":0}],"b":1},"mid":{"a":[{"x":0,"y":0}],"b":1},"zeta":{"a":[{"x":0,"y":0}],"b":1}}"#
        );
    }
}
