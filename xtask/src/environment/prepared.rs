//! One environment, prepared once per command and passed down: its settings, the agents it
//! runs, the git revision, the AWS configuration in its region and, for the commands that run
//! Terraform, its rendered environment and backend files.

use std::path::PathBuf;

use anyhow::Context as _;
use blueprint::Agent;

use super::backend::Backend;
use super::settings::Settings;
use super::tfvars::Tfvars;
use super::{Env, aws_config};
use crate::project::Project;
use crate::revision::{self, Revision};

pub struct Environment {
    pub env: Env,
    pub settings: Settings,
    /// Every agent of the workspace, validated; [`Environment::agents`] gives the ones enabled
    /// here.
    pub all_agents: Vec<Agent>,
    /// `None` outside a git checkout (and without `XTASK_SOURCE_REVISION`).
    pub revision: Option<Revision>,
    /// Rendered for Terraform: only the commands that run it need every placeholder set.
    pub terraform: Option<TerraformFiles>,
    aws: tokio::sync::OnceCell<aws_config::SdkConfig>,
}

/// The environment's files as Terraform reads them, written under `target/xtask/<env>/`.
pub struct TerraformFiles {
    /// `<env>.tfvars` with every placeholder filled.
    pub var_file: PathBuf,
    /// The settings as Terraform reads them (e.g. `removal_policy_destroy`).
    pub body: hcl::Body,
    pub backend_file: PathBuf,
    pub backend: Backend,
}

impl Environment {
    /// What pushing or building remotely needs: the keys those read from the environment file
    /// (so the VPC placeholders only Terraform needs may be unset), the agents, the revision.
    pub fn load(project: &Project, env: Env) -> anyhow::Result<Environment> {
        Ok(Environment {
            env,
            settings: Settings::load(project, env)?,
            all_agents: project.agents()?,
            revision: revision::current(project),
            terraform: None,
            aws: tokio::sync::OnceCell::new(),
        })
    }

    /// Everything, for the commands that run Terraform: the environment and backend files are
    /// rendered (failing with every missing variable at once) and written for it.
    pub fn load_for_terraform(project: &Project, env: Env) -> anyhow::Result<Environment> {
        let mut prepared = Environment::load(project, env)?;
        let dir = project.work_dir().join(env.name());
        std::fs::create_dir_all(&dir)
            .with_context(|| format!("cannot create {}", dir.display()))?;
        let tfvars = Tfvars::load(project, env).map_err(diagnostics::Diagnostics)?;
        let rendered = tfvars.render_from_env().map_err(diagnostics::Diagnostics)?;
        let body = hcl::parse(&rendered)
            .with_context(|| format!("{}: not valid after rendering", tfvars.file.display()))?;
        let var_file = dir.join(format!("{env}.tfvars"));
        std::fs::write(&var_file, &rendered)
            .with_context(|| format!("cannot write {}", var_file.display()))?;
        let backend = Backend::load(project, env)?;
        let backend_file = dir.join("backend.hcl");
        std::fs::write(&backend_file, &backend.rendered)
            .with_context(|| format!("cannot write {}", backend_file.display()))?;
        prepared.terraform = Some(TerraformFiles {
            var_file,
            body,
            backend_file,
            backend,
        });
        Ok(prepared)
    }

    /// The agents whose blueprint enables them here: no other agent is ever built, pushed or
    /// deployed for this environment.
    pub fn agents(&self) -> Vec<&Agent> {
        self.all_agents
            .iter()
            .filter(|a| a.blueprint.execution_modes.enabled(self.env))
            .collect()
    }

    /// The agents named (each must be enabled here), or every agent enabled here; never none.
    pub fn named_agents(&self, named: &[String]) -> anyhow::Result<Vec<Agent>> {
        let env = self.env;
        let selected = blueprint::select(&self.all_agents, named)?;
        if let Some(off) = selected
            .iter()
            .find(|a| !a.blueprint.execution_modes.enabled(env))
        {
            bail_help!("agent `{}` is not enabled for {env}", off.id(); "set `execution_modes.{env}: true` in agents/{}/blueprint.yaml", off.id());
        }
        let agents: Vec<Agent> = if named.is_empty() {
            self.agents().into_iter().cloned().collect()
        } else {
            selected
        };
        if agents.is_empty() {
            bail_help!("no agent is enabled for {env}"; "set `execution_modes.{env}: true` in an agent's \
                 blueprint.yaml (`cargo xtask check` shows where each agent runs)");
        }
        Ok(agents)
    }

    /// The rendered files; an error for a value prepared without them (a bug, not user input).
    pub fn terraform(&self) -> anyhow::Result<&TerraformFiles> {
        self.terraform
            .as_ref()
            .context("the environment was not prepared for Terraform")
    }

    /// A boolean setting of the environment file (e.g. `removal_policy_destroy`).
    pub fn flag(&self, key: &str) -> Option<bool> {
        self.terraform
            .as_ref()?
            .body
            .attributes()
            .find(|a| a.key() == key)
            .and_then(|a| match a.expr() {
                hcl::Expression::Bool(b) => Some(*b),
                _ => None,
            })
    }

    /// The AWS SDK configuration for this environment, built once: the standard credential
    /// chain and endpoint variables, in the environment's region when its file names one.
    pub async fn aws(&self) -> &aws_config::SdkConfig {
        self.aws
            .get_or_init(|| aws_config(self.settings.region.as_deref()))
            .await
    }
}
