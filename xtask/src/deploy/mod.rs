//! `cargo xtask deploy <env>`: the seed's deployment sequence as one command, safe to repeat.
//!
//! platform → images → agents → workflows. Each stack is planned to a file, summarised, and
//! exactly that plan applied; an empty plan is not applied, so a second deploy changes nothing.
//! A failing phase stops the run; the phases before it stay applied and a re-run continues.

pub mod guards;
pub mod images;
pub mod lock;
pub mod stacks;

use std::collections::BTreeMap;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context as _, bail};
use serde::Serialize;

use crate::Context;
use crate::environment::Env;
use crate::output::table;
use stacks::{EnvStacks, Outputs, Phase};
use terraform::{PlanSummary, Planned, Stack};

#[derive(clap::Args)]
#[command(after_help = "Examples:
  cargo xtask deploy dev                      every phase, in order
  cargo xtask deploy dev --plan               plan every stack, apply nothing
  cargo xtask deploy dev --dry-run            print every command that would run
  cargo xtask deploy dev --only agents        one phase (earlier phases' outputs are read)
  cargo xtask deploy production --yes         needs a clean tree and the digests staging runs

The environment file infra/envs/<env>.tfvars and infra/envs/<env>.backend.hcl are rendered with
their ${PLACEHOLDERS} from the process environment; each stack keeps its state at
<env>/<stack>.tfstate in the environment's state bucket.")]
pub struct Args {
    /// dev, staging or production.
    pub env: Env,
    /// Run only this phase.
    #[arg(long, value_enum)]
    pub only: Option<Phase>,
    /// Plan every stack; apply nothing.
    #[arg(long)]
    pub plan: bool,
    /// Print what would run (commands, with secrets redacted); change nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Confirm a production deploy without the interactive prompt.
    #[arg(long)]
    pub yes: bool,
    /// Allow plans that destroy resources in production (e.g. removing an agent).
    #[arg(long)]
    pub allow_destroy: bool,
    /// Push to this OCI registry instead of the environment's ECR (HOST[:PORT][/PREFIX]).
    #[arg(long, value_name = "HOST[/PREFIX]")]
    pub registry: Option<String>,
    /// Remove a deploy lock left behind by a run that died, then deploy.
    #[arg(long)]
    pub break_lock: bool,
    /// Set by `promote`, which checks the production guards before it edits blueprints.
    #[arg(skip)]
    pub guards_checked: bool,
}

/// What one phase did, for the timeline.
#[derive(Debug, Clone, Serialize)]
pub struct PhaseRun {
    pub phase: Phase,
    pub result: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub plan: Option<PlanSummary>,
    pub applied: bool,
    pub seconds: f64,
}

#[derive(Serialize)]
struct Report<'a> {
    ok: bool,
    env: Env,
    phases: &'a [PhaseRun],
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
    agent_images: &'a BTreeMap<String, String>,
}

/// What a run did: the timeline, the images pinned, and how it ended.
pub struct Outcome {
    pub timeline: Vec<PhaseRun>,
    pub agent_images: BTreeMap<String, String>,
    pub result: anyhow::Result<()>,
}

impl Outcome {
    /// Whether any stack had changes (planned or applied).
    pub fn changed(&self) -> bool {
        self.timeline.iter().any(|r| r.plan.is_some())
    }

    /// Prints the timeline (or the JSON report) and turns the result into an exit code.
    pub fn report(self, ctx: &Context, env: Env, success: ExitCode) -> anyhow::Result<ExitCode> {
        if ctx.out.json {
            ctx.out.print_json(&Report {
                ok: self.result.is_ok(),
                env,
                phases: &self.timeline,
                error: self.result.as_ref().err().map(|e| format!("{e:#}")),
                agent_images: &self.agent_images,
            });
            return Ok(if self.result.is_ok() {
                success
            } else {
                ExitCode::FAILURE
            });
        }
        print_timeline(env, &self.timeline);
        self.result.map(|()| success)
    }
}

pub fn run(ctx: &Context, args: Args) -> anyhow::Result<ExitCode> {
    // Production never builds: it runs the bytes staging runs (`promote staging production`).
    let images = if args.env == Env::Production {
        images::Source::Deployed
    } else {
        images::Source::Build {
            registry: args.registry.clone(),
        }
    };
    if args.dry_run {
        let stacks = EnvStacks::prepare(ctx, args.env)?;
        return dry_run(ctx, &args, &stacks);
    }
    execute(ctx, &args, images)?.report(ctx, args.env, ExitCode::SUCCESS)
}

/// The deploy proper, shared with `plan` and `promote`. Errors before any phase ran (bad
/// settings, a refused guard, a held lock) are returned; a phase's failure is in the outcome.
pub fn execute(ctx: &Context, args: &Args, images: images::Source) -> anyhow::Result<Outcome> {
    let env = args.env;
    let stacks = EnvStacks::prepare(ctx, env)?;
    if env == Env::Production && !args.plan && !args.guards_checked {
        guards::production(ctx, args.yes)?;
    }
    terraform::catch_interrupts();

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let backend = &stacks.backend;
    if args.break_lock
        && let Some(h) = runtime.block_on(lock::break_lock(backend, env))?
    {
        ctx.out.step(format!(
            "removed the deploy lock of {}@{} (pid {})",
            h.who, h.host, h.pid
        ));
    }
    let lock = if args.plan {
        None
    } else {
        let command = format!("cargo xtask deploy {env}");
        Some(runtime.block_on(lock::DeployLock::acquire(backend, env, &command))?)
    };

    let mut timeline = Vec::new();
    let mut agent_images = BTreeMap::new();
    let mut result = run_phases(ctx, args, &stacks, images, &mut timeline, &mut agent_images);
    if let Some(lock) = lock
        && let Err(err) = runtime.block_on(lock.release())
        && result.is_ok()
    {
        result = Err(err);
    }
    Ok(Outcome {
        timeline,
        agent_images,
        result,
    })
}

fn run_phases(
    ctx: &Context,
    args: &Args,
    stacks: &EnvStacks,
    images: images::Source,
    timeline: &mut Vec<PhaseRun>,
    agent_images: &mut BTreeMap<String, String>,
) -> anyhow::Result<()> {
    let env = args.env;
    let mut outputs = Outputs::new();
    for phase in Phase::ALL {
        let selected = args.only.is_none_or(|only| only == phase);
        if terraform::interrupted() {
            bail!(
                "interrupted: stopped before phase `{}`; run the deploy again to continue",
                phase.name()
            );
        }
        let start = Instant::now();
        if phase == Phase::Images {
            // Agents and workflows need the images even when only they run.
            if args.only.is_none_or(|only| only >= Phase::Images) {
                let source = if selected {
                    &images
                } else {
                    &images::Source::Deployed
                };
                *agent_images = images::resolve(ctx, env, stacks, source)
                    .with_context(|| format!("phase `images` of {env} failed"))?;
                outputs.insert("agent_images".into(), serde_json::to_value(&*agent_images)?);
                if selected {
                    timeline.push(PhaseRun {
                        phase,
                        result: format!("{} image(s)", agent_images.len()),
                        plan: None,
                        applied: false,
                        seconds: start.elapsed().as_secs_f64(),
                    });
                }
            }
            continue;
        }
        let Some(stack) = stacks.stack(phase) else {
            continue;
        };
        let t = ctx.out.timed(format!("{env} / {}", phase.name()));
        stack.init(&ctx.out)?;
        if !selected {
            // An earlier phase of `--only`: read its outputs, change nothing.
            if args.only.is_some_and(|o| o > phase) {
                collect_outputs(stack, phase, &mut outputs)?;
            }
            t.done();
            continue;
        }
        stack.write_inputs(&outputs)?;
        let planned = stack
            .plan(&ctx.out, false)
            .with_context(|| format!("phase `{}` of {env} failed at plan", phase.name()))?;
        let run = match planned {
            Planned::NoChanges => PhaseRun {
                phase,
                result: "no changes".into(),
                plan: None,
                applied: false,
                seconds: 0.0,
            },
            Planned::Changes(summary) => {
                ctx.out.step(format!("{env} / {}: {summary}", phase.name()));
                let guarded = env == Env::Production && !args.allow_destroy && !args.plan;
                if guarded && summary.destroy > 0 {
                    bail_help!("the plan of `{}` in production destroys {} resource(s):\n    {}", phase.name(), summary.destroy, summary.destroyed.join("\n    "); "\
                         if that is intended (e.g. an agent was removed), deploy again with \
                         --allow-destroy");
                }
                let applied = !args.plan;
                if applied {
                    stack.apply(&ctx.out).with_context(|| {
                        format!(
                            "phase `{}` of {env} failed at apply; the phases before it stay \
                             applied, a re-run continues from here",
                            phase.name()
                        )
                    })?;
                }
                PhaseRun {
                    phase,
                    result: if applied { "applied" } else { "planned" }.into(),
                    plan: Some(summary),
                    applied,
                    seconds: 0.0,
                }
            }
        };
        collect_outputs(stack, phase, &mut outputs)?;
        let seconds = t.done().as_secs_f64();
        timeline.push(PhaseRun { seconds, ..run });
        if terraform::interrupted() {
            bail!(
                "interrupted after phase `{}`; run the deploy again to continue",
                phase.name()
            );
        }
    }
    Ok(())
}

/// Adds a stack's outputs to what later stacks receive.
fn collect_outputs(stack: &Stack, phase: Phase, outputs: &mut Outputs) -> anyhow::Result<()> {
    let found = stack
        .outputs()
        .with_context(|| format!("cannot read the outputs of phase `{}`", phase.name()))?;
    outputs.extend(found);
    Ok(())
}

fn dry_run(ctx: &Context, args: &Args, stacks: &EnvStacks) -> anyhow::Result<ExitCode> {
    let mut lines = Vec::new();
    for phase in Phase::ALL
        .into_iter()
        .filter(|p| args.only.is_none_or(|o| o == *p))
    {
        match stacks.stack(phase) {
            None => lines.push(format!(
                "# images: build the enabled agents, push them{}, pin their digests",
                args.registry
                    .as_deref()
                    .map(|r| format!(" to {r}"))
                    .unwrap_or_default()
            )),
            Some(stack) => {
                lines.push(stack.show(&stack.init_args()));
                lines.push(stack.show(&stack.plan_args(false)));
                if !args.plan {
                    lines.push(format!(
                        "{}   # only if the plan has changes",
                        stack.show(&stack.apply_args())
                    ));
                }
            }
        }
    }
    if ctx.out.json {
        ctx.out.print_json(
            &serde_json::json!({ "dry_run": true, "env": args.env, "commands": lines }),
        );
    } else {
        for line in lines {
            println!("{line}");
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn print_timeline(env: Env, timeline: &[PhaseRun]) {
    if timeline.is_empty() {
        return;
    }
    let rows: Vec<Vec<String>> = timeline
        .iter()
        .map(|r| {
            vec![
                r.phase.name().to_string(),
                r.result.clone(),
                r.plan
                    .as_ref()
                    .map(ToString::to_string)
                    .unwrap_or_else(|| "-".into()),
                format!("{:.1}s", r.seconds),
            ]
        })
        .collect();
    let total: f64 = timeline.iter().map(|r| r.seconds).sum();
    println!(
        "\n{}",
        table(&[&format!("{env}: phase"), "result", "plan", "time"], &rows)
    );
    println!("total {total:.1}s");
}
