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
                "memory:\n  strategies:\n    - name: prefs\n      type: USER_PREFERENCE\n",
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
