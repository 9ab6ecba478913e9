//! Rollback: an agent serves an image its environment ran before, without a build.
//!
//! The earlier images come from the environment's own history: every version the (versioned)
//! state bucket keeps of the agents stack's state names the images it ran. The rollback is a
//! deploy of the environment with that one agent's image set back — Terraform applies it, so
//! the runtime gets a new version pinned to the old digest, the managed endpoint moves to it,
//! and the state says exactly that. `plan` stays clean afterwards (it plans with what runs),
//! and the next `deploy` or `promote` moves the agent forward again. Pointing the endpoint at
//! an old runtime version behind Terraform's back would be drift that the next deploy undoes
//! silently.

use std::collections::BTreeMap;

use anyhow::Context as _;
use serde::Serialize;

use crate::Context;
use crate::environment::{Env, Environment};
use crate::ops::deploy::images::Source;
use crate::ops::deploy::{self, DeployOptions, Outcome, guards};
use crate::ops::deployed::Deployed;
use crate::ops::push::target;
use oci_registry::ImageRef;

pub struct RollbackOptions {
    pub env: Env,
    pub agent: String,
    /// A runtime version, or a digest (`sha256:…`, or at least 12 of its hex digits); default:
    /// the image the agent ran before the current one.
    pub to: Option<String>,
    pub yes: bool,
    /// Plan the rollback; change nothing.
    pub dry_run: bool,
}

/// One image the agent ran, newest first.
#[derive(Debug, Clone, Serialize)]
pub struct Ran {
    pub image: ImageRef,
    pub runtime_version: Option<String>,
    /// When the state that first named it (in this run of it) was written, RFC 3339.
    pub since: String,
    pub current: bool,
}

/// The images `agent` ran in `env`, newest first, one entry per stretch of one digest.
pub fn history(ctx: &Context, env: Env, agent: &str) -> anyhow::Result<Vec<Ran>> {
    let runtime = crate::async_runtime()?;
    let versions = runtime.block_on(Deployed::history(&ctx.project, env))?;
    let mut ran: Vec<Ran> = Vec::new();
    for (at, deployed) in versions {
        let Some(a) = deployed.agents.get(agent) else {
            continue;
        };
        let since = at
            .fmt(aws_sdk_s3::primitives::DateTimeFormat::DateTime)
            .unwrap_or_default();
        match ran.last_mut() {
            // Older states of the same stretch: it started earlier.
            Some(last) if last.image.digest == a.image.digest => {
                last.since = since;
                if last.runtime_version.is_none() {
                    last.runtime_version = a.runtime_version.clone();
                }
            }
            _ => ran.push(Ran {
                image: a.image.clone(),
                runtime_version: a.runtime_version.clone(),
                since,
                current: ran.is_empty(),
            }),
        }
    }
    Ok(ran)
}

/// What `--to` (or its absence) picks from the history.
pub fn choose<'a>(
    history: &'a [Ran],
    to: Option<&str>,
    agent: &str,
    env: Env,
) -> anyhow::Result<&'a Ran> {
    let listed = || {
        history
            .iter()
            .map(|r| {
                format!(
                    "{} (version {}, since {}){}",
                    r.image.digest,
                    r.runtime_version.as_deref().unwrap_or("?"),
                    r.since,
                    if r.current { ", current" } else { "" }
                )
            })
            .collect::<Vec<_>>()
            .join("\n  ")
    };
    let Some(current) = history.first() else {
        bail_help!("`{agent}` has never run in {env}"; "`cargo xtask deploy {env}` first");
    };
    let Some(to) = to else {
        return history.get(1).with_context(|| {
            format!(
                "`{agent}` has run only one image in {env} ({}): there is nothing to roll back to \
                 (the state bucket keeps the earlier states only when it is versioned, as \
                 `cargo xtask bootstrap {env}` makes it)",
                current.image.digest
            )
        });
    };
    let hex = to.trim_start_matches("sha256:").to_ascii_lowercase();
    let by_digest = hex.len() >= 12 && hex.bytes().all(|b| b.is_ascii_hexdigit());
    let found = history.iter().find(|r| {
        if by_digest {
            r.image
                .digest
                .trim_start_matches("sha256:")
                .starts_with(&hex)
        } else {
            r.runtime_version.as_deref() == Some(to)
        }
    });
    match found {
        Some(r) => Ok(r),
        None => bail_help!(
            "`{agent}` never ran {} `{to}` in {env}", if by_digest { "digest" } else { "version" };
            "it ran, newest first:\n  {}", listed()
        ),
    }
}

/// Deploys `env` with `agent` set back to an image it ran before.
pub fn rollback(ctx: &Context, options: &RollbackOptions) -> anyhow::Result<(Ran, Outcome)> {
    let (env, agent) = (options.env, options.agent.as_str());
    let environment = Environment::load_for_terraform(&ctx.project, env)?;
    let runtime = crate::async_runtime()?;
    let deployed = runtime.block_on(Deployed::read(&ctx.project, &environment))?;
    deployed.agent(&environment, agent)?;
    let history = history(ctx, env, agent)?;
    let chosen = choose(&history, options.to.as_deref(), agent, env)?.clone();
    if chosen.current {
        bail_help!("`{agent}` already runs {} in {env}", chosen.image.digest; "name an earlier one with --to (`cargo xtask rollback {env} {agent} --list`)");
    }
    // The bytes must still be there: a registry's lifecycle rule may have expired them.
    runtime
        .block_on(async {
            let credentials = target::pull_credentials(chosen.image.host()).await?;
            oci_registry::revision(&chosen.image, &credentials).await
        })
        .with_context(|| format!("{} is no longer in its registry", chosen.image))?;

    let confirmed = if env == Env::Production && !options.dry_run {
        Some(guards::production(&environment, options.yes)?)
    } else {
        None
    };
    let mut images: BTreeMap<String, ImageRef> = deployed
        .agents
        .iter()
        .map(|(id, a)| (id.clone(), a.image.clone()))
        .collect();
    images.insert(agent.to_string(), chosen.image.clone());
    ctx.out.step(format!(
        "{agent} in {env}: {} → {} (version {})",
        history[0].image.digest,
        chosen.image.digest,
        chosen.runtime_version.as_deref().unwrap_or("?")
    ));
    let outcome = deploy::deploy(
        ctx,
        &environment,
        &DeployOptions {
            only: None,
            plan_only: options.dry_run,
            allow_destroy: false,
            images: Source::Previous(images),
            break_lock: false,
            confirmed,
        },
    )?;
    Ok((chosen, outcome))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ran(hex: char, version: &str, current: bool) -> Ran {
        Ran {
            image: ImageRef::new(
                "registry.example/agentcore/dev/triage",
                format!("sha256:{}", hex.to_string().repeat(64)),
            ),
            runtime_version: Some(version.into()),
            since: "2026-12-01T08:00:00Z".into(),
            current,
        }
    }

    #[test]
    fn the_one_before_by_default_else_by_version_or_digest() {
        let history = [
            ran('c', "3", true),
            ran('b', "2", false),
            ran('a', "1", false),
        ];
        let pick = |to: Option<&str>| {
            choose(&history, to, "triage", Env::Dev).map(|r| r.runtime_version.clone())
        };
        assert_eq!(pick(None).unwrap(), Some("2".into()));
        assert_eq!(pick(Some("1")).unwrap(), Some("1".into()));
        assert_eq!(pick(Some("aaaaaaaaaaaa")).unwrap(), Some("1".into()));
        assert_eq!(
            pick(Some(&format!("sha256:{}", "b".repeat(64)))).unwrap(),
            Some("2".into())
        );
        let err = format!("{:#}", pick(Some("9")).unwrap_err());
        assert!(err.contains("never ran version `9`"), "{err}");
        let err = format!(
            "{:#}",
            choose(&history[..1], None, "triage", Env::Dev).unwrap_err()
        );
        assert!(err.contains("nothing to roll back to"), "{err}");
    }
}
