//! Turns an agent's binary into its OCI image, reusing the layer when nothing in it changed,
//! and attaches the binary's SBOM to the image.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use serde::{Deserialize, Serialize};

use super::profile::Profile;
use super::provenance::Provenance;
use super::{notices, sbom};
use blueprint::Agent;
use oci_image::{self as oci, Entry, ImageSpec, Layer, Layout};

/// Where the program goes in the image.
pub fn entrypoint(agent_id: &str) -> String {
    format!("/usr/local/bin/{agent_id}")
}

/// Not root: the agent needs no privilege, and a non-root default is what scanners ask for.
/// 65532 is the `nonroot` user of distroless images.
const USER: &str = "65532:65532";

/// Bump when the way the layer is written changes (the tar entries besides the files, their
/// metadata), so old cache entries are not reused.
const LAYER_FORMAT: u32 = 2;

/// What an image owes besides its program: the licences of what is in it, and its SBOM.
pub struct Paperwork<'a> {
    /// The crates linked into the program and their licence texts (`notices::third_party`).
    pub notices: Vec<u8>,
    /// The CA bundle's licence (`notices::ca_certificates`), the same for every agent.
    pub ca_notice: &'a [u8],
    /// The SPDX document of the program (`sbom::document`), attached to the image.
    pub sbom: Vec<u8>,
    /// How many crates the program is made of (the SBOM's packages, the notices' crates).
    pub crates: usize,
}

/// What `package` made of one agent.
#[derive(Debug, Clone, Serialize)]
pub struct Packaged {
    pub agent: String,
    /// The OCI image layout, `target/oci/<agent>/`.
    pub layout: PathBuf,
    /// `sha256:…` of the image manifest.
    pub digest: String,
    /// Bytes a pull transfers (manifest + config + compressed layer).
    pub size: u64,
    pub binary_size: u64,
    /// The cargo profile the binary was compiled with (also in the image's annotations).
    pub profile: Profile,
    /// The layer came from the cache: none of its files (binary, notices) had changed.
    pub cached: bool,
    pub seconds: f64,
    /// `sha256:…` of the SBOM artifact's manifest (its `subject` is the image); none from
    /// `--builder docker`.
    pub sbom: Option<String>,
    /// How many crates the binary is made of: the packages of the SBOM.
    pub crates: Option<usize>,
}

/// A record of the last layer written for an agent, keyed by everything that goes into it.
#[derive(Serialize, Deserialize, PartialEq)]
struct CacheEntry {
    key: String,
    layer: Layer,
}

pub fn package(
    agent: &Agent,
    binary: &Path,
    paperwork: &Paperwork<'_>,
    layout_dir: &Path,
    cache_dir: &Path,
    provenance: &Provenance,
    profile: Profile,
) -> anyhow::Result<Packaged> {
    let start = std::time::Instant::now();
    let id = agent.id();
    let bytes = std::fs::read(binary)
        .with_context(|| format!("cannot read the binary of `{id}` at {}", binary.display()))?;
    super::elf::check_static_aarch64(binary, &bytes)?;

    let ca_bundle = super::certs::ca_bundle();
    let entrypoint = entrypoint(id);
    let files = [
        Entry {
            path: entrypoint[1..].to_string(),
            mode: 0o755,
            contents: &bytes,
        },
        Entry {
            path: super::certs::CA_BUNDLE_PATH.to_string(),
            mode: 0o644,
            contents: &ca_bundle,
        },
        Entry {
            path: notices::path(id),
            mode: 0o644,
            contents: &paperwork.notices,
        },
        Entry {
            path: notices::CA_CERTIFICATES_PATH.to_string(),
            mode: 0o644,
            contents: paperwork.ca_notice,
        },
    ];
    let key = layer_key(&files, provenance.epoch);

    let layout = Layout::create(layout_dir)?;
    let cache_file = cache_dir.join(format!("{id}.json"));
    let cached_layer = std::fs::read(&cache_file)
        .ok()
        .and_then(|text| serde_json::from_slice::<CacheEntry>(&text).ok())
        .filter(|entry| entry.key == key && layout.has_blob(&entry.layer.digest))
        .map(|entry| entry.layer);
    let cached = cached_layer.is_some();
    let layer = match cached_layer {
        Some(layer) => layer,
        None => {
            let layer = oci::write_layer(&layout, &files, provenance.epoch)
                .with_context(|| format!("cannot write the layer of `{id}`"))?;
            std::fs::create_dir_all(cache_dir)
                .with_context(|| format!("cannot create {}", cache_dir.display()))?;
            let entry = CacheEntry {
                key,
                layer: layer.clone(),
            };
            // A cache that cannot be written only costs time on the next build.
            let _ = std::fs::write(&cache_file, serde_json::to_vec(&entry)?);
            layer
        }
    };

    let image = oci::write_image(&layout, &layer, &image_spec(agent, provenance, profile))
        .with_context(|| format!("cannot write the image of `{id}`"))?;
    let sbom = oci::write_artifact(
        &layout,
        &image.descriptor,
        oci_image::SPDX_JSON,
        &format!("{id}.spdx.json"),
        &paperwork.sbom,
        provenance.epoch,
    )
    .with_context(|| format!("cannot attach the SBOM of `{id}`"))?;
    layout
        .index_written(&image, &[(&sbom, sbom::REF_NAME)])
        .with_context(|| format!("cannot write the image layout of `{id}`"))?;
    Ok(Packaged {
        agent: id.to_string(),
        layout: layout_dir.to_path_buf(),
        digest: image.digest,
        size: image.size,
        binary_size: bytes.len() as u64,
        profile,
        cached,
        seconds: start.elapsed().as_secs_f64(),
        sbom: Some(sbom.digest),
        crates: Some(paperwork.crates),
    })
}

/// The cache key of a layer: everything that goes into it. Each file's path, mode and content
/// hash (the binary, the CA bundle, the notices), the timestamp, and the writer's format.
fn layer_key(files: &[Entry<'_>], mtime: u64) -> String {
    let mut text = format!("format {LAYER_FORMAT}\nmtime {mtime}\n");
    for file in files {
        text.push_str(&format!(
            "{} {:o} {}\n",
            file.path,
            file.mode,
            oci::sha256_digest(file.contents)
        ));
    }
    oci::sha256_digest(text.as_bytes())
}

/// The run config and annotations of an agent's image, all from its blueprint and the source.
fn image_spec(agent: &Agent, provenance: &Provenance, profile: Profile) -> ImageSpec {
    let bp = &agent.blueprint;
    let mut env = vec![
        "PATH=/usr/local/bin".to_string(),
        format!("SSL_CERT_FILE=/{}", super::certs::CA_BUNDLE_PATH),
        format!("AGENT_ID={}", bp.id),
        // AgentCore calls HTTP agents on 8080 and MCP servers on 8000: the blueprint's port,
        // checked against its protocol, so the image listens where the platform calls.
        format!("PORT={}", bp.runtime.port),
    ];
    if bp.runtime.protocol == blueprint::Protocol::Mcp {
        env.push(format!("MCP_SESSIONS={}", bp.runtime.mcp_sessions.as_str()));
    }
    // The blueprint's defaults (the model is compiled into the agent from its blueprint); the
    // runtime's environment, set by the agents stack, overrides them.
    env.extend(
        bp.runtime
            .environment
            .iter()
            .map(|(k, v)| format!("{k}={v}")),
    );

    let mut annotations = BTreeMap::new();
    let mut note = |key: &str, value: &str| {
        annotations.insert(format!("org.opencontainers.image.{key}"), value.to_string());
    };
    note("title", &bp.name);
    note("version", &bp.version);
    note("revision", &provenance.revision);
    note("created", &oci::rfc3339(provenance.epoch));
    if let Some(source) = &provenance.source {
        note("source", source);
    }
    if !bp.description.is_empty() {
        note("description", bp.description.trim());
    }
    annotations.insert(super::profile::ANNOTATION.into(), profile.name().into());
    ImageSpec {
        entrypoint: entrypoint(&bp.id),
        env,
        ports: vec![bp.runtime.port],
        user: USER.to_string(),
        created: provenance.epoch,
        annotations,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_layer_key_covers_every_file_and_the_time() {
        let file = |path: &str, contents: &'static [u8]| Entry {
            path: path.into(),
            mode: 0o644,
            contents,
        };
        let files = [
            file("bin/app", b"elf"),
            file("usr/share/doc/app/copyright", b"MIT"),
        ];
        let key = layer_key(&files, 1);
        assert_eq!(key, layer_key(&files, 1));
        assert_ne!(key, layer_key(&files, 2), "the timestamp");
        let notices_changed = [
            file("bin/app", b"elf"),
            file("usr/share/doc/app/copyright", b"ISC"),
        ];
        assert_ne!(key, layer_key(&notices_changed, 1), "the notices");
        let moved = [
            file("bin/app", b"elf"),
            file("usr/share/doc/x/copyright", b"MIT"),
        ];
        assert_ne!(key, layer_key(&moved, 1), "a path");
    }
}
