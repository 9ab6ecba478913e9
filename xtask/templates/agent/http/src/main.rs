//! `{{id}}`: answers a prompt with Amazon Bedrock's Converse API, on the blueprint's model.
//!
//! Request: `{"prompt": "..."}`. Answer: `{"answer", "session_id"}`.
//!
//! Made by `cargo xtask new`: the smallest agent that does real work. Grow it from here (the
//! assistant streams and keeps conversations; triage forces a structured answer).

/// This agent's blueprint, checked and compiled in by build.rs (not every value is used).
#[allow(dead_code)]
mod blueprint {
    include!(concat!(env!("OUT_DIR"), "/blueprint.rs"));
}

use agentcore_runtime::{
    Config, HandlerError, Invocation, ModelConfig, ModelDefaults, Reply, Runtime,
};
use aws_sdk_bedrockruntime::Client;
use aws_sdk_bedrockruntime::config::Region;
use aws_sdk_bedrockruntime::error::DisplayErrorContext;
use aws_sdk_bedrockruntime::types::{
    ContentBlock, ConversationRole, InferenceConfiguration, Message,
};
use serde::Deserialize;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Request {
    prompt: String,
}

struct Agent {
    client: Client,
    model: ModelConfig,
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    agentcore_runtime::run_agent(env!("CARGO_PKG_NAME"), run()).await
}

async fn run() -> anyhow::Result<()> {
    let config = Config::from_env(env!("CARGO_PKG_NAME"))?;
    // The blueprint's model, unless the runtime's MODEL_* variables override it.
    let model = ModelConfig::from_env_or(ModelDefaults {
        model_id: blueprint::MODEL_ID,
        max_tokens: blueprint::MAX_TOKENS,
        temperature: blueprint::TEMPERATURE,
    })?;
    // Bedrock may live in another region than the runtime: BEDROCK_REGION wins when set.
    let mut loader = aws_config::from_env();
    if let Some(region) = &config.bedrock_region {
        loader = loader.region(Region::new(region.clone()));
    }
    let agent = std::sync::Arc::new(Agent {
        client: Client::new(&loader.load().await),
        model,
    });
    Runtime::new(config)
        .serve(move |request: Request, invocation: Invocation| {
            let agent = agent.clone();
            async move { handle(&agent, request, invocation).await }
        })
        .await
}

async fn handle(
    agent: &Agent,
    request: Request,
    invocation: Invocation,
) -> Result<Reply, HandlerError> {
    let prompt = request.prompt.trim();
    if prompt.is_empty() {
        return Err(HandlerError::bad_request(
            "`prompt` is empty: ask something",
        ));
    }
    let output = agent
        .client
        .converse()
        .model_id(&agent.model.model_id)
        .messages(
            Message::builder()
                .role(ConversationRole::User)
                .content(ContentBlock::Text(prompt.to_string()))
                .build()?,
        )
        .inference_config(
            InferenceConfiguration::builder()
                .set_max_tokens(agent.model.max_tokens)
                .set_temperature(agent.model.temperature)
                .build(),
        )
        .send()
        .await
        // The cause goes to the log; the caller gets an opaque 500 (agentcore-runtime).
        .map_err(|err| anyhow::anyhow!("Converse failed: {}", DisplayErrorContext(&err)))?;
    let answer: String = output
        .output()
        .and_then(|o| o.as_message().ok())
        .map(|m| {
            m.content()
                .iter()
                .filter_map(|c| c.as_text().ok())
                .cloned()
                .collect()
        })
        .unwrap_or_default();
    Reply::json(&serde_json::json!({
        "answer": answer,
        "session_id": invocation.session_id(),
    }))
}
