//! An image as deployments name it: a repository and a digest, never a mutable tag.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// `<registry host>/<repository>@sha256:<hex>`, parsed once where it enters the program (a
/// Terraform output, a push result) and passed around as a value.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct ImageRef {
    /// `host[:port]/path`, e.g. `123456789012.dkr.ecr.eu-west-1.amazonaws.com/agentcore/dev/triage`.
    pub repository: String,
    /// `sha256:<64 hex>`.
    pub digest: String,
}

impl ImageRef {
    pub fn new(repository: impl Into<String>, digest: impl Into<String>) -> ImageRef {
        ImageRef {
            repository: repository.into(),
            digest: digest.into(),
        }
    }

    /// Parses `repo@sha256:…`; an image named by tag (or anything else) is refused:
    /// deployments never use a mutable tag.
    pub fn parse(text: &str) -> Result<ImageRef, String> {
        let refused = || {
            format!(
                "image `{text}` is not pinned by digest (`<repository>@sha256:<64 hex>`): deployments never use a mutable tag"
            )
        };
        let (repository, digest) = text.rsplit_once('@').ok_or_else(refused)?;
        let hex = digest.strip_prefix("sha256:").ok_or_else(refused)?;
        if repository.is_empty()
            || hex.len() != 64
            || !hex
                .bytes()
                .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
        {
            return Err(refused());
        }
        Ok(ImageRef::new(repository, digest))
    }

    /// The registry host (with its port): the repository's first path segment.
    pub fn host(&self) -> &str {
        self.repository
            .split_once('/')
            .map_or(self.repository.as_str(), |(h, _)| h)
    }
}

impl fmt::Display for ImageRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}@{}", self.repository, self.digest)
    }
}

impl Serialize for ImageRef {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for ImageRef {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<ImageRef, D::Error> {
        let text = String::deserialize(d)?;
        ImageRef::parse(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_digest_references_only() {
        let hex = "a".repeat(64);
        let r = ImageRef::parse(&format!("127.0.0.1:5000/agentcore/dev/triage@sha256:{hex}"))
            .expect("parse");
        assert_eq!(r.host(), "127.0.0.1:5000");
        assert_eq!(r.repository, "127.0.0.1:5000/agentcore/dev/triage");
        assert_eq!(
            r.to_string(),
            format!("127.0.0.1:5000/agentcore/dev/triage@sha256:{hex}")
        );
        for bad in [
            "repo:latest".to_string(),
            format!("repo@md5:{hex}"),
            "repo@sha256:abc".to_string(),
            format!("@sha256:{hex}"),
        ] {
            assert!(ImageRef::parse(&bad).is_err(), "{bad}");
        }
        let json = serde_json::to_string(&r).expect("json");
        assert_eq!(serde_json::from_str::<ImageRef>(&json).expect("back"), r);
    }
}
