//! Where an environment's Terraform state lives: `infra/envs/<env>.backend.hcl`, rendered.

use std::path::PathBuf;

use anyhow::Context as _;

use super::{Env, render};
use crate::error::HelpExt as _;
use crate::project::Project;

/// The rendered backend settings: the text Terraform gets, and what the xtask reads of it
/// (the state bucket holds the deploy lock too).
#[derive(Debug, Clone)]
pub struct Backend {
    /// Relative to the workspace root, for messages.
    pub file: PathBuf,
    pub rendered: String,
    pub bucket: String,
    pub region: Option<String>,
    pub path_style: bool,
}

impl Backend {
    /// Reads and renders `infra/envs/<env>.backend.hcl` (its `${NAME}` placeholders from the
    /// process environment).
    pub fn load(project: &Project, env: Env) -> anyhow::Result<Backend> {
        let path = project.envs_dir().join(format!("{env}.backend.hcl"));
        let file = project.rel(&path).to_path_buf();
        let text = std::fs::read_to_string(&path)
            .with_context(|| {
                format!(
                    "cannot read {}, the backend settings of `{env}`",
                    file.display()
                )
            })
            .help(
                "create it like infra/envs/dev.backend.hcl (bucket, region, encrypt, use_lockfile)",
            )?;
        let rendered = render(&file, &text, |name| std::env::var(name).ok())
            .map_err(diagnostics::Diagnostics)?;
        Backend::parse(file, rendered)
    }

    fn parse(file: PathBuf, rendered: String) -> anyhow::Result<Backend> {
        let body = hcl::parse(&rendered)
            .with_context(|| format!("{}: not valid HCL after rendering", file.display()))?;
        let string = |key: &str| {
            body.attributes()
                .find(|a| a.key() == key)
                .and_then(|a| match a.expr() {
                    hcl::Expression::String(s) if !s.trim().is_empty() => Some(s.clone()),
                    _ => None,
                })
        };
        let Some(bucket) = string("bucket") else {
            bail_help!("{} sets no `bucket`", file.display(); "add `bucket = \"${{TF_STATE_BUCKET}}\"` (or a literal name)");
        };
        if !is_bucket_name(&bucket) {
            bail_help!("{}: `{bucket}` is not a valid S3 bucket name", file.display(); "3-63 characters: lower-case \
                 letters, digits, `-` and `.`, starting and ending with a letter or digit");
        }
        let path_style = body
            .attributes()
            .find(|a| a.key() == "use_path_style")
            .is_some_and(|a| matches!(a.expr(), hcl::Expression::Bool(true)));
        Ok(Backend {
            region: string("region"),
            file,
            rendered,
            bucket,
            path_style,
        })
    }

    /// An S3 client for the state bucket: its region when the settings name one.
    pub async fn s3(&self) -> aws_sdk_s3::Client {
        let config = super::aws_config(self.region.as_deref()).await;
        let s3 = aws_sdk_s3::config::Builder::from(&config)
            .force_path_style(self.path_style)
            .build();
        aws_sdk_s3::Client::from_conf(s3)
    }
}

pub fn is_bucket_name(name: &str) -> bool {
    let ends_ok = |c: Option<char>| c.is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
    (3..=63).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.')
        && ends_ok(name.chars().next())
        && ends_ok(name.chars().last())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_bucket_region_and_path_style() {
        let b = Backend::parse(
            "dev.backend.hcl".into(),
            "bucket = \"acme-tf\"\nregion = \"eu-west-1\"\nuse_path_style = true\n".into(),
        )
        .expect("parse");
        assert_eq!(
            (b.bucket.as_str(), b.region.as_deref(), b.path_style),
            ("acme-tf", Some("eu-west-1"), true)
        );
        assert!(Backend::parse("x".into(), "region = \"a\"\n".into()).is_err());
        assert!(Backend::parse("x".into(), "bucket = \"Bad_Name\"\n".into()).is_err());
    }

    #[test]
    fn bucket_names() {
        assert!(is_bucket_name("acme-tfstate-dev"));
        assert!(!is_bucket_name("Acme"));
        assert!(!is_bucket_name("-acme"));
        assert!(!is_bucket_name("ab"));
    }
}
