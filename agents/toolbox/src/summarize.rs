//! Summaries by the blueprint's model (Bedrock Converse): agents hand long documents to a small
//! model through this tool instead of spending their own context on them.

use agentcore_runtime::{Config, ModelConfig};
use aws_sdk_bedrockruntime::Client;
use aws_sdk_bedrockruntime::config::Region;
use aws_sdk_bedrockruntime::error::DisplayErrorContext;
use aws_sdk_bedrockruntime::types::{
    ContentBlock, ConversationRole, InferenceConfiguration, Message, SystemContentBlock,
};

pub struct Summarizer {
    client: Client,
    model: ModelConfig,
}

impl Summarizer {
    /// Bedrock in `BEDROCK_REGION` when set (cross-region inference), SDK defaults otherwise.
    pub async fn new(config: &Config, model: ModelConfig) -> Summarizer {
        let mut loader = aws_config::from_env();
        if let Some(region) = &config.bedrock_region {
            loader = loader.region(Region::new(region.clone()));
        }
        let client = Client::new(&loader.load().await);
        tracing::info!(model_id = %model.model_id, region = ?config.bedrock_region, "bedrock client ready");
        Summarizer { client, model }
    }

    /// The model's summary, or what went wrong in words the calling agent can act on (the
    /// cause, with its AWS error code, goes to the log).
    pub async fn summarize(&self, text: &str, max_words: u32) -> Result<String, String> {
        let system = format!(
            "Summarize the user's document in at most {max_words} words. Keep names, numbers, \
             dates and decisions exactly as written. Answer with the summary only."
        );
        let output = self
            .client
            .converse()
            .model_id(&self.model.model_id)
            .system(SystemContentBlock::Text(system))
            .messages(
                Message::builder()
                    .role(ConversationRole::User)
                    .content(ContentBlock::Text(text.to_string()))
                    .build()
                    .map_err(|e| e.to_string())?,
            )
            .inference_config(
                InferenceConfiguration::builder()
                    .set_max_tokens(self.model.max_tokens)
                    .set_temperature(self.model.temperature)
                    .build(),
            )
            .send()
            .await
            .map_err(|err| {
                tracing::error!(error = %DisplayErrorContext(&err), "Converse failed");
                "the summarization model is unavailable; retry later or use the text as is"
                    .to_string()
            })?;
        let message = output.output().and_then(|o| o.as_message().ok());
        let summary: String = message
            .map(|m| {
                m.content()
                    .iter()
                    .filter_map(|block| block.as_text().ok().cloned())
                    .collect::<Vec<_>>()
                    .join("")
            })
            .unwrap_or_default();
        if summary.trim().is_empty() {
            return Err("the model answered with no text".to_string());
        }
        Ok(summary.trim().to_string())
    }
}
