//! The settings of an environment's file the xtask itself reads: where its SSM parameters live,
//! its region, and the project name that prefixes every cloud name.
//!
//! Only the keys read here are rendered: pushing an image must not require the VPC and subnet
//! placeholders that only Terraform needs.

use anyhow::Context as _;

use crate::environment::{self, Env, tfvars::Tfvars};
use crate::project::Project;

/// The Terraform variable's default (see the stacks' `project_name`).
pub const DEFAULT_PROJECT_NAME: &str = "agentcore";

#[derive(Debug, Clone)]
pub struct Settings {
    pub env: Env,
    /// e.g. `/platform/dev`, without a trailing `/`.
    pub ssm_root: String,
    /// `aws_region` when its placeholder has a value; otherwise the SDK's default chain decides.
    pub region: Option<String>,
    /// `bedrock_region`: where the agents call Bedrock (`BEDROCK_REGION` of every runtime).
    pub bedrock_region: Option<String>,
    pub project_name: String,
}

impl Settings {
    pub fn load(project: &Project, env: Env) -> anyhow::Result<Settings> {
        let tfvars = Tfvars::load(project, env).map_err(diagnostics::Diagnostics)?;
        let body = hcl::parse(&tfvars.text)
            .with_context(|| format!("{}: not valid tfvars", tfvars.file.display()))?;
        let value = |key: &str| -> anyhow::Result<Option<String>> {
            let Some(attr) = body.attributes().find(|a| a.key() == key) else {
                return Ok(None);
            };
            let hcl::Expression::String(raw) = attr.expr() else {
                bail_help!("{}: `{key}` must be a string", tfvars.file.display(); "write `{key} = \"...\"`");
            };
            environment::render(&tfvars.file, raw, |name| std::env::var(name).ok())
                .map(Some)
                .map_err(|diags| anyhow::Error::new(diagnostics::Diagnostics(diags)))
        };
        let ssm_root = value("ssm_root_path")?
            .with_context(|| format!("{}: `ssm_root_path` is not set", tfvars.file.display()))?;
        let region = value("aws_region").ok().flatten().filter(|r| !r.is_empty());
        let bedrock_region = value("bedrock_region")
            .ok()
            .flatten()
            .filter(|r| !r.is_empty());
        let project_name = value("project_name")?.unwrap_or_else(|| DEFAULT_PROJECT_NAME.into());
        Ok(Settings {
            env,
            ssm_root: ssm_root.trim_end_matches('/').to_string(),
            region,
            bedrock_region,
            project_name,
        })
    }

    /// `<root>/<rest>`.
    pub fn param(&self, rest: &str) -> String {
        format!("{}/{rest}", self.ssm_root)
    }
}
