//! The one layer of an image: a deterministic tar, gzip-compressed.

use std::collections::BTreeMap;
use std::io::Write;

use anyhow::Context as _;
use flate2::{Compression, GzBuilder};

use super::layout::{HashWriter, Layout};

/// A regular file of the layer.
pub struct Entry<'a> {
    /// Relative to the root, without a leading `/`: `usr/local/bin/agent`.
    pub path: String,
    pub mode: u32,
    pub contents: &'a [u8],
}

/// A layer blob as written into a layout.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Layer {
    /// `sha256:…` of the compressed blob: what manifests and registries name it by.
    pub digest: String,
    /// `sha256:…` of the uncompressed tar: what the image config's `rootfs.diff_ids` lists.
    pub diff_id: String,
    /// Bytes of the compressed blob.
    pub size: u64,
}

/// Directories made world-writable with the sticky bit, like on any Linux system; the rest of
/// the tree is read-only for the (non-root) user the image runs as.
const STICKY_DIRS: &[&str] = &["tmp"];

/// Writes `files` as a gzip-compressed tar blob into `layout`.
///
/// Every parent directory gets its own entry (mode 0755), plus `/tmp` (mode 1777): some runtimes
/// and libraries need a writable temp dir and an empty base image has none. All entries carry
/// `mtime`, uid/gid 0 and no user or group names, sorted by path, so the bytes depend only on
/// the files' contents, modes and `mtime`.
pub fn write_layer(layout: &Layout, files: &[Entry<'_>], mtime: u64) -> anyhow::Result<Layer> {
    let mut entries: BTreeMap<String, Option<&Entry<'_>>> = BTreeMap::new();
    for dir in STICKY_DIRS {
        entries.insert(format!("{dir}/"), None);
    }
    for file in files {
        anyhow::ensure!(
            !file.path.starts_with('/') && !file.path.split('/').any(|p| p.is_empty() || p == ".."),
            "layer path `{}` must be relative and normal",
            file.path
        );
        let mut parent = String::new();
        let parts: Vec<&str> = file.path.split('/').collect();
        for dir in &parts[..parts.len() - 1] {
            parent.push_str(dir);
            parent.push('/');
            entries.entry(parent.clone()).or_insert(None);
        }
        anyhow::ensure!(
            entries.insert(file.path.clone(), Some(file)).is_none(),
            "layer path `{}` given twice",
            file.path
        );
    }

    let (diff_id, layer) = layout.write_blob_streaming(|blob| {
        let gz = GzBuilder::new()
            .mtime(0)
            .write(blob, Compression::default());
        let mut tar = tar::Builder::new(HashWriter::new(gz));
        for (path, file) in &entries {
            let mut header = tar::Header::new_ustar();
            header.set_mtime(mtime);
            header.set_uid(0);
            header.set_gid(0);
            match file {
                None => {
                    header.set_entry_type(tar::EntryType::Directory);
                    let sticky = STICKY_DIRS.contains(&path.trim_end_matches('/'));
                    header.set_mode(if sticky { 0o1777 } else { 0o755 });
                    header.set_size(0);
                    tar.append_data(&mut header, path, std::io::empty())
                }
                Some(file) => {
                    header.set_entry_type(tar::EntryType::Regular);
                    header.set_mode(file.mode);
                    header.set_size(file.contents.len() as u64);
                    tar.append_data(&mut header, path, file.contents)
                }
            }
            .with_context(|| format!("cannot add `{path}` to the layer"))?;
        }
        let hashed = tar.into_inner().context("cannot finish the layer's tar")?;
        let (gz, diff_id, _) = hashed.finish();
        let inner = gz
            .finish()
            .context("cannot finish the layer's gzip stream")?;
        inner.flush()?;
        Ok(diff_id)
    })?;
    Ok(Layer {
        digest: layer.0,
        diff_id,
        size: layer.1,
    })
}

#[cfg(test)]
mod tests {
    use std::io::Read as _;

    use super::*;

    fn files() -> Vec<(String, Vec<u8>)> {
        vec![
            ("usr/local/bin/app".into(), b"\x7fELF pretend".to_vec()),
            ("etc/ssl/certs/ca-certificates.crt".into(), b"PEM".to_vec()),
        ]
    }

    fn build(dir: &std::path::Path, mtime: u64) -> Layer {
        let layout = Layout::create(dir).expect("layout");
        let files = files();
        let entries: Vec<Entry<'_>> = files
            .iter()
            .map(|(p, c)| Entry {
                path: p.clone(),
                mode: 0o755,
                contents: c,
            })
            .collect();
        write_layer(&layout, &entries, mtime).expect("layer")
    }

    #[test]
    fn same_input_same_bytes_anywhere() {
        let a = tempfile::tempdir().expect("tempdir");
        let b = tempfile::tempdir().expect("tempdir");
        let la = build(a.path(), 1_700_000_000);
        let lb = build(b.path(), 1_700_000_000);
        assert_eq!(la, lb);
        let lc = build(b.path(), 1_700_000_001);
        assert_ne!(la.digest, lc.digest, "mtime is part of the layer");
    }

    #[test]
    fn tar_has_sorted_entries_with_fixed_metadata() {
        let dir = tempfile::tempdir().expect("tempdir");
        let layer = build(dir.path(), 42);
        let layout = Layout::create(dir.path()).expect("layout");
        let blob = std::fs::File::open(layout.blob_path(&layer.digest)).expect("blob");
        let mut tar_bytes = Vec::new();
        flate2::read::GzDecoder::new(blob)
            .read_to_end(&mut tar_bytes)
            .expect("gunzip");
        assert_eq!(crate::sha256_digest(&tar_bytes), layer.diff_id);

        let mut archive = tar::Archive::new(&tar_bytes[..]);
        let mut seen = Vec::new();
        for entry in archive.entries().expect("entries") {
            let entry = entry.expect("entry");
            let h = entry.header();
            assert_eq!(
                (h.uid().ok(), h.gid().ok(), h.mtime().ok()),
                (Some(0), Some(0), Some(42))
            );
            seen.push((
                entry.path().expect("path").display().to_string(),
                h.mode().ok(),
            ));
        }
        let paths: Vec<&str> = seen.iter().map(|(p, _)| p.as_str()).collect();
        assert_eq!(
            paths,
            [
                "etc/",
                "etc/ssl/",
                "etc/ssl/certs/",
                "etc/ssl/certs/ca-certificates.crt",
                "tmp/",
                "usr/",
                "usr/local/",
                "usr/local/bin/",
                "usr/local/bin/app"
            ]
        );
        assert!(seen.contains(&("tmp/".into(), Some(0o1777))));
    }

    /// A fixed file set gives a fixed layer, byte for byte. When a dependency update (tar,
    /// flate2, miniz_oxide) changes these digests, every image digest changes with them: this
    /// test makes that a decision in a reviewed commit instead of a surprise in a promotion.
    #[test]
    fn golden_layer_digest() {
        // 2 MiB that compress like a binary does: text runs (symbols, messages) between
        // pseudo-random bytes (code), from a fixed seed.
        let mut binary = Vec::with_capacity(2 << 20);
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        while binary.len() < 2 << 20 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            if x.is_multiple_of(3) {
                binary.extend_from_slice(b"core::panicking::panic_fmt /cargo/registry/src/");
            } else {
                binary.extend_from_slice(&x.to_le_bytes());
            }
        }
        let pem = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n".repeat(150);
        let dir = tempfile::tempdir().expect("tempdir");
        let layout = Layout::create(dir.path()).expect("layout");
        let entries = [
            Entry {
                path: "usr/local/bin/agent".into(),
                mode: 0o755,
                contents: &binary,
            },
            Entry {
                path: "etc/ssl/certs/ca-certificates.crt".into(),
                mode: 0o644,
                contents: pem.as_bytes(),
            },
        ];
        let layer = write_layer(&layout, &entries, 1_700_000_000).expect("layer");
        assert_eq!(
            (layer.digest.as_str(), layer.diff_id.as_str(), layer.size),
            (GOLDEN_DIGEST, GOLDEN_DIFF_ID, GOLDEN_SIZE),
            "the layer's bytes changed: if a dependency update did it on purpose, update the \
             golden values (every image digest changes with them; say so in the commit)"
        );
    }

    const GOLDEN_DIGEST: &str =
        "sha256:fde188652ae02d31adfc6adbcb4be4b6521eadb2b80a2ead3d7a16554199d1ee";
    const GOLDEN_DIFF_ID: &str =
        "sha256:ab89423da73c46f4c590c1c2907334e2f2d9be69ad785f51c50ee01e6106c12d";
    const GOLDEN_SIZE: u64 = 588_920;

    #[test]
    fn rejects_paths_that_escape_the_root() {
        let dir = tempfile::tempdir().expect("tempdir");
        let layout = Layout::create(dir.path()).expect("layout");
        for bad in ["/etc/passwd", "../x", "a//b"] {
            let entries = [Entry {
                path: bad.into(),
                mode: 0o644,
                contents: b"",
            }];
            let err = write_layer(&layout, &entries, 0).expect_err(bad);
            assert!(err.to_string().contains("relative"), "{err}");
        }
    }
}
