//! One Converse call with a forced tool: the model's answer is the tool's input.

use agentcore_runtime::telemetry::BEDROCK;
use agentcore_runtime::{Config, HandlerError, ModelCall, ModelConfig};
use aws_sdk_bedrockruntime::Client;
use aws_sdk_bedrockruntime::config::Region;
use aws_sdk_bedrockruntime::error::DisplayErrorContext;
use aws_sdk_bedrockruntime::types::{
    ContentBlock, ConversationRole, InferenceConfiguration, Message, SpecificToolChoice,
    SystemContentBlock, Tool, ToolChoice, ToolConfiguration, ToolInputSchema, ToolSpecification,
};
use serde::{Deserialize, Serialize};
use tracing::Instrument as _;

use agentcore_runtime::document;

const TOOL: &str = "record_triage";

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Record {
    pub category: String,
    pub priority: Priority,
    pub summary: String,
    pub needs_reply: bool,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Priority {
    Low,
    Medium,
    High,
    Urgent,
}

pub struct Classifier {
    client: Client,
    model: ModelConfig,
}

impl Classifier {
    /// Bedrock in `BEDROCK_REGION` when set (see the assistant for why), SDK defaults otherwise.
    pub async fn new(config: &Config, model: ModelConfig) -> Classifier {
        let mut loader = aws_config::from_env();
        if let Some(region) = &config.bedrock_region {
            loader = loader.region(Region::new(region.clone()));
        }
        let client = Client::new(&loader.load().await);
        tracing::info!(model_id = %model.model_id, region = ?config.bedrock_region, "bedrock client ready");
        Classifier { client, model }
    }

    pub async fn classify(
        &self,
        text: &str,
        categories: &[String],
    ) -> Result<Record, HandlerError> {
        let call = ModelCall::chat(BEDROCK, &self.model.model_id);
        let sent = self
            .client
            .converse()
            .model_id(&self.model.model_id)
            .system(SystemContentBlock::Text(format!(
                "You triage incoming requests. Call the `{TOOL}` tool exactly once with your \
                 assessment of the user's text. Pick the category from the allowed list."
            )))
            .messages(
                Message::builder()
                    .role(ConversationRole::User)
                    .content(ContentBlock::Text(text.to_string()))
                    .build()?,
            )
            .tool_config(tool_config(categories)?)
            .inference_config(
                InferenceConfiguration::builder()
                    .set_max_tokens(self.model.max_tokens)
                    .set_temperature(self.model.temperature)
                    .build(),
            )
            .send()
            .instrument(call.span().clone())
            .await;
        let output = sent.map_err(|err| {
            call.failed(anyhow::anyhow!(
                "Converse failed: {}",
                DisplayErrorContext(&err)
            ))
        })?;
        let usage = output.usage();
        call.finish(
            usage.map(|u| u.input_tokens().into()),
            usage.map(|u| u.output_tokens().into()),
            output.stop_reason().as_str(),
        );
        let tool_input = output
            .output()
            .and_then(|o| o.as_message().ok())
            .and_then(|m| {
                m.content().iter().find_map(|c| match c {
                    ContentBlock::ToolUse(tool) if tool.name() == TOOL => Some(tool.input()),
                    _ => None,
                })
            })
            .ok_or_else(|| {
                anyhow::anyhow!(
                    "the model answered without calling `{TOOL}` (stop reason {})",
                    output.stop_reason().as_str()
                )
            })?;
        let input = document::to_json(tool_input);
        let record: Record = serde_json::from_value(input.clone()).map_err(|err| {
            anyhow::anyhow!("the model's `{TOOL}` input does not fit the record ({err}): {input}")
        })?;
        if !categories.contains(&record.category) {
            return Err(anyhow::anyhow!(
                "the model chose category `{}`, which is not one of {categories:?}",
                record.category
            )
            .into());
        }
        Ok(record)
    }
}

fn tool_config(categories: &[String]) -> anyhow::Result<ToolConfiguration> {
    let schema = serde_json::json!({
        "type": "object",
        "properties": {
            "category": { "type": "string", "enum": categories },
            "priority": { "type": "string", "enum": ["low", "medium", "high", "urgent"] },
            "summary": { "type": "string", "description": "One sentence, in the user's language." },
            "needs_reply": { "type": "boolean", "description": "Whether a person must answer." }
        },
        "required": ["category", "priority", "summary", "needs_reply"],
        "additionalProperties": false
    });
    let spec = ToolSpecification::builder()
        .name(TOOL)
        .description("Records the triage of the user's text.")
        .input_schema(ToolInputSchema::Json(document::from_json(&schema)))
        .build()?;
    Ok(ToolConfiguration::builder()
        .tools(Tool::ToolSpec(spec))
        .tool_choice(ToolChoice::Tool(
            SpecificToolChoice::builder().name(TOOL).build()?,
        ))
        .build()?)
}
