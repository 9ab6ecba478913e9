//! Pulling an image, by digest, into a local OCI image layout: the first half of copying the
//! exact bytes from one environment's registry to the next.

use std::path::Path;

use anyhow::{Context as _, bail};
use oci_client::manifest::{IMAGE_MANIFEST_MEDIA_TYPE, OCI_IMAGE_MEDIA_TYPE};
use oci_client::{Client, Reference};
use oci_spec::image::{Descriptor, ImageManifest, MediaType};

use crate::ImageRef;
use crate::{Credentials, is_loopback};
use oci_image::Layout;

/// Pulls `image` into the layout at `dir`, verifying every digest. Gives the image's
/// `org.opencontainers.image.revision`: the commit it was built from.
pub async fn pull(
    image: &ImageRef,
    credentials: &Credentials,
    dir: &Path,
) -> anyhow::Result<Option<String>> {
    let uri = image.to_string();
    let (client, reference, auth) = connect(image, credentials)?;
    let (manifest_bytes, manifest) = manifest_of(&client, &reference, &auth, &uri).await?;

    let layout = Layout::create(dir)?;
    let mut keep = Vec::new();
    for desc in std::iter::once(manifest.config()).chain(manifest.layers()) {
        let want = desc.digest().to_string();
        keep.push(want.clone());
        if layout.has_blob(&want) {
            continue;
        }
        let mut bytes = Vec::with_capacity(usize::try_from(desc.size()).unwrap_or(0));
        let blob = oci_client::manifest::OciDescriptor {
            media_type: desc.media_type().to_string(),
            digest: want.clone(),
            size: i64::try_from(desc.size()).unwrap_or(i64::MAX),
            ..Default::default()
        };
        client
            .pull_blob(&reference, &blob, &mut bytes)
            .await
            .with_context(|| format!("cannot download blob {want} of {uri}"))?;
        let (written, _) = layout.write_blob(&bytes)?;
        anyhow::ensure!(written == want, "blob {want} of {uri} arrived as {written}");
    }
    let (written, size) = layout.write_blob(&manifest_bytes)?;
    let media_type = manifest
        .media_type()
        .clone()
        .unwrap_or(MediaType::ImageManifest);
    let descriptor = Descriptor::new(
        media_type,
        size,
        written.parse::<oci_spec::image::Digest>()?,
    );
    let keep: Vec<&str> = keep.iter().map(String::as_str).collect();
    layout.set_image(descriptor, &keep)?;
    Ok(revision_of(&manifest))
}

/// The commit `image` was built from (its manifest's `org.opencontainers.image.revision`),
/// reading only the manifest: what `status` shows beside a digest.
pub async fn revision(
    image: &ImageRef,
    credentials: &Credentials,
) -> anyhow::Result<Option<String>> {
    let (client, reference, auth) = connect(image, credentials)?;
    let (_, manifest) = manifest_of(&client, &reference, &auth, &image.to_string()).await?;
    Ok(revision_of(&manifest))
}

fn revision_of(manifest: &ImageManifest) -> Option<String> {
    manifest
        .annotations()
        .as_ref()
        .and_then(|a| a.get(oci_spec::image::ANNOTATION_REVISION))
        .cloned()
}

fn connect(
    image: &ImageRef,
    credentials: &Credentials,
) -> anyhow::Result<(Client, Reference, oci_client::secrets::RegistryAuth)> {
    let uri = image.to_string();
    let reference: Reference = uri
        .parse()
        .with_context(|| format!("`{uri}` is not an image reference"))?;
    let host = reference.resolve_registry().to_string();
    let mut config = oci_client::client::ClientConfig::default();
    if is_loopback(&host) {
        config.protocol = oci_client::client::ClientProtocol::HttpsExcept(vec![host.clone()]);
    }
    Ok((
        Client::new(config),
        reference,
        credentials.to_registry_auth(),
    ))
}

/// The image manifest `reference` pins, its digest verified.
async fn manifest_of(
    client: &Client,
    reference: &Reference,
    auth: &oci_client::secrets::RegistryAuth,
    uri: &str,
) -> anyhow::Result<(Vec<u8>, ImageManifest)> {
    let Some(digest) = reference.digest().map(str::to_string) else {
        bail!("`{uri}` is not pinned by digest");
    };
    let (manifest_bytes, got) = client
        .pull_manifest_raw(
            reference,
            auth,
            &[OCI_IMAGE_MEDIA_TYPE, IMAGE_MANIFEST_MEDIA_TYPE],
        )
        .await
        .with_context(|| format!("cannot read the manifest of {uri}"))?;
    anyhow::ensure!(
        got == digest && oci_image::sha256_digest(&manifest_bytes) == digest,
        "the registry returned another manifest for {uri} (got {got})"
    );
    let manifest: ImageManifest = serde_json::from_slice(&manifest_bytes)
        .with_context(|| format!("the manifest of {uri} is not an OCI image manifest"))?;
    Ok((manifest_bytes.to_vec(), manifest))
}
