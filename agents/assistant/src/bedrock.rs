//! The Converse and ConverseStream calls.

use std::sync::Arc;

use agentcore_runtime::gateway::Gateway;
use agentcore_runtime::memory::Scope;
use agentcore_runtime::telemetry::BEDROCK;
use agentcore_runtime::{Config, HandlerError, ModelCall, ModelConfig};
use aws_sdk_bedrockruntime::Client;
use aws_sdk_bedrockruntime::config::Region;
use aws_sdk_bedrockruntime::error::DisplayErrorContext;
use aws_sdk_bedrockruntime::operation::converse::ConverseOutput;
use aws_sdk_bedrockruntime::primitives::event_stream::EventReceiver;
use aws_sdk_bedrockruntime::types::error::ConverseStreamOutputError;
use aws_sdk_bedrockruntime::types::{
    ContentBlockDelta, ConverseStreamOutput, InferenceConfiguration, Message, StopReason,
    SystemContentBlock, TokenUsage, ToolConfiguration,
};
use futures_util::Stream;
use serde::Serialize;
use tracing::Instrument as _;

use crate::conversation::{self, Conversations};
use crate::tools;

pub struct Assistant {
    client: Client,
    model: ModelConfig,
    conversations: Conversations,
    gateway: Option<Gateway>,
}

/// The `stop_reason` of an answer given when the model still asked for tools after
/// `TOOL_MAX_STEPS` turns of them.
pub const TOOL_STEPS_EXHAUSTED: &str = "tool_steps_exhausted";

#[derive(Serialize, Default, Clone, Copy)]
pub struct Usage {
    pub input_tokens: i32,
    pub output_tokens: i32,
}

impl Usage {
    /// Adds one model call's tokens (an answer with tool turns is several calls).
    fn add(&mut self, reported: Option<&TokenUsage>) {
        let call = usage(reported);
        self.input_tokens += call.input_tokens;
        self.output_tokens += call.output_tokens;
    }
}

pub struct Answer {
    pub text: String,
    pub stop_reason: String,
    pub usage: Usage,
}

#[derive(Serialize)]
#[serde(untagged)]
pub enum Chunk {
    Delta {
        delta: String,
    },
    Done {
        done: bool,
        stop_reason: String,
        usage: Usage,
    },
}

impl Assistant {
    /// A Bedrock client for `BEDROCK_REGION` when it is set (Bedrock may live in another region
    /// than the runtime), otherwise for the SDK's default region; credentials and endpoint
    /// (`AWS_ENDPOINT_URL_BEDROCK_RUNTIME`) come from the SDK's default chain.
    pub async fn new(
        config: &Config,
        model: ModelConfig,
        conversations: Conversations,
        gateway: Option<Gateway>,
    ) -> Assistant {
        let mut loader = aws_config::from_env();
        if let Some(region) = &config.bedrock_region {
            loader = loader.region(Region::new(region.clone()));
        }
        let client = Client::new(&loader.load().await);
        tracing::info!(model_id = %model.model_id, region = ?config.bedrock_region, "bedrock client ready");
        Assistant {
            client,
            model,
            conversations,
            gateway,
        }
    }

    fn inference(&self) -> InferenceConfiguration {
        InferenceConfiguration::builder()
            .set_max_tokens(self.model.max_tokens)
            .set_temperature(self.model.temperature)
            .build()
    }

    /// Converse until the model answers: while it asks for the gateway's tools, they are
    /// called and their results given back, at most `TOOL_MAX_STEPS` times.
    pub async fn answer(
        &self,
        scope: Option<Scope>,
        prompt: String,
        system: Option<String>,
    ) -> Result<Answer, HandlerError> {
        let context = self.conversations.context(scope.as_ref(), &prompt).await?;
        let system = conversation::system_prompt(system, &context.recalled);
        let offered = match &self.gateway {
            Some(gateway) => gateway.tools().await,
            None => Vec::new(),
        };
        let tool_config = tools::configuration(&offered)?;
        let mut messages = context.messages;
        let mut usage = Usage::default();
        let mut steps = 0;
        let (text, stop_reason) = loop {
            let output = self
                .converse(&messages, system.clone(), tool_config.clone())
                .await?;
            usage.add(output.usage());
            let message = output.output().and_then(|o| o.as_message().ok()).cloned();
            let text: String = message
                .iter()
                .flat_map(|m| m.content())
                .filter_map(|c| c.as_text().ok())
                .cloned()
                .collect();
            let stop_reason = output.stop_reason().as_str().to_string();
            let (Some(gateway), Some(message)) = (&self.gateway, message) else {
                break (text, stop_reason);
            };
            let uses = tools::uses(&message);
            if *output.stop_reason() != StopReason::ToolUse || uses.is_empty() {
                break (text, stop_reason);
            }
            if steps == gateway.max_steps() {
                tracing::warn!(
                    steps,
                    "the model still asks for tools after TOOL_MAX_STEPS turns: answering with what it said"
                );
                break (text, TOOL_STEPS_EXHAUSTED.to_string());
            }
            steps += 1;
            let results = tools::answer(gateway, &uses).await?;
            messages.push(message);
            messages.push(results);
        };
        self.conversations
            .record(scope.as_ref(), &prompt, &text)
            .await;
        Ok(Answer {
            text,
            stop_reason,
            usage,
        })
    }

    /// One Converse call, its span and metrics.
    async fn converse(
        &self,
        messages: &[Message],
        system: Option<String>,
        tool_config: Option<ToolConfiguration>,
    ) -> anyhow::Result<ConverseOutput> {
        let call = ModelCall::chat(BEDROCK, &self.model.model_id);
        let sent = self
            .client
            .converse()
            .model_id(&self.model.model_id)
            .set_messages(Some(messages.to_vec()))
            .set_system(system.map(|s| vec![SystemContentBlock::Text(s)]))
            .inference_config(self.inference())
            .set_tool_config(tool_config)
            .send()
            .instrument(call.span().clone())
            .await;
        let output = sent.map_err(|err| {
            call.failed(anyhow::anyhow!(
                "Converse failed: {}",
                DisplayErrorContext(&err)
            ))
        })?;
        let counted = usage(output.usage());
        call.finish(
            output.usage().map(|_| counted.input_tokens.into()),
            output.usage().map(|_| counted.output_tokens.into()),
            output.stop_reason().as_str(),
        );
        Ok(output)
    }

    /// Starts a ConverseStream; each text delta becomes one chunk as soon as it arrives.
    pub async fn stream(
        self: &Arc<Self>,
        scope: Option<Scope>,
        prompt: String,
        system: Option<String>,
    ) -> Result<impl Stream<Item = Result<Chunk, HandlerError>> + Send + 'static, HandlerError>
    {
        let context = self.conversations.context(scope.as_ref(), &prompt).await?;
        let system = conversation::system_prompt(system, &context.recalled);
        let call = ModelCall::chat(BEDROCK, &self.model.model_id);
        let sent = self
            .client
            .converse_stream()
            .model_id(&self.model.model_id)
            .set_messages(Some(context.messages))
            .set_system(system.map(|s| vec![SystemContentBlock::Text(s)]))
            .inference_config(self.inference())
            .send()
            .instrument(call.span().clone())
            .await;
        let output = sent.map_err(|err| {
            call.failed(anyhow::anyhow!(
                "ConverseStream failed: {}",
                DisplayErrorContext(&err)
            ))
        })?;
        let state = StreamState {
            call: Some(call),
            events: output.stream,
            assistant: self.clone(),
            scope,
            prompt,
            text: String::new(),
            stop_reason: String::new(),
            finished: false,
        };
        Ok(futures_util::stream::unfold(state, |mut s| async move {
            if s.finished {
                return None;
            }
            loop {
                let event = match s.events.recv().await {
                    Ok(Some(event)) => event,
                    Ok(None) => {
                        // The stream ended without metadata: still say it is done.
                        s.finished = true;
                        let done = s.finish(None).await;
                        return Some((Ok(done), s));
                    }
                    Err(err) => {
                        s.finished = true;
                        let err = anyhow::anyhow!(
                            "ConverseStream broke off: {}",
                            DisplayErrorContext(&err)
                        );
                        if let Some(call) = s.call.take() {
                            call.failed(&err);
                        }
                        return Some((Err(err.into()), s));
                    }
                };
                match event {
                    ConverseStreamOutput::ContentBlockDelta(d) => {
                        if let Some(ContentBlockDelta::Text(text)) = d.delta {
                            s.text.push_str(&text);
                            return Some((Ok(Chunk::Delta { delta: text }), s));
                        }
                    }
                    ConverseStreamOutput::MessageStop(stop) => {
                        s.stop_reason = stop.stop_reason.as_str().to_string();
                    }
                    ConverseStreamOutput::Metadata(meta) => {
                        s.finished = true;
                        let done = s.finish(meta.usage()).await;
                        return Some((Ok(done), s));
                    }
                    _ => {}
                }
            }
        }))
    }
}

struct StreamState {
    /// The model call's span and metrics, ended by the stream's metadata (its token counts).
    call: Option<ModelCall>,
    events: EventReceiver<ConverseStreamOutput, ConverseStreamOutputError>,
    assistant: Arc<Assistant>,
    scope: Option<Scope>,
    prompt: String,
    text: String,
    stop_reason: String,
    finished: bool,
}

impl StreamState {
    /// The last chunk; the exchange joins the session's conversation only once it is whole.
    async fn finish(&mut self, reported: Option<&TokenUsage>) -> Chunk {
        let conversations = &self.assistant.conversations;
        conversations
            .record(self.scope.as_ref(), &self.prompt, &self.text)
            .await;
        let usage = usage(reported);
        if let Some(call) = self.call.take() {
            call.finish(
                reported.map(|_| usage.input_tokens.into()),
                reported.map(|_| usage.output_tokens.into()),
                &self.stop_reason,
            );
        }
        Chunk::Done {
            done: true,
            stop_reason: self.stop_reason.clone(),
            usage,
        }
    }
}

fn usage(usage: Option<&TokenUsage>) -> Usage {
    usage
        .map(|u| Usage {
            input_tokens: u.input_tokens(),
            output_tokens: u.output_tokens(),
        })
        .unwrap_or_default()
}
