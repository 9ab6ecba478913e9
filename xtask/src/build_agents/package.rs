//! Turns an agent's binary into its OCI image, reusing the layer when the binary is unchanged.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use serde::{Deserialize, Serialize};

use super::provenance::Provenance;
use crate::oci::{self, Entry, ImageSpec, Layer, Layout};
use blueprint::Agent;

/// Where the program goes in the image.
pub fn entrypoint(agent_id: &str) -> String {
    format!("/usr/local/bin/{agent_id}")
}

/// Not root: the agent needs no privilege, and a non-root default is what scanners ask for.
/// 65532 is the `nonroot` user of distroless images.
const USER: &str = "65532:65532";

/// Bump when the layer's layout changes (paths, modes), so old cache entries are not reused.
const LAYER_FORMAT: u32 = 1;

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
    /// The layer came from the cache: the binary had not changed.
    pub cached: bool,
    pub seconds: f64,
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
    layout_dir: &Path,
    cache_dir: &Path,
    provenance: &Provenance,
) -> anyhow::Result<Packaged> {
    let start = std::time::Instant::now();
    let id = agent.id();
    let bytes = std::fs::read(binary)
        .with_context(|| format!("cannot read the binary of `{id}` at {}", binary.display()))?;
    super::elf::check_static_aarch64(binary, &bytes)?;

    let ca_bundle = oci::ca_bundle();
    let entrypoint = entrypoint(id);
    let key = oci::sha256_digest(
        format!(
            "format {LAYER_FORMAT}\nbinary {}\nca {}\npath {entrypoint}\nmtime {}\n",
            oci::sha256_digest(&bytes),
            oci::sha256_digest(&ca_bundle),
            provenance.epoch
        )
        .as_bytes(),
    );

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
            let files = [
                Entry {
                    path: entrypoint[1..].to_string(),
                    mode: 0o755,
                    contents: &bytes,
                },
                Entry {
                    path: oci::CA_BUNDLE_PATH.to_string(),
                    mode: 0o644,
                    contents: &ca_bundle,
                },
            ];
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

    let image = oci::write_image(&layout, &layer, &image_spec(agent, provenance))
        .with_context(|| format!("cannot write the image of `{id}`"))?;
    Ok(Packaged {
        agent: id.to_string(),
        layout: layout_dir.to_path_buf(),
        digest: image.digest,
        size: image.size,
        binary_size: bytes.len() as u64,
        cached,
        seconds: start.elapsed().as_secs_f64(),
    })
}

/// The run config and annotations of an agent's image, all from its blueprint and the source.
fn image_spec(agent: &Agent, provenance: &Provenance) -> ImageSpec {
    let bp = &agent.blueprint;
    let mut env = vec![
        "PATH=/usr/local/bin".to_string(),
        format!("SSL_CERT_FILE=/{}", oci::CA_BUNDLE_PATH),
        format!("AGENT_ID={}", bp.id),
    ];
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
    ImageSpec {
        entrypoint: entrypoint(&bp.id),
        env,
        ports: vec![bp.runtime.port],
        user: USER.to_string(),
        created: provenance.epoch,
        annotations,
    }
}
