//! The pushed digests, recorded per environment in SSM for deploy and promotion to read:
//! `<root>/images/<agent-id>/digest` (`sha256:…`) and `<root>/images/<agent-id>/uri`
//! (`<repository_url>@sha256:…`).

use anyhow::Context as _;
use aws_sdk_ssm::types::ParameterType;

use super::upload::Pushed;
use crate::environment::settings::Settings;
use crate::error::HelpExt as _;

pub fn digest_param(settings: &Settings, agent: &str) -> String {
    settings.param(&format!("images/{agent}/digest"))
}

pub fn uri_param(settings: &Settings, agent: &str) -> String {
    settings.param(&format!("images/{agent}/uri"))
}

pub async fn write(
    ssm: &aws_sdk_ssm::Client,
    settings: &Settings,
    pushed: &Pushed,
) -> anyhow::Result<()> {
    for (name, value) in [
        (digest_param(settings, &pushed.agent), &pushed.digest),
        (
            uri_param(settings, &pushed.agent),
            &pushed.image.to_string(),
        ),
    ] {
        ssm.put_parameter()
            .name(&name)
            .value(value)
            .r#type(ParameterType::String)
            .overwrite(true)
            .description(format!(
                "Image of agent {} pushed by `cargo xtask push`",
                pushed.agent
            ))
            .send()
            .await
            .map_err(|e| anyhow::anyhow!(crate::error::one_line(&e)))
            .with_context(|| {
                format!(
                    "agent `{}` was pushed ({}), but recording it in SSM parameter {name} failed",
                    pushed.agent, pushed.image
                )
            })
            .with_help(|| {
                format!(
                    "check that your credentials allow ssm:PutParameter under {}, then push \
                     again (nothing is uploaded twice)",
                    settings.ssm_root
                )
            })?;
    }
    Ok(())
}
