//! The turns of each session, so a follow-up question has its context: in the environment's
//! AgentCore Memory when the runtime is given one (`AGENTCORE_MEMORY_ID`), where they outlive
//! the session's microVM and feed the blueprint's memory strategies; in process otherwise.

use std::collections::HashMap;
use std::sync::Mutex;

use agentcore_runtime::Config;
use agentcore_runtime::memory::{self, Memory, Scope};
use aws_sdk_bedrockruntime::types::{ContentBlock, ConversationRole, Message};

/// Enough context for a follow-up; the oldest turns go first so one session cannot grow
/// without bound (AgentCore Memory reads back as many: `memory::HISTORY_EXCHANGES`).
const MAX_MESSAGES: usize = 2 * memory::HISTORY_EXCHANGES;
/// A runtime serves one session per microVM; this bounds a local run that sees many.
const MAX_SESSIONS: usize = 256;

pub enum Conversations {
    Memory(Memory),
    InProcess(Mutex<HashMap<String, Vec<Message>>>),
}

/// What the model is given beside the prompt.
pub struct Context {
    /// The earlier turns of the session followed by the new user turn.
    pub messages: Vec<Message>,
    /// What the memory's strategies kept of this user's earlier sessions.
    pub recalled: Vec<String>,
}

impl Conversations {
    pub async fn new(config: &Config, namespaces: &[&str]) -> Conversations {
        match Memory::from_config(config, namespaces).await {
            Some(memory) => Conversations::Memory(memory),
            None => Conversations::InProcess(Mutex::default()),
        }
    }

    pub async fn context(&self, scope: Option<&Scope>, prompt: &str) -> anyhow::Result<Context> {
        let (mut messages, recalled) = match (self, scope) {
            (_, None) => (Vec::new(), Vec::new()),
            (Conversations::Memory(memory), Some(scope)) => {
                let (history, recalled) =
                    tokio::join!(memory.history(scope), memory.recall(scope, prompt));
                let messages = history
                    .into_iter()
                    .map(|turn| {
                        let role = match turn.role {
                            memory::Role::User => ConversationRole::User,
                            memory::Role::Assistant => ConversationRole::Assistant,
                        };
                        text_message(role, &turn.text)
                    })
                    .collect::<anyhow::Result<Vec<_>>>()?;
                (messages, recalled)
            }
            (Conversations::InProcess(sessions), Some(scope)) => {
                let earlier = sessions
                    .lock()
                    .map(|s| s.get(&scope.session_id).cloned().unwrap_or_default())
                    .unwrap_or_default();
                (earlier, Vec::new())
            }
        };
        messages.push(text_message(ConversationRole::User, prompt)?);
        Ok(Context { messages, recalled })
    }

    /// Records a finished exchange.
    pub async fn record(&self, scope: Option<&Scope>, prompt: &str, answer: &str) {
        let Some(scope) = scope else { return };
        let sessions = match self {
            Conversations::Memory(memory) => return memory.remember(scope, prompt, answer).await,
            Conversations::InProcess(sessions) => sessions,
        };
        let (Ok(user), Ok(assistant)) = (
            text_message(ConversationRole::User, prompt),
            text_message(ConversationRole::Assistant, answer),
        ) else {
            return;
        };
        let Ok(mut sessions) = sessions.lock() else {
            return;
        };
        if !sessions.contains_key(&scope.session_id) && sessions.len() >= MAX_SESSIONS {
            sessions.clear();
        }
        let turns = sessions.entry(scope.session_id.clone()).or_default();
        turns.push(user);
        turns.push(assistant);
        let excess = turns.len().saturating_sub(MAX_MESSAGES);
        turns.drain(..excess);
    }
}

/// The system prompt with the recalled records appended, as context the model may use.
pub fn system_prompt(system: Option<String>, recalled: &[String]) -> Option<String> {
    if recalled.is_empty() {
        return system;
    }
    let mut text = system.map(|s| s + "\n\n").unwrap_or_default();
    text.push_str("What you remember of this user from earlier conversations:\n");
    for record in recalled {
        text.push_str("- ");
        text.push_str(record);
        text.push('\n');
    }
    Some(text)
}

fn text_message(role: ConversationRole, text: &str) -> anyhow::Result<Message> {
    Ok(Message::builder()
        .role(role)
        .content(ContentBlock::Text(text.to_string()))
        .build()?)
}
