//! `toolbox`: an MCP server (`protocol: MCP`) whose tools other agents call through the
//! environment's AgentCore Gateway: work a model should not do in its head.
//!
//! - `business_days`: working days between two dates (weekends and given holidays excluded);
//! - `due_date`: the date N business days after a start (an SLA's deadline);
//! - `diff_text`: an exact unified line diff of two texts, with counts;
//! - `summarize`: a summary of a long document by the blueprint's (small) model.
//!
//! Bad arguments are JSON-RPC errors (`-32602`) from the MCP SDK; a tool that cannot do its
//! work answers a tool error (`isError: true`) the calling model can read and act on.

/// This agent's blueprint, checked and compiled in by build.rs (not every value is used).
#[allow(dead_code)]
mod blueprint {
    include!(concat!(env!("OUT_DIR"), "/blueprint.rs"));
}
mod business_days;
mod diff;
mod summarize;

use std::collections::BTreeSet;
use std::sync::Arc;

use agentcore_runtime::{Config, ModelConfig, ModelDefaults, Runtime};
use chrono::NaiveDate;
use rmcp::handler::server::wrapper::{Json, Parameters};
use rmcp::model::{Implementation, ServerCapabilities, ServerConfig};
use rmcp::{ServerHandler, schemars, tool, tool_handler, tool_router};
use serde::{Deserialize, Serialize};

use crate::summarize::Summarizer;

/// Longer documents should be split by the caller: one Converse call must fit the model.
const MAX_SUMMARY_INPUT_CHARS: usize = 200_000;

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct BusinessDaysArgs {
    /// The first day, counted (YYYY-MM-DD).
    start: NaiveDate,
    /// The last day, not counted (YYYY-MM-DD).
    end: NaiveDate,
    /// Days off besides Saturdays and Sundays (YYYY-MM-DD).
    #[serde(default)]
    holidays: Vec<NaiveDate>,
}

#[derive(Serialize, schemars::JsonSchema)]
struct BusinessDays {
    /// Negative when `end` is before `start`.
    business_days: i64,
}

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct DueDateArgs {
    /// When the clock starts (YYYY-MM-DD); a weekend or holiday start counts from the next
    /// business day.
    start: NaiveDate,
    /// How many business days to add (negative: go back).
    business_days: i64,
    /// Days off besides Saturdays and Sundays (YYYY-MM-DD).
    #[serde(default)]
    holidays: Vec<NaiveDate>,
}

#[derive(Serialize, schemars::JsonSchema)]
struct DueDate {
    due: NaiveDate,
    weekday: String,
}

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct DiffArgs {
    before: String,
    after: String,
    /// Unchanged lines shown around each change (default 3, at most 20).
    #[serde(default = "default_context")]
    context_lines: u8,
}

fn default_context() -> u8 {
    3
}

#[derive(Serialize, schemars::JsonSchema)]
struct TextDiff {
    /// Empty when the texts are equal.
    unified_diff: String,
    lines_added: usize,
    lines_removed: usize,
}

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct SummarizeArgs {
    text: String,
    /// The summary's length in words (default 80, from 10 to 500).
    #[serde(default = "default_words")]
    max_words: u32,
}

fn default_words() -> u32 {
    80
}

#[derive(Serialize, schemars::JsonSchema)]
struct Summary {
    summary: String,
}

/// One per request (stateless) or per session: cheap, its state shared.
#[derive(Clone)]
struct Toolbox {
    summarizer: Arc<Summarizer>,
}

#[tool_router]
impl Toolbox {
    #[tool(
        description = "Counts the business days (Monday to Friday, minus holidays) from `start` \
                       (counted) to `end` (not counted).",
        annotations(read_only_hint = true, open_world_hint = false)
    )]
    fn business_days(
        &self,
        Parameters(args): Parameters<BusinessDaysArgs>,
    ) -> Result<Json<BusinessDays>, String> {
        let holidays: BTreeSet<NaiveDate> = args.holidays.into_iter().collect();
        let business_days = business_days::between(args.start, args.end, &holidays)?;
        Ok(Json(BusinessDays { business_days }))
    }

    #[tool(
        description = "The date a number of business days after `start` (an SLA's due date), \
                       skipping weekends and the given holidays.",
        annotations(read_only_hint = true, open_world_hint = false)
    )]
    fn due_date(&self, Parameters(args): Parameters<DueDateArgs>) -> Result<Json<DueDate>, String> {
        let holidays: BTreeSet<NaiveDate> = args.holidays.into_iter().collect();
        let due = business_days::add(args.start, args.business_days, &holidays)?;
        Ok(Json(DueDate {
            due,
            weekday: due.format("%A").to_string(),
        }))
    }

    #[tool(
        description = "An exact unified diff of two texts, line by line, with the number of \
                       lines added and removed.",
        annotations(read_only_hint = true, open_world_hint = false)
    )]
    fn diff_text(&self, Parameters(args): Parameters<DiffArgs>) -> Result<Json<TextDiff>, String> {
        if args.context_lines > 20 {
            return Err(format!(
                "context_lines is {}; use at most 20",
                args.context_lines
            ));
        }
        let diff = diff::lines(&args.before, &args.after, usize::from(args.context_lines));
        Ok(Json(TextDiff {
            unified_diff: diff.unified,
            lines_added: diff.added,
            lines_removed: diff.removed,
        }))
    }

    #[tool(
        description = "Summarizes a long document in at most `max_words` words, keeping names, \
                       numbers, dates and decisions as written.",
        annotations(read_only_hint = true, open_world_hint = true)
    )]
    async fn summarize(
        &self,
        Parameters(args): Parameters<SummarizeArgs>,
    ) -> Result<Json<Summary>, String> {
        let text = args.text.trim();
        if text.is_empty() {
            return Err("`text` is empty: send the document to summarize".to_string());
        }
        if text.chars().count() > MAX_SUMMARY_INPUT_CHARS {
            return Err(format!(
                "`text` is longer than {MAX_SUMMARY_INPUT_CHARS} characters: summarize it in parts"
            ));
        }
        if !(10..=500).contains(&args.max_words) {
            return Err(format!("max_words is {}; use 10 to 500", args.max_words));
        }
        let summary = self.summarizer.summarize(text, args.max_words).await?;
        Ok(Json(Summary { summary }))
    }
}

#[tool_handler]
impl ServerHandler for Toolbox {
    fn get_info(&self) -> ServerConfig {
        // Named by this crate, not by the SDK (whose own name is the default).
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
            .with_server_info(Implementation::new(
                env!("CARGO_PKG_NAME"),
                env!("CARGO_PKG_VERSION"),
            ))
            .with_instructions(
                "Deterministic helpers (business days, due dates, text diffs) and a summarizer \
                 for long documents. Dates are YYYY-MM-DD.",
            )
    }
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
    let toolbox = Toolbox {
        summarizer: Arc::new(Summarizer::new(&config, model).await),
    };
    Runtime::new(config)
        .serve_mcp(move || toolbox.clone())
        .await
}
