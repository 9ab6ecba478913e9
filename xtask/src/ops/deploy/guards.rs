//! What keeps production safe: an explicit confirmation, a clean tree, and only the image
//! bytes that staging already runs.

use std::collections::BTreeMap;
use std::io::{BufRead, IsTerminal, Write};

use anyhow::bail;

use crate::Context;
use crate::environment::{Env, Environment};
use crate::ops::deployed::Deployed;
use oci_registry::ImageRef;

/// Proof that production's guards were passed: a deploy applies production only with one, and
/// only `production` makes one.
#[derive(Debug, Clone, Copy)]
pub struct Confirmed(());

/// Production deploys need `--yes` (or the environment's name typed at the prompt) and a clean
/// git tree: what runs in production must be a commit anyone can check out.
pub fn production(environment: &Environment, yes: bool) -> anyhow::Result<Confirmed> {
    match &environment.revision {
        Some(rev) if rev.is_dirty() => {
            bail_help!("refusing to deploy production from a dirty tree ({})", rev.tag(); "commit or stash your \
             changes; production runs only committed code")
        }
        Some(_) => {}
        None => bail!(
            "refusing to deploy production: this is not a git checkout, so what is deployed \
             cannot be traced to a commit"
        ),
    }
    confirm(Env::Production, yes, true, "deploy")?;
    Ok(Confirmed(()))
}

/// `--yes` (where `yes_allowed`), or the environment's name typed at an interactive prompt.
pub fn confirm(env: Env, yes: bool, yes_allowed: bool, action: &str) -> anyhow::Result<()> {
    if yes && yes_allowed {
        return Ok(());
    }
    if !std::io::stdin().is_terminal() {
        if yes_allowed {
            bail_help!("refusing to {action} {env} without confirmation"; "pass --yes (or run it in a \
                 terminal and type `{env}` when asked)");
        }
        bail_help!("refusing to {action} {env} without a typed confirmation: --yes is not enough here"; "run it in a terminal and type `{env}` when asked");
    }
    eprint!("You are about to {action} {env}. Type `{env}` to go on: ");
    std::io::stderr().flush()?;
    let mut answer = String::new();
    std::io::stdin().lock().read_line(&mut answer)?;
    if answer.trim() != env.name() {
        bail!("not confirmed: nothing was changed");
    }
    Ok(())
}

/// Every image production would run must be exactly what staging runs now (same digest).
pub fn same_as_staging(ctx: &Context, images: &BTreeMap<String, ImageRef>) -> anyhow::Result<()> {
    let staging = Environment::load(&ctx.project, Env::Staging)?;
    let running = Deployed::images(&ctx.project, &staging)?;
    let mut wrong = Vec::new();
    for (agent, image) in images {
        match running.get(agent) {
            Some(r) if r.digest == image.digest => {}
            Some(r) => wrong.push(format!(
                "{agent}: {} (staging runs {})",
                image.digest, r.digest
            )),
            None => wrong.push(format!(
                "{agent}: {} (staging does not run this agent)",
                image.digest
            )),
        }
    }
    if !wrong.is_empty() {
        bail_help!("production may only run images that staging runs:\n    {}", wrong.join("\n    "); "deploy and test \
             them in staging, then `cargo xtask promote staging production`");
    }
    Ok(())
}
