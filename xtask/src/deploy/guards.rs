//! What keeps production safe: an explicit confirmation, a clean tree, and only the image
//! bytes that staging already runs.

use std::collections::BTreeMap;
use std::io::{BufRead, IsTerminal, Write};

use anyhow::bail;

use super::stacks::EnvStacks;
use crate::Context;
use crate::environment::Env;

/// Production deploys need `--yes` (or the environment's name typed at the prompt) and a clean
/// git tree: what runs in production must be a commit anyone can check out.
pub fn production(ctx: &Context, yes: bool) -> anyhow::Result<()> {
    match crate::push::revision::current(&ctx.project) {
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
    confirm(Env::Production, yes, "deploy")
}

/// `--yes`, or the environment's name typed at an interactive prompt.
pub fn confirm(env: Env, yes: bool, action: &str) -> anyhow::Result<()> {
    if yes {
        return Ok(());
    }
    if !std::io::stdin().is_terminal() {
        bail_help!("refusing to {action} {env} without confirmation"; "pass --yes (or run it in a \
             terminal and type `{env}` when asked)");
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
pub fn same_as_staging(ctx: &Context, images: &BTreeMap<String, String>) -> anyhow::Result<()> {
    let staging = EnvStacks::prepare(ctx, Env::Staging)?;
    let running = super::images::deployed(ctx, &staging, Env::Staging)?;
    let mut wrong = Vec::new();
    for (agent, uri) in images {
        let digest = digest_of(uri);
        match running.get(agent).map(|u| digest_of(u)) {
            Some(d) if d == digest => {}
            Some(d) => wrong.push(format!("{agent}: {digest} (staging runs {d})")),
            None => wrong.push(format!(
                "{agent}: {digest} (staging does not run this agent)"
            )),
        }
    }
    if !wrong.is_empty() {
        bail_help!("production may only run images that staging runs:\n    {}", wrong.join("\n    "); "deploy and test \
             them in staging, then `cargo xtask promote staging production`");
    }
    Ok(())
}

/// `sha256:…` of `repo@sha256:…`.
pub fn digest_of(uri: &str) -> &str {
    uri.rsplit_once('@').map_or(uri, |(_, d)| d)
}
