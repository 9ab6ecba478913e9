//! `cargo xtask check` on the real workspace and on broken copies of it: every kind of bad
//! blueprint or environment file exits non-zero with file:line:col and a fix, never a panic.

mod support;

use support::workspace::{Scratch, run};

const DEMO: &str = "agents/demo/blueprint.yaml";

const DEMO_BLUEPRINT: &str = "\
id: demo
name: Demo agent
version: 0.1.0
description: A fixture for the check tests.
model:
  provider: bedrock
  model_id: us.amazon.nova-lite-v1:0
  max_tokens: 512
  temperature: 0.3
runtime:
  network_mode: PUBLIC
  protocol: HTTP
  port: 8080
  environment:
    LOG_LEVEL: info
execution_modes:
  dev: true
  staging: true
memory:
  enabled: true
  strategies:
    - {name: facts, type: SEMANTIC}
tags:
  team: platform
";

/// A copy of the repository with one more, valid agent `demo` in it.
fn workspace() -> Scratch {
    let ws = Scratch::copy_of_repo();
    add_agent(&ws, "demo", DEMO_BLUEPRINT);
    ws
}

fn add_agent(ws: &Scratch, folder: &str, blueprint: &str) {
    // A workspace member, as `cargo xtask new` makes it.
    ws.edit(
        "Cargo.toml",
        "members = [\n",
        &format!("members = [\n    \"agents/{folder}\",\n"),
    );
    ws.write(
        &format!("agents/{folder}/Cargo.toml"),
        &format!("[package]\nname = \"{folder}\"\nversion = \"0.1.0\"\nedition = \"2024\"\n"),
    );
    ws.write(&format!("agents/{folder}/src/main.rs"), "fn main() {}\n");
    ws.write(&format!("agents/{folder}/blueprint.yaml"), blueprint);
}

/// Runs `check` (plus `extra` args) and expects a failure that shows `needles`.
fn fails_with(ws: &Scratch, extra: &[&str], needles: &[&str]) -> String {
    support::workspace::fails_with(ws.xtask().arg("check").args(extra).env_clear_aws(), needles)
}

/// The placeholder variables of the environment files must not leak in from the machine.
trait EnvClear {
    fn env_clear_aws(&mut self) -> &mut Self;
}

impl EnvClear for std::process::Command {
    fn env_clear_aws(&mut self) -> &mut Self {
        for var in [
            "AWS_REGION",
            "AWS_BEDROCK_REGION",
            "VPC_ID",
            "PRIVATE_SUBNET_A",
            "PRIVATE_SUBNET_B",
            "PRIVATE_SUBNET_C",
            "PUBLIC_SUBNET_A",
            "PUBLIC_SUBNET_B",
            "PUBLIC_SUBNET_C",
        ] {
            self.env_remove(var);
        }
        self
    }
}

#[test]
fn check_passes_on_the_repo_and_shows_where_agents_run() {
    let ws = workspace();
    let (out, text) = run(ws.xtask().arg("check").env_clear_aws());
    assert!(out.status.success(), "{text}");
    let demo_row = text
        .lines()
        .find(|l| l.starts_with("demo "))
        .unwrap_or_else(|| panic!("no row for demo:\n{text}"));
    let cells: Vec<&str> = demo_row.split_whitespace().collect();
    assert_eq!(
        cells,
        ["demo", "0.1.0", "PUBLIC", "yes", "yes", "-"],
        "{text}"
    );
    assert!(
        text.contains("needs AWS_BEDROCK_REGION, AWS_REGION"),
        "{text}"
    );
}

#[test]
fn check_json_gives_the_same_as_data() {
    let ws = workspace();
    let (out, _) = run(ws.xtask().args(["--json", "check"]).env_clear_aws());
    assert!(out.status.success());
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON on stdout");
    assert_eq!(report["ok"], true);
    let demo = report["agents"]
        .as_array()
        .and_then(|a| a.iter().find(|a| a["id"] == "demo"))
        .expect("demo in agents");
    assert_eq!(demo["enabled"], serde_json::json!(["dev", "staging"]));
    assert_eq!(report["environments"].as_array().map(Vec::len), Some(3));
}

#[test]
fn check_malformed_yaml() {
    let ws = workspace();
    ws.edit(DEMO, "name: Demo agent", "name: \"Demo agent");
    fails_with(&ws, &[], &[&format!("{DEMO}:"), "not valid YAML"]);
}

#[test]
fn check_wrong_type() {
    let ws = workspace();
    ws.edit(DEMO, "port: 8080", "port: eighty");
    fails_with(
        &ws,
        &[],
        &[&format!("{DEMO}:13:9"), "invalid type", "expected type"],
    );
}

#[test]
fn check_unknown_field_suggests_the_close_one() {
    let ws = workspace();
    ws.edit(DEMO, "network_mode: PUBLIC", "netwrok_mode: PUBLIC");
    fails_with(
        &ws,
        &[],
        &[
            &format!("{DEMO}:11:3"),
            "unknown field `netwrok_mode`",
            "did you mean `network_mode`?",
        ],
    );
}

#[test]
fn check_missing_field() {
    let ws = workspace();
    ws.edit(DEMO, "version: 0.1.0\n", "");
    fails_with(
        &ws,
        &[],
        &[
            &format!("{DEMO}:1:1"),
            "missing field `version`",
            "add `version:`",
        ],
    );
}

#[test]
fn check_bad_id() {
    let ws = Scratch::copy_of_repo();
    add_agent(
        &ws,
        "Demo_1",
        &DEMO_BLUEPRINT.replace("id: demo", "id: Demo_1"),
    );
    fails_with(
        &ws,
        &[],
        &[
            "agents/Demo_1/blueprint.yaml:1:5",
            "invalid agent id `Demo_1`",
            "lower-case letters",
        ],
    );
}

#[test]
fn check_id_must_match_folder() {
    let ws = workspace();
    ws.edit(DEMO, "id: demo", "id: other");
    fails_with(
        &ws,
        &[],
        &[
            &format!("{DEMO}:1:5"),
            "does not match its folder",
            "set `id: demo`",
        ],
    );
}

#[test]
fn check_duplicate_id() {
    let ws = workspace();
    add_agent(&ws, "demo2", DEMO_BLUEPRINT);
    fails_with(
        &ws,
        &[],
        &[
            "agents/demo2/blueprint.yaml:1:5",
            "duplicate agent id `demo`",
            "agents/demo/blueprint.yaml` already uses this id",
        ],
    );
}

#[test]
fn check_unknown_network_mode() {
    let ws = workspace();
    ws.edit(DEMO, "network_mode: PUBLIC", "network_mode: private");
    fails_with(
        &ws,
        &[],
        &[
            &format!("{DEMO}:11:17"),
            "unknown variant `private`",
            "PUBLIC, VPC",
        ],
    );
}

#[test]
fn check_unknown_environment_key() {
    let ws = workspace();
    ws.edit(DEMO, "  staging: true", "  prod: true");
    fails_with(
        &ws,
        &[],
        &[
            &format!("{DEMO}:18:3"),
            "unknown field `prod`",
            "did you mean `production`?",
        ],
    );
}

#[test]
fn check_blueprint_without_a_crate() {
    let ws = workspace();
    std::fs::remove_file(ws.file("agents/demo/Cargo.toml")).expect("remove Cargo.toml");
    fails_with(
        &ws,
        &[],
        &[
            &format!("{DEMO}:1:5"),
            "has no Cargo.toml",
            "cargo init --name demo",
        ],
    );
}

#[test]
fn check_crate_without_the_agents_binary() {
    let ws = workspace();
    std::fs::remove_file(ws.file("agents/demo/src/main.rs")).expect("remove main.rs");
    fails_with(
        &ws,
        &[],
        &[
            &format!("{DEMO}:1:5"),
            "no binary named `demo`",
            "src/main.rs",
        ],
    );
}

#[test]
fn check_values_out_of_range() {
    let ws = workspace();
    ws.edit(DEMO, "temperature: 0.3", "temperature: 1.5");
    ws.edit(DEMO, "port: 8080", "port: 9000");
    ws.edit(DEMO, "version: 0.1.0", "version: one");
    // All problems of one run are reported, not just the first.
    fails_with(
        &ws,
        &[],
        &[
            &format!("{DEMO}:9:16"),
            "temperature 1.5 is out of range",
            &format!("{DEMO}:13:9"),
            "set `port: 8080`",
            &format!("{DEMO}:3:10"),
            "MAJOR.MINOR.PATCH",
            "3 problem(s) found",
        ],
    );
}

#[test]
fn check_reserved_runtime_variable() {
    let ws = workspace();
    ws.edit(DEMO, "LOG_LEVEL: info", "BEDROCK_REGION: us-east-1");
    fails_with(
        &ws,
        &[],
        &[
            &format!("{DEMO}:15:5"),
            "`BEDROCK_REGION` is set by the platform",
        ],
    );
}

#[test]
fn check_memory_strategies_need_an_agent_that_uses_memory() {
    let ws = workspace();
    ws.edit(DEMO, "  enabled: true\n", "  enabled: false\n");
    fails_with(
        &ws,
        &[],
        &[
            &format!("{DEMO}:21:3"),
            "memory strategies are declared but the agent does not use memory",
            "set `memory.enabled: true`",
            "1 problem(s) found",
        ],
    );
}

#[test]
fn check_a2a_is_refused_with_why_and_what_to_use() {
    let ws = workspace();
    ws.edit(DEMO, "protocol: HTTP", "protocol: A2A");
    ws.edit(DEMO, "port: 8080", "port: 9000");
    fails_with(
        &ws,
        &[],
        &[
            &format!("{DEMO}:12:13"),
            "protocol A2A is not supported yet",
            "use `HTTP` for an agent, or `MCP`",
            "1 problem(s) found",
        ],
    );
}

#[test]
fn check_environment_beyond_agentcores_limits() {
    let ws = workspace();
    let many: String = (0..46).map(|i| format!("    VAR_{i}: x\n")).collect();
    let long_value = "v".repeat(2049);
    ws.edit(
        DEMO,
        "    LOG_LEVEL: info\n",
        &format!("    LOG_LEVEL: {long_value}\n{many}"),
    );
    fails_with(
        &ws,
        &[],
        &[
            &format!("{DEMO}:14:3"),
            "the runtime would get 58 environment variables",
            "AgentCore accepts at most 50",
            &format!("{DEMO}:15:16"),
            "the value of `LOG_LEVEL` is 2049 characters long",
        ],
    );
}

#[test]
fn check_missing_placeholder_values_are_all_named() {
    let ws = workspace();
    let text = fails_with(
        &ws,
        &["--env", "dev"],
        &[
            "infra/envs/dev.tfvars:5:19: environment variable `AWS_REGION` is not set",
            "infra/envs/dev.tfvars:12:47",
            "export AWS_BEDROCK_REGION=...",
        ],
    );
    // One error per missing use, every one in the same run.
    assert_eq!(text.matches("is not set").count(), 7, "{text}");
}

#[test]
fn check_renders_when_every_placeholder_is_set() {
    let ws = workspace();
    let mut cmd = ws.xtask();
    cmd.args(["check", "--env", "production"]);
    for (k, v) in [
        ("AWS_REGION", "eu-central-1"),
        ("AWS_BEDROCK_REGION", "us-east-1"),
        ("VPC_ID", "vpc-1"),
        ("PRIVATE_SUBNET_A", "subnet-a"),
        ("PRIVATE_SUBNET_B", "subnet-b"),
        ("PRIVATE_SUBNET_C", "subnet-c"),
        ("PUBLIC_SUBNET_A", "subnet-d"),
        ("PUBLIC_SUBNET_B", "subnet-e"),
        ("PUBLIC_SUBNET_C", "subnet-f"),
    ] {
        cmd.env(k, v);
    }
    let (out, text) = run(&mut cmd);
    assert!(out.status.success(), "{text}");
    assert!(text.contains("(rendered)"), "{text}");
}

#[test]
fn check_unknown_environment_name_lists_the_known_ones() {
    let ws = workspace();
    fails_with(
        &ws,
        &["--env", "prod"],
        &[
            "unknown environment `prod`",
            "dev, staging, production",
            "did you mean `production`?",
        ],
    );
}

#[test]
fn check_missing_environment_file() {
    let ws = workspace();
    std::fs::remove_file(ws.file("infra/envs/staging.tfvars")).expect("remove staging");
    fails_with(
        &ws,
        &[],
        &[
            "infra/envs/staging.tfvars",
            "environment file for `staging` is missing",
            "cp infra/envs/dev.tfvars",
        ],
    );
}

#[test]
fn check_environment_file_syntax_and_content() {
    let ws = workspace();
    ws.edit(
        "infra/envs/dev.tfvars",
        "environment    = \"dev\"",
        "environment    = \"prod\"",
    );
    ws.edit(
        "infra/envs/staging.tfvars",
        "log_retention_days     = 14",
        "log_retention_days     = [14",
    );
    ws.edit(
        "infra/envs/production.tfvars",
        "ssm_root_path  = \"/platform/production\"\n",
        "",
    );
    fails_with(
        &ws,
        &[],
        &[
            "infra/envs/dev.tfvars:",
            "`environment` must be \"dev\" in this file",
            "infra/envs/staging.tfvars:",
            "not valid tfvars",
            "infra/envs/production.tfvars: `ssm_root_path` is not set",
        ],
    );
}

#[test]
fn check_placeholder_that_is_an_expression() {
    let ws = workspace();
    ws.edit("infra/envs/dev.tfvars", "${VPC_ID}", "${var.vpc}");
    fails_with(
        &ws,
        &[],
        &[
            "infra/envs/dev.tfvars:10:24",
            "`${var.vpc}` is not a placeholder",
            "upper case",
        ],
    );
}

#[test]
fn a_folder_that_is_not_a_crate_yet_does_not_stop_cargo_and_check_names_it() {
    let ws = Scratch::copy_of_repo();
    ws.write(
        "agents/draft/blueprint.yaml",
        &DEMO_BLUEPRINT.replace("id: demo", "id: draft"),
    );
    // The workspace lists its members: cargo (and so every `cargo xtask` command) still works.
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let (out, text) = run(std::process::Command::new(cargo)
        .args([
            "metadata",
            "--format-version",
            "1",
            "--no-deps",
            "--offline",
        ])
        .current_dir(ws.path()));
    assert!(
        out.status.success(),
        "cargo fails on a folder without Cargo.toml:\n{text}"
    );
    fails_with(
        &ws,
        &[],
        &["agents/draft/blueprint.yaml:1:5", "has no Cargo.toml"],
    );
}

#[test]
fn an_agent_crate_that_is_not_a_workspace_member_is_named() {
    let ws = Scratch::copy_of_repo();
    ws.write(
        "agents/loose/Cargo.toml",
        "[package]\nname = \"loose\"\nversion = \"0.1.0\"\nedition = \"2024\"\n",
    );
    ws.write("agents/loose/src/main.rs", "fn main() {}\n");
    ws.write(
        "agents/loose/blueprint.yaml",
        &DEMO_BLUEPRINT.replace("id: demo", "id: loose"),
    );
    fails_with(
        &ws,
        &[],
        &[
            "agent `loose` is not a member of the workspace",
            "add \"agents/loose\" to `members`",
        ],
    );
}

#[test]
fn production_without_staging_is_refused_where_it_is_written() {
    let ws = workspace();
    ws.edit(
        DEMO,
        "  staging: true",
        "  staging: false\n  production: true",
    );
    fails_with(
        &ws,
        &[],
        &[
            &format!("{DEMO}:19:15"),
            "enabled in production but not in staging",
            "set `staging: true` too",
        ],
    );
}

#[test]
fn a_tfvars_value_of_the_wrong_type_is_found_before_terraform() {
    let ws = workspace();
    ws.edit(
        "infra/envs/dev.tfvars",
        "log_retention_days     = 7",
        "log_retention_days     = \"seven\"",
    );
    fails_with(
        &ws,
        &[],
        &[
            "infra/envs/dev.tfvars:",
            "`log_retention_days` must be a number, not a string",
            "without quotes",
        ],
    );
}

#[test]
fn an_infra_dir_that_does_not_exist_is_said_so() {
    let ws = workspace();
    fails_with(
        &ws,
        &["--infra-dir", "nosuch"],
        &[
            "nosuch: the infrastructure root is not a folder",
            "--infra-dir",
        ],
    );
    let (_, text) = run(ws
        .xtask()
        .args(["--infra-dir", "nosuch", "check"])
        .env_clear_aws());
    assert!(
        !text.contains("cp nosuch"),
        "suggests copying a file onto itself:\n{text}"
    );
}

#[test]
fn one_broken_blueprint_gives_its_own_errors_only() {
    let ws = Scratch::copy_of_repo();
    ws.edit(
        "agents/assistant/blueprint.yaml",
        "temperature: 0.3",
        "temperature: 9",
    );
    let text = fails_with(&ws, &[], &["agents/assistant/blueprint.yaml:"]);
    assert!(
        !text.contains("which does not exist"),
        "a workflow naming the broken agent is reported too:\n{text}"
    );
}

#[test]
fn an_invalid_id_is_never_suggested_as_a_folder_name() {
    let ws = workspace();
    ws.edit(DEMO, "id: demo", "id: Bad_Id");
    let text = fails_with(&ws, &[], &["invalid agent id `Bad_Id`", "set `id: demo`"]);
    assert!(!text.contains("agents/Bad_Id"), "{text}");
}

#[test]
fn usage_errors_exit_64_apart_from_failures_and_drift() {
    let ws = workspace();
    for args in [
        &["plan", "dvelopment"][..],
        &["plan", "dev", "--jsno"][..],
        &["push", "dev", "--jobs", "0"][..],
    ] {
        let (out, text) = run(ws.xtask().args(args));
        assert_eq!(out.status.code(), Some(64), "`{}`:\n{text}", args.join(" "));
    }
    let (_, text) = run(ws.xtask().args(["plan", "dvelopment"]));
    assert!(
        text.contains("the environments are: dev, staging, production"),
        "{text}"
    );
}

#[test]
fn doctor_stops_quietly_when_its_reader_goes_away() {
    let ws = workspace();
    let mut child = ws
        .xtask()
        .arg("doctor")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn doctor");
    // The reader is gone before doctor prints (its checks take a moment), as with
    // `doctor | head -0`: every write meets a closed pipe.
    drop(child.stdout.take());
    let out = child.wait_with_output().expect("wait");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn check_shows_what_each_environment_runs_and_checks_its_values_where_written() {
    let ws = workspace();
    let text = ws.read(DEMO);
    ws.write(
        DEMO,
        &format!(
            "{text}environments:\n  staging:\n    model:\n      max_tokens: 2048\n    runtime:\n      \
             network_mode: VPC\n      environment:\n        LOG_LEVEL: debug\n"
        ),
    );
    let (out, text) = run(ws.xtask().arg("check").env_clear_aws());
    assert!(out.status.success(), "{text}");
    assert!(
        text.contains("demo in staging: max_tokens 2048, network_mode VPC, LOG_LEVEL=debug"),
        "{text}"
    );
    let (out, _) = run(ws.xtask().args(["--json", "check"]).env_clear_aws());
    assert!(out.status.success());
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON on stdout");
    let demo = report["agents"]
        .as_array()
        .and_then(|a| a.iter().find(|a| a["id"] == "demo"))
        .expect("demo in agents");
    assert_eq!(demo["effective"]["staging"]["max_tokens"], 2048);
    assert_eq!(
        demo["effective"]["staging"]["environment"]["LOG_LEVEL"],
        "debug"
    );
    assert_eq!(demo["effective"]["staging"]["temperature"], 0.3);
    assert_eq!(demo["effective"]["dev"]["max_tokens"], 512);
    assert_eq!(demo["effective"]["dev"]["network_mode"], "PUBLIC");

    // A value out of range is reported at the environment's line; a key no environment may
    // set is refused by name.
    ws.edit(DEMO, "max_tokens: 2048", "max_tokens: 0");
    fails_with(&ws, &[], &[&format!("{DEMO}:28:19"), "`max_tokens` is 0"]);
    ws.edit(
        DEMO,
        "      max_tokens: 0",
        "      max_tokens: 1\n    protocol: MCP",
    );
    fails_with(&ws, &[], &["protocol"]);
}

#[test]
fn check_inbound_auth_and_a_workflow_step_that_could_never_be_signed_for_it() {
    let ws = workspace();
    let text = ws.read(DEMO);
    ws.write(
        DEMO,
        &format!(
            "{text}auth:\n  jwt:\n    discovery_url: https://idp.example.com/jwks\n    \
             allowed_clients: [web]\n  request_headers: [X-Tenant]\n"
        ),
    );
    // Triage takes JWTs too: the shipped workflow that calls it could never reach it.
    let triage = ws.read("agents/triage/blueprint.yaml");
    ws.write(
        "agents/triage/blueprint.yaml",
        &format!(
            "{triage}auth:\n  jwt:\n    discovery_url: https://idp.example.com/.well-known/\
             openid-configuration\n    allowed_audiences: [api]\n"
        ),
    );
    fails_with(
        &ws,
        &[],
        &[
            &format!("{DEMO}:27:20"),
            "is not an OpenID Connect discovery URL",
            &format!("{DEMO}:29:21"),
            "AgentCore does not pass `X-Tenant` on",
            "infra/workflows/triage-and-answer.yaml:",
            "the workflow invokes agent `triage`, which takes a JWT",
            "3 problem(s) found",
        ],
    );
}
