//! OCI images as files, the way `ko` and `jib` build them: no Docker daemon, no base image.
//!
//! Owns: the deterministic layer (tar + gzip), the image config and manifest, artifacts about
//! an image (OCI 1.1, `subject`), the image layout on disk (writing it, garbage-collecting it,
//! reading an image back with every digest checked). Knows nothing of agents, registries or
//! what goes into a layer: callers give it files.
//!
//! Everything here is byte-reproducible: the same inputs give the same digests on any machine.
//! Tar entries are sorted with fixed owner, mode and time; gzip has no timestamp or file name and
//! comes from a pure-Rust deflate (miniz_oxide, pinned by Cargo.lock) so the output does not
//! depend on the host's zlib; JSON documents are written with sorted keys (oci-spec keeps
//! annotations and labels in `HashMap`s, whose order changes from run to run).
//!
//! The result is a standard OCI image layout (`oci-layout`, `index.json`, `blobs/sha256/…`) that
//! skopeo, umoci, crane and `cargo xtask push` read; files about the image (its SBOM) are
//! attached to it as OCI 1.1 artifacts in the same layout (`artifact.rs`).

mod artifact;
mod image;
mod layer;
mod layout;
pub mod read;
mod time;

pub use artifact::write_artifact;
pub use image::{ImageSpec, write_image};
pub use layer::{Entry, Layer, write_layer};
pub use layout::{Layout, REF_NAME, canonical_json};
pub use read::{Blob, Image, Referrer};
pub use time::rfc3339;

/// The media type of an SPDX JSON document: an SBOM's layer and its artifact's type.
pub const SPDX_JSON: &str = "application/spdx+json";

/// `sha256:<hex>` of `bytes`.
pub fn sha256_digest(bytes: &[u8]) -> String {
    use sha2::Digest as _;
    format!("sha256:{}", hex(&sha2::Sha256::digest(bytes)))
}

pub fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}
