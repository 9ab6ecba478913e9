//! AgentCore Memory, for agents that keep a conversation beyond one microVM: the turns of a
//! session (short-term: one event per exchange, the last ones read back) and what the memory's
//! strategies extracted from them (long-term: records retrieved from the agent's namespaces).
//!
//! Configured by `AGENTCORE_MEMORY_ID` (the agents stack sets it on the runtimes whose
//! blueprint says `memory.enabled: true`); without it [`Memory::from_config`] gives `None` and
//! the agent keeps what it needs in process. The client is the AWS SDK's, in the runtime's
//! region, reached like any SDK client (`AWS_ENDPOINT_URL_BEDROCK_AGENTCORE` redirects it).
//!
//! Memory makes an answer better; it is never why an answer fails. Every call is bounded in
//! time ([`CALL_TIMEOUT`]), and a failure is a warning in the log, counted
//! ([`Memory::failures`]): the history is then empty, the records none, the turn unrecorded.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

use aws_sdk_bedrockagentcore::Client;
use aws_sdk_bedrockagentcore::config::retry::RetryConfig;
use aws_sdk_bedrockagentcore::config::timeout::TimeoutConfig;
use aws_sdk_bedrockagentcore::error::DisplayErrorContext;
use aws_sdk_bedrockagentcore::primitives::DateTime;
use aws_sdk_bedrockagentcore::types::{
    Content, Conversational, MemoryContent, PayloadType, Role as SdkRole, SearchCriteria,
};

use tracing::Instrument as _;

use crate::config::Config;
use crate::invocation::Invocation;

/// The actor of an invocation whose caller named no user (`runtimeUserId`): every such caller
/// shares this actor's records.
pub const DEFAULT_ACTOR: &str = "anonymous";
/// How many exchanges of a session [`Memory::history`] reads back, newest kept: enough
/// context for a follow-up, and a bound on what one session costs each turn (the strategies
/// keep what is older, as records).
pub const HISTORY_EXCHANGES: usize = 10;
/// How many records each namespace contributes to [`Memory::recall`].
pub const RECALL_PER_NAMESPACE: i32 = 5;
/// The longest one memory call may take, retries included: a slow memory must not hold the
/// answer back much longer than the model does.
pub const CALL_TIMEOUT: Duration = Duration::from_secs(3);

/// ListEvents' largest page (`maxResults`).
const MAX_PAGE: usize = 100;
/// RetrieveMemoryRecords' longest `searchQuery`.
const MAX_QUERY_CHARS: usize = 10_000;

/// One side of an exchange.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    User,
    Assistant,
}

/// One message of a session's history, oldest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Turn {
    pub role: Role,
    pub text: String,
}

/// Whose memory: the actor (the caller's user id, escaped to what AgentCore accepts, else
/// [`DEFAULT_ACTOR`]) and the session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scope {
    pub actor_id: String,
    pub session_id: String,
}

impl Scope {
    /// `None` without a session: a local call that names none has nothing to continue.
    pub fn of(invocation: &Invocation) -> Option<Scope> {
        let session = invocation.session_id()?;
        Some(Scope::new(invocation.user_id(), session))
    }

    pub fn new(user_id: Option<&str>, session_id: &str) -> Scope {
        Scope {
            actor_id: user_id.map_or_else(|| DEFAULT_ACTOR.to_string(), actor_id),
            session_id: session_id.to_string(),
        }
    }
}

/// The user id as an AgentCore actor id (letters, digits, `-` and `/`, 255 at most): any other
/// byte, `_` included, is written `_XX` (hex), so two users never share an actor.
fn actor_id(user_id: &str) -> String {
    let mut out = String::with_capacity(user_id.len());
    for (i, b) in user_id.bytes().enumerate() {
        let plain = b.is_ascii_alphanumeric() || (i > 0 && (b == b'-' || b == b'/'));
        if plain {
            out.push(b as char);
        } else {
            out.push_str(&format!("_{b:02X}"));
        }
    }
    out.truncate(255);
    out
}

#[derive(Clone)]
pub struct Memory {
    client: Client,
    memory_id: String,
    namespaces: Arc<Vec<String>>,
    failures: Arc<AtomicU64>,
}

impl Memory {
    /// The memory `AGENTCORE_MEMORY_ID` names ([`Config::memory_id`]), or `None` when it is
    /// unset. `namespaces` are the agent's strategy namespaces as its blueprint declares them
    /// (`{actorId}` and `{sessionId}` are filled per call; from any other `{…}` on, the
    /// namespace is a prefix).
    pub async fn from_config(config: &Config, namespaces: &[&str]) -> Option<Memory> {
        let memory_id = config.memory_id.clone()?;
        let sdk = aws_config::from_env()
            .timeout_config(
                TimeoutConfig::builder()
                    .operation_timeout(CALL_TIMEOUT)
                    .connect_timeout(Duration::from_secs(1))
                    .build(),
            )
            .retry_config(RetryConfig::standard().with_max_attempts(2))
            .load()
            .await;
        tracing::info!(memory_id = %memory_id, ?namespaces, "memory client ready");
        Some(Memory {
            client: Client::new(&sdk),
            memory_id: memory_id.trim().to_string(),
            namespaces: Arc::new(namespaces.iter().map(|n| n.to_string()).collect()),
            failures: Arc::default(),
        })
    }

    /// How many memory calls failed since the process started.
    pub fn failures(&self) -> u64 {
        self.failures.load(Ordering::Relaxed)
    }

    /// The last [`HISTORY_EXCHANGES`] exchanges of the session, oldest first; none when
    /// memory fails.
    pub async fn history(&self, scope: &Scope) -> Vec<Turn> {
        let span = self.span("ListEvents", scope);
        match self.list_events(scope).instrument(span).await {
            Ok(turns) => turns,
            Err(err) => {
                self.degraded("ListEvents", &err);
                Vec::new()
            }
        }
    }

    /// Records one exchange as one event (two conversational payloads, USER then ASSISTANT).
    pub async fn remember(&self, scope: &Scope, prompt: &str, answer: &str) {
        let span = self.span("CreateEvent", scope);
        if let Err(err) = self
            .create_event(scope, prompt, answer)
            .instrument(span)
            .await
        {
            self.degraded("CreateEvent", &err);
        }
    }

    /// The long-term records of the agent's namespaces most relevant to `query`, best first
    /// per namespace; none when memory fails.
    pub async fn recall(&self, scope: &Scope, query: &str) -> Vec<String> {
        let query: String = query.chars().take(MAX_QUERY_CHARS).collect();
        if query.trim().is_empty() {
            return Vec::new();
        }
        let calls = self
            .namespaces
            .iter()
            .filter_map(|template| namespace(template, scope))
            .map(|ns| self.retrieve(ns, &query));
        let mut records = Vec::new();
        let span = self.span("RetrieveMemoryRecords", scope);
        for result in futures_util::future::join_all(calls).instrument(span).await {
            match result {
                Ok(found) => records.extend(found),
                Err(err) => self.degraded("RetrieveMemoryRecords", &err),
            }
        }
        records
    }

    /// The trace span of one memory operation (a child of the invocation's).
    fn span(&self, operation: &str, scope: &Scope) -> tracing::Span {
        crate::telemetry::memory_span(
            operation,
            &self.memory_id,
            &scope.session_id,
            &scope.actor_id,
        )
    }

    fn degraded(&self, operation: &str, err: &anyhow::Error) {
        let failures = self.failures.fetch_add(1, Ordering::Relaxed) + 1;
        tracing::warn!(
            operation,
            failures,
            error = format!("{err:#}"),
            "memory unavailable: answering without it"
        );
    }

    async fn create_event(&self, scope: &Scope, prompt: &str, answer: &str) -> anyhow::Result<()> {
        let message = |role, text: &str| -> anyhow::Result<PayloadType> {
            Ok(PayloadType::Conversational(
                Conversational::builder()
                    .role(role)
                    .content(Content::Text(text.to_string()))
                    .build()?,
            ))
        };
        self.client
            .create_event()
            .memory_id(&self.memory_id)
            .actor_id(&scope.actor_id)
            .session_id(&scope.session_id)
            .event_timestamp(DateTime::from(SystemTime::now()))
            .payload(message(SdkRole::User, prompt)?)
            .payload(message(SdkRole::Assistant, answer)?)
            .send()
            .await
            .map_err(|err| anyhow::anyhow!("{}", DisplayErrorContext(&err)))?;
        Ok(())
    }

    /// Pages through the session's events until [`HISTORY_EXCHANGES`] are read; the service
    /// lists the newest first, and the order here does not rely on it.
    async fn list_events(&self, scope: &Scope) -> anyhow::Result<Vec<Turn>> {
        let mut events = Vec::new();
        let mut next_token = None;
        loop {
            let wanted = HISTORY_EXCHANGES - events.len();
            let page = self
                .client
                .list_events()
                .memory_id(&self.memory_id)
                .actor_id(&scope.actor_id)
                .session_id(&scope.session_id)
                .include_payloads(true)
                .max_results(wanted.min(MAX_PAGE) as i32)
                .set_next_token(next_token)
                .send()
                .await
                .map_err(|err| anyhow::anyhow!("{}", DisplayErrorContext(&err)))?;
            events.extend(page.events().iter().take(wanted).cloned());
            next_token = page.next_token().map(str::to_string);
            if next_token.is_none() || events.len() >= HISTORY_EXCHANGES {
                break;
            }
        }
        events.sort_by(|a, b| {
            (a.event_timestamp().as_nanos(), a.event_id())
                .cmp(&(b.event_timestamp().as_nanos(), b.event_id()))
        });
        Ok(events
            .iter()
            .flat_map(|e| e.payload())
            .filter_map(|p| p.as_conversational().ok())
            .filter_map(|c| {
                let role = match c.role() {
                    SdkRole::User => Role::User,
                    SdkRole::Assistant => Role::Assistant,
                    _ => return None,
                };
                let text = c.content()?.as_text().ok()?.clone();
                Some(Turn { role, text })
            })
            .collect())
    }

    async fn retrieve(&self, namespace: String, query: &str) -> anyhow::Result<Vec<String>> {
        let criteria = SearchCriteria::builder()
            .search_query(query)
            .top_k(RECALL_PER_NAMESPACE)
            .build()?;
        let found = self
            .client
            .retrieve_memory_records()
            .memory_id(&self.memory_id)
            .namespace(&namespace)
            .search_criteria(criteria)
            .max_results(RECALL_PER_NAMESPACE)
            .send()
            .await
            .map_err(|err| anyhow::anyhow!("in `{namespace}`: {}", DisplayErrorContext(&err)))?;
        Ok(found
            .memory_record_summaries()
            .iter()
            .filter_map(|r| match r.content()? {
                MemoryContent::Text(text) => Some(text.clone()),
                _ => None,
            })
            .collect())
    }
}

/// A strategy's namespace for this scope: `{actorId}` and `{sessionId}` filled, cut before any
/// other placeholder (`{strategyId}`), which makes it a prefix of the records' namespaces.
/// `None` when the cut would drop the actor: a prefix above it would read other users' records.
fn namespace(template: &str, scope: &Scope) -> Option<String> {
    let other = template.match_indices('{').map(|(at, _)| at).find(|&at| {
        !template[at..].starts_with("{actorId}") && !template[at..].starts_with("{sessionId}")
    });
    let (kept, cut) = match other {
        Some(at) => (&template[..at], true),
        None => (template, false),
    };
    if cut && template.contains("{actorId}") && !kept.contains("{actorId}") {
        return None;
    }
    Some(
        kept.replace("{actorId}", &scope.actor_id)
            .replace("{sessionId}", &scope.session_id),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_user_id_becomes_an_actor_id_no_other_user_has() {
        assert_eq!(actor_id("alice-01/team"), "alice-01/team");
        assert_eq!(actor_id("a@b.c"), "a_40b_2Ec");
        assert_eq!(actor_id("a_40b.c"), "a_5F40b_2Ec");
        assert_eq!(actor_id("-x"), "_2Dx");
        assert_eq!(Scope::new(None, "s").actor_id, DEFAULT_ACTOR);
    }

    #[test]
    fn namespaces_are_filled_and_cut_before_other_placeholders() {
        let scope = Scope::new(Some("u1"), "s-1");
        let ns = |t| namespace(t, &scope);
        assert_eq!(
            ns("/summaries/{actorId}/{sessionId}").as_deref(),
            Some("/summaries/u1/s-1")
        );
        assert_eq!(
            ns("/users/{actorId}/{strategyId}/facts").as_deref(),
            Some("/users/u1/")
        );
        assert_eq!(ns("/shared/{strategyId}").as_deref(), Some("/shared/"));
        assert_eq!(ns("/strategies/{strategyId}/actors/{actorId}"), None);
    }
}
