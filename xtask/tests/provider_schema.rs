//! The shipped Terraform against the published schema of `hashicorp/aws` at the declared floor
//! and at the newest release extracted (`infra/schema/`), and the extracts against the
//! published packages they come from (pinned in `pinned-tools`, installed by `cargo xtask test`).
//!
//! To extract again (a new floor, a newer release): change the pins and `EXTRACTS` below, then
//! `XTASK_WRITE_SCHEMAS=1 cargo test -p xtask --test provider_schema`, and commit the files.

mod support;

use std::path::Path;

use pinned_tools::pins::{self, Pin};
use pinned_tools::{Log, Tools};
use support::workspace::{Scratch, repo_root};
use xtask::infra::provider_schema::{self, ProviderSchema, Source, jsii, usage};
use xtask::project::Project;

/// Each committed extract and the pinned package it is derived from. `infra/schema/` holds
/// the floor and the newest release; the release before the floor is a test fixture.
const EXTRACTS: &[(&str, &Pin)] = &[
    (
        "xtask/tests/data/aws-6.47.0.json",
        &pins::CDKTN_PROVIDER_AWS_6_47,
    ),
    (
        "infra/schema/aws-6.48.0.json",
        &pins::CDKTN_PROVIDER_AWS_6_48,
    ),
    (
        "infra/schema/aws-6.69.1.json",
        &pins::CDKTN_PROVIDER_AWS_6_69,
    ),
];

const BELOW_FLOOR: &str = "xtask/tests/data/aws-6.47.0.json";
const GATEWAY_TARGET_FILE: &str = "infra/modules/agents/main.tf";

fn project(root: &Path) -> Project {
    Project::discover(Some(root), Path::new("infra")).expect("the workspace")
}

fn load(rel: &str) -> ProviderSchema {
    let text = std::fs::read_to_string(repo_root().join(rel))
        .unwrap_or_else(|e| panic!("cannot read {rel}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

fn used(project: &Project) -> Vec<usage::Used> {
    let mut diags = Vec::new();
    let used = usage::scan(
        &project.root,
        &provider_schema::terraform_dirs(project),
        &mut diags,
    );
    assert!(diags.is_empty(), "{diags:?}");
    used
}

/// The 1-based line of the first line of `rel` (in the repository) containing `needle`.
fn line_of(rel: &str, needle: &str) -> usize {
    std::fs::read_to_string(repo_root().join(rel))
        .expect("read file")
        .lines()
        .position(|l| l.contains(needle))
        .unwrap_or_else(|| panic!("`{needle}` is not in {rel}"))
        + 1
}

#[test]
fn the_shipped_stacks_fit_the_floor_and_the_newest_release() {
    let project = project(&repo_root());
    let mut diags = Vec::new();
    let schemas =
        provider_schema::load_all(&project, &provider_schema::schema_dir(&project), &mut diags);
    let versions: Vec<&str> = schemas.iter().map(|(_, s)| s.version.as_str()).collect();
    assert_eq!(versions, ["6.48.0", "6.69.1"]);
    provider_schema::check(&project, &mut diags);
    assert!(
        diags.is_empty(),
        "{}",
        diags.iter().map(|d| format!("{d}\n")).collect::<String>()
    );
    // Every type the infra uses is in each extract: none was skipped as unknown.
    let used = provider_schema::used_types(&used(&project));
    assert!(used.len() > 20, "{used:?}");
    for (_, schema) in &schemas {
        for (kind, name) in &used {
            assert!(
                schema.of(*kind, name).is_some(),
                "{name} in {}",
                schema.version
            );
        }
    }
}

/// The release before the floor lacks exactly what made 6.48 the floor: the check fails with
/// the file, the line and the argument, and nothing else differs.
#[test]
fn below_the_floor_the_check_names_the_line_and_the_argument() {
    let project = project(&repo_root());
    let schema = load(BELOW_FLOOR);
    assert_eq!(schema.version, "6.47.0");
    let mut diags = Vec::new();
    provider_schema::check_against(&used(&project), &schema, Path::new(BELOW_FLOOR), &mut diags);
    let mut shown: Vec<String> = diags.iter().map(|d| format!("{d}")).collect();
    shown.sort();
    let block = line_of(GATEWAY_TARGET_FILE, "gateway_iam_role {");
    let expected = |arg: &str, offset: usize| {
        format!(
            "error: {GATEWAY_TARGET_FILE}:{}:7: hashicorp/aws 6.47.0 has no argument `{arg}` in \
             `credential_provider_configuration.gateway_iam_role` of \
             `aws_bedrockagentcore_gateway_target.agent`",
            block + offset
        )
    };
    assert_eq!(shown.len(), 2, "{shown:#?}");
    assert!(shown[0].starts_with(&expected("service", 1)), "{shown:#?}");
    assert!(shown[1].starts_with(&expected("region", 2)), "{shown:#?}");
    assert!(shown[0].contains("has nothing here"), "{shown:#?}");
    assert!(shown[0].contains("raise the floor"), "{shown:#?}");
}

/// `cargo xtask check` itself, on a copy whose floor is moved back to 6.47.
#[test]
fn check_refuses_a_floor_that_lacks_what_the_stacks_use() {
    let ws = Scratch::copy_of_repo();
    std::fs::remove_file(ws.file("infra/schema/aws-6.48.0.json")).expect("remove the floor");
    ws.write(
        "infra/schema/aws-6.47.0.json",
        &std::fs::read_to_string(repo_root().join(BELOW_FLOOR)).expect("fixture"),
    );
    for file in [
        "infra/modules/agents/versions.tf",
        "infra/modules/platform/versions.tf",
        "infra/modules/workflows/versions.tf",
        "infra/stacks/agents/main.tf",
        "infra/stacks/platform/main.tf",
        "infra/stacks/workflows/main.tf",
    ] {
        ws.edit(file, "\">= 6.48\"", "\">= 6.47\"");
    }
    let service = line_of(GATEWAY_TARGET_FILE, "service = \"bedrock-agentcore\"");
    support::workspace::fails_with(
        ws.xtask().arg("check"),
        &[
            &format!("{GATEWAY_TARGET_FILE}:{service}:7"),
            "hashicorp/aws 6.47.0 has no argument `service`",
            "2 problem(s) found",
        ],
    );
}

/// A `required_providers` that declares another floor than the one the extracts prove.
#[test]
fn check_refuses_a_declared_floor_the_schemas_do_not_prove() {
    let ws = Scratch::copy_of_repo();
    let file = "infra/modules/workflows/versions.tf";
    ws.edit(file, "\">= 6.48\"", "\">= 6.21\"");
    let line = line_of(file, "version = \">= 6.48\"");
    support::workspace::fails_with(
        ws.xtask().arg("check"),
        &[
            &format!("{file}:{line}:7"),
            "hashicorp/aws `>= 6.21` is not the floor the schema check proves (6.48.0",
            "declare `version = \">= 6.48\"`",
        ],
    );
}

struct Quiet;

impl Log for Quiet {
    fn step(&self, _: &str) {}
    fn verbose(&self, _: &str) {}
}

/// Each extract is what its pinned package says today, for the types the infra uses now: a
/// hand edit, a new resource without a new extract, or a pin moved without extracting again
/// all fail here. With `XTASK_WRITE_SCHEMAS=1` the extracts are written instead.
#[test]
fn the_extracts_are_what_the_published_packages_say() {
    let root = repo_root();
    let tools_dir = std::env::var_os("XTASK_TOOLS_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| root.join("target/xtask/tools"));
    // `cargo xtask test` installs them first (Tool::ProviderSchemas); a plain `cargo test`
    // installs them here, pinned and verified the same way.
    let tools = Tools::new(&root, tools_dir);
    let project = project(&root);
    let wanted = provider_schema::used_types(&used(&project));
    let write = std::env::var_os("XTASK_WRITE_SCHEMAS").is_some_and(|v| v == "1");
    for (rel, pin) in EXTRACTS {
        let dir = tools.unpacked(pin, &Quiet).expect("installed binding");
        let download = pins::Host::current()
            .and_then(|h| pin.download(h))
            .expect("pinned for this host");
        let source = Source {
            package: pin.name.into(),
            version: pin.version.into(),
            url: download.url.into(),
            sha256: download.sha256.into(),
        };
        let derived = jsii::read(&dir, source, &wanted).expect("read the binding");
        assert!(
            rel.ends_with(&provider_schema::file_name(&derived.version)),
            "{rel} is derived from {} {}, which is hashicorp/aws {}",
            pin.name,
            pin.version,
            derived.version
        );
        let path = root.join(rel);
        if write {
            std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
            std::fs::write(&path, derived.to_file_text()).expect("write the extract");
            continue;
        }
        let committed = load(rel);
        assert!(
            committed == derived,
            "{rel} differs from what {} {} says: run `XTASK_WRITE_SCHEMAS=1 cargo test -p xtask \
             --test provider_schema` and review the diff",
            pin.name,
            pin.version
        );
    }
    // Every extract `check` reads is one this test derives.
    let mut diags = Vec::new();
    for (file, _) in
        provider_schema::load_all(&project, &provider_schema::schema_dir(&project), &mut diags)
    {
        let file = file.display().to_string();
        assert!(
            EXTRACTS.iter().any(|(rel, _)| *rel == file),
            "{file} is not derived by this test: add it to EXTRACTS"
        );
    }
}
