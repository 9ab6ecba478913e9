//! The pushed digests, recorded per environment in SSM for deploy and promotion to read:
//! `<root>/images/<agent-id>/digest` (`sha256:…`) and `<root>/images/<agent-id>/uri`
//! (`<repository_url>@sha256:…`); and for whoever audits an image, its SBOM's digest in the
//! same repository, `<root>/images/<agent-id>/sbom` (removed when the image has none, so it
//! never describes another image).

use anyhow::Context as _;
use aws_sdk_ssm::types::ParameterType;

use crate::environment::settings::Settings;
use crate::error::HelpExt as _;
use oci_registry::Pushed;

pub fn digest_param(settings: &Settings, agent: &str) -> String {
    settings.param(&format!("images/{agent}/digest"))
}

pub fn uri_param(settings: &Settings, agent: &str) -> String {
    settings.param(&format!("images/{agent}/uri"))
}

pub fn sbom_param(settings: &Settings, agent: &str) -> String {
    settings.param(&format!("images/{agent}/sbom"))
}

pub async fn write(
    ssm: &aws_sdk_ssm::Client,
    settings: &Settings,
    pushed: &Pushed,
) -> anyhow::Result<()> {
    let sbom = sbom_param(settings, &pushed.name);
    let failed = |name: &str| {
        format!(
            "agent `{}` was pushed ({}), but recording it in SSM parameter {name} failed",
            pushed.name, pushed.image
        )
    };
    let help = || {
        format!(
            "check that your credentials allow ssm:PutParameter and ssm:DeleteParameter under \
             {}, then push again (nothing is uploaded twice)",
            settings.ssm_root
        )
    };
    let image = format!(
        "Image of agent {} pushed by `cargo xtask push`",
        pushed.name
    );
    let uri = pushed.image.to_string();
    let mut values = vec![
        (
            digest_param(settings, &pushed.name),
            &pushed.digest,
            image.clone(),
        ),
        (uri_param(settings, &pushed.name), &uri, image),
    ];
    match &pushed.sbom {
        Some(digest) => values.push((
            sbom.clone(),
            digest,
            format!(
                "SBOM (SPDX) of the image of agent {} pushed by `cargo xtask push`, in its \
                 repository",
                pushed.name
            ),
        )),
        None => {
            let deleted = ssm.delete_parameter().name(&sbom).send().await;
            if let Err(err) = deleted
                && !err
                    .as_service_error()
                    .is_some_and(|e| e.is_parameter_not_found())
            {
                return Err(anyhow::anyhow!(crate::error::one_line(&err)))
                    .with_context(|| failed(&sbom))
                    .with_help(help);
            }
        }
    }
    for (name, value, description) in values {
        ssm.put_parameter()
            .name(&name)
            .value(value)
            .r#type(ParameterType::String)
            .overwrite(true)
            .description(description)
            .send()
            .await
            .map_err(|e| anyhow::anyhow!(crate::error::one_line(&e)))
            .with_context(|| failed(&name))
            .with_help(help)?;
    }
    Ok(())
}
