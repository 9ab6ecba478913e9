//! The seed's deployment sequence, safe to repeat: platform → images → agents → workflows.
//!
//! Each stack is planned to a file, summarised, and exactly that plan applied; an empty plan is
//! not applied, so a second deploy changes nothing. A failing phase stops the run; the phases
//! before it stay applied and a re-run continues. `deploy`, `plan` and `promote` all run it,
//! each with its own [`DeployOptions`].

pub mod guards;
pub mod images;
pub mod lock;
pub mod stacks;

use std::collections::BTreeMap;
use std::time::Instant;

use anyhow::{Context as _, bail};
use serde::Serialize;

use crate::Context;
use crate::environment::{Env, Environment};
use crate::ops::deployed::{Deployed, StateObject};
use crate::ops::smoke;
use crate::output::{Report, table};
use oci_registry::ImageRef;
use stacks::{EnvStacks, Outputs, Phase};
use terraform::{PlanSummary, Planned, Stack};

/// What a deploy is asked to do.
pub struct DeployOptions {
    /// Run only this phase (earlier phases' outputs are read, not applied).
    pub only: Option<Phase>,
    /// Plan every stack; apply nothing.
    pub plan_only: bool,
    /// Allow plans that destroy resources in production.
    pub allow_destroy: bool,
    /// Where the images phase gets the images from.
    pub images: images::Source,
    /// Remove a deploy lock left behind by a run that died, first.
    pub break_lock: bool,
    /// Production is applied only with this, from `guards::production`.
    pub confirmed: Option<guards::Confirmed>,
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

/// What a run did: the timeline, the images pinned, and how it ended.
#[derive(Serialize)]
pub struct Outcome {
    pub ok: bool,
    pub env: Env,
    #[serde(rename = "phases")]
    pub timeline: Vec<PhaseRun>,
    pub agent_images: BTreeMap<String, ImageRef>,
    #[serde(skip)]
    pub result: anyhow::Result<()>,
}

impl Outcome {
    /// Whether any stack had changes (planned or applied).
    pub fn changed(&self) -> bool {
        self.timeline.iter().any(|r| r.plan.is_some())
    }

    /// Prints the timeline (text, or JSON with the error in it) and gives the run's result: a
    /// failed phase is the command's error, after the timeline of what did run.
    pub fn finish(self, ctx: &Context) -> anyhow::Result<()> {
        if ctx.out.json {
            let error = self.result.as_ref().err();
            let mut value = serde_json::to_value(&self)?;
            if let (Some(err), Some(object)) = (error, value.as_object_mut()) {
                object.insert("error".into(), crate::error::chain(err).into());
                object.insert("help".into(), crate::error::helps(err).into());
            }
            ctx.out.print_json(&value);
            return match self.result {
                Ok(()) => Ok(()),
                Err(_) => Err(crate::error::Reported.into()),
            };
        }
        ctx.out.report(&self);
        self.result
    }
}

impl Report for Outcome {
    fn text(&self) -> String {
        if self.timeline.is_empty() {
            return String::new();
        }
        let rows: Vec<Vec<String>> = self
            .timeline
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
        let total: f64 = self.timeline.iter().map(|r| r.seconds).sum();
        format!(
            "\n{}\ntotal {total:.1}s",
            table(
                &[&format!("{}: phase", self.env), "result", "plan", "time"],
                &rows
            )
        )
    }
}

/// Deploys `environment` (prepared for Terraform). Errors before any phase ran (a refused
/// guard, a held lock) are returned; a phase's failure is in the outcome, with the timeline of
/// what ran before it.
pub fn deploy(
    ctx: &Context,
    environment: &Environment,
    options: &DeployOptions,
) -> anyhow::Result<Outcome> {
    let env = environment.env;
    if env == Env::Production && !options.plan_only && options.confirmed.is_none() {
        bail!("production is deployed only after its guards (`guards::production`)");
    }
    let stacks = EnvStacks::new(&ctx.project, environment)?;
    terraform::catch_interrupts();

    let runtime = crate::async_runtime()?;
    let backend = &environment.terraform()?.backend;
    if options.break_lock {
        let keys = stacks.state_keys();
        let holder = runtime.block_on(lock::break_lock(backend, env, &keys))?;
        ctx.out.step(match holder {
            Some(h) => format!("removed the locks of {}", h.describe()),
            None => format!("removed the deploy and state locks of {env} (no holder recorded)"),
        });
    }
    let lock = if options.plan_only {
        // A plan reads the state without locking it: a drift check never stands in a running
        // deploy's way.
        if let Some(h) = runtime.block_on(lock::holder(backend, env)) {
            ctx.out.note(format!(
                "a deploy of {env} is running ({}): this plan reads the state without locking it",
                h.describe()
            ));
        }
        None
    } else {
        let command = format!("cargo xtask deploy {env}");
        Some(runtime.block_on(lock::DeployLock::acquire(backend, env, &command))?)
    };

    let mut timeline = Vec::new();
    let mut agent_images = BTreeMap::new();
    let mut result = run_phases(
        ctx,
        environment,
        options,
        &stacks,
        &mut timeline,
        &mut agent_images,
    );
    if let Some(lock) = lock {
        result = lock.release_after(&runtime, result);
    }
    Ok(Outcome {
        ok: result.is_ok(),
        env,
        timeline,
        agent_images,
        result,
    })
}

fn run_phases(
    ctx: &Context,
    environment: &Environment,
    options: &DeployOptions,
    stacks: &EnvStacks,
    timeline: &mut Vec<PhaseRun>,
    agent_images: &mut BTreeMap<String, ImageRef>,
) -> anyhow::Result<()> {
    let env = environment.env;
    let mut outputs = Outputs::new();
    // Each stack's outputs are read from the state object its apply (or the last one) wrote:
    // the same values as `terraform output -json`, without a Terraform process per stack.
    let runtime = crate::async_runtime()?;
    let backend = &environment.terraform()?.backend;
    let s3 = runtime.block_on(backend.s3());
    let collect_outputs = |stack: &Stack, phase: Phase, outputs: &mut Outputs| {
        let key = stack.state_key().context("the stack has no state key")?;
        let found = runtime
            .block_on(StateObject::at(backend, s3.clone(), env, key).outputs())
            .with_context(|| format!("cannot read the outputs of phase `{}`", phase.name()))?;
        outputs.extend(found);
        anyhow::Ok(())
    };
    for phase in Phase::ALL {
        let selected = options.only.is_none_or(|only| only == phase);
        if terraform::interrupted() {
            bail!(
                "interrupted: stopped before phase `{}`; run the deploy again to continue",
                phase.name()
            );
        }
        let start = Instant::now();
        if phase == Phase::Images {
            // Agents and workflows need the images even when only they run.
            if options.only.is_none_or(|only| only >= Phase::Images) {
                let source = if selected {
                    &options.images
                } else {
                    &images::Source::Deployed
                };
                *agent_images = images::resolve(ctx, environment, source, options.plan_only)
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
        if phase == Phase::Smoke {
            if selected && !options.plan_only {
                let run = smoke(ctx, environment, options, timeline)
                    .with_context(|| format!("phase `smoke` of {env} failed"))?;
                timeline.push(PhaseRun {
                    seconds: start.elapsed().as_secs_f64(),
                    ..run
                });
            }
            continue;
        }
        let Some(stack) = stacks.stack(phase) else {
            continue;
        };
        if !selected {
            // An earlier phase of `--only`: read its outputs (no Terraform), change nothing.
            if options.only.is_some_and(|o| o > phase) {
                collect_outputs(stack, phase, &mut outputs)?;
            }
            continue;
        }
        let t = ctx.out.timed(format!("{env} / {}", phase.name()));
        stack.init(&ctx.out)?;
        stack.write_inputs(&outputs)?;
        let planned = stack
            .plan(&ctx.out, false, !options.plan_only)
            .map_err(|e| lock_help(e, env))
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
                let guarded =
                    env == Env::Production && !options.allow_destroy && !options.plan_only;
                if guarded && summary.destroy > 0 {
                    bail_help!(
                        "the plan of `{}` in production destroys {} resource(s):\n    {}",
                        phase.name(), summary.destroy, summary.destroyed.join("\n    ");
                        "if that is intended (e.g. an agent was removed), deploy again with \
                         --allow-destroy"
                    );
                }
                let applied = !options.plan_only;
                if applied && terraform::interrupted() {
                    bail!(
                        "interrupted before applying phase `{}`; run the deploy again to continue",
                        phase.name()
                    );
                }
                if applied {
                    stack
                        .apply(&ctx.out)
                        .map_err(|e| lock_help(e, env))
                        .with_context(|| {
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

/// The smoke checks of what the agents phase left running: all of them when it applied
/// changes (or `--only smoke` asks), else only those of digests with no passing record here.
/// A failing check fails the phase: the workflows are not applied.
fn smoke(
    ctx: &Context,
    environment: &Environment,
    options: &DeployOptions,
    timeline: &[PhaseRun],
) -> anyhow::Result<PhaseRun> {
    let env = environment.env;
    let agents_changed = timeline
        .iter()
        .any(|r| r.phase == Phase::Agents && r.applied);
    let all = agents_changed || options.only == Some(Phase::Smoke);
    let runtime = crate::async_runtime()?;
    let deployed = runtime.block_on(Deployed::read(&ctx.project, environment))?;
    let declared = smoke::checked_agents(environment, &deployed).len();
    let t = ctx.out.timed(format!("{env} / smoke"));
    let records = runtime.block_on(smoke::run(environment, &deployed, !all))?;
    t.done();
    let failed: Vec<&smoke::Record> = records.iter().filter(|r| !r.passed).collect();
    if !failed.is_empty() {
        let failures: Vec<String> = failed.iter().map(|r| r.failures()).collect();
        let agent = &failed[0].agent;
        bail_help!(
            "smoke checks failed in {env}:\n  {}", failures.join("\n  ");
            "the agents stay applied and the workflows were not: fix the agent and deploy again, \
             or roll it back (`cargo xtask rollback {env} {agent}`); its log: `cargo xtask logs \
             {agent} --env {env}`"
        );
    }
    let checks: usize = records.iter().map(|r| r.checks.len()).sum();
    let result = match (declared, records.len()) {
        (0, _) => "no checks declared".to_string(),
        (_, 0) => "passed before for these images".to_string(),
        _ => format!("{checks} check(s) passed"),
    };
    Ok(PhaseRun {
        phase: Phase::Smoke,
        result,
        plan: None,
        applied: false,
        seconds: 0.0,
    })
}

/// A help for a Terraform failure the xtask knows what to do about: a state lock held by a run
/// that is gone, or an interruption (the next run continues).
pub fn lock_help(err: anyhow::Error, env: Env) -> anyhow::Error {
    match err.downcast_ref::<terraform::Failure>() {
        Some(f) if f.interrupted => crate::error::with_help(
            err,
            format!(
                "Terraform stopped cleanly and released its lock: `cargo xtask deploy {env}` \
                 continues from here"
            ),
        ),
        Some(f) if f.lock_held => crate::error::with_help(
            err,
            format!(
                "another run holds the lock (see above); if that run is gone, \
                 `cargo xtask deploy {env} --break-lock` removes its locks"
            ),
        ),
        _ => err,
    }
}

/// The commands a deploy would run, one per line (secrets never appear in them).
pub fn dry_run(
    ctx: &Context,
    environment: &Environment,
    only: Option<Phase>,
    plan_only: bool,
    images: &images::Source,
) -> anyhow::Result<Vec<String>> {
    let stacks = EnvStacks::new(&ctx.project, environment)?;
    let mut lines = Vec::new();
    for phase in Phase::ALL
        .into_iter()
        .filter(|p| only.is_none_or(|o| o == *p))
    {
        match stacks.stack(phase) {
            None if phase == Phase::Smoke => {
                if !plan_only {
                    lines.push(
                        "# smoke: the blueprints' smoke checks, through InvokeAgentRuntime".into(),
                    );
                }
            }
            None => lines.push(match images {
                images::Source::Build { registry, profile } => format!(
                    "# images: build the enabled agents ({profile} profile), push them{}, pin \
                     their digests",
                    registry
                        .as_deref()
                        .map(|r| format!(" to {r}"))
                        .unwrap_or_default()
                ),
                _ => "# images: pin the digests the environment runs".into(),
            }),
            Some(stack) => {
                lines.push(stack.show(&stack.init_args()));
                lines.push(stack.show(&stack.plan_args(false, !plan_only)));
                if !plan_only {
                    lines.push(format!(
                        "{}   # only if the plan has changes",
                        stack.show(&stack.apply_args())
                    ));
                }
            }
        }
    }
    Ok(lines)
}
