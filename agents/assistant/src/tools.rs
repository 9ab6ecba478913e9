//! The gateway's tools as Converse sees them: MCP tools turned into tool specs, the model's
//! `toolUse` blocks called through the gateway and answered with `toolResult` blocks.

use agentcore_runtime::document;
use agentcore_runtime::gateway::Gateway;
use aws_sdk_bedrockruntime::types::{
    ContentBlock, ConversationRole, Message, Tool, ToolConfiguration, ToolInputSchema,
    ToolResultBlock, ToolResultContentBlock, ToolResultStatus, ToolSpecification, ToolUseBlock,
};
use serde_json::Value;

/// The tool configuration of a Converse call offering `tools`; none without tools (Converse
/// refuses an empty list).
pub fn configuration(tools: &[rmcp::model::Tool]) -> anyhow::Result<Option<ToolConfiguration>> {
    if tools.is_empty() {
        return Ok(None);
    }
    let mut config = ToolConfiguration::builder();
    for tool in tools {
        let schema = Value::Object((*tool.input_schema).clone());
        let mut spec = ToolSpecification::builder()
            .name(tool.name.as_ref())
            .input_schema(ToolInputSchema::Json(document::from_json(&schema)));
        if let Some(description) = &tool.description {
            spec = spec.description(description.as_ref());
        }
        config = config.tools(Tool::ToolSpec(spec.build()?));
    }
    Ok(Some(config.build()?))
}

/// The tool calls a model's message asks for.
pub fn uses(message: &Message) -> Vec<ToolUseBlock> {
    message
        .content()
        .iter()
        .filter_map(|c| c.as_tool_use().ok().cloned())
        .collect()
}

/// Calls every tool the model asked for (concurrently) and gives back the user turn that
/// answers them, one `toolResult` per `toolUse`, in order.
pub async fn answer(gateway: &Gateway, uses: &[ToolUseBlock]) -> anyhow::Result<Message> {
    let calls = uses.iter().map(|tool_use| async move {
        let arguments = match document::to_json(tool_use.input()) {
            Value::Object(map) => Some(map),
            Value::Null => None,
            other => {
                let mut map = serde_json::Map::new();
                map.insert("input".into(), other);
                Some(map)
            }
        };
        (tool_use, gateway.call(tool_use.name(), arguments).await)
    });
    let mut message = Message::builder().role(ConversationRole::User);
    for (tool_use, output) in futures_util::future::join_all(calls).await {
        let content = match output.structured {
            Some(value) if !output.is_error => {
                ToolResultContentBlock::Json(document::from_json(&value))
            }
            _ => ToolResultContentBlock::Text(output.text),
        };
        let status = if output.is_error {
            ToolResultStatus::Error
        } else {
            ToolResultStatus::Success
        };
        let result = ToolResultBlock::builder()
            .tool_use_id(tool_use.tool_use_id())
            .content(content)
            .status(status)
            .build()?;
        message = message.content(ContentBlock::ToolResult(result));
    }
    Ok(message.build()?)
}
