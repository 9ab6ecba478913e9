//! The CA bundle that goes into every image.
//!
//! It comes from the `webpki-root-certs` crate (Mozilla's root program, pinned by Cargo.lock),
//! not from the build host's `/etc/ssl`: two machines must produce the same bytes, and the
//! image must not depend on what happens to be installed where it was built.

use base64::Engine as _;

/// Where the CA bundle goes: the path rustls-native-certs, OpenSSL and Go all look at first.
pub const CA_BUNDLE_PATH: &str = "etc/ssl/certs/ca-certificates.crt";

/// The roots as one PEM file, in the crate's order, 64 characters a line like OpenSSL writes.
pub fn ca_bundle() -> Vec<u8> {
    let mut out = String::new();
    for cert in webpki_root_certs::TLS_SERVER_ROOT_CERTS {
        let b64 = base64::engine::general_purpose::STANDARD.encode(cert.as_ref());
        out.push_str("-----BEGIN CERTIFICATE-----\n");
        for line in b64.as_bytes().chunks(64) {
            // Base64 output is ASCII, so every chunk is valid UTF-8.
            out.push_str(&String::from_utf8_lossy(line));
            out.push('\n');
        }
        out.push_str("-----END CERTIFICATE-----\n");
    }
    out.into_bytes()
}

#[cfg(test)]
mod tests {
    #[test]
    fn bundle_is_pem_with_every_root() {
        let text = String::from_utf8(super::ca_bundle()).expect("PEM is ASCII");
        let count = text.matches("-----BEGIN CERTIFICATE-----").count();
        assert_eq!(count, webpki_root_certs::TLS_SERVER_ROOT_CERTS.len());
        assert!(
            count > 100,
            "Mozilla's program has well over 100 roots, got {count}"
        );
        assert!(text.lines().all(|l| l.len() <= 64));
    }
}
