//! `cargo xtask rollback <env> <agent>`: serve an image the agent ran before, without a build
//! (`ops::rollback`: a deploy with that image, so Terraform's state stays true).

use std::process::ExitCode;

use crate::Context;
use crate::environment::Env;
use crate::ops::rollback::{self, RollbackOptions};
use crate::output::table;

#[derive(clap::Args)]
#[command(after_help = "Examples:
  cargo xtask rollback dev assistant                  the image it ran before the current one
  cargo xtask rollback staging triage --list          what it ran, newest first
  cargo xtask rollback staging triage --to 7          a runtime version it ran
  cargo xtask rollback production triage --to sha256:3f2a9c41d0e7 --yes
  cargo xtask rollback production triage --dry-run    the plan, nothing applied

The earlier images are read from the versions the state bucket keeps of the agents stack's
state. The rollback is a deploy of the environment with that one image set back: the runtime
gets a new version pinned to the old digest and its endpoint moves there, as Terraform records.
The next `deploy` or `promote` moves the agent forward again.")]
pub struct Args {
    pub env: Env,
    #[arg(value_name = "AGENT")]
    pub agent: String,
    /// A runtime version or an image digest (`sha256:…`, or 12+ of its hex digits) it ran.
    #[arg(long, value_name = "VERSION|DIGEST")]
    pub to: Option<String>,
    /// List the images the agent ran in the environment, newest first; change nothing.
    #[arg(long, conflicts_with_all = ["to", "dry_run", "yes"])]
    pub list: bool,
    /// Plan the rollback; apply nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Confirm a production rollback without the prompt.
    #[arg(long)]
    pub yes: bool,
}

pub fn run(ctx: &Context, args: Args) -> anyhow::Result<ExitCode> {
    if args.list {
        let history = rollback::history(ctx, args.env, &args.agent)?;
        if ctx.out.json {
            ctx.out.print_json(&history);
        } else {
            let rows: Vec<Vec<String>> = history
                .iter()
                .map(|r| {
                    vec![
                        r.image.digest.clone(),
                        r.runtime_version.clone().unwrap_or_else(|| "?".into()),
                        r.since.clone(),
                        if r.current {
                            "current".into()
                        } else {
                            String::new()
                        },
                    ]
                })
                .collect();
            println!("{}", table(&["DIGEST", "VERSION", "SINCE", ""], &rows));
        }
        return Ok(ExitCode::SUCCESS);
    }
    let options = RollbackOptions {
        env: args.env,
        agent: args.agent,
        to: args.to,
        yes: args.yes,
        dry_run: args.dry_run,
    };
    let (_, outcome) = rollback::rollback(ctx, &options)?;
    outcome.finish(ctx)?;
    Ok(ExitCode::SUCCESS)
}
