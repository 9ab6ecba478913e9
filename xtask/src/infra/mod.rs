//! Static checks of the Terraform in `infra/` (or wherever `--infra-dir` points), run by
//! `cargo xtask check` without Terraform providers or a cloud:
//!
//! - `terraform fmt -check` over the modules and stacks ([`fmt`]);
//! - every key of every environment file is a variable of every stack, and every required
//!   stack variable is fed by the environment file or by an earlier phase's output ([`stacks`]);
//! - every module input is wired, every argument is an input, every `var.`/`module.` reference
//!   resolves ([`wiring`]);
//! - every enabled agent fits what the agents stack makes of it (AgentCore name limits, memory
//!   strategies, VPC subnets) ([`agents`]);
//! - every workflow names known agents that run together somewhere, and its invoke tasks fit
//!   InvokeAgentRuntime's published input shape ([`workflows`]);
//! - every resource and data source uses only what the provider's published schema has, at the
//!   declared floor and at the newest release extracted, and the floor declared is the one
//!   checked ([`provider_schema`]).
//!
//! `terraform validate` would cover part of this but needs the provider, and the shipped stacks
//! need `hashicorp/aws` >= 6.48 (infra/README.md).

mod agents;
mod fmt;
pub mod provider_schema;
mod stacks;
mod tf;
mod wiring;
pub mod workflows;

use crate::environment::tfvars::Tfvars;
use crate::environment::{Env, pos_of};
use crate::project::Project;
use blueprint::Agent;
use diagnostics::{Diagnostic, Pos};

/// The deployment phases with a Terraform stack, in the order `deploy` applies them. (The
/// images phase between platform and agents is the xtask's own.)
pub const PHASES: [&str; 3] = ["platform", "agents", "workflows"];

/// Variables no earlier stack outputs because the images phase provides them.
pub const FROM_IMAGES_PHASE: &[&str] = &["agent_images"];

/// Runs every infrastructure check; `agents` are the valid blueprints, `envs` the environment
/// files that loaded (the ones that did not were reported already). Gives the workflows and
/// where they are deployed.
pub fn check(
    project: &Project,
    agents: &[Agent],
    envs: &[Tfvars],
    diags: &mut Vec<Diagnostic>,
) -> Vec<workflows::Deployed> {
    fmt::check(project, diags);
    let stacks = stacks::load(project, diags);
    stacks::check_environment_files(project, &stacks, envs, diags);
    stacks::check_backends(project, diags);
    wiring::check(project, &stacks, diags);
    agents::check(project, agents, envs, diags);
    let deployed = workflows::check(project, agents, diags);
    provider_schema::check(project, diags);
    deployed
}

/// The agents stack's limits alone (AgentCore and IAM names, memory strategies, subnets) for
/// `agents` where each is enabled: `cargo xtask new` applies them before it writes an agent.
pub fn check_agents(
    project: &Project,
    agents: &[Agent],
    envs: &[Tfvars],
    diags: &mut Vec<Diagnostic>,
) {
    agents::check(project, agents, envs, diags);
}

/// The environment files of `project` that load without errors.
pub fn loaded_envs(project: &Project) -> Vec<Tfvars> {
    Env::ALL
        .into_iter()
        .filter_map(|env| Tfvars::load(project, env).ok())
        .collect()
}

/// The first line at or after line `after` (0-based) whose text starts with `prefix`.
pub(crate) fn line_starting(text: &str, prefix: &str, after: usize) -> Option<Pos> {
    let mut offset = 0;
    for (i, line) in text.split_inclusive('\n').enumerate() {
        let trimmed = line.trim_start().trim_start_matches("- ");
        if i >= after && trimmed.starts_with(prefix) {
            return Some(pos_of(
                text,
                offset + (line.len() - line.trim_start().len()),
            ));
        }
        offset += line.len();
    }
    None
}
