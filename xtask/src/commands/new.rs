//! `cargo xtask new <id>`: a new agent crate from a template, in the workspace and its lock
//! file (`ops::new`).

use std::process::ExitCode;

use crate::Context;
use crate::ops::new::{self, Created, NewOptions};
use crate::output::Report;

#[derive(clap::Args)]
#[command(after_help = "Examples:
  cargo xtask new summarizer                          an HTTP agent on Bedrock's Converse API
  cargo xtask new calendar --protocol MCP             an MCP server of tools, for the gateway
  cargo xtask new helpdesk --description 'Answers customers' --model us.amazon.nova-lite-v1:0
  cargo xtask new helpdesk --dry-run                  the files it would write; writes none

What is created, in agents/<id>/:
  blueprint.yaml      id, model, runtime; enabled in dev only (execution_modes)
  Cargo.toml          the crate and binary <id>, on agentcore-runtime
  build.rs            checks the blueprint at every compile and compiles its model in
  src/main.rs         HTTP: {\"prompt\"} → Converse with the blueprint's model → {\"answer\",
                      \"session_id\"}; MCP: one tool, `word_count`, served at /mcp
  tests/*.rs          starts the binary as AgentCore would and checks an answer (HTTP: against
                      the Converse stand-in; MCP: through the official MCP client)
  Dockerfile          for `build-agents --builder docker` (the default builder needs none)
and \"agents/<id>\" is added to the workspace's members (Cargo.toml) and to Cargo.lock, so
`--locked` builds take it. Nothing is left behind when a step fails.

Then:
  cargo xtask check                 every blueprint and environment file, the new one included
  cargo test -p <id>                its own tests
  cargo xtask run <id>              serve it on this machine (`cargo xtask invoke <id>` to call it)
  cargo xtask build-agents <id>     its linux/arm64 image
Commit it; `cargo xtask deploy dev` deploys it, `cargo xtask promote dev staging <id>` moves it on.")]
pub struct Args {
    /// The agent's id: 2–32 lower-case letters, digits and single `-`, starting with a letter.
    /// It names the folder, the crate, the binary, the ECR repository and the AgentCore runtime.
    #[arg(value_name = "ID")]
    pub id: String,
    /// HTTP: an agent answering invocations (port 8080). MCP: a server of tools (port 8000).
    #[arg(long, value_enum, ignore_case = true, default_value = "HTTP")]
    pub protocol: ProtocolArg,
    /// One line on what the agent does (blueprint and Cargo.toml).
    #[arg(long, value_name = "TEXT")]
    pub description: Option<String>,
    /// The Bedrock model or inference-profile id in the blueprint.
    #[arg(long, value_name = "MODEL_ID", default_value = new::DEFAULT_MODEL)]
    pub model: String,
    /// Check the id and list the files it would write; write nothing.
    #[arg(long)]
    pub dry_run: bool,
}

#[derive(Clone, Copy, clap::ValueEnum)]
pub enum ProtocolArg {
    #[value(name = "HTTP")]
    Http,
    #[value(name = "MCP")]
    Mcp,
}

pub fn run(ctx: &Context, args: Args) -> anyhow::Result<ExitCode> {
    let options = NewOptions {
        id: args.id,
        protocol: match args.protocol {
            ProtocolArg::Http => blueprint::Protocol::Http,
            ProtocolArg::Mcp => blueprint::Protocol::Mcp,
        },
        description: args.description,
        model: Some(args.model),
        dry_run: args.dry_run,
    };
    let created = new::create(&ctx.project, &options, &ctx.out)?;
    ctx.out.report(&created);
    Ok(ExitCode::SUCCESS)
}

impl Report for Created {
    fn text(&self) -> String {
        let mut text = if self.dry_run {
            format!("would create agent `{}`:\n", self.id)
        } else {
            format!("created agent `{}`:\n", self.id)
        };
        for file in &self.files {
            text.push_str(&format!("  {}\n", file.display()));
        }
        let changed: Vec<String> = self
            .changed
            .iter()
            .map(|p| p.display().to_string())
            .collect();
        text.push_str(&format!(
            "{} {}\n",
            if self.dry_run {
                "and would change"
            } else {
                "and changed"
            },
            changed.join(" and ")
        ));
        if !self.dry_run {
            text.push_str("\nNext:\n");
            for command in &self.next {
                text.push_str(&format!("  {command}\n"));
            }
        }
        text
    }
}
