//! The deployment phases, and an environment's stacks ready to run: one [`Stack`] per
//! infrastructure phase, in order, with the environment's rendered files.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::environment::{Env, Environment};
use crate::project::Project;
use terraform::{Stack, StackSpec};

/// The deployment phases, in the order the seed requires: the platform first, then the images
/// the agents pin, then the agents, their smoke checks, then the workflows that chain them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Phase {
    Platform,
    Images,
    Agents,
    Smoke,
    Workflows,
}

impl Phase {
    pub const ALL: [Phase; 5] = [
        Phase::Platform,
        Phase::Images,
        Phase::Agents,
        Phase::Smoke,
        Phase::Workflows,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Phase::Platform => "platform",
            Phase::Images => "images",
            Phase::Agents => "agents",
            Phase::Smoke => "smoke",
            Phase::Workflows => "workflows",
        }
    }

    /// Phases that are a Terraform stack (`images` and `smoke` are not).
    pub fn is_stack(self) -> bool {
        !matches!(self, Phase::Images | Phase::Smoke)
    }
}

/// An environment's Terraform stacks, one per infrastructure phase, in order.
pub struct EnvStacks {
    pub env: Env,
    pub stacks: Vec<(Phase, Stack)>,
}

impl EnvStacks {
    /// The stacks of `<infra-dir>/stacks/<phase>`, planned with the environment's rendered files
    /// and each with its own state (`<env>/<phase>.tfstate`) and work folder.
    pub fn new(project: &Project, environment: &Environment) -> anyhow::Result<EnvStacks> {
        let env = environment.env;
        let files = environment.terraform()?;
        let stacks_dir = project.infra_dir.join("stacks");
        let mut stacks = Vec::new();
        for phase in Phase::ALL.into_iter().filter(|p| p.is_stack()) {
            let dir = stacks_dir.join(phase.name());
            if !dir.is_dir() {
                bail_help!(
                    "no stack at {}", dir.display();
                    "the stacks live in <infra-dir>/stacks/<phase> (--infra-dir, default `infra`)"
                );
            }
            stacks.push((
                phase,
                Stack::new(StackSpec {
                    name: phase.name().to_string(),
                    dir,
                    label: env.to_string(),
                    work: project
                        .work_dir()
                        .join("tf")
                        .join(env.name())
                        .join(phase.name()),
                    backend_config: files.backend_file.clone(),
                    // One state per environment and stack, never shared.
                    state_key: Some(format!("{env}/{}.tfstate", phase.name())),
                    var_file: files.var_file.clone(),
                }),
            ));
        }
        Ok(EnvStacks { env, stacks })
    }

    /// The state keys of the stacks (whose Terraform locks are `<key>.tflock`).
    pub fn state_keys(&self) -> Vec<String> {
        self.stacks
            .iter()
            .filter_map(|(_, s)| s.state_key().map(str::to_string))
            .collect()
    }

    pub fn stack(&self, phase: Phase) -> Option<&Stack> {
        self.stacks
            .iter()
            .find(|(p, _)| *p == phase)
            .map(|(_, s)| s)
    }
}

/// The outputs of the phases so far, by name: what the next phases take as inputs.
pub type Outputs = BTreeMap<String, serde_json::Value>;
