//! The image config and manifest around a layer.

use std::collections::BTreeMap;

use anyhow::Context as _;
use oci_spec::image::{
    Arch, ConfigBuilder, Descriptor, HistoryBuilder, ImageConfigurationBuilder,
    ImageManifestBuilder, MediaType, Os, RootFsBuilder,
};

use super::layer::Layer;
use super::layout::{Layout, canonical_json};

/// What an image says about itself besides its files.
pub struct ImageSpec {
    /// Absolute path of the program in the image.
    pub entrypoint: String,
    /// `KEY=value` defaults for the process environment, in this order.
    pub env: Vec<String>,
    /// TCP ports the program listens on.
    pub ports: Vec<u16>,
    /// `uid:gid` the program runs as.
    pub user: String,
    /// Unix seconds: the image's `created`, and its history entry's.
    pub created: u64,
    /// `org.opencontainers.image.*` annotations: on the manifest, and as config labels so that
    /// `docker inspect` and `skopeo inspect` show them too.
    pub annotations: BTreeMap<String, String>,
}

/// The image as written: its manifest digest names it everywhere (registries, Terraform).
#[derive(Debug, Clone, serde::Serialize)]
pub struct Image {
    /// `sha256:…` of the manifest.
    pub digest: String,
    /// Bytes a pull transfers: manifest + config + layer.
    pub size: u64,
    pub layer: Layer,
    /// The manifest's descriptor (with the platform), for `index.json` and as the `subject`
    /// of artifacts about the image.
    pub descriptor: Descriptor,
    /// The config and layer digests: the blobs besides the manifest that the layout keeps.
    pub blobs: Vec<String>,
}

/// Writes config and manifest for `layer` (already in `layout`). The image is the layout's
/// once `Layout::set_image` or `Layout::set_index` lists it.
pub fn write_image(layout: &Layout, layer: &Layer, spec: &ImageSpec) -> anyhow::Result<Image> {
    let created = super::rfc3339(spec.created);
    let labels: std::collections::HashMap<String, String> = spec
        .annotations
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let config = ConfigBuilder::default()
        .user(spec.user.clone())
        .env(spec.env.clone())
        .entrypoint(vec![spec.entrypoint.clone()])
        .exposed_ports(
            spec.ports
                .iter()
                .map(|p| format!("{p}/tcp"))
                .collect::<Vec<_>>(),
        )
        .working_dir("/")
        .labels(labels)
        .stop_signal("SIGTERM")
        .build()
        .context("cannot describe the image's run config")?;
    let image_config = ImageConfigurationBuilder::default()
        .created(created.clone())
        .architecture(Arch::ARM64)
        .os(Os::Linux)
        .config(config)
        .rootfs(
            RootFsBuilder::default()
                .typ("layers")
                .diff_ids(vec![layer.diff_id.clone()])
                .build()
                .context("cannot describe the image's rootfs")?,
        )
        .history(vec![
            HistoryBuilder::default()
                .created(created)
                .created_by("cargo xtask build-agents")
                .build()
                .context("cannot describe the image's history")?,
        ])
        .build()
        .context("cannot describe the image config")?;
    let (config_digest, config_size) = layout.write_blob(&canonical_json(&image_config)?)?;

    let manifest = ImageManifestBuilder::default()
        .schema_version(2u32)
        .media_type(MediaType::ImageManifest)
        .config(descriptor(
            MediaType::ImageConfig,
            &config_digest,
            config_size,
        )?)
        .layers(vec![descriptor(
            MediaType::ImageLayerGzip,
            &layer.digest,
            layer.size,
        )?])
        .annotations(
            spec.annotations
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect::<std::collections::HashMap<_, _>>(),
        )
        .build()
        .context("cannot describe the image manifest")?;
    let (digest, manifest_size) = layout.write_blob(&canonical_json(&manifest)?)?;

    let mut manifest_descriptor = descriptor(MediaType::ImageManifest, &digest, manifest_size)?;
    manifest_descriptor.set_platform(Some(
        oci_spec::image::PlatformBuilder::default()
            .architecture(Arch::ARM64)
            .os(Os::Linux)
            .build()
            .context("cannot describe the image platform")?,
    ));
    Ok(Image {
        digest,
        size: manifest_size + config_size + layer.size,
        layer: layer.clone(),
        descriptor: manifest_descriptor,
        blobs: vec![config_digest, layer.digest.clone()],
    })
}

pub(super) fn descriptor(
    media_type: MediaType,
    digest: &str,
    size: u64,
) -> anyhow::Result<Descriptor> {
    let digest: oci_spec::image::Digest = digest
        .parse()
        .with_context(|| format!("`{digest}` is not a digest"))?;
    Ok(Descriptor::new(media_type, size, digest))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Entry, write_layer};

    fn spec() -> ImageSpec {
        ImageSpec {
            entrypoint: "/usr/local/bin/app".into(),
            env: vec!["A=1".into()],
            ports: vec![8080],
            user: "65532:65532".into(),
            created: 1_700_000_000,
            annotations: [
                (
                    "org.opencontainers.image.title".to_string(),
                    "app".to_string(),
                ),
                (
                    "org.opencontainers.image.version".to_string(),
                    "1.0.0".to_string(),
                ),
            ]
            .into(),
        }
    }

    fn build(dir: &std::path::Path) -> Image {
        let layout = Layout::create(dir).expect("layout");
        let entries = [Entry {
            path: "usr/local/bin/app".into(),
            mode: 0o755,
            contents: b"x",
        }];
        let layer = write_layer(&layout, &entries, 1_700_000_000).expect("layer");
        let image = write_image(&layout, &layer, &spec()).expect("image");
        set(&layout, &image);
        image
    }

    fn set(layout: &Layout, image: &Image) {
        layout.index_written(image, &[]).expect("index");
    }

    #[test]
    fn image_is_reproducible_and_describes_arm64() {
        let a = tempfile::tempdir().expect("tempdir");
        let b = tempfile::tempdir().expect("tempdir");
        let (ia, ib) = (build(a.path()), build(b.path()));
        assert_eq!(ia.digest, ib.digest);
        for name in ["oci-layout", "index.json"] {
            let read = |d: &tempfile::TempDir| std::fs::read(d.path().join(name)).expect(name);
            assert_eq!(read(&a), read(&b), "{name} differs");
        }

        let index: serde_json::Value =
            serde_json::from_slice(&std::fs::read(a.path().join("index.json")).expect("index"))
                .expect("index json");
        assert_eq!(index["manifests"].as_array().map(Vec::len), Some(1));
        assert_eq!(index["manifests"][0]["digest"], ia.digest.as_str());
        assert_eq!(index["manifests"][0]["platform"]["architecture"], "arm64");

        let layout = Layout::create(a.path()).expect("layout");
        let manifest: serde_json::Value =
            serde_json::from_slice(&std::fs::read(layout.blob_path(&ia.digest)).expect("manifest"))
                .expect("manifest json");
        assert_eq!(
            manifest["annotations"]["org.opencontainers.image.version"],
            "1.0.0"
        );
        let config_digest = manifest["config"]["digest"]
            .as_str()
            .expect("config digest");
        let config: serde_json::Value =
            serde_json::from_slice(&std::fs::read(layout.blob_path(config_digest)).expect("cfg"))
                .expect("config json");
        assert_eq!(config["architecture"], "arm64");
        assert_eq!(config["os"], "linux");
        assert_eq!(config["created"], "2023-11-14T22:13:20Z");
        assert_eq!(
            config["config"]["ExposedPorts"],
            serde_json::json!({"8080/tcp": {}})
        );
        assert_eq!(config["rootfs"]["diff_ids"][0], ia.layer.diff_id.as_str());
    }

    #[test]
    fn rebuilding_drops_the_old_blobs() {
        let dir = tempfile::tempdir().expect("tempdir");
        build(dir.path());
        let layout = Layout::create(dir.path()).expect("layout");
        let entries = [Entry {
            path: "usr/local/bin/app".into(),
            mode: 0o755,
            contents: b"y",
        }];
        let layer = write_layer(&layout, &entries, 1_700_000_000).expect("layer");
        set(
            &layout,
            &write_image(&layout, &layer, &spec()).expect("image"),
        );
        let blobs = std::fs::read_dir(dir.path().join("blobs/sha256"))
            .expect("blobs")
            .count();
        assert_eq!(
            blobs, 3,
            "manifest, config and layer of the latest build only"
        );
    }
}
