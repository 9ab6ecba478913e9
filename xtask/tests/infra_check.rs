//! The infrastructure checks of `cargo xtask check`, run by the real binary on the real
//! `infra/` and on broken copies of it: each kind of mistake fails with file:line and a fix.
//! Needs `terraform` on PATH (for `terraform fmt -check`).

mod support;

use support::workspace::{Scratch, run};

/// Runs `check` and expects a failure showing every one of `needles`.
fn fails_with(ws: &Scratch, needles: &[&str]) -> String {
    support::workspace::fails_with(ws.xtask().arg("check"), needles)
}

/// The 1-based line of the first line of `rel` containing `needle`.
fn line_of(ws: &Scratch, rel: &str, needle: &str) -> usize {
    ws.read(rel)
        .lines()
        .position(|l| l.contains(needle))
        .unwrap_or_else(|| panic!("`{needle}` is not in {rel}"))
        + 1
}

fn add_agent(ws: &Scratch, id: &str, blueprint: &str) {
    ws.write(
        &format!("agents/{id}/Cargo.toml"),
        &format!("[package]\nname = \"{id}\"\nversion = \"0.1.0\"\nedition = \"2024\"\n"),
    );
    ws.write(&format!("agents/{id}/src/main.rs"), "fn main() {}\n");
    ws.write(&format!("agents/{id}/blueprint.yaml"), blueprint);
}

fn blueprint(id: &str, extra: &str) -> String {
    format!(
        "id: {id}\nname: Test\nversion: 0.1.0\ndescription: fixture\nmodel:\n  provider: bedrock\n  \
         model_id: us.amazon.nova-micro-v1:0\n{extra}"
    )
}

#[test]
fn infra_check_passes_on_the_shipped_infrastructure() {
    let ws = Scratch::copy_of_repo();
    let (out, text) = run(ws.xtask().args(["check", "--json"]));
    let report: serde_json::Value =
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("not JSON ({e}):\n{text}"));
    assert_eq!(report["errors"], serde_json::json!([]), "{text}");
    assert!(out.status.success(), "{text}");
    // The shipped agents run in dev and staging, so do the workflows that chain them.
    let env = serde_json::json!(["dev", "staging"]);
    assert_eq!(
        report["workflows"],
        serde_json::json!([
            {"name": "assistant-digest", "agents": ["assistant"], "enabled": env},
            {"name": "triage-and-answer", "agents": ["triage", "assistant"], "enabled": env},
        ]),
        "{text}"
    );
    let (out, text) = run(ws.xtask().arg("check"));
    assert!(out.status.success(), "{text}");
    let line = |env: &str| {
        text.lines()
            .find(|l| l.starts_with(env))
            .unwrap_or_else(|| panic!("no line for {env}:\n{text}"))
            .to_string()
    };
    assert!(
        line("dev ").ends_with("; workflows assistant-digest, triage-and-answer"),
        "{text}"
    );
    assert!(line("production ").ends_with("; no workflows"), "{text}");
}

#[test]
fn infra_tfvars_key_that_is_no_variable_names_file_and_line() {
    let ws = Scratch::copy_of_repo();
    let file = "infra/envs/dev.tfvars";
    ws.write(file, &format!("{}nat_gateway_count = 2\n", ws.read(file)));
    let line = line_of(&ws, file, "nat_gateway_count");
    fails_with(
        &ws,
        &[
            &format!("{file}:{line}:1: `nat_gateway_count` is not a variable of any stack"),
            "networking comes from the networking project",
        ],
    );
}

#[test]
fn infra_misspelled_tfvars_key_suggests_the_variable() {
    let ws = Scratch::copy_of_repo();
    let file = "infra/envs/staging.tfvars";
    ws.edit(file, "log_retention_days", "log_retension_days");
    let line = line_of(&ws, file, "log_retension_days");
    fails_with(
        &ws,
        &[
            &format!("{file}:{line}:1: `log_retension_days` is not a variable of any stack"),
            "did you mean `log_retention_days`?",
        ],
    );
}

#[test]
fn infra_tfvars_key_declared_by_one_stack_only() {
    let ws = Scratch::copy_of_repo();
    ws.write(
        "infra/stacks/platform/extra.tf",
        "variable \"enable_tracing\" {\n  type    = bool\n  default = false\n}\n",
    );
    let file = "infra/envs/production.tfvars";
    ws.write(file, &format!("{}enable_tracing = true\n", ws.read(file)));
    fails_with(
        &ws,
        &["`enable_tracing` is a variable of `platform` but not of `agents`, `workflows`"],
    );
}

#[test]
fn infra_missing_environment_and_backend_files() {
    let ws = Scratch::copy_of_repo();
    std::fs::remove_file(ws.file("infra/envs/staging.tfvars")).expect("remove");
    std::fs::remove_file(ws.file("infra/envs/production.backend.hcl")).expect("remove");
    fails_with(
        &ws,
        &[
            "infra/envs/staging.tfvars: the environment file for `staging` is missing",
            "infra/envs/production.backend.hcl: the backend settings of `production` are missing",
        ],
    );
}

#[test]
fn infra_backend_without_locking_or_with_a_fixed_key() {
    let ws = Scratch::copy_of_repo();
    let file = "infra/envs/dev.backend.hcl";
    ws.edit(
        file,
        "use_lockfile = true",
        "key          = \"terraform.tfstate\"",
    );
    let line = line_of(&ws, file, "key ");
    fails_with(
        &ws,
        &[
            &format!("{file}:{line}:1: `key` must not be set here"),
            &format!("{file}: state locking is off"),
        ],
    );
}

#[test]
fn infra_unwired_module_input_names_the_module_block() {
    let ws = Scratch::copy_of_repo();
    let file = "infra/stacks/agents/main.tf";
    ws.edit(file, "  memory_id               = var.memory_id\n", "");
    let line = line_of(&ws, file, "module \"agents\"");
    fails_with(
        &ws,
        &[
            &format!(
                "{file}:{line}:1: module `agents` does not set `memory_id`, a required input of infra/modules/agents"
            ),
            "infra/modules/agents/variables.tf:",
        ],
    );
}

#[test]
fn infra_module_argument_that_is_no_input() {
    let ws = Scratch::copy_of_repo();
    let file = "infra/stacks/agents/main.tf";
    ws.edit(
        file,
        "  gateway_url             = var.gateway_url",
        "  gateway_uri             = var.gateway_url",
    );
    let line = line_of(&ws, file, "gateway_uri");
    fails_with(
        &ws,
        &[
            &format!("{file}:{line}:3: module `agents` has no input `gateway_uri`"),
            "did you mean `gateway_url`?",
            // ... and the real input is now unwired
            "module `agents` does not set `gateway_url`",
        ],
    );
}

#[test]
fn infra_references_to_unknown_variables_and_outputs() {
    let ws = Scratch::copy_of_repo();
    ws.edit(
        "infra/stacks/agents/outputs.tf",
        "module.agents.runtime_versions",
        "module.agents.runtime_version",
    );
    ws.edit(
        "infra/modules/workflows/main.tf",
        "var.log_retention_days",
        "var.log_retention",
    );
    fails_with(
        &ws,
        &[
            "infra/stacks/agents/outputs.tf:",
            "module `agents` has no output `runtime_version`",
            "did you mean `runtime_versions`?",
            "infra/modules/workflows/main.tf:",
            "`var.log_retention` is not a declared variable",
        ],
    );
}

#[test]
fn infra_required_stack_variable_fed_by_nothing() {
    let ws = Scratch::copy_of_repo();
    let file = "infra/stacks/workflows/inputs.tf";
    ws.write(
        file,
        &format!(
            "{}\nvariable \"alarm_topic_arn\" {{\n  type = string\n}}\n",
            ws.read(file)
        ),
    );
    let line = line_of(&ws, file, "alarm_topic_arn");
    fails_with(
        &ws,
        &[&format!(
            "{file}:{line}:1: required variable `alarm_topic_arn` of stack `workflows` is fed by nothing"
        )],
    );
}

#[test]
fn infra_unformatted_terraform() {
    let ws = Scratch::copy_of_repo();
    ws.edit(
        "infra/modules/platform/ecr.tf",
        "  for_each             = var.agent_ids",
        "  for_each = var.agent_ids",
    );
    fails_with(
        &ws,
        &["infra/modules/platform/ecr.tf: not formatted the way `terraform fmt` writes it"],
    );
}

#[test]
fn infra_workflow_names_an_unknown_agent() {
    let ws = Scratch::copy_of_repo();
    let file = "infra/workflows/triage-and-answer.yaml";
    ws.edit(
        file,
        "agents: [triage, assistant]",
        "agents: [triag, assistant]",
    );
    let line = line_of(&ws, file, "agents: [");
    let ref_line = line_of(&ws, file, "${agent[\"triage\"]}");
    fails_with(
        &ws,
        &[
            &format!("{file}:{line}:1: the workflow names agent `triag`, which does not exist"),
            "did you mean `triage`?",
            &format!("{file}:{ref_line}:"),
            "the definition uses agent `triage`, which `agents` does not list",
        ],
    );
}

#[test]
fn infra_runtime_name_too_long_for_agentcore() {
    let ws = Scratch::copy_of_repo();
    let id = "customer-onboarding-summarizer";
    add_agent(
        &ws,
        id,
        &blueprint(
            id,
            "execution_modes:\n  dev: true\n  staging: true\n  production: true\n",
        ),
    );
    fails_with(
        &ws,
        &[
            &format!(
                "agents/{id}/blueprint.yaml:1:1: its AgentCore runtime name in production, `agentcore_production_customer_onboarding_summarizer`, is 51 characters; AgentCore allows 48"
            ),
            "shorten the id to at most 27 characters",
        ],
    );
}

#[test]
fn infra_two_agents_want_the_same_builtin_memory_strategy() {
    let ws = Scratch::copy_of_repo();
    // Ids that sort before any real agent, so the pair reported is this one.
    for id in ["aa-one", "aa-two"] {
        add_agent(
            &ws,
            id,
            &blueprint(
                id,
                "memory:\n  strategies:\n    - name: prefs\n      type: USER_PREFERENCE\n  enabled: true\n",
            ),
        );
    }
    fails_with(
        &ws,
        &[
            "agents/aa-two/blueprint.yaml:10:",
            "agents `aa-one` and `aa-two` both ask for a USER_PREFERENCE memory strategy in dev",
        ],
    );
}

#[test]
fn infra_vpc_agent_needs_private_subnets() {
    let ws = Scratch::copy_of_repo();
    add_agent(
        &ws,
        "private",
        &blueprint("private", "runtime:\n  network_mode: VPC\n"),
    );
    let file = "infra/envs/dev.tfvars";
    let text = ws.read(file);
    let start = text
        .find("private_subnet_ids")
        .expect("private_subnet_ids in dev.tfvars");
    let end = start + text[start..].find('\n').expect("end of line");
    ws.write(
        file,
        &format!("{}private_subnet_ids  = []{}", &text[..start], &text[end..]),
    );
    let line = line_of(&ws, file, "private_subnet_ids");
    fails_with(
        &ws,
        &[&format!(
            "{file}:{line}:1: agent `private` runs in VPC mode in dev, but private_subnet_ids is empty"
        )],
    );
}

const DIGEST: &str = "infra/workflows/assistant-digest.yaml";
const TRIAGE: &str = "infra/workflows/triage-and-answer.yaml";

#[test]
fn infra_workflow_payload_object_is_refused_with_the_intrinsic_that_fixes_it() {
    let ws = Scratch::copy_of_repo();
    ws.edit(
        DIGEST,
        "        Payload.$: States.JsonToString($.request)\n",
        "        Payload:\n          prompt: Summarise what is pending today.\n",
    );
    let line = line_of(&ws, DIGEST, "        Payload:");
    fails_with(
        &ws,
        &[
            &format!(
                "{DIGEST}:{line}:9: invoke task `Digest`: `Payload` is an object, but \
                 InvokeAgentRuntime's payload is a blob, which the aws-sdk integration passes as \
                 a string"
            ),
            "build the object with a Pass state's `Parameters`",
            "`Payload.$: States.JsonToString($.request)`",
        ],
    );
}

#[test]
fn infra_workflow_unknown_parameter_suggests_the_member() {
    let ws = Scratch::copy_of_repo();
    ws.edit(DIGEST, "        Qualifier: live", "        Qualifer: live");
    let line = line_of(&ws, DIGEST, "Qualifer:");
    fails_with(
        &ws,
        &[
            &format!(
                "{DIGEST}:{line}:9: invoke task `Digest`: `Qualifer` is not a parameter of \
                 InvokeAgentRuntime"
            ),
            "did you mean `Qualifier`?",
            "the parameters are (the API's members, in PascalCase): Accept, AccountId, \
             AgentRuntimeArn,",
        ],
    );
}

#[test]
fn infra_workflow_invoke_task_without_required_members() {
    let ws = Scratch::copy_of_repo();
    ws.edit(
        TRIAGE,
        "        AgentRuntimeArn: ${agent[\"assistant\"]}\n",
        "",
    );
    ws.edit(
        TRIAGE,
        "        Payload.$: States.JsonToString($.answer_request)\n",
        "",
    );
    let answer = line_of(&ws, TRIAGE, "    Answer:");
    let params = answer + 3;
    assert!(
        ws.read(TRIAGE)
            .lines()
            .nth(params - 1)
            .is_some_and(|l| l.trim() == "Parameters:")
    );
    fails_with(
        &ws,
        &[
            &format!(
                "{TRIAGE}:{params}:7: invoke task `Answer` has no `AgentRuntimeArn`, which \
                 InvokeAgentRuntime requires (API 2024-02-28)"
            ),
            "add `AgentRuntimeArn: ${agent[\"<id>\"]}` to its `Parameters`",
            &format!(
                "{TRIAGE}:{params}:7: invoke task `Answer` has no `Payload`, which \
                 InvokeAgentRuntime requires"
            ),
            "add `Payload.$: States.JsonToString($.request)` to its `Parameters`",
        ],
    );
}

#[test]
fn infra_workflow_literals_outside_the_models_length_and_pattern() {
    let ws = Scratch::copy_of_repo();
    ws.edit(
        DIGEST,
        "        RuntimeSessionId.$: States.Format('assistant-{}', States.Hash($$.Execution.Id, 'SHA-256'))",
        "        RuntimeSessionId: daily-digest\n        AccountId: '12345'",
    );
    let session = line_of(&ws, DIGEST, "RuntimeSessionId:");
    let account = line_of(&ws, DIGEST, "AccountId:");
    fails_with(
        &ws,
        &[
            &format!(
                "{DIGEST}:{session}:9: invoke task `Digest`: `RuntimeSessionId` is 12 characters; \
                 InvokeAgentRuntime takes 33 to 256 characters"
            ),
            "`RuntimeSessionId.$: States.Format('<agent>-{}', States.Hash($$.Execution.Id, 'SHA-256'))`",
            &format!(
                "{DIGEST}:{account}:9: invoke task `Digest`: `AccountId` is `12345`, which does \
                 not match InvokeAgentRuntime's pattern `[0-9]{{12}}`"
            ),
            "give the 12-digit AWS account id",
        ],
    );
}

#[test]
fn infra_workflow_timeout_missing_or_beyond_the_agents_session_lifetime() {
    let ws = Scratch::copy_of_repo();
    // Triage's blueprint ends its sessions after 60 minutes.
    ws.edit(TRIAGE, "      TimeoutSeconds: 120\n", "");
    ws.edit(
        TRIAGE,
        "      TimeoutSeconds: 300",
        "      TimeoutSeconds: 90000",
    );
    let triage = line_of(&ws, TRIAGE, "    Triage:");
    let timeout = line_of(&ws, TRIAGE, "TimeoutSeconds: 90000");
    fails_with(
        &ws,
        &[
            &format!(
                "{TRIAGE}:{triage}:5: invoke task `Triage` has no `TimeoutSeconds`: Step \
                 Functions would wait on a hung agent"
            ),
            "add `TimeoutSeconds: 300` (what one answer may take, and at most agent `triage`'s \
             session lifetime, 3600 s)",
            &format!(
                "{TRIAGE}:{timeout}:7: invoke task `Answer`: `TimeoutSeconds: 90000` outlives \
                 agent `assistant`'s session, which AgentCore ends after 28800 s \
                 (runtime.max_lifetime_minutes: 480)"
            ),
            "lower it to at most 28800, or raise `runtime.max_lifetime_minutes` in \
             agents/assistant/blueprint.yaml",
        ],
    );
}

#[test]
fn infra_workflow_retry_and_catch_name_the_operations_errors() {
    let ws = Scratch::copy_of_repo();
    ws.edit(
        DIGEST,
        "            - BedrockAgentCore.ThrottlingException",
        "            - BedrockAgentCore.Throttling\n            - BedrockAgentCore.RuntimeClientErrorException",
    );
    ws.edit(
        DIGEST,
        "        - ErrorEquals: [States.ALL]",
        "        - ErrorEquals: [BedrockAgentCore.ResourceNotFound, States.ALL]",
    );
    let retry = line_of(&ws, DIGEST, "BedrockAgentCore.Throttling");
    let catch = line_of(&ws, DIGEST, "BedrockAgentCore.ResourceNotFound");
    let shown = fails_with(
        &ws,
        &[
            &format!(
                "{DIGEST}:{retry}:15: invoke task `Digest`: `BedrockAgentCore.Throttling` in \
                 `Retry` is not an error of InvokeAgentRuntime, so it never matches"
            ),
            "did you mean `BedrockAgentCore.ThrottlingException`? its errors are: \
             BedrockAgentCore.AccessDeniedException,",
            &format!(
                "{DIGEST}:{catch}:25: invoke task `Digest`: `BedrockAgentCore.ResourceNotFound` \
                 in `Catch` is not an error of InvokeAgentRuntime"
            ),
            "did you mean `BedrockAgentCore.ResourceNotFoundException`?",
        ],
    );
    // Step Functions appends `Exception` to RuntimeClientError: both spellings match.
    assert!(
        !shown.contains("`BedrockAgentCore.RuntimeClientErrorException` in"),
        "{shown}"
    );
    assert!(shown.contains("2 problem(s) found"), "{shown}");
}

#[test]
fn infra_workflow_literal_runtime_arn_that_is_no_arn() {
    let ws = Scratch::copy_of_repo();
    ws.edit(
        DIGEST,
        "        AgentRuntimeArn: ${agent[\"assistant\"]}",
        "        AgentRuntimeArn: assistant",
    );
    let line = line_of(&ws, DIGEST, "AgentRuntimeArn: assistant");
    fails_with(
        &ws,
        &[
            &format!(
                "{DIGEST}:{line}:9: invoke task `Digest`: `AgentRuntimeArn` is `assistant`, \
                 neither `${{agent[\"<id>\"]}}` nor an ARN"
            ),
            "write `AgentRuntimeArn: ${agent[\"<id>\"]}` with an agent of `agents`",
        ],
    );
}

#[test]
fn infra_workflow_whose_agents_never_run_together_is_deployed_nowhere() {
    let ws = Scratch::copy_of_repo();
    ws.edit(
        "agents/triage/blueprint.yaml",
        "  dev: true\n  staging: true\n",
        "  dev: false\n  staging: false\n",
    );
    let line = line_of(&ws, TRIAGE, "agents: [");
    fails_with(
        &ws,
        &[
            &format!(
                "{TRIAGE}:{line}:1: workflow `triage-and-answer` is deployed in no environment: \
                 no environment enables all of its agents (in dev `triage` is disabled; in \
                 staging `triage` is disabled; in production `triage`, `assistant` are disabled)"
            ),
            "enable its agents together in one environment (`execution_modes` in \
             agents/<id>/blueprint.yaml), or remove the workflow",
        ],
    );
}

/// Invoke tasks nested in Parallel branches and Map processors are checked too, and one run
/// reports every problem of every workflow.
#[test]
fn infra_workflow_problems_in_nested_states_are_all_reported_at_once() {
    let ws = Scratch::copy_of_repo();
    let file = "infra/workflows/fan-out.yaml";
    ws.write(
        file,
        r#"description: Digest and triage side by side, then triage each item.
agents: [assistant, triage]
definition:
  StartAt: Both
  States:
    Both:
      Type: Parallel
      Branches:
        - StartAt: Digest
          States:
            Digest:
              Type: Task
              Resource: arn:aws:states:::aws-sdk:bedrockagentcore:invokeAgentRuntime
              Parameters:
                AgentRuntimeArn: ${agent["assistant"]}
                Payload:
                  prompt: hello
              TimeoutSeconds: 60
              End: true
        - StartAt: Classify
          States:
            Classify:
              Type: Task
              Resource: arn:aws:states:::aws-sdk:bedrockagentcore:invokeAgentRuntime
              Parameters:
                AgentRuntimeArn: ${agent["triage"]}
                Payload.$: States.JsonToString($.detail)
              End: true
      Next: Each
    Each:
      Type: Map
      ItemsPath: $.items
      ItemProcessor:
        StartAt: One
        States:
          One:
            Type: Task
            Resource: arn:aws:states:::aws-sdk:bedrockagentcore:invokeAgentRuntime
            Parameters:
              AgentRuntimeArn: ${agent["triage"]}
              Payload.$: States.JsonToString($)
              Acept: application/json
            TimeoutSeconds: 60
            Retry:
              - ErrorEquals: [BedrockAgentCore.Throttled]
            End: true
      End: true
"#,
    );
    ws.edit(DIGEST, "      TimeoutSeconds: 300\n", "");
    let at = |needle: &str| line_of(&ws, file, needle);
    let shown = fails_with(
        &ws,
        &[
            &format!(
                "{file}:{}:17: invoke task `Digest`: `Payload` is an object",
                at("Payload:")
            ),
            &format!(
                "{file}:{}:13: invoke task `Classify` has no `TimeoutSeconds`",
                at("Classify:")
            ),
            &format!(
                "{file}:{}:15: invoke task `One`: `Acept` is not a parameter of InvokeAgentRuntime",
                at("Acept:")
            ),
            "did you mean `Accept`?",
            &format!(
                "{file}:{}:31: invoke task `One`: `BedrockAgentCore.Throttled` in `Retry`",
                at("Throttled")
            ),
            &format!(
                "{DIGEST}:{}:5: invoke task `Digest` has no `TimeoutSeconds`",
                line_of(&ws, DIGEST, "    Digest:")
            ),
        ],
    );
    assert!(shown.contains("5 problem(s) found"), "{shown}");
}
