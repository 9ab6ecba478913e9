//! An environment's stacks, ready to run: the rendered environment and backend files, and one
//! [`Stack`] per infrastructure phase, in order.

use std::collections::BTreeMap;
use std::path::PathBuf;

use anyhow::Context as _;
use serde::Serialize;

use crate::Context;
use crate::environment::tfvars::Tfvars;
use crate::environment::{Env, render};
use crate::error::HelpExt as _;
use terraform::{Stack, StackSpec};

/// The deployment phases, in the order the seed requires: the platform first, then the images
/// the agents pin, then the agents, then the workflows that chain them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Phase {
    Platform,
    Images,
    Agents,
    Workflows,
}

impl Phase {
    pub const ALL: [Phase; 4] = [
        Phase::Platform,
        Phase::Images,
        Phase::Agents,
        Phase::Workflows,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Phase::Platform => "platform",
            Phase::Images => "images",
            Phase::Agents => "agents",
            Phase::Workflows => "workflows",
        }
    }

    /// Phases that are a Terraform stack (`images` is not).
    pub fn is_stack(self) -> bool {
        self != Phase::Images
    }
}

/// Everything needed to run Terraform for one environment.
pub struct EnvStacks {
    pub env: Env,
    pub stacks: Vec<(Phase, Stack)>,
    /// The rendered tfvars, as Terraform will read them (for settings such as the removal
    /// policy).
    pub settings: hcl::Body,
    /// Where the environment's state lives (its deploy lock too).
    pub backend: super::lock::Backend,
}

impl EnvStacks {
    /// Renders the environment's tfvars and backend settings into `target/xtask/<env>/` and
    /// prepares its stacks. Fails listing every missing placeholder variable.
    pub fn prepare(ctx: &Context, env: Env) -> anyhow::Result<EnvStacks> {
        let project = &ctx.project;
        let work = work_dir(ctx);
        let dir = work.join(env.name());
        std::fs::create_dir_all(&dir)
            .with_context(|| format!("cannot create {}", dir.display()))?;

        let tfvars = Tfvars::load(project, env).map_err(diagnostics_error)?;
        let rendered = tfvars.render_from_env().map_err(diagnostics_error)?;
        let var_file = dir.join(format!("{env}.tfvars"));
        std::fs::write(&var_file, &rendered)?;
        let settings = hcl::parse(&rendered)
            .with_context(|| format!("{}: not valid after rendering", tfvars.file.display()))?;

        let backend_template = project.envs_dir().join(format!("{env}.backend.hcl"));
        let backend_rel = project.rel(&backend_template).to_path_buf();
        let text = std::fs::read_to_string(&backend_template)
            .with_context(|| {
                format!(
                    "{}: cannot read the backend settings of `{env}`",
                    backend_rel.display()
                )
            })
            .help("create it with the state bucket's settings (see infra/envs/dev.backend.hcl)")?;
        let backend = render(&backend_rel, &text, |name| std::env::var(name).ok())
            .map_err(diagnostics_error)?;
        let backend_file = dir.join("backend.hcl");
        let parsed_backend = super::lock::Backend::parse(&backend)
            .with_context(|| format!("{}: after rendering", backend_rel.display()))?;
        std::fs::write(&backend_file, backend)?;

        let stacks_dir = project.infra_dir.join("stacks");
        let stacks = Phase::ALL
            .into_iter()
            .filter(|p| p.is_stack())
            .map(|phase| {
                let stack_dir = stacks_dir.join(phase.name());
                (
                    phase,
                    Stack::new(StackSpec {
                        name: phase.name().to_string(),
                        dir: stack_dir,
                        label: env.to_string(),
                        work: work.join("tf").join(env.name()).join(phase.name()),
                        backend_config: backend_file.clone(),
                        // One state per environment and stack, never shared.
                        state_key: Some(format!("{env}/{}.tfstate", phase.name())),
                        var_file: var_file.clone(),
                    }),
                )
            })
            .collect::<Vec<_>>();
        for (_, stack) in &stacks {
            if !stack.dir.is_dir() {
                bail_help!(
                    "no stack at {}", stack.dir.display();
                    "the stacks live in <infra-dir>/stacks/<phase> (--infra-dir, default `infra`)"
                );
            }
        }
        Ok(EnvStacks {
            env,
            stacks,
            settings,
            backend: parsed_backend,
        })
    }

    pub fn stack(&self, phase: Phase) -> Option<&Stack> {
        self.stacks
            .iter()
            .find(|(p, _)| *p == phase)
            .map(|(_, s)| s)
    }

    /// A boolean setting of the environment file (e.g. `removal_policy_destroy`).
    pub fn flag(&self, key: &str) -> Option<bool> {
        self.settings
            .attributes()
            .find(|a| a.key() == key)
            .and_then(|a| match a.expr() {
                hcl::Expression::Bool(b) => Some(*b),
                _ => None,
            })
    }
}

/// The outputs of the phases so far, by name: what the next phases take as inputs.
pub type Outputs = BTreeMap<String, serde_json::Value>;

fn diagnostics_error(diags: Vec<diagnostics::Diagnostic>) -> anyhow::Error {
    let text: Vec<String> = diags.iter().map(ToString::to_string).collect();
    anyhow::anyhow!("{}", text.join("\n"))
}

/// Where `cargo xtask` keeps per-run files.
pub fn work_dir(ctx: &Context) -> PathBuf {
    ctx.project.root.join("target").join("xtask")
}
