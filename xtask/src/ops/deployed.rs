//! What an environment runs, read from its agents stack's state (the stack's outputs): for each
//! agent, the image it pins, its runtime's ARN and version. `invoke --env`, `logs`, `status`
//! and the local data plane all start here, so they agree with what `deploy` applied.

use std::collections::BTreeMap;

use anyhow::{Context as _, bail};
use serde::Serialize;

use crate::environment::backend::Backend;
use crate::environment::{Env, Environment};
use crate::ops::deploy::stacks::Phase;
use crate::project::Project;
use oci_registry::ImageRef;

/// The endpoint `deploy` manages on every runtime (infra/modules/agents: `live`); AgentCore
/// adds `DEFAULT`, which always serves the newest version.
pub const MANAGED_ENDPOINT: &str = "live";

#[derive(Debug, Clone, Serialize)]
pub struct DeployedAgent {
    pub image: ImageRef,
    pub runtime_arn: String,
    /// The version the managed endpoint serves, when the stack outputs it.
    pub runtime_version: Option<String>,
}

impl DeployedAgent {
    /// The runtime id: the ARN's resource name.
    pub fn runtime_id(&self) -> &str {
        self.runtime_arn
            .rsplit('/')
            .next()
            .unwrap_or(&self.runtime_arn)
    }

    /// Where AgentCore writes what the runtime prints, for invocations through `endpoint`.
    pub fn log_group(&self, endpoint: &str) -> String {
        format!(
            "/aws/bedrock-agentcore/runtimes/{}-{endpoint}",
            self.runtime_id()
        )
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Deployed {
    pub env: Env,
    pub agents: BTreeMap<String, DeployedAgent>,
}

impl Deployed {
    /// The agents stack's outputs, read from its state object in the state bucket (Terraform's
    /// state format 4 keeps them under `outputs.<name>.value`): no `terraform init` and no
    /// provider for a question about what runs. An environment never deployed runs nothing.
    pub async fn read(project: &Project, environment: &Environment) -> anyhow::Result<Deployed> {
        StateObject::new(project, environment.env)
            .await?
            .deployed()
            .await
    }

    /// Every version the state bucket keeps of the agents stack's state, newest first, each
    /// with when it was written: what the environment ran before (the bucket is versioned by
    /// `bootstrap`).
    pub async fn history(
        project: &Project,
        env: Env,
    ) -> anyhow::Result<Vec<(aws_sdk_s3::primitives::DateTime, Deployed)>> {
        let state = StateObject::new(project, env).await?;
        let s3 = &state.s3;
        let mut versions = Vec::new();
        let (mut key_marker, mut version_marker) = (None, None);
        loop {
            let page = s3
                .list_object_versions()
                .bucket(&state.bucket)
                .prefix(&state.key)
                .set_key_marker(key_marker.take())
                .set_version_id_marker(version_marker.take())
                .send()
                .await
                .map_err(|err| anyhow::Error::new(err.into_service_error()))
                .with_context(|| format!("cannot list the versions of {}", state.url()))?;
            for version in page.versions() {
                if version.key() == Some(state.key.as_str())
                    && let (Some(id), Some(at)) = (version.version_id(), version.last_modified())
                {
                    versions.push((*at, id.to_string()));
                }
            }
            if page.is_truncated() != Some(true) {
                break;
            }
            key_marker = page.next_key_marker().map(str::to_string);
            version_marker = page.next_version_id_marker().map(str::to_string);
        }
        versions.sort_by_key(|v| std::cmp::Reverse(v.0));
        let mut history = Vec::new();
        for (at, id) in versions {
            if let Some(json) = state.get(Some(&id)).await? {
                history.push((at, Deployed::from_state(env, &json, &state.url())?));
            }
        }
        Ok(history)
    }

    fn from_state(env: Env, state: &serde_json::Value, url: &str) -> anyhow::Result<Deployed> {
        if state["version"] != 4 {
            bail!(
                "{url} is a Terraform state of format {}, not 4",
                state["version"]
            );
        }
        let outputs = &state["outputs"];
        let map = |name: &str| -> anyhow::Result<BTreeMap<String, String>> {
            match outputs.get(name).map(|o| &o["value"]) {
                Some(value) => serde_json::from_value(value.clone()).with_context(|| {
                    format!(
                        "the agents stack of {env} outputs `{name}` that is not a map of strings"
                    )
                }),
                None => Ok(BTreeMap::new()),
            }
        };
        let images = map("agent_images")?;
        let arns = map("runtime_arns")?;
        let versions = map("runtime_versions")?;
        let mut agents = BTreeMap::new();
        for (id, uri) in images {
            let image = ImageRef::parse(&uri).map_err(|err| {
                anyhow::anyhow!("the agents stack of {env} pins `{id}` to `{uri}`: {err}")
            })?;
            let runtime_arn = arns.get(&id).cloned().with_context(|| {
                format!("the agents stack of {env} has no runtime ARN for `{id}` (output `runtime_arns`)")
            })?;
            agents.insert(
                id.clone(),
                DeployedAgent {
                    image,
                    runtime_arn,
                    runtime_version: versions.get(&id).cloned(),
                },
            );
        }
        Ok(Deployed { env, agents })
    }

    /// The images the environment runs (agent id → image), read as [`Deployed::read`] does,
    /// for callers outside an async runtime.
    pub fn images(
        project: &Project,
        environment: &Environment,
    ) -> anyhow::Result<BTreeMap<String, ImageRef>> {
        let runtime = crate::async_runtime()?;
        let deployed = runtime.block_on(Deployed::read(project, environment))?;
        Ok(deployed
            .agents
            .into_iter()
            .map(|(id, a)| (id, a.image))
            .collect())
    }

    /// `agent` as deployed here, or an error that says why it is not and what to do.
    pub fn agent(&self, environment: &Environment, agent: &str) -> anyhow::Result<&DeployedAgent> {
        let env = self.env;
        let known = environment.all_agents.iter().find(|a| a.id() == agent);
        let Some(known) = known else {
            let ids: Vec<&str> = environment.all_agents.iter().map(|a| a.id()).collect();
            bail_help!("there is no agent `{agent}`"; "the agents are: {}", ids.join(", "));
        };
        if !known.blueprint.execution_modes.enabled(env) {
            bail_help!("agent `{agent}` is not enabled in {env}"; "set `execution_modes.{env}: true` in \
                 agents/{agent}/blueprint.yaml and deploy (or promote) it");
        }
        if self.agents.is_empty() {
            bail_help!("{env} was never deployed: its agents stack has no state"; "`cargo xtask deploy {env}`");
        }
        self.agents.get(agent).with_context(|| {
            format!(
                "agent `{agent}` is enabled in {env} but not deployed there yet; run `cargo xtask \
                 deploy {env}`"
            )
        })
    }
}

/// The agents stack's state object, `<env>/agents.tfstate` in the environment's state bucket,
/// with a client to read it: a data plane reads it again and again, so the newest version is
/// kept with its ETag and fetched again only when it changed (`If-None-Match`: S3 answers 304).
pub struct StateObject {
    env: Env,
    bucket: String,
    key: String,
    s3: aws_sdk_s3::Client,
    newest: std::sync::Mutex<Option<(String, serde_json::Value)>>,
}

impl StateObject {
    /// The agents stack's.
    pub async fn new(project: &Project, env: Env) -> anyhow::Result<StateObject> {
        StateObject::of(project, env, Phase::Agents).await
    }

    /// The stack of `phase`'s.
    pub async fn of(project: &Project, env: Env, phase: Phase) -> anyhow::Result<StateObject> {
        let backend = Backend::load(project, env)?;
        let key = format!("{env}/{}.tfstate", phase.name());
        Ok(StateObject::at(&backend, backend.s3().await, env, &key))
    }

    /// Any stack's, by its state key.
    pub fn at(backend: &Backend, s3: aws_sdk_s3::Client, env: Env, key: &str) -> StateObject {
        StateObject {
            env,
            s3,
            bucket: backend.bucket.clone(),
            key: key.to_string(),
            newest: std::sync::Mutex::new(None),
        }
    }

    /// The stack's outputs by name (`outputs.<name>.value`), as `terraform output -json` gives
    /// them, without starting Terraform; none when there is no state yet.
    pub async fn outputs(&self) -> anyhow::Result<BTreeMap<String, serde_json::Value>> {
        let Some(state) = self.get(None).await? else {
            return Ok(BTreeMap::new());
        };
        if state["version"] != 4 {
            bail!(
                "{} is a Terraform state of format {}, not 4",
                self.url(),
                state["version"]
            );
        }
        Ok(state["outputs"]
            .as_object()
            .map(|o| {
                o.iter()
                    .map(|(k, v)| (k.clone(), v["value"].clone()))
                    .collect()
            })
            .unwrap_or_default())
    }

    fn url(&self) -> String {
        format!("s3://{}/{}", self.bucket, self.key)
    }

    /// What the newest state says runs; nothing when there is no state.
    pub async fn deployed(&self) -> anyhow::Result<Deployed> {
        match self.get(None).await? {
            Some(json) => Deployed::from_state(self.env, &json, &self.url()),
            None => Ok(Deployed {
                env: self.env,
                agents: BTreeMap::new(),
            }),
        }
    }

    /// The state as JSON (`version`: one the bucket kept), or nothing when there is none.
    async fn get(&self, version: Option<&str>) -> anyhow::Result<Option<serde_json::Value>> {
        let env = self.env;
        let cached = match version {
            None => self.newest.lock().ok().and_then(|newest| newest.clone()),
            Some(_) => None,
        };
        let got = self
            .s3
            .get_object()
            .bucket(&self.bucket)
            .key(&self.key)
            .set_version_id(version.map(str::to_string))
            .set_if_none_match(cached.as_ref().map(|(etag, _)| etag.clone()))
            .send()
            .await;
        let (etag, bytes) = match got {
            Ok(object) => (
                object.e_tag.clone(),
                object
                    .body
                    .collect()
                    .await
                    .with_context(|| format!("cannot read {}", self.url()))?
                    .into_bytes(),
            ),
            Err(err) => {
                if let Some((_, state)) = cached.filter(|_| {
                    err.raw_response()
                        .is_some_and(|r| r.status().as_u16() == 304)
                }) {
                    return Ok(Some(state));
                }
                let service = err.as_service_error();
                if service.is_some_and(|e| e.is_no_such_key()) {
                    return Ok(None);
                }
                if service.is_some_and(|e| e.meta().code() == Some("NoSuchBucket")) {
                    bail_help!("{env} has no state bucket `{}`", self.bucket; "`cargo xtask bootstrap {env}` creates it; then `cargo xtask deploy {env}`");
                }
                return Err(anyhow::Error::new(err.into_service_error()))
                    .with_context(|| format!("cannot read {env}'s state {}", self.url()));
            }
        };
        let state: serde_json::Value = serde_json::from_slice(&bytes)
            .with_context(|| format!("{} is not a Terraform state", self.url()))?;
        if let (None, Some(etag), Ok(mut newest)) = (version, etag, self.newest.lock()) {
            *newest = Some((etag, state.clone()));
        }
        Ok(Some(state))
    }
}
