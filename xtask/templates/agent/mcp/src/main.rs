//! `{{id}}`: an MCP server (`protocol: MCP`) whose tools other agents call through the
//! environment's AgentCore Gateway.
//!
//! - `word_count`: the words, lines and characters of a text.
//!
//! Made by `cargo xtask new --protocol MCP`: one tool to show the shape (toolbox has more, one
//! of them calling Bedrock). Bad arguments are JSON-RPC errors from the MCP SDK; a tool that
//! cannot do its work answers a tool error (`isError: true`) the calling model can act on.

/// This agent's blueprint, checked and compiled in by build.rs (not every value is used).
#[allow(dead_code)]
mod blueprint {
    include!(concat!(env!("OUT_DIR"), "/blueprint.rs"));
}

use agentcore_runtime::{Config, Runtime};
use rmcp::handler::server::wrapper::{Json, Parameters};
use rmcp::model::{Implementation, ServerCapabilities, ServerConfig};
use rmcp::{ServerHandler, schemars, tool, tool_handler, tool_router};
use serde::{Deserialize, Serialize};

/// A gateway call carries at most a few MB; a bigger text is a mistake worth naming.
const MAX_TEXT_CHARS: usize = 1_000_000;

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct WordCountArgs {
    /// The text to count.
    text: String,
}

#[derive(Serialize, schemars::JsonSchema)]
struct WordCount {
    words: usize,
    lines: usize,
    characters: usize,
}

/// One per request (stateless) or per session: keep it cheap to clone.
#[derive(Clone)]
struct Tools;

#[tool_router]
impl Tools {
    #[tool(
        description = "Counts the words (separated by white space), lines and characters of \
                       a text.",
        annotations(read_only_hint = true, open_world_hint = false)
    )]
    fn word_count(
        &self,
        Parameters(args): Parameters<WordCountArgs>,
    ) -> Result<Json<WordCount>, String> {
        let characters = args.text.chars().count();
        if characters > MAX_TEXT_CHARS {
            return Err(format!(
                "`text` has {characters} characters; send at most {MAX_TEXT_CHARS}"
            ));
        }
        Ok(Json(WordCount {
            words: args.text.split_whitespace().count(),
            lines: args.text.lines().count(),
            characters,
        }))
    }
}

#[tool_handler]
impl ServerHandler for Tools {
    fn get_info(&self) -> ServerConfig {
        // Named by this crate, not by the SDK (whose own name is the default).
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build()).with_server_info(
            Implementation::new(env!("CARGO_PKG_NAME"), env!("CARGO_PKG_VERSION")),
        )
    }
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    agentcore_runtime::run_agent(env!("CARGO_PKG_NAME"), run()).await
}

async fn run() -> anyhow::Result<()> {
    let config = Config::from_env(env!("CARGO_PKG_NAME"))?;
    Runtime::new(config).serve_mcp(|| Tools).await
}
