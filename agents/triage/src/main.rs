//! `triage`: classifies free text into a fixed JSON record, so a workflow can branch on it.
//!
//! Request: `{"text": "...", "categories": ["billing", "bug", ...]}` (categories optional).
//! Answer: `{"category", "priority": "low|medium|high|urgent", "summary", "needs_reply",
//! "session_id"}`.
//!
//! The model is made to answer through a tool whose input schema is the record (Converse
//! `toolChoice: tool`), and the answer is checked against that schema before it is returned:
//! a workflow gets the record or an error, never free text.

/// This agent's blueprint, checked and compiled in by build.rs (not every value is used).
#[allow(dead_code)]
mod blueprint {
    include!(concat!(env!("OUT_DIR"), "/blueprint.rs"));
}
mod classify;

use agentcore_runtime::{
    Config, HandlerError, Invocation, ModelConfig, ModelDefaults, Reply, Runtime,
};
use serde::Deserialize;

use crate::classify::Classifier;

/// Used when the request names none.
const DEFAULT_CATEGORIES: &[&str] = &["billing", "bug", "feature_request", "question", "other"];
/// Enough for a long email; a workflow with more should summarise first.
const MAX_TEXT_CHARS: usize = 20_000;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Request {
    text: String,
    #[serde(default)]
    categories: Vec<String>,
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
    let classifier = std::sync::Arc::new(Classifier::new(&config, model).await);
    Runtime::new(config)
        .serve(move |request: Request, invocation: Invocation| {
            let classifier = classifier.clone();
            async move { handle(&classifier, request, invocation).await }
        })
        .await
}

async fn handle(
    classifier: &Classifier,
    request: Request,
    invocation: Invocation,
) -> Result<Reply, HandlerError> {
    let text = request.text.trim();
    if text.is_empty() {
        return Err(HandlerError::bad_request(
            "`text` is empty: send the text to triage",
        ));
    }
    if text.chars().count() > MAX_TEXT_CHARS {
        return Err(HandlerError::bad_request(format!(
            "`text` is longer than {MAX_TEXT_CHARS} characters: send a summary or split it"
        )));
    }
    let categories: Vec<String> = if request.categories.is_empty() {
        DEFAULT_CATEGORIES.iter().map(|c| c.to_string()).collect()
    } else if request.categories.iter().any(|c| c.trim().is_empty()) {
        return Err(HandlerError::bad_request("`categories` has an empty entry"));
    } else {
        request.categories
    };
    let record = classifier.classify(text, &categories).await?;
    let mut value = serde_json::to_value(&record)?;
    if let Some(object) = value.as_object_mut() {
        object.insert("session_id".into(), invocation.session_id().into());
    }
    Ok(Reply::Json(value))
}
