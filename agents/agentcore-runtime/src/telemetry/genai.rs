//! Spans for what an agent calls, with the OpenTelemetry GenAI semantic conventions
//! (<https://opentelemetry.io/docs/specs/semconv/gen-ai/>): the model ([`ModelCall`]), and
//! the hooks for tools ([`tool_span`]) and AgentCore Memory ([`memory_span`]).
//!
//! Each is a `tracing` span, a child of the invocation's when made inside the handler, so it
//! lands in the trace when traces are exported and costs a few field writes when not.

use std::time::Instant;

use opentelemetry::trace::Status;
use opentelemetry::{Array, KeyValue, Value};
use tracing::field::Empty;
use tracing_opentelemetry::OpenTelemetrySpanExt as _;

use super::metrics::instruments;

/// `gen_ai.provider.name` (and the older `gen_ai.system`) of Amazon Bedrock.
pub const BEDROCK: &str = "aws.bedrock";

/// One call to a model: a client span `{operation} {model}` and, when it ends, the
/// `gen_ai.client.operation.duration` and `gen_ai.client.token.usage` metrics.
///
/// ```no_run
/// # async fn converse() -> Result<(u32, u32, String), String> { Ok((1, 2, "end_turn".into())) }
/// # async fn handler() -> Result<(), String> {
/// use agentcore_runtime::telemetry::{BEDROCK, ModelCall};
/// use tracing::Instrument as _;
///
/// let call = ModelCall::chat(BEDROCK, "eu.anthropic.claude-sonnet-4-5-v1:0");
/// let sent = converse().instrument(call.span().clone()).await;
/// let (input, output, stop) = sent.map_err(|err| call.failed(err))?;
/// call.finish(Some(input.into()), Some(output.into()), &stop);
/// # Ok::<(), String>(())
/// # }
/// ```
pub struct ModelCall {
    span: tracing::Span,
    started: Instant,
    attributes: [KeyValue; 4],
}

impl ModelCall {
    /// A `chat` call (Converse, ConverseStream) to `model` of `provider`.
    pub fn chat(provider: &'static str, model: &str) -> ModelCall {
        ModelCall::start("chat", provider, model)
    }

    /// A call of `operation` (`chat`, `text_completion`, `embeddings`, …) to `model`.
    pub fn start(operation: &'static str, provider: &'static str, model: &str) -> ModelCall {
        let span = tracing::info_span!(
            "model",
            otel.name = format!("{operation} {model}"),
            otel.kind = "client",
            gen_ai.operation.name = operation,
            gen_ai.provider.name = provider,
            gen_ai.system = provider,
            gen_ai.request.model = model,
            gen_ai.usage.input_tokens = Empty,
            gen_ai.usage.output_tokens = Empty,
        );
        ModelCall {
            span,
            started: Instant::now(),
            attributes: [
                KeyValue::new("gen_ai.operation.name", operation),
                KeyValue::new("gen_ai.provider.name", provider),
                KeyValue::new("gen_ai.system", provider),
                KeyValue::new("gen_ai.request.model", model.to_string()),
            ],
        }
    }

    /// The span to instrument the call with (and to keep for a stream's later chunks).
    pub fn span(&self) -> &tracing::Span {
        &self.span
    }

    /// The model answered: its token counts (when it reported them) and why it stopped.
    pub fn finish(
        self,
        input_tokens: Option<i64>,
        output_tokens: Option<i64>,
        finish_reason: &str,
    ) {
        let instruments = instruments();
        for (kind, count, field) in [
            ("input", input_tokens, "gen_ai.usage.input_tokens"),
            ("output", output_tokens, "gen_ai.usage.output_tokens"),
        ] {
            let Some(count) = count else { continue };
            self.span.record(field, count);
            let mut attributes = self.attributes.to_vec();
            attributes.push(KeyValue::new("gen_ai.token.type", kind));
            instruments
                .token_usage
                .record(u64::try_from(count).unwrap_or(0), &attributes);
        }
        if !finish_reason.is_empty() {
            self.span.set_attribute(
                "gen_ai.response.finish_reasons",
                Value::Array(Array::String(vec![finish_reason.to_string().into()])),
            );
        }
        instruments
            .operation_duration
            .record(self.started.elapsed().as_secs_f64(), &self.attributes);
    }

    /// The call failed: the span's status says why, the duration metric has `error.type`.
    /// Gives the error back, for `map_err`; the call is over (do not also `finish` it).
    pub fn failed<E: std::fmt::Display>(&self, error: E) -> E {
        self.span.set_status(Status::error(error.to_string()));
        self.span.set_attribute("error.type", "model_call_failed");
        let mut attributes = self.attributes.to_vec();
        attributes.push(KeyValue::new("error.type", "model_call_failed"));
        instruments()
            .operation_duration
            .record(self.started.elapsed().as_secs_f64(), &attributes);
        error
    }
}

/// The hook for a tool call (`execute_tool {name}`, GenAI conventions): instrument the call
/// with it; record its outcome on it as for any span.
pub fn tool_span(name: &str) -> tracing::Span {
    tracing::info_span!(
        "tool",
        otel.name = format!("execute_tool {name}"),
        otel.kind = "internal",
        gen_ai.operation.name = "execute_tool",
        gen_ai.tool.name = name,
    )
}

/// The hook for a call to AgentCore Memory (`operation`: `CreateEvent`, `ListEvents`,
/// `RetrieveMemoryRecords`, …), with the attributes AgentCore's own memory spans carry
/// (`memory.id`, `session.id`, `actor.id`) so both line up in CloudWatch.
pub fn memory_span(
    operation: &str,
    memory_id: &str,
    session_id: &str,
    actor_id: &str,
) -> tracing::Span {
    tracing::info_span!(
        "memory",
        otel.name = format!("memory {operation}"),
        otel.kind = "client",
        memory.operation = operation,
        memory.id = memory_id,
        session.id = session_id,
        actor.id = actor_id,
    )
}
