//! The Converse and ConverseStream calls.

use std::sync::Arc;

use agentcore_runtime::document;
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
    ContentBlock, ContentBlockDelta, ContentBlockStart, ConversationRole, ConverseStreamOutput,
    InferenceConfiguration, Message, StopReason, SystemContentBlock, TokenUsage, ToolConfiguration,
    ToolUseBlock,
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
    gateway: Option<Arc<Gateway>>,
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
            gateway: gateway.map(Arc::new),
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
        let tool_config = self.tool_config().await?;
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

    /// The gateway's tools offered to the model, as Converse takes them.
    async fn tool_config(&self) -> anyhow::Result<Option<ToolConfiguration>> {
        match &self.gateway {
            Some(gateway) => tools::configuration(&gateway.tools().await),
            None => Ok(None),
        }
    }

    /// Starts a ConverseStream; each text delta becomes one chunk as soon as it arrives. When
    /// the model asks for tools, they are called and the next ConverseStream continues the
    /// same answer, at most `TOOL_MAX_STEPS` times.
    pub async fn stream(
        self: &Arc<Self>,
        scope: Option<Scope>,
        prompt: String,
        system: Option<String>,
    ) -> Result<impl Stream<Item = Result<Chunk, HandlerError>> + Send + 'static, HandlerError>
    {
        let context = self.conversations.context(scope.as_ref(), &prompt).await?;
        let system = conversation::system_prompt(system, &context.recalled);
        let tool_config = self.tool_config().await?;
        let (call, events) = self
            .start_stream(&context.messages, system.clone(), tool_config.clone())
            .await?;
        let state = StreamState {
            call: Some(call),
            events,
            assistant: self.clone(),
            scope,
            prompt,
            text: String::new(),
            stop_reason: String::new(),
            finished: false,
            messages: context.messages,
            system,
            tool_config,
            steps: 0,
            step_text: String::new(),
            pending: Vec::new(),
            usage: Usage::default(),
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
                        s.finish_call(None);
                        return Some((Ok(s.done().await), s));
                    }
                    Err(err) => {
                        let err = anyhow::anyhow!(
                            "ConverseStream broke off: {}",
                            DisplayErrorContext(&err)
                        );
                        return Some((Err(s.fail(err).into()), s));
                    }
                };
                match event {
                    ConverseStreamOutput::ContentBlockStart(block) => {
                        if let Some(ContentBlockStart::ToolUse(start)) = block.start {
                            s.pending.push(PendingUse {
                                id: start.tool_use_id,
                                name: start.name,
                                input: String::new(),
                            });
                        }
                    }
                    ConverseStreamOutput::ContentBlockDelta(d) => match d.delta {
                        Some(ContentBlockDelta::Text(text)) => {
                            s.text.push_str(&text);
                            s.step_text.push_str(&text);
                            return Some((Ok(Chunk::Delta { delta: text }), s));
                        }
                        Some(ContentBlockDelta::ToolUse(delta)) => {
                            if let Some(pending) = s.pending.last_mut() {
                                pending.input.push_str(delta.input());
                            }
                        }
                        _ => {}
                    },
                    ConverseStreamOutput::MessageStop(stop) => {
                        s.stop_reason = stop.stop_reason.as_str().to_string();
                    }
                    ConverseStreamOutput::Metadata(meta) => {
                        s.finish_call(meta.usage());
                        let gateway = s.assistant.gateway.as_ref();
                        let wants_tools =
                            s.stop_reason == StopReason::ToolUse.as_str() && !s.pending.is_empty();
                        match gateway {
                            Some(gateway) if wants_tools && s.steps < gateway.max_steps() => {
                                if let Err(err) = s.next_step(gateway.clone()).await {
                                    return Some((Err(s.fail(err).into()), s));
                                }
                            }
                            Some(_) if wants_tools => {
                                tracing::warn!(
                                    steps = s.steps,
                                    "the model still asks for tools after TOOL_MAX_STEPS turns: answering with what it said"
                                );
                                s.stop_reason = TOOL_STEPS_EXHAUSTED.to_string();
                                return Some((Ok(s.done().await), s));
                            }
                            _ => return Some((Ok(s.done().await), s)),
                        }
                    }
                    _ => {}
                }
            }
        }))
    }

    /// One ConverseStream call: its span and metrics (ended by the caller), its events.
    async fn start_stream(
        &self,
        messages: &[Message],
        system: Option<String>,
        tool_config: Option<ToolConfiguration>,
    ) -> anyhow::Result<(
        ModelCall,
        EventReceiver<ConverseStreamOutput, ConverseStreamOutputError>,
    )> {
        let call = ModelCall::chat(BEDROCK, &self.model.model_id);
        let sent = self
            .client
            .converse_stream()
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
                "ConverseStream failed: {}",
                DisplayErrorContext(&err)
            ))
        })?;
        Ok((call, output.stream))
    }
}

struct StreamState {
    /// The current model call's span and metrics, ended by its stream's metadata.
    call: Option<ModelCall>,
    events: EventReceiver<ConverseStreamOutput, ConverseStreamOutputError>,
    assistant: Arc<Assistant>,
    scope: Option<Scope>,
    prompt: String,
    /// The answer so far, over every step.
    text: String,
    stop_reason: String,
    finished: bool,
    /// The conversation the next step continues, with the tool turns added.
    messages: Vec<Message>,
    system: Option<String>,
    tool_config: Option<ToolConfiguration>,
    steps: usize,
    /// What the model said in this step, and the tool calls it asks for.
    step_text: String,
    pending: Vec<PendingUse>,
    usage: Usage,
}

/// A tool call as ConverseStream announces it: its id and name first, its input JSON in pieces.
struct PendingUse {
    id: String,
    name: String,
    input: String,
}

impl StreamState {
    fn finish_call(&mut self, reported: Option<&TokenUsage>) {
        self.usage.add(reported);
        let counted = usage(reported);
        if let Some(call) = self.call.take() {
            call.finish(
                reported.map(|_| counted.input_tokens.into()),
                reported.map(|_| counted.output_tokens.into()),
                &self.stop_reason,
            );
        }
    }

    fn fail(&mut self, err: anyhow::Error) -> anyhow::Error {
        self.finished = true;
        match self.call.take() {
            Some(call) => call.failed(err),
            None => err,
        }
    }

    /// Calls the tools the model asked for and starts the stream that continues the answer.
    async fn next_step(&mut self, gateway: Arc<Gateway>) -> anyhow::Result<()> {
        self.steps += 1;
        let mut said = Message::builder().role(ConversationRole::Assistant);
        if !self.step_text.is_empty() {
            said = said.content(ContentBlock::Text(std::mem::take(&mut self.step_text)));
        }
        let mut uses = Vec::new();
        for pending in self.pending.drain(..) {
            let input = serde_json::from_str(&pending.input).unwrap_or(serde_json::json!({}));
            let tool_use = ToolUseBlock::builder()
                .tool_use_id(pending.id)
                .name(pending.name)
                .input(document::from_json(&input))
                .build()?;
            said = said.content(ContentBlock::ToolUse(tool_use.clone()));
            uses.push(tool_use);
        }
        let results = tools::answer(&gateway, &uses).await?;
        self.messages.push(said.build()?);
        self.messages.push(results);
        self.stop_reason.clear();
        let (call, events) = self
            .assistant
            .start_stream(
                &self.messages,
                self.system.clone(),
                self.tool_config.clone(),
            )
            .await?;
        self.call = Some(call);
        self.events = events;
        Ok(())
    }

    /// The last chunk; the exchange joins the session's conversation only once it is whole.
    async fn done(&mut self) -> Chunk {
        self.finished = true;
        let conversations = &self.assistant.conversations;
        conversations
            .record(self.scope.as_ref(), &self.prompt, &self.text)
            .await;
        Chunk::Done {
            done: true,
            stop_reason: self.stop_reason.clone(),
            usage: self.usage,
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
