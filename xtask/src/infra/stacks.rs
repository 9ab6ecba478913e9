//! The stacks (one Terraform root per phase) and what feeds them: the environment files, the
//! earlier phases' outputs, and the per-environment backend settings.

use std::collections::BTreeSet;

use super::tf::TfModule;
use super::{FROM_IMAGES_PHASE, PHASES};
use crate::environment::tfvars::Tfvars;
use crate::environment::{Env, placeholders};
use crate::project::Project;
use diagnostics::{Diagnostic, did_you_mean};

pub struct Stack {
    pub name: String,
    pub module: TfModule,
}

/// The stacks under `<infra>/stacks/`, in phase order. A missing phase is an error: `deploy`
/// applies all three.
pub fn load(project: &Project, diags: &mut Vec<Diagnostic>) -> Vec<Stack> {
    let root = project.infra_dir.join("stacks");
    let rel = project.rel(&root).to_path_buf();
    let mut names: Vec<String> = match std::fs::read_dir(&root) {
        Ok(entries) => entries
            .filter_map(Result::ok)
            .filter(|e| e.path().is_dir())
            .filter_map(|e| e.file_name().into_string().ok())
            .collect(),
        Err(_) => {
            diags.push(
                Diagnostic::new(&rel, "there is no stacks folder").help(format!(
                    "create one Terraform root per phase: {}",
                    PHASES.join(", ")
                )),
            );
            return Vec::new();
        }
    };
    names.sort_by_key(|n| {
        (
            PHASES.iter().position(|p| p == n).unwrap_or(PHASES.len()),
            n.clone(),
        )
    });
    for phase in PHASES {
        if !names.iter().any(|n| n == phase) {
            diags.push(
                Diagnostic::new(rel.join(phase), format!("the `{phase}` stack is missing")).help(
                    format!(
                        "every phase has its own Terraform root: {}",
                        PHASES.map(|p| format!("{}/{p}", rel.display())).join(", ")
                    ),
                ),
            );
        }
    }
    names
        .into_iter()
        .map(|name| Stack {
            module: TfModule::load(project, &root.join(&name), diags),
            name,
        })
        .collect()
}

/// Every stack takes the whole environment file (`-var-file`), so every key must be a variable
/// of every stack; and every required variable of a stack must come from somewhere.
pub fn check_environment_files(
    project: &Project,
    stacks: &[Stack],
    envs: &[Tfvars],
    diags: &mut Vec<Diagnostic>,
) {
    if stacks.is_empty() {
        return;
    }
    let declared: BTreeSet<&str> = stacks
        .iter()
        .flat_map(|s| s.module.variables.keys().map(String::as_str))
        .collect();
    let candidates: Vec<&str> = declared.iter().copied().collect();
    for env in envs {
        check_value_types(stacks, env, diags);
        for (key, pos) in &env.keys {
            let (with, without): (Vec<&Stack>, Vec<&Stack>) = stacks
                .iter()
                .partition(|s| s.module.variables.contains_key(key));
            if with.is_empty() {
                let help = match did_you_mean(key, &candidates) {
                    Some(close) => format!("did you mean `{close}`?"),
                    None => format!(
                        "remove the line: the stacks ({}) have no such input{}",
                        names(stacks),
                        if ["nat_gateway_count", "vpc_cidr", "availability_zones"]
                            .contains(&key.as_str())
                        {
                            "; networking comes from the networking project as ids (vpc_id, *_subnet_ids)"
                        } else {
                            ""
                        }
                    ),
                };
                diags.push(
                    Diagnostic::new(&env.file, format!("`{key}` is not a variable of any stack"))
                        .at(Some(*pos))
                        .help(help),
                );
            } else if !without.is_empty() {
                diags.push(
                    Diagnostic::new(
                        &env.file,
                        format!(
                            "`{key}` is a variable of {} but not of {}",
                            names_of(&with),
                            names_of(&without)
                        ),
                    )
                    .at(Some(*pos))
                    .help(format!(
                        "every stack takes the whole environment file: declare `variable \"{key}\"` \
                         in each stack's environment.tf ({}/stacks/*/environment.tf)",
                        project.rel(&project.infra_dir).display()
                    )),
                );
            }
        }
    }

    // A required variable is fed by the environment file, by the images phase, or by an
    // output of the same name of an earlier stack (that is how `deploy` passes them on).
    for (i, stack) in stacks.iter().enumerate() {
        for var in stack.module.required_variables() {
            let name = var.value.name.as_str();
            let from_earlier = stacks[..i]
                .iter()
                .any(|s| s.module.outputs.contains_key(name));
            if from_earlier || FROM_IMAGES_PHASE.contains(&name) {
                continue;
            }
            let in_env_files = envs
                .iter()
                .filter(|e| e.keys.iter().any(|(k, _)| k == name))
                .count();
            if in_env_files == 0 {
                let later: Vec<&str> = stacks[i + 1..]
                    .iter()
                    .filter(|s| s.module.outputs.contains_key(name))
                    .map(|s| s.name.as_str())
                    .collect();
                let help = if later.is_empty() {
                    format!(
                        "give it a default, set it in the environment files, or output `{name}` \
                         from an earlier stack"
                    )
                } else {
                    format!(
                        "`{name}` is an output of {}, which runs after `{}`: stacks only take \
                         outputs of earlier phases ({})",
                        later.join(", "),
                        stack.name,
                        PHASES.join(" → ")
                    )
                };
                diags.push(
                    Diagnostic::new(
                        &var.file,
                        format!(
                            "required variable `{name}` of stack `{}` is fed by nothing: no \
                             environment file sets it and no earlier stack outputs it",
                            stack.name
                        ),
                    )
                    .at(var.pos)
                    .help(help),
                );
            } else {
                for env in envs
                    .iter()
                    .filter(|e| !e.keys.iter().any(|(k, _)| k == name))
                {
                    diags.push(
                        Diagnostic::new(
                            &env.file,
                            format!(
                                "has no value for `{name}`, which stack `{}` requires",
                                stack.name
                            ),
                        )
                        .help(format!(
                            "add `{name} = ...` as the other environment files do"
                        )),
                    );
                }
            }
        }
    }
}

/// `<infra>/envs/<env>.backend.hcl`: present, its placeholders well formed, `bucket` set, and
/// no `key` (the xtask gives each stack its own: `<env>/<stack>.tfstate`).
pub fn check_backends(project: &Project, diags: &mut Vec<Diagnostic>) {
    for env in Env::ALL {
        let path = backend_path(project, env);
        let file = project.rel(&path).to_path_buf();
        let Ok(text) = std::fs::read_to_string(&path) else {
            diags.push(
                Diagnostic::new(
                    &file,
                    format!("the backend settings of `{env}` are missing"),
                )
                .help({
                    // Copying from an environment that has one; never a file onto itself.
                    let source = Env::ALL
                        .into_iter()
                        .map(|e| backend_path(project, e))
                        .find(|p| p != &path && p.is_file());
                    match source {
                        Some(source) => format!(
                            "create it like the other environments' (bucket, region, encrypt, \
                             use_lockfile), e.g. `cp {} {}`",
                            project.rel(&source).display(),
                            file.display()
                        ),
                        None => "create it with the state bucket's settings: `bucket`, `region`, \
                                 `encrypt = true`, `use_lockfile = true`"
                            .into(),
                    }
                }),
            );
            continue;
        };
        if let Err(mut errs) = placeholders(&file, &text) {
            diags.append(&mut errs);
            continue;
        }
        let keys = crate::environment::tfvars::top_level_keys(&text);
        if !keys.iter().any(|(k, _)| k == "bucket") {
            diags.push(
                Diagnostic::new(&file, "no `bucket`: the state bucket of the environment")
                    .help("add `bucket = \"${TF_STATE_BUCKET}\"` (or a literal name)"),
            );
        }
        if let Some((_, pos)) = keys.iter().find(|(k, _)| k == "key") {
            diags.push(
                Diagnostic::new(&file, "`key` must not be set here")
                    .at(Some(*pos))
                    .help(format!(
                        "each stack has its own state, `{env}/<stack>.tfstate`, given at init; \
                         remove the line"
                    )),
            );
        }
        if !keys
            .iter()
            .any(|(k, _)| k == "use_lockfile" || k == "dynamodb_table")
        {
            diags.push(
                Diagnostic::new(&file, "state locking is off")
                    .help("add `use_lockfile = true` (S3 native locking)"),
            );
        }
    }
}

/// `<infra>/envs/<env>.backend.hcl`.
pub fn backend_path(project: &Project, env: Env) -> std::path::PathBuf {
    project
        .envs_dir()
        .join(format!("{}.backend.hcl", env.name()))
}

fn names(stacks: &[Stack]) -> String {
    stacks
        .iter()
        .map(|s| s.name.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

fn names_of(stacks: &[&Stack]) -> String {
    stacks
        .iter()
        .map(|s| format!("`{}`", s.name))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A value of the wrong type (`log_retention_days = "seven"`) would pass `terraform fmt` and
/// fail only at plan time, in every stack: say so here, where it is written.
fn check_value_types(stacks: &[Stack], env: &Tfvars, diags: &mut Vec<Diagnostic>) {
    let Ok(body) = hcl::parse(&env.text) else {
        return;
    };
    for attr in body.attributes() {
        let key = attr.key();
        let Some(want) = stacks
            .iter()
            .find_map(|s| s.module.variables.get(key))
            .and_then(|v| v.value.primitive.clone())
        else {
            continue;
        };
        let got = match attr.expr() {
            hcl::Expression::String(_) => "string",
            // A `${PLACEHOLDER}`: its value is known only when rendered.
            hcl::Expression::TemplateExpr(_) => continue,
            hcl::Expression::Number(_) => "number",
            hcl::Expression::Bool(_) => "bool",
            hcl::Expression::Array(_) => "list",
            hcl::Expression::Object(_) => "map",
            _ => continue,
        };
        // Terraform converts a number or bool written as a string the other way round too;
        // a string that is not a number is the mistake.
        let converts = match (want.as_str(), got, attr.expr()) {
            ("string", "number" | "bool", _) => true,
            ("number", "string", hcl::Expression::String(text)) => text.parse::<f64>().is_ok(),
            ("bool", "string", hcl::Expression::String(text)) => {
                matches!(text.as_str(), "true" | "false")
            }
            _ => false,
        };
        if got != want && !converts {
            let pos = env.keys.iter().find(|(k, _)| k == key).map(|(_, p)| *p);
            diags.push(
                Diagnostic::new(&env.file, format!("`{key}` must be a {want}, not a {got}"))
                    .at(pos)
                    .help(match want.as_str() {
                        "number" => format!("write a number without quotes, e.g. `{key} = 7`"),
                        "bool" => format!("write `{key} = true` or `{key} = false`"),
                        _ => format!("write `{key} = \"...\"`"),
                    }),
            );
        }
    }
}
