//! Invoking an agent an environment runs: `InvokeAgentRuntime` through the AWS SDK, on the
//! runtime and endpoint the agents stack's state names, so `AWS_ENDPOINT_URL_BEDROCK_AGENTCORE`
//! (the local data plane) or a profile redirects it exactly as it would any other SDK call.

pub mod mcp;
pub mod sse;

use aws_sdk_bedrockagentcore::config::http::HttpResponse;
use aws_sdk_bedrockagentcore::error::{DisplayErrorContext, ProvideErrorMetadata as _, SdkError};
use aws_sdk_bedrockagentcore::operation::invoke_agent_runtime::InvokeAgentRuntimeError;
use aws_sdk_bedrockagentcore::primitives::{Blob, ByteStream};

use crate::environment::Env;
use crate::ops::deployed::DeployedAgent;

/// What AgentCore accepts as a session id.
pub const SESSION_ID_LENGTH: std::ops::RangeInclusive<usize> = 33..=256;
/// The prefix AgentCore passes through to the agent (`Invocation::custom_header`).
pub const CUSTOM_HEADER_PREFIX: &str = "X-Amzn-Bedrock-AgentCore-Runtime-Custom-";

pub struct InvokeOptions {
    pub env: Env,
    pub agent: String,
    /// The endpoint (qualifier), e.g. `live`.
    pub endpoint: String,
    /// JSON, checked by the caller.
    pub payload: String,
    pub session: String,
    pub user_id: Option<String>,
    /// `(name, value)`; the name without the custom-header prefix.
    pub headers: Vec<(String, String)>,
    /// An MCP server's session (`Mcp-Session-Id`) and protocol version, once initialized.
    pub mcp_session: Option<String>,
    pub mcp_protocol: Option<String>,
    /// A JWT for an agent whose blueprint sets `auth.jwt`: sent as `Authorization: Bearer`
    /// instead of a SigV4 signature.
    pub bearer: Option<String>,
}

/// The bearer token of an invocation of `agent` in `env`: when its blueprint sets `auth.jwt`
/// there, the one given (`--token`), else `AGENTCORE_BEARER_TOKEN`; none when it takes IAM (the
/// variable does not count then: a shell may hold a token for other agents). A token the agent
/// cannot take, or none where it needs one, is refused before anything is sent.
pub fn bearer_for(
    agent: &blueprint::Agent,
    env: Env,
    given: Option<String>,
) -> anyhow::Result<Option<String>> {
    let id = agent.id();
    let jwt = agent.blueprint.in_environment(env).auth.jwt;
    let given = match &jwt {
        Some(_) => given.or_else(|| std::env::var("AGENTCORE_BEARER_TOKEN").ok()),
        None => given,
    };
    match (jwt, given.filter(|t| !t.is_empty())) {
        (Some(_), Some(token)) => Ok(Some(token)),
        (None, None) => Ok(None),
        (Some(jwt), None) => bail_help!(
            "`{id}` takes a JWT, not an IAM signature (auth.jwt in its blueprint)";
            "pass --token <JWT>, or set AGENTCORE_BEARER_TOKEN, with a token of the identity \
             provider at {} issued for one of its allowed audiences or clients", jwt.discovery_url
        ),
        (None, Some(_)) => bail_help!(
            "`{id}` takes IAM-signed invocations (its blueprint sets no auth.jwt), not a token";
            "leave out --token: the invocation is signed with the AWS credentials of this shell"
        ),
    }
}

/// Replaces the SigV4 signature with the bearer token, once the request is signed: the SDK
/// always signs, and AgentCore takes one method per runtime.
#[derive(Debug)]
struct Bearer(String);

impl aws_sdk_bedrockagentcore::config::Intercept for Bearer {
    fn name(&self) -> &'static str {
        "Bearer"
    }

    fn modify_before_transmit(
        &self,
        context: &mut aws_sdk_bedrockagentcore::config::interceptors::BeforeTransmitInterceptorContextMut<'_>,
        _: &aws_sdk_bedrockagentcore::config::RuntimeComponents,
        _: &mut aws_sdk_bedrockagentcore::config::ConfigBag,
    ) -> Result<(), aws_sdk_bedrockagentcore::error::BoxError> {
        let headers = context.request_mut().headers_mut();
        for signed in ["x-amz-date", "x-amz-security-token", "x-amz-content-sha256"] {
            headers.remove(signed);
        }
        headers.insert("authorization", format!("Bearer {}", self.0));
        Ok(())
    }
}

/// The start of an answer: the rest arrives through `body` as the agent sends it.
pub struct Answer {
    /// The agent's HTTP status.
    pub status: u16,
    /// The MCP session the server gave (`Mcp-Session-Id`), if any.
    pub mcp_session: Option<String>,
    pub content_type: String,
    pub session: String,
    pub body: ByteStream,
}

impl Answer {
    pub fn is_stream(&self) -> bool {
        self.content_type.starts_with("text/event-stream")
    }
}

/// A session id for a new conversation: `xtask-` and 32 hex digits (38 characters).
pub fn new_session_id() -> String {
    format!("xtask-{:032x}", fastrand::u128(..))
}

/// Sends the invocation; the SDK retries throttling and transient errors with its standard
/// policy. Errors say what the service said and what to do.
pub async fn invoke(
    config: &aws_config::SdkConfig,
    agent: &DeployedAgent,
    options: &InvokeOptions,
) -> anyhow::Result<Answer> {
    let (env, id) = (options.env, options.agent.as_str());
    if !SESSION_ID_LENGTH.contains(&options.session.len()) {
        bail_help!(
            "the session id has {} characters; AgentCore takes {} to {}",
            options.session.len(), SESSION_ID_LENGTH.start(), SESSION_ID_LENGTH.end();
            "leave --session out for a new one (it is printed), or pass a longer id"
        );
    }
    let client = match &options.bearer {
        None => aws_sdk_bedrockagentcore::Client::new(config),
        Some(token) => {
            // Signing needs credentials, which a caller with a token may not have: these sign
            // nothing that is sent.
            let unsigned = aws_sdk_bedrockagentcore::config::Credentials::new(
                "bearer",
                "bearer",
                None,
                None,
                "xtask-bearer",
            );
            let conf = aws_sdk_bedrockagentcore::config::Builder::from(config)
                .credentials_provider(unsigned)
                .interceptor(Bearer(token.clone()))
                .build();
            aws_sdk_bedrockagentcore::Client::from_conf(conf)
        }
    };
    let headers: Vec<(String, String)> = options
        .headers
        .iter()
        .map(|(name, value)| (format!("{CUSTOM_HEADER_PREFIX}{name}"), value.clone()))
        .collect();
    let sent = client
        .invoke_agent_runtime()
        .agent_runtime_arn(&agent.runtime_arn)
        .qualifier(&options.endpoint)
        .runtime_session_id(&options.session)
        .set_runtime_user_id(options.user_id.clone())
        .set_mcp_session_id(options.mcp_session.clone())
        .set_mcp_protocol_version(options.mcp_protocol.clone())
        .content_type("application/json")
        .accept("application/json, text/event-stream")
        .payload(Blob::new(options.payload.as_bytes()))
        .customize()
        .mutate_request(move |request| {
            for (name, value) in &headers {
                request.headers_mut().insert(name.clone(), value.clone());
            }
        })
        .send()
        .await;
    let output = match sent {
        Ok(output) => output,
        Err(err) => {
            // A runtime a deploy is changing (or that failed to change) is refused as if it
            // were missing: only the control plane can tell the two apart.
            if may_be_not_ready(&err)
                && let Ok(state) = crate::ops::runtime_state::read(config, agent).await
                && !state.is_ready()
            {
                bail_help!(
                    "`{id}` in {env} is not READY: its runtime is {}", state.status;
                    "{}", state.advice(env)
                );
            }
            return Err(explain(err, env, id, agent, &options.endpoint));
        }
    };
    Ok(Answer {
        status: output
            .status_code()
            .and_then(|s| u16::try_from(s).ok())
            .unwrap_or(200),
        mcp_session: output.mcp_session_id().map(str::to_string),
        content_type: output.content_type().to_string(),
        session: output
            .runtime_session_id()
            .unwrap_or(&options.session)
            .to_string(),
        body: output.response,
    })
}

/// The status of the agent's own error answer, when AgentCore refused the invocation because
/// of it: the service says `Received error (<status>) from runtime` (RuntimeClientError).
pub fn agent_error_status(err: &anyhow::Error) -> Option<u16> {
    let text = format!("{err:#}");
    let rest = text.split("Received error (").nth(1)?;
    rest.split(')').next()?.parse().ok()
}

/// Whether a refusal may come from a runtime that is not READY: not the agent's own error, not
/// the caller's (access, payload) and not throttling.
fn may_be_not_ready(err: &SdkError<InvokeAgentRuntimeError, HttpResponse>) -> bool {
    let SdkError::ServiceError(service) = err else {
        return false;
    };
    !matches!(
        service.err(),
        InvokeAgentRuntimeError::RuntimeClientError(_)
            | InvokeAgentRuntimeError::AccessDeniedException(_)
            | InvokeAgentRuntimeError::ValidationException(_)
            | InvokeAgentRuntimeError::ThrottlingException(_)
            | InvokeAgentRuntimeError::ServiceQuotaExceededException(_)
    )
}

/// The service's error, with what to do about it.
fn explain(
    err: SdkError<InvokeAgentRuntimeError, HttpResponse>,
    env: Env,
    id: &str,
    agent: &DeployedAgent,
    endpoint: &str,
) -> anyhow::Error {
    let logs = format!("`cargo xtask logs {id} --env {env} --since 10m`");
    let service = match err {
        SdkError::ServiceError(service) => service.into_err(),
        failure @ SdkError::DispatchFailure(_) => {
            let target = std::env::var("AWS_ENDPOINT_URL_BEDROCK_AGENTCORE")
                .or_else(|_| std::env::var("AWS_ENDPOINT_URL"))
                .ok();
            return match target {
                Some(url) => helped!(
                    "cannot reach the AgentCore data plane at {url}: {}", DisplayErrorContext(&failure);
                    "AWS_ENDPOINT_URL_BEDROCK_AGENTCORE (or AWS_ENDPOINT_URL) sends the call there: \
                     is `cargo xtask dataplane {env}` running?"
                ),
                None => {
                    anyhow::anyhow!("cannot reach AgentCore: {}", DisplayErrorContext(&failure))
                }
            };
        }
        other => {
            return anyhow::Error::new(other)
                .context(format!("the invocation of `{id}` in {env} failed"));
        }
    };
    let message = service.message().unwrap_or("no message").to_string();
    match &service {
        InvokeAgentRuntimeError::RuntimeClientError(_) => helped!(
            "`{id}` in {env} failed: {message}"; "its log: {logs}"
        ),
        InvokeAgentRuntimeError::ResourceNotFoundException(_) => helped!(
            "AgentCore has no runtime {} with endpoint `{endpoint}`: {message}", agent.runtime_arn;
            "the agents stack's state names it: was it changed outside Terraform? `cargo xtask plan \
             {env}` shows drift; `cargo xtask status {env}` what is deployed"
        ),
        InvokeAgentRuntimeError::ThrottlingException(_)
        | InvokeAgentRuntimeError::ServiceQuotaExceededException(_) => helped!(
            "AgentCore still refuses `{id}` in {env} after the SDK's retries: {message}";
            "wait and try again, or raise the runtime's quota"
        ),
        InvokeAgentRuntimeError::AccessDeniedException(_) => helped!(
            "not allowed to invoke `{id}` in {env}: {message}";
            "the caller needs bedrock-agentcore:InvokeAgentRuntime on {}", agent.runtime_arn
        ),
        InvokeAgentRuntimeError::ValidationException(_) => helped!(
            "AgentCore refused the invocation of `{id}` in {env}: {message}";
            "check the payload and the session id (33 to 256 characters)"
        ),
        _ => anyhow::anyhow!(
            "the invocation of `{id}` in {env} failed: {}: {message}",
            service.code().unwrap_or("error")
        ),
    }
}
