//! `cargo xtask dataplane [ENV...]`: the environments' AgentCore data plane on 127.0.0.1, backed
//! by the images they run (`ops::dataplane`), for the real invocation path without AWS.

use std::process::ExitCode;
use std::time::Duration;

use crate::Context;
use crate::environment::Env;
use crate::ops::dataplane::{self, DataplaneOptions};

#[derive(clap::Args)]
#[command(after_help = "Examples:
  cargo xtask dataplane dev                       every agent dev runs, on 127.0.0.1:8790
  cargo xtask dataplane                           dev, staging and production
  cargo xtask dataplane dev --agent assistant --port 0 --json

Then, from another shell, the AWS SDK (and every command that uses it) reaches it:
  export AWS_ENDPOINT_URL_BEDROCK_AGENTCORE=http://127.0.0.1:8790
  cargo xtask invoke assistant --env dev --payload '{\"prompt\": \"Hello\"}'
  aws bedrock-agentcore invoke-agent-runtime --agent-runtime-arn <ARN> --payload ... out.json

It follows the environments' state: what a deploy, promote or rollback changes is served
within a second or two (`deploy` runs its smoke checks through it). Each agent runs the image
its runtime pins (pulled by digest from the environment's registry),
one process per session (under qemu-aarch64-static on a host that is not aarch64), stopped when
idle. Its output goes to the runtime's log group, as on AgentCore (`cargo xtask logs`). The
processes use this shell's AWS credentials and AWS_ENDPOINT_URL_* in place of the runtime role.
An agent that uses memory gets the environment's (the platform stack's `memory_id` output, else
this shell's AGENTCORE_MEMORY_ID); without AWS, point this shell's SDK at the stand-ins:
  cargo run -p agent-testkit --bin converse-standin 9999 &
  cargo run -p agent-testkit --bin memory-standin 9998 &
  AWS_ENDPOINT_URL_BEDROCK_RUNTIME=http://127.0.0.1:9999 \\
  AWS_ENDPOINT_URL_BEDROCK_AGENTCORE=http://127.0.0.1:9998 cargo xtask dataplane dev")]
pub struct Args {
    /// The environments whose deployed runtimes are served (default: all three).
    #[arg(value_name = "ENV")]
    pub envs: Vec<Env>,
    /// Port on 127.0.0.1 (0: any free port, printed).
    #[arg(long, default_value_t = 8790)]
    pub port: u16,
    /// Serve only these agents (repeatable; default: every agent the environment runs).
    #[arg(long = "agent", value_name = "AGENT")]
    pub agents: Vec<String>,
    /// Stop a session's process after this many idle seconds (default: the blueprint's
    /// `runtime.idle_timeout_minutes`).
    #[arg(long, value_name = "SECONDS")]
    pub idle_timeout: Option<u64>,
    /// How long a new session's process may take to answer /ping.
    #[arg(long, value_name = "SECONDS", default_value_t = 120)]
    pub startup_timeout: u64,
}

pub fn run(ctx: &Context, args: Args) -> anyhow::Result<ExitCode> {
    let options = DataplaneOptions {
        envs: if args.envs.is_empty() {
            Env::ALL.to_vec()
        } else {
            args.envs
        },
        port: args.port,
        agents: args.agents,
        idle_timeout: args.idle_timeout.map(Duration::from_secs),
        startup_timeout: Duration::from_secs(args.startup_timeout),
        poll: Duration::from_secs(1),
    };
    dataplane::serve(ctx, &options, |serving| {
        if ctx.out.json {
            ctx.out.print_json(serving);
        } else {
            let envs: Vec<String> = serving.envs.iter().map(ToString::to_string).collect();
            ctx.out.step(format!(
                "the AgentCore data plane of {} on {}",
                envs.join(", "),
                serving.url
            ));
            eprintln!(
                "    export AWS_ENDPOINT_URL_BEDROCK_AGENTCORE={}",
                serving.url
            );
        }
    })?;
    Ok(ExitCode::SUCCESS)
}
