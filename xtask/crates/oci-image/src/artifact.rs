//! A file attached to an image as an OCI 1.1 artifact, the way `ko` and `oras attach` attach
//! SBOMs: an image manifest with an `artifactType`, the empty config, the file as its one
//! layer, and the image's manifest as its `subject`.
//!
//! Registries with the referrers API (ECR, distribution 3) list it under the image
//! (`GET /v2/<repo>/referrers/<image digest>`); every registry stores it by digest. The image
//! itself does not change: attaching a file never changes an image's digest.

use std::collections::HashMap;

use anyhow::Context as _;
use oci_spec::image::{Descriptor, ImageManifestBuilder, MediaType};

use super::image::descriptor;
use super::layout::{Layout, canonical_json};

/// The empty config of an artifact (OCI 1.1): the two bytes `{}`.
const EMPTY_CONFIG: &[u8] = b"{}";

/// An artifact as written into a layout.
#[derive(Debug, Clone)]
pub struct Artifact {
    /// `sha256:…` of its manifest.
    pub digest: String,
    /// The manifest's descriptor with its `artifactType`, as `index.json` lists it.
    pub descriptor: Descriptor,
    /// The config and file digests: the blobs besides the manifest that the layout keeps.
    pub blobs: Vec<String>,
}

/// Writes `contents` (of media type `artifact_type`) as an artifact about the image whose
/// manifest is `subject`. `file_name` is the file's title (`oras pull` saves it under that
/// name); `created` (Unix seconds) is the manifest's `org.opencontainers.image.created`.
pub fn write_artifact(
    layout: &Layout,
    subject: &Descriptor,
    artifact_type: &str,
    file_name: &str,
    contents: &[u8],
    created: u64,
) -> anyhow::Result<Artifact> {
    let kind = MediaType::Other(artifact_type.to_string());
    let (config_digest, config_size) = layout.write_blob(EMPTY_CONFIG)?;
    let (file_digest, file_size) = layout.write_blob(contents)?;
    let mut file = descriptor(kind.clone(), &file_digest, file_size)?;
    file.set_annotations(Some(HashMap::from([(
        oci_spec::image::ANNOTATION_TITLE.to_string(),
        file_name.to_string(),
    )])));
    // The subject as a plain descriptor: the platform is the image's business.
    let subject = Descriptor::new(
        subject.media_type().clone(),
        subject.size(),
        subject.digest().clone(),
    );
    let manifest = ImageManifestBuilder::default()
        .schema_version(2u32)
        .media_type(MediaType::ImageManifest)
        .artifact_type(kind.clone())
        .config(descriptor(
            MediaType::EmptyJSON,
            &config_digest,
            config_size,
        )?)
        .layers(vec![file])
        .subject(subject)
        .annotations(HashMap::from([(
            oci_spec::image::ANNOTATION_CREATED.to_string(),
            super::rfc3339(created),
        )]))
        .build()
        .context("cannot describe the artifact manifest")?;
    let (digest, size) = layout.write_blob(&canonical_json(&manifest)?)?;
    let mut listed = descriptor(MediaType::ImageManifest, &digest, size)?;
    listed.set_artifact_type(Some(kind));
    Ok(Artifact {
        digest,
        descriptor: listed,
        blobs: vec![config_digest, file_digest],
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Entry, ImageSpec, write_image, write_layer};

    #[test]
    fn an_artifact_refers_to_the_image_and_is_listed_beside_it() {
        let dir = tempfile::tempdir().expect("tempdir");
        let layout = Layout::create(dir.path()).expect("layout");
        let entries = [Entry {
            path: "app".into(),
            mode: 0o755,
            contents: b"x",
        }];
        let layer = write_layer(&layout, &entries, 0).expect("layer");
        let spec = ImageSpec {
            entrypoint: "/app".into(),
            env: vec![],
            ports: vec![],
            user: "1:1".into(),
            created: 0,
            annotations: Default::default(),
        };
        let image = write_image(&layout, &layer, &spec).expect("image");
        let sbom = br#"{"spdxVersion":"SPDX-2.3"}"#;
        let artifact = write_artifact(
            &layout,
            &image.descriptor,
            "application/spdx+json",
            "app.spdx.json",
            sbom,
            1_700_000_000,
        )
        .expect("artifact");
        layout
            .index_written(&image, &[(&artifact, "sbom")])
            .expect("index");

        let read = |digest: &str| -> serde_json::Value {
            serde_json::from_slice(&std::fs::read(layout.blob_path(digest)).expect("blob"))
                .expect("JSON")
        };
        let manifest = read(&artifact.digest);
        assert_eq!(manifest["artifactType"], "application/spdx+json");
        assert_eq!(
            manifest["config"]["mediaType"],
            "application/vnd.oci.empty.v1+json"
        );
        assert_eq!(manifest["config"]["size"], 2);
        assert_eq!(
            std::fs::read(layout.blob_path(manifest["config"]["digest"].as_str().expect("d")))
                .expect("config"),
            b"{}"
        );
        assert_eq!(manifest["layers"][0]["mediaType"], "application/spdx+json");
        assert_eq!(
            manifest["layers"][0]["annotations"]["org.opencontainers.image.title"],
            "app.spdx.json"
        );
        assert_eq!(manifest["subject"]["digest"], image.digest.as_str());
        assert!(manifest["subject"].get("platform").is_none());
        assert_eq!(
            manifest["annotations"]["org.opencontainers.image.created"],
            "2023-11-14T22:13:20Z"
        );

        let index: serde_json::Value =
            serde_json::from_slice(&std::fs::read(dir.path().join("index.json")).expect("index"))
                .expect("JSON");
        let listed = index["manifests"].as_array().expect("manifests");
        assert_eq!(listed.len(), 2);
        assert_eq!(listed[0]["digest"], image.digest.as_str());
        assert_eq!(
            listed[0]["annotations"]["org.opencontainers.image.ref.name"],
            "latest"
        );
        assert_eq!(listed[1]["digest"], artifact.digest.as_str());
        assert_eq!(listed[1]["artifactType"], "application/spdx+json");
        assert_eq!(
            listed[1]["annotations"]["org.opencontainers.image.ref.name"],
            "sbom"
        );
        let blobs = std::fs::read_dir(dir.path().join("blobs/sha256"))
            .expect("blobs")
            .count();
        assert_eq!(blobs, 6, "the image's 3 blobs and the artifact's 3");
    }
}
