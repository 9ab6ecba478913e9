//! Talking to OCI registries with the distribution API: pushing an image (only the blobs the
//! registry lacks, then the manifest, then the artifacts about it) and pulling one by digest
//! into an image layout, every request retried when the failure may pass.
//!
//! Owns: the client, retries, credentials (a password that never prints), the protocol's
//! errors with what to do about them, and [`ImageRef`], an image named by digest. Knows
//! nothing of ECR, SSM or environments: the caller says where and with which credentials.

/// `advised!("what went wrong {x}"; "what to do {y}")`: an [`Error`] with advice.
macro_rules! advised {
    ($($msg:expr),+ ; $($advice:expr),+ $(,)?) => {
        ::anyhow::Error::new($crate::Error {
            message: format!($($msg),+),
            advice: Some(format!($($advice),+)),
        })
    };
}

mod image_ref;
mod pull;
mod push;
pub mod retry;

use std::fmt;

pub use image_ref::ImageRef;
pub use pull::{pull, revision};
pub use push::{Pushed, Registry};

/// Where an image goes: a repository of a registry, and what it is called in messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// What is pushed there, for messages and progress (an agent's id).
    pub name: String,
    /// `host[:port]`.
    pub host: String,
    pub repository: String,
}

impl Target {
    /// `host/repository`, the form ECR calls the repository URL.
    pub fn url(&self) -> String {
        format!("{}/{}", self.host, self.repository)
    }
}

/// A registry operation that failed, with what to do about it when the protocol tells
/// (a plain-HTTP registry, a read-only mirror, missing credentials, an outage).
#[derive(Debug)]
pub struct Error {
    pub message: String,
    pub advice: Option<String>,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}

pub(crate) use diagnostics::one_line;

/// Plain HTTP is used for registries on this machine only, like `skopeo --tls-verify=false`
/// would; everything else is HTTPS.
pub fn is_loopback(host: &str) -> bool {
    let name = match host.strip_prefix('[') {
        Some(rest) => rest.split(']').next().unwrap_or(rest),
        None => host.split(':').next().unwrap_or(host),
    };
    name == "localhost"
        || name == "::1"
        || name
            .parse::<std::net::Ipv4Addr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// A password that never prints.
#[derive(Clone)]
pub struct Secret(String);

impl Secret {
    pub fn new(password: String) -> Secret {
        Secret(password)
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

#[derive(Debug, Clone)]
pub enum Credentials {
    Anonymous,
    Basic { user: String, password: Secret },
}

impl Credentials {
    pub fn to_registry_auth(&self) -> oci_client::secrets::RegistryAuth {
        match self {
            Credentials::Anonymous => oci_client::secrets::RegistryAuth::Anonymous,
            Credentials::Basic { user, password } => oci_client::secrets::RegistryAuth::Basic(
                user.clone(),
                password.expose().to_string(),
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_this_machine_gets_plain_http() {
        assert!(is_loopback("127.0.0.1:5000"));
        assert!(is_loopback("localhost"));
        assert!(is_loopback("[::1]:5000"));
        assert!(!is_loopback("10.0.0.1:5000"));
        assert!(!is_loopback("123456789012.dkr.ecr.us-east-1.amazonaws.com"));
    }

    #[test]
    fn secrets_do_not_print() {
        let c = Credentials::Basic {
            user: "AWS".into(),
            password: Secret::new("hunter2".into()),
        };
        assert!(!format!("{c:?}").contains("hunter2"));
    }
}
