//! The shipped Terraform against the published schema of the provider it declares: every
//! `resource "aws_…"` and `data "aws_…"` of the modules and stacks may use only arguments and
//! nested blocks the schema has, and must set the ones it requires, in every version extracted
//! under `<infra>/schema/aws-<version>.json` — the declared floor and the newest release
//! checked. The lowest of them must be the floor every `required_providers` declares.
//!
//! `terraform validate` would say the same, but only with the provider installed, and these
//! machines have none of the 6.x releases. The extracts come from the prebuilt CDK-for-Terraform
//! bindings, which are generated from the provider's schema ([`jsii`]); each records the
//! package it came from and its SHA-256, and `xtask/tests/provider_schema.rs` derives them again
//! from those packages (pinned in `pinned-tools`), so an extract cannot drift from its source.

pub mod jsii;
pub mod usage;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::project::Project;
use diagnostics::{Diagnostic, Pos, did_you_mean};
use usage::{Kind, Used, UsedBody};

/// What one provider release accepts, for the types the infra uses.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProviderSchema {
    /// `hashicorp/aws`.
    pub provider: String,
    /// The release the schema is of, e.g. `6.48.0`.
    pub version: String,
    pub source: Source,
    pub resources: BTreeMap<String, Block>,
    pub data_sources: BTreeMap<String, Block>,
}

/// The published package an extract was read from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Source {
    pub package: String,
    pub version: String,
    pub url: String,
    pub sha256: String,
}

/// A resource's or a nested block's arguments and blocks.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Block {
    /// A nested block that must appear (at least once).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub required: bool,
    /// The binding does not describe what the block holds (it types it as `any`): what is
    /// written in it is not checked.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub undescribed: bool,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub arguments: BTreeMap<String, Need>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub blocks: BTreeMap<String, Block>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Need {
    Required,
    Optional,
}

impl ProviderSchema {
    pub fn of(&self, kind: Kind, type_name: &str) -> Option<&Block> {
        match kind {
            Kind::Resource => self.resources.get(type_name),
            Kind::DataSource => self.data_sources.get(type_name),
        }
    }

    /// The extract as committed: pretty, keys sorted (BTreeMap), one trailing newline.
    pub fn to_file_text(&self) -> String {
        let mut text = serde_json::to_string_pretty(self).unwrap_or_default();
        text.push('\n');
        text
    }
}

/// `<infra>/schema/`: the extracts, one file per provider version.
pub fn schema_dir(project: &Project) -> PathBuf {
    project.infra_dir.join("schema")
}

/// The file an extract of `version` is kept in.
pub fn file_name(version: &str) -> String {
    format!("aws-{version}.json")
}

/// The folders whose Terraform is checked: every module and stack of the infra folder.
pub fn terraform_dirs(project: &Project) -> Vec<PathBuf> {
    let mut dirs = Vec::new();
    for group in ["modules", "stacks"] {
        let Ok(entries) = std::fs::read_dir(project.infra_dir.join(group)) else {
            continue;
        };
        let mut found: Vec<PathBuf> = entries
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.is_dir())
            .map(|p| project.rel(&p).to_path_buf())
            .collect();
        found.sort();
        dirs.extend(found);
    }
    dirs
}

/// The `(kind, type)` of every provider block the infra uses: what an extract must hold.
pub fn used_types(used: &[Used]) -> BTreeSet<(Kind, String)> {
    used.iter().map(|u| (u.kind, u.type_name.clone())).collect()
}

/// Runs the check when the infra folder has extracts (the test stacks under `tests/` have none:
/// their provider, 5.100.0, is installed and `terraform validate` covers them).
pub fn check(project: &Project, diags: &mut Vec<Diagnostic>) {
    let dir = schema_dir(project);
    if !dir.is_dir() {
        return;
    }
    let schemas = load_all(project, &dir, diags);
    let Some((floor_file, floor)) = schemas.first() else {
        return;
    };
    let dirs = terraform_dirs(project);
    let used = usage::scan(&project.root, &dirs, diags);
    for (file, schema) in &schemas {
        check_against(&used, schema, file, diags);
    }
    check_declared_floor(project, &dirs, floor, floor_file, diags);
}

/// Every `aws-*.json` of `dir`, lowest version first.
pub fn load_all(
    project: &Project,
    dir: &Path,
    diags: &mut Vec<Diagnostic>,
) -> Vec<(PathBuf, ProviderSchema)> {
    let mut schemas = Vec::new();
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(err) => {
            diags.push(Diagnostic::new(
                project.rel(dir),
                format!("cannot read the folder: {err}"),
            ));
            return schemas;
        }
    };
    for path in entries.filter_map(Result::ok).map(|e| e.path()) {
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        if !(name.starts_with("aws-") && name.ends_with(".json")) {
            continue;
        }
        let rel = project.rel(&path).to_path_buf();
        let loaded = std::fs::read_to_string(&path)
            .map_err(|e| format!("cannot read: {e}"))
            .and_then(|text| {
                serde_json::from_str::<ProviderSchema>(&text)
                    .map_err(|e| format!("not a schema extract: {e}"))
            });
        match loaded {
            Ok(schema) if file_name(&schema.version) == name => schemas.push((rel, schema)),
            Ok(schema) => diags.push(
                Diagnostic::new(&rel, format!("holds the schema of {}", schema.version))
                    .help(format!("name it `{}`", file_name(&schema.version))),
            ),
            Err(message) => diags.push(Diagnostic::new(&rel, message).help(
                "regenerate it from its published package (README.md, \"The provider floor\")",
            )),
        }
    }
    schemas.sort_by_key(|(_, schema)| version_key(&schema.version));
    schemas
}

/// `6.48.0` → `[6, 48, 0]`, for ordering; a part that is not a number sorts first.
fn version_key(version: &str) -> Vec<u64> {
    version.split('.').map(|p| p.parse().unwrap_or(0)).collect()
}

/// Every problem of `used` against one schema, each at the line that causes it.
pub fn check_against(
    used: &[Used],
    schema: &ProviderSchema,
    schema_file: &Path,
    diags: &mut Vec<Diagnostic>,
) {
    let release = format!("{} {}", schema.provider, schema.version);
    for u in used {
        let address = u.kind.address(&u.type_name, &u.name);
        let Some(block) = schema.of(u.kind, &u.type_name) else {
            diags.push(
                Diagnostic::new(
                    &u.file,
                    format!("`{}` is not in {release}'s schema", u.type_name),
                )
                .at(u.pos)
                .help(format!(
                    "{} holds the types the infra used when it was extracted: add this one by \
                     regenerating the extracts (README.md, \"The provider floor\"); if {release} \
                     lacks it, raise the floor",
                    schema_file.display()
                )),
            );
            continue;
        };
        let mut at = Place {
            file: &u.file,
            address: &address,
            release: &release,
            schema_file,
            path: Vec::new(),
        };
        compare(&u.body, block, u.pos, &mut at, diags);
    }
}

/// Where in the infra and in which schema a comparison stands, for the messages.
struct Place<'a> {
    file: &'a Path,
    address: &'a str,
    release: &'a str,
    schema_file: &'a Path,
    /// The nested blocks down to here.
    path: Vec<String>,
}

impl Place<'_> {
    fn within(&self) -> String {
        if self.path.is_empty() {
            format!("`{}`", self.address)
        } else {
            format!("`{}` of `{}`", self.path.join("."), self.address)
        }
    }

    fn missing_help(&self, what: &str, known: &[&str]) -> String {
        let close = did_you_mean(what, known)
            .map(|c| format!("did you mean `{c}`? "))
            .unwrap_or_default();
        format!(
            "{close}{} ({}) has {} here; if a newer release has it, raise the floor \
             (`version = \">= …\"` in every required_providers) to the first release that \
             does and extract its schema (README.md, \"The provider floor\")",
            self.schema_file.display(),
            self.release,
            if known.is_empty() {
                "nothing".to_string()
            } else {
                known.join(", ")
            }
        )
    }
}

fn compare(
    used: &UsedBody,
    schema: &Block,
    block_pos: Option<Pos>,
    at: &mut Place,
    diags: &mut Vec<Diagnostic>,
) {
    if schema.undescribed {
        return;
    }
    let known_arguments: Vec<&str> = schema.arguments.keys().map(String::as_str).collect();
    let known_blocks: Vec<&str> = schema.blocks.keys().map(String::as_str).collect();
    for (name, pos) in &used.arguments {
        if schema.arguments.contains_key(name) {
            continue;
        }
        let diag = if schema.blocks.contains_key(name) {
            Diagnostic::new(
                at.file,
                format!(
                    "`{name}` is a block in {}, not an argument (in {})",
                    at.release,
                    at.within()
                ),
            )
            .help(format!("write it as a block: `{name} {{ … }}`"))
        } else {
            Diagnostic::new(
                at.file,
                format!("{} has no argument `{name}` in {}", at.release, at.within()),
            )
            .help(at.missing_help(name, &known_arguments))
        };
        diags.push(diag.at(*pos));
    }
    for block in &used.blocks {
        match schema.blocks.get(&block.name) {
            Some(nested) => {
                at.path.push(block.name.clone());
                compare(&block.body, nested, block.pos, at, diags);
                at.path.pop();
            }
            None if schema.arguments.contains_key(&block.name) => diags.push(
                Diagnostic::new(
                    at.file,
                    format!(
                        "`{}` is an argument in {}, not a block (in {})",
                        block.name,
                        at.release,
                        at.within()
                    ),
                )
                .at(block.pos)
                .help(format!("write it as an argument: `{} = …`", block.name)),
            ),
            None => diags.push(
                Diagnostic::new(
                    at.file,
                    format!(
                        "{} has no block `{}` in {}",
                        at.release,
                        block.name,
                        at.within()
                    ),
                )
                .at(block.pos)
                .help(at.missing_help(&block.name, &known_blocks)),
            ),
        }
    }
    for (name, need) in &schema.arguments {
        if *need == Need::Required && !used.arguments.iter().any(|(n, _)| n == name) {
            diags.push(
                Diagnostic::new(
                    at.file,
                    format!(
                        "{} requires argument `{name}` in {}",
                        at.release,
                        at.within()
                    ),
                )
                .at(block_pos)
                .help(format!("set `{name} = …` in this block")),
            );
        }
    }
    for (name, nested) in &schema.blocks {
        if nested.required && !used.blocks.iter().any(|b| &b.name == name) {
            diags.push(
                Diagnostic::new(
                    at.file,
                    format!(
                        "{} requires a `{name}` block in {}",
                        at.release,
                        at.within()
                    ),
                )
                .at(block_pos)
                .help(format!("add `{name} {{ … }}` to this block")),
            );
        }
    }
}

/// Every `required_providers` must declare the floor the lowest extract proves: `>= X.Y` (or
/// `>= X.Y.Z`) for that extract's `X.Y.Z`. A floor below it would let Terraform pick a release
/// the check has not seen; one above it, a release the check does not cover.
fn check_declared_floor(
    project: &Project,
    dirs: &[PathBuf],
    floor: &ProviderSchema,
    floor_file: &Path,
    diags: &mut Vec<Diagnostic>,
) {
    let short = floor
        .version
        .strip_suffix(".0")
        .unwrap_or(&floor.version)
        .to_string();
    let accepted = [format!(">= {short}"), format!(">= {}", floor.version)];
    for dir in dirs {
        let Ok(entries) = std::fs::read_dir(project.root.join(dir)) else {
            continue;
        };
        let mut files: Vec<PathBuf> = entries
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|e| e == "tf"))
            .collect();
        files.sort();
        for path in files {
            let Ok(text) = std::fs::read_to_string(&path) else {
                continue; // the other checks report unreadable files
            };
            for (constraint, pos) in aws_constraints(&text) {
                if accepted.contains(&constraint) {
                    continue;
                }
                diags.push(
                    Diagnostic::new(
                        project.rel(&path),
                        format!(
                            "hashicorp/aws `{constraint}` is not the floor the schema check proves \
                             ({}, {})",
                            floor.version,
                            floor_file.display()
                        ),
                    )
                    .at(pos)
                    .help(format!(
                        "declare `version = \"{}\"` in every required_providers, or extract the \
                         schema of the floor you mean (README.md, \"The provider floor\")",
                        accepted[0]
                    )),
                );
            }
        }
    }
}

/// The `version` of `aws` in every `required_providers` of a file, with its position.
fn aws_constraints(text: &str) -> Vec<(String, Option<Pos>)> {
    let Ok(body) = hcl::parse(text) else {
        return Vec::new();
    };
    let mut found = Vec::new();
    for terraform in body.blocks().filter(|b| b.identifier() == "terraform") {
        for providers in terraform
            .body()
            .blocks()
            .filter(|b| b.identifier() == "required_providers")
        {
            for attr in providers.body().attributes().filter(|a| a.key() == "aws") {
                let hcl::Expression::Object(object) = attr.expr() else {
                    continue;
                };
                for (key, value) in object {
                    if key.to_string() == "version"
                        && let hcl::Expression::String(constraint) = value
                    {
                        found.push((constraint.clone(), constraint_pos(text, constraint)));
                    }
                }
            }
        }
    }
    found
}

/// The line that sets `version = "<constraint>"`.
fn constraint_pos(text: &str, constraint: &str) -> Option<Pos> {
    let quoted = format!("\"{constraint}\"");
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let trimmed = line.trim_start();
        if trimmed.starts_with("version") && trimmed.contains(&quoted) {
            return Some(crate::environment::pos_of(
                text,
                offset + (line.len() - trimmed.len()),
            ));
        }
        offset += line.len();
    }
    None
}
