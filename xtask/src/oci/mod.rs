//! A small writer of OCI images, the way `ko` and `jib` build them: no Docker daemon, no base
//! image, one layer holding a static binary and a CA bundle.
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
mod certs;
mod image;
mod layer;
mod layout;
mod time;

pub use artifact::write_artifact;
pub use certs::ca_bundle;
pub use image::{ImageSpec, write_image};
pub use layer::{Entry, Layer, write_layer};
pub use layout::{Layout, REF_NAME, canonical_json};
pub use time::rfc3339;

/// Where the CA bundle goes: the path rustls-native-certs, OpenSSL and Go all look at first.
pub const CA_BUNDLE_PATH: &str = "etc/ssl/certs/ca-certificates.crt";

/// `sha256:<hex>` of `bytes`.
pub fn sha256_digest(bytes: &[u8]) -> String {
    use sha2::Digest as _;
    format!("sha256:{}", hex(&sha2::Sha256::digest(bytes)))
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}
