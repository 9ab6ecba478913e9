//! The turns of each session, so a follow-up question has its context.

use std::collections::HashMap;
use std::sync::Mutex;

use aws_sdk_bedrockruntime::types::{ContentBlock, ConversationRole, Message};

/// Enough context for a follow-up; the oldest turns go first so one session cannot grow
/// without bound (AgentCore Memory is the place for long-term recall).
const MAX_MESSAGES: usize = 20;
/// A runtime serves one session per microVM; this bounds a local run that sees many.
const MAX_SESSIONS: usize = 256;

#[derive(Default)]
pub struct Conversations {
    sessions: Mutex<HashMap<String, Vec<Message>>>,
}

impl Conversations {
    /// The earlier turns of `session` followed by the new user turn.
    pub fn messages_for(
        &self,
        session: Option<&str>,
        prompt: &str,
    ) -> anyhow::Result<Vec<Message>> {
        let mut messages = match session {
            Some(id) => self
                .sessions
                .lock()
                .map(|s| s.get(id).cloned().unwrap_or_default())
                .unwrap_or_default(),
            None => Vec::new(),
        };
        messages.push(text_message(ConversationRole::User, prompt)?);
        Ok(messages)
    }

    /// Records a finished exchange.
    pub fn record(&self, session: Option<&str>, prompt: &str, answer: &str) {
        let Some(id) = session else { return };
        let (Ok(user), Ok(assistant)) = (
            text_message(ConversationRole::User, prompt),
            text_message(ConversationRole::Assistant, answer),
        ) else {
            return;
        };
        let Ok(mut sessions) = self.sessions.lock() else {
            return;
        };
        if !sessions.contains_key(id) && sessions.len() >= MAX_SESSIONS {
            sessions.clear();
        }
        let turns = sessions.entry(id.to_string()).or_default();
        turns.push(user);
        turns.push(assistant);
        let excess = turns.len().saturating_sub(MAX_MESSAGES);
        turns.drain(..excess);
    }
}

fn text_message(role: ConversationRole, text: &str) -> anyhow::Result<Message> {
    Ok(Message::builder()
        .role(role)
        .content(ContentBlock::Text(text.to_string()))
        .build()?)
}
