//! `assistant`: answers a prompt with Amazon Bedrock's Converse API on the AgentCore contract.
//!
//! Request: `{"prompt": "...", "stream": false, "system": "optional system prompt"}`.
//! Answer: `{"answer", "stop_reason", "usage": {"input_tokens", "output_tokens"}, "session_id"}`,
//! or with `"stream": true` server-sent events `{"delta": "..."}` … then
//! `{"done": true, "stop_reason", "usage"}`.
//!
//! A follow-up in the same session sees the earlier turns: they are kept in the environment's
//! AgentCore Memory when `AGENTCORE_MEMORY_ID` is set (the blueprint's `memory.enabled`), with
//! the records its strategies extracted for the caller (`runtimeUserId`) given to the model as
//! context; otherwise in this process (AgentCore gives each session its own microVM). A memory
//! that fails or is slow costs the answer its context, never the answer.

/// This agent's blueprint, checked and compiled in by build.rs (not every value is used).
#[allow(dead_code)]
mod blueprint {
    include!(concat!(env!("OUT_DIR"), "/blueprint.rs"));
}
mod bedrock;
mod conversation;
mod tools;

use std::sync::Arc;

use agentcore_runtime::gateway::Gateway;
use agentcore_runtime::memory::Scope;
use agentcore_runtime::{
    Config, HandlerError, Invocation, ModelConfig, ModelDefaults, Reply, Runtime,
};
use serde::Deserialize;

use crate::bedrock::Assistant;
use crate::conversation::Conversations;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Request {
    prompt: String,
    #[serde(default)]
    stream: bool,
    #[serde(default)]
    system: Option<String>,
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    agentcore_runtime::run_agent(env!("CARGO_PKG_NAME"), run()).await
}

async fn run() -> anyhow::Result<()> {
    let config = Config::from_env(env!("CARGO_PKG_NAME"))?;
    let model = ModelConfig::from_env_or(ModelDefaults {
        model_id: blueprint::MODEL_ID,
        max_tokens: blueprint::MAX_TOKENS,
        temperature: blueprint::TEMPERATURE,
    })?;
    let conversations = Conversations::new(&config, blueprint::MEMORY_NAMESPACES).await;
    let gateway = Gateway::from_config(&config).await?;
    let assistant = Arc::new(Assistant::new(&config, model, conversations, gateway).await);
    Runtime::new(config)
        .serve(move |request: Request, invocation: Invocation| {
            let assistant = assistant.clone();
            async move { handle(&assistant, request, invocation).await }
        })
        .await
}

async fn handle(
    assistant: &Arc<Assistant>,
    request: Request,
    invocation: Invocation,
) -> Result<Reply, HandlerError> {
    if request.prompt.trim().is_empty() {
        return Err(HandlerError::bad_request(
            "`prompt` is empty: ask the assistant something",
        ));
    }
    let session = invocation.session_id().map(str::to_owned);
    let scope = Scope::of(&invocation);
    if request.stream {
        let chunks = assistant
            .stream(scope, request.prompt, request.system)
            .await?;
        Ok(Reply::stream(chunks))
    } else {
        let answer = assistant
            .answer(scope, request.prompt, request.system)
            .await?;
        Reply::json(&serde_json::json!({
            "answer": answer.text,
            "stop_reason": answer.stop_reason,
            "usage": answer.usage,
            "session_id": session,
        }))
    }
}
