//! Where each agent's image goes, and with which credentials.
//!
//! Without `--registry` the destination is the environment's ECR: the platform phase records
//! each agent's repository URL in SSM (`<root>/ecr/<agent-id>/repository_url`), and ECR's
//! `GetAuthorizationToken` gives the registry password. The password lives only in a
//! [`Secret`], whose `Debug` is redacted and which has no `Display`, so it cannot end up in a
//! message by accident.

use anyhow::{Context as _, bail};
use base64::Engine as _;

use crate::environment::settings::Settings;
use crate::error::HelpExt as _;

pub use oci_registry::Target as Destination;
pub use oci_registry::{Credentials, Secret};

/// `HOST[:PORT][/PREFIX]` from `--registry`: the repository of an agent is
/// `PREFIX/<env>/<agent-id>`, with the project name as the default prefix.
pub fn from_flag(
    flag: &str,
    settings: &Settings,
    ids: &[String],
) -> anyhow::Result<Vec<Destination>> {
    if flag.contains("://") {
        bail_help!("--registry takes HOST[:PORT][/PREFIX], not a URL: `{flag}`"; "drop the scheme; \
             HTTPS is used, except for registries on 127.0.0.1 or localhost");
    }
    let (host, prefix) = match flag.split_once('/') {
        Some((host, prefix)) => (host, prefix.trim_matches('/')),
        None => (flag, settings.project_name.as_str()),
    };
    if host.is_empty() || host.contains(char::is_whitespace) {
        bail_help!("--registry `{flag}` has no host"; "e.g. --registry 127.0.0.1:5000/agentcore");
    }
    let prefix = if prefix.is_empty() {
        settings.project_name.as_str()
    } else {
        prefix
    };
    let destinations: Vec<Destination> = ids
        .iter()
        .map(|id| Destination {
            name: id.clone(),
            host: host.to_string(),
            repository: format!("{prefix}/{}/{id}", settings.env),
        })
        .collect();
    for d in &destinations {
        check_repository(&d.repository).with_context(|| format!("--registry `{flag}`"))?;
    }
    Ok(destinations)
}

/// The repositories the platform phase recorded in SSM for `ids`.
pub async fn from_ssm(
    ssm: &aws_sdk_ssm::Client,
    settings: &Settings,
    ids: &[String],
) -> anyhow::Result<Vec<Destination>> {
    let names: Vec<String> = ids
        .iter()
        .map(|id| settings.param(&format!("ecr/{id}/repository_url")))
        .collect();
    let mut found = std::collections::HashMap::new();
    // GetParameters takes at most 10 names.
    for chunk in names.chunks(10) {
        let out = ssm
            .get_parameters()
            .set_names(Some(chunk.to_vec()))
            .send()
            .await
            .map_err(|e| anyhow::anyhow!(crate::error::one_line(&e)))
            .with_context(|| {
                format!(
                    "cannot read the ECR repositories of {} from SSM under {}",
                    settings.env, settings.ssm_root
                )
            })
            .help(
                "check your AWS credentials and region (`aws sts get-caller-identity`), or push \
                 to another registry with --registry HOST[/PREFIX]",
            )?;
        for p in out.parameters() {
            if let (Some(name), Some(value)) = (p.name(), p.value()) {
                found.insert(name.to_string(), value.to_string());
            }
        }
    }
    let missing: Vec<&str> = names
        .iter()
        .filter(|n| !found.contains_key(*n))
        .map(String::as_str)
        .collect();
    if !missing.is_empty() {
        bail_help!("no ECR repository is recorded for {} (missing SSM parameter(s): {})", settings.env, missing.join(", "); "deploy the \
             platform phase first (`cargo xtask deploy {}`), which creates the repositories, or push \
             to another registry with --registry HOST[/PREFIX]", settings.env);
    }
    ids.iter()
        .zip(&names)
        .map(|(id, name)| {
            let url = &found[name];
            let url = url.trim().trim_start_matches("https://");
            let Some((host, repository)) = url.split_once('/') else {
                bail_help!("SSM parameter {name} holds `{url}`, not a repository URL (HOST/REPOSITORY)"; "re-apply the platform phase");
            };
            check_repository(repository).with_context(|| format!("SSM parameter {name}"))?;
            Ok(Destination {
            name: id.clone(),
                host: host.to_string(),
                repository: repository.to_string(),
            })
        })
        .collect()
}

fn check_repository(repo: &str) -> anyhow::Result<()> {
    let ok = repo.split('/').all(|part| {
        !part.is_empty()
            && part.chars().all(|c| {
                c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-')
            })
    });
    if !ok {
        bail!(
            "`{repo}` is not a valid repository name (lower-case letters, digits, `.`, `_`, `-`, `/`)"
        );
    }
    Ok(())
}

/// `ACCOUNT.dkr.ecr.REGION.amazonaws.com` (and `.com.cn`): ECR wants its own credentials.
pub fn is_ecr_host(host: &str) -> bool {
    let name = host.split(':').next().unwrap_or(host);
    name.contains(".dkr.ecr.")
        && (name.ends_with(".amazonaws.com") || name.ends_with(".amazonaws.com.cn"))
}

/// The region of an ECR registry host (`<account>.dkr.ecr.<region>.amazonaws.com`).
pub fn ecr_region(host: &str) -> Option<&str> {
    let name = host.split(':').next().unwrap_or(host);
    let rest = name.split_once(".dkr.ecr.")?.1;
    rest.split_once('.').map(|(region, _)| region)
}

/// Registry credentials from ECR's `GetAuthorizationToken` (valid 12 hours). For a repository
/// host of another account, that account's registry is asked for.
pub async fn ecr_credentials(ecr: &aws_sdk_ecr::Client, host: &str) -> anyhow::Result<Credentials> {
    let mut request = ecr.get_authorization_token();
    let account = host.split('.').next().unwrap_or_default();
    if is_ecr_host(host) && account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit()) {
        #[allow(deprecated)] // registryIds is deprecated but still the way to name another account
        {
            request = request.registry_ids(account);
        }
    }
    let out = request.send().await.map_err(|e| {
        helped!("cannot get ECR credentials for {host}: {}", crate::error::one_line(&e); "check your AWS credentials \
             (`aws sts get-caller-identity`) and that they allow ecr:GetAuthorizationToken")
    })?;
    let token = out
        .authorization_data()
        .first()
        .and_then(|d| d.authorization_token())
        .context("ECR returned no authorization token")?;
    // The token is base64 of `AWS:<password>`. Errors below must not quote it.
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(token)
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .context("ECR returned an authorization token that is not base64 text")?;
    let (user, password) = decoded
        .split_once(':')
        .context("ECR returned an authorization token that is not `user:password`")?;
    Ok(Credentials::Basic {
        user: user.to_string(),
        password: Secret::new(password.to_string()),
    })
}

/// What reading an image from `host` takes: ECR's token for an ECR host (in the region its name
/// gives, with the usual credential chain), nothing for any other registry.
pub async fn pull_credentials(host: &str) -> anyhow::Result<Credentials> {
    if !is_ecr_host(host) {
        return Ok(Credentials::Anonymous);
    }
    let config = crate::environment::aws_config(ecr_region(host)).await;
    ecr_credentials(&aws_sdk_ecr::Client::new(&config), host).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::environment::Env;

    fn settings() -> Settings {
        Settings {
            env: Env::Dev,
            ssm_root: "/platform/dev".into(),
            region: None,
            bedrock_region: None,
            project_name: "agentcore".into(),
        }
    }

    #[test]
    fn registry_flag_gives_prefix_env_and_agent() {
        let ids = vec!["assistant".to_string()];
        let d = from_flag("127.0.0.1:5000", &settings(), &ids).unwrap();
        assert_eq!(d[0].url(), "127.0.0.1:5000/agentcore/dev/assistant");
        let d = from_flag("reg.example.com/team/x/", &settings(), &ids).unwrap();
        assert_eq!(d[0].url(), "reg.example.com/team/x/dev/assistant");
        assert!(from_flag("http://127.0.0.1:5000", &settings(), &ids).is_err());
        assert!(from_flag("host/Upper", &settings(), &ids).is_err());
    }

    #[test]
    fn ecr_hosts_are_recognised() {
        assert!(is_ecr_host("123456789012.dkr.ecr.us-east-1.amazonaws.com"));
        assert!(!is_ecr_host("127.0.0.1:5000"));
    }
}
