//! The tools of the environment's AgentCore Gateway, for agents whose blueprint names them
//! (`tools.gateway`): an MCP client of the gateway on the official SDK (rmcp), each request
//! signed as the gateway's `AWS_IAM` authorizer requires ([`signed`]).
//!
//! The gateway lists every target's tools as `<target>___<tool>`; the agent offers its model
//! only those of the targets `AGENTCORE_GATEWAY_TARGETS` names. A tool call is bounded by
//! `TOOL_TIMEOUT_SECONDS`, and whatever goes wrong with it — the gateway unreachable, the
//! tool's own error, the timeout — is a [`ToolOutput`] with `is_error` that the model reads
//! and can answer around, never the invocation's error. A gateway that cannot be reached
//! costs the answer its tools (a counted warning), not the answer.

mod signed;

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use rmcp::model::{CallToolRequestParams, JsonObject, Tool};
use rmcp::service::{Peer, RoleClient, RunningService};
use rmcp::transport::StreamableHttpClientTransport;
use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
use rmcp::{ServiceError, ServiceExt as _};
use tokio::sync::Mutex;
use tracing::Instrument as _;

use crate::config::{Config, GatewayTargets};

/// How the gateway joins a target's name and its tool's.
pub const TARGET_SEPARATOR: &str = "___";
/// How long a tool list is reused: a deploy that adds a target reaches running sessions
/// within this, without a list call on every turn.
const TOOLS_TTL: Duration = Duration::from_secs(300);
/// How long a failed list stands (no tools) before the gateway is asked again.
const FAILURE_BACKOFF: Duration = Duration::from_secs(30);

/// What a tool call gave the model.
#[derive(Debug, Clone, PartialEq)]
pub struct ToolOutput {
    /// The tool failed, was cut at its timeout, or could not be reached; `text` says how.
    pub is_error: bool,
    /// The tool's text content, joined.
    pub text: String,
    /// The tool's structured result, when it gave one.
    pub structured: Option<serde_json::Value>,
}

impl ToolOutput {
    fn error(text: String) -> ToolOutput {
        ToolOutput {
            is_error: true,
            text,
            structured: None,
        }
    }
}

pub struct Gateway {
    url: String,
    targets: GatewayTargets,
    timeout: Duration,
    max_steps: usize,
    client: signed::SignedClient,
    session: Mutex<Option<RunningService<RoleClient, ()>>>,
    /// The last list, and until when it stands.
    tools: Mutex<Option<(Instant, Vec<Tool>)>>,
    failures: AtomicU64,
}

impl Gateway {
    /// The gateway `AGENTCORE_GATEWAY_URL` names, or `None` when it is unset. Nothing is
    /// called yet: the first [`Gateway::tools`] connects.
    pub async fn from_config(config: &Config) -> anyhow::Result<Option<Gateway>> {
        let Some(url) = config.gateway_url.clone() else {
            return Ok(None);
        };
        let sdk = aws_config::from_env().load().await;
        let credentials = sdk.credentials_provider().ok_or_else(|| {
            anyhow::anyhow!(
                "no AWS credentials to sign the gateway's calls with: AgentCore gives the \
                 runtime's role; locally, set AWS credentials or unset AGENTCORE_GATEWAY_URL"
            )
        })?;
        let region = region_of(&url)
            .or_else(|| sdk.region().map(|r| r.to_string()))
            .ok_or_else(|| {
                anyhow::anyhow!(
                    "no region for the gateway `{url}`: set AWS_REGION to the gateway's region"
                )
            })?;
        tracing::info!(gateway = %url, targets = ?config.gateway_targets, "gateway client ready");
        Ok(Some(Gateway {
            // The tool's timeout cuts a call (and says so to the model); the HTTP client's own
            // is only a backstop behind it.
            client: signed::SignedClient::new(
                credentials,
                region,
                config.tool_timeout + Duration::from_secs(5),
            )?,
            url,
            targets: config.gateway_targets.clone(),
            timeout: config.tool_timeout,
            max_steps: config.tool_max_steps,
            session: Mutex::new(None),
            tools: Mutex::new(None),
            failures: AtomicU64::default(),
        }))
    }

    /// Model turns that may call tools (`TOOL_MAX_STEPS`).
    pub fn max_steps(&self) -> usize {
        self.max_steps
    }

    /// How many gateway calls failed since the process started (tool errors excluded).
    pub fn failures(&self) -> u64 {
        self.failures.load(Ordering::Relaxed)
    }

    /// The tools of the selected targets; none when the gateway cannot be reached.
    pub async fn tools(&self) -> Vec<Tool> {
        let mut cached = self.tools.lock().await;
        if let Some((until, tools)) = cached.as_ref()
            && Instant::now() < *until
        {
            return tools.clone();
        }
        let listed = async {
            let peer = self.peer().await?;
            Ok::<_, anyhow::Error>(peer.list_all_tools().await?)
        };
        let listed = match tokio::time::timeout(self.timeout, listed).await {
            Ok(Ok(all)) => Ok(all.into_iter().filter(|t| self.offered(t)).collect()),
            Ok(Err(err)) => Err(err),
            Err(_) => Err(anyhow::anyhow!("no answer in {:?}", self.timeout)),
        };
        let (for_how_long, tools) = match listed {
            Ok(tools) => (TOOLS_TTL, tools),
            Err(err) => {
                self.degraded("tools/list", &err);
                self.forget().await;
                // A gateway that cannot be reached must not cost every turn its timeout.
                (FAILURE_BACKOFF, Vec::new())
            }
        };
        *cached = Some((Instant::now() + for_how_long, tools.clone()));
        tools
    }

    /// Calls one tool by its gateway name; an error of any kind comes back as an error output.
    pub async fn call(&self, name: &str, arguments: Option<JsonObject>) -> ToolOutput {
        let span = crate::telemetry::tool_span(name);
        let call = async {
            let peer = self.peer().await?;
            let mut params = CallToolRequestParams::new(name.to_string());
            params.arguments = arguments;
            Ok::<_, anyhow::Error>(peer.call_tool(params).await?)
        };
        let output = match tokio::time::timeout(self.timeout, call)
            .instrument(span)
            .await
        {
            Ok(Ok(result)) => {
                let text: Vec<String> = result
                    .content
                    .iter()
                    .filter_map(|c| c.as_text().map(|t| t.text.clone()))
                    .collect();
                ToolOutput {
                    is_error: result.is_error.unwrap_or(false),
                    text: text.join("\n"),
                    structured: result.structured_content,
                }
            }
            Ok(Err(err)) => {
                if err
                    .downcast_ref::<ServiceError>()
                    .is_none_or(transport_failure)
                {
                    self.degraded("tools/call", &err);
                    self.forget().await;
                }
                ToolOutput::error(format!("the tool `{name}` failed: {err:#}"))
            }
            Err(_) => {
                tracing::warn!(tool = name, timeout = ?self.timeout, "tool call cut at its timeout");
                ToolOutput::error(format!(
                    "the tool `{name}` did not answer within {} s and was stopped",
                    self.timeout.as_secs_f64()
                ))
            }
        };
        if output.is_error {
            tracing::info!(tool = name, error = %output.text, "tool call failed");
        }
        output
    }

    fn offered(&self, tool: &Tool) -> bool {
        match &self.targets {
            GatewayTargets::All => true,
            GatewayTargets::Only(targets) => tool
                .name
                .split_once(TARGET_SEPARATOR)
                .is_some_and(|(target, _)| targets.iter().any(|t| t == target)),
        }
    }

    /// The MCP session with the gateway, initialized on first use.
    async fn peer(&self) -> anyhow::Result<Peer<RoleClient>> {
        let mut session = self.session.lock().await;
        if let Some(running) = session.as_ref() {
            return Ok(running.peer().clone());
        }
        let transport = StreamableHttpClientTransport::with_client(
            self.client.clone(),
            StreamableHttpClientTransportConfig::with_uri(self.url.as_str()),
        );
        let running = ().serve(transport).await?;
        let peer = running.peer().clone();
        *session = Some(running);
        Ok(peer)
    }

    /// Drops a session that failed: the next call starts a new one.
    async fn forget(&self) {
        if let Some(running) = self.session.lock().await.take() {
            let _ = running.cancel().await;
        }
    }

    fn degraded(&self, operation: &str, err: &anyhow::Error) {
        let failures = self.failures.fetch_add(1, Ordering::Relaxed) + 1;
        tracing::warn!(
            operation,
            failures,
            gateway = %self.url,
            error = format!("{err:#}"),
            "gateway unavailable: answering without its tools"
        );
    }
}

/// An error of the connection, not a JSON-RPC error the gateway answered with.
fn transport_failure(err: &ServiceError) -> bool {
    !matches!(err, ServiceError::McpError(_))
}

/// The region of a gateway URL (`https://<id>.gateway.bedrock-agentcore.<region>.amazonaws.com/mcp`).
fn region_of(url: &str) -> Option<String> {
    let host = url.split("://").nth(1)?.split(['/', ':']).next()?;
    let rest = host.split(".bedrock-agentcore.").nth(1)?;
    let region = rest.split('.').next()?;
    (!region.is_empty()).then(|| region.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_region_is_read_from_the_gateway_url() {
        let url = "https://gw-a1b2.gateway.bedrock-agentcore.eu-west-1.amazonaws.com/mcp";
        assert_eq!(region_of(url).as_deref(), Some("eu-west-1"));
        assert_eq!(region_of("http://127.0.0.1:4000/mcp"), None);
    }
}
