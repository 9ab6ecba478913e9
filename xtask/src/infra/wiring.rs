//! Module wiring: every required input of a called module is set, every argument is an input,
//! and every `var.X` / `module.M.O` resolves, in the stacks and in the modules they call.

use std::collections::BTreeMap;
use std::path::PathBuf;

use super::stacks::Stack;
use super::tf::{Reference, TfModule};
use crate::project::Project;
use diagnostics::{Diagnostic, did_you_mean};

pub fn check(project: &Project, stacks: &[Stack], diags: &mut Vec<Diagnostic>) {
    // Modules are loaded once, however many stacks call them.
    let mut loaded: BTreeMap<PathBuf, TfModule> = BTreeMap::new();
    for stack in stacks {
        check_references(&stack.module, diags);
        let mut callees: BTreeMap<String, PathBuf> = BTreeMap::new();
        for call in &stack.module.modules {
            let Some(dir) = stack.module.local_source(project, &call.value) else {
                continue; // a registry or git module: its inputs are not ours to check
            };
            let Ok(dir) = dir.canonicalize() else {
                diags.push(
                    Diagnostic::new(
                        &call.file,
                        format!(
                            "module `{}`: source `{}` does not exist",
                            call.value.name, call.value.source
                        ),
                    )
                    .at(call.pos)
                    .help("point `source` at a folder under infra/modules/"),
                );
                continue;
            };
            let module = loaded
                .entry(dir.clone())
                .or_insert_with(|| TfModule::load(project, &dir, diags));
            callees.insert(call.value.name.clone(), dir.clone());

            for input in module.required_variables() {
                if !call
                    .value
                    .arguments
                    .iter()
                    .any(|a| a.value == input.value.name)
                {
                    diags.push(
                        Diagnostic::new(
                            &call.file,
                            format!(
                                "module `{}` does not set `{}`, a required input of {}",
                                call.value.name,
                                input.value.name,
                                module.dir.display()
                            ),
                        )
                        .at(call.pos)
                        .help(format!(
                            "wire it: add `{} = ...` to the module block (declared at {}{})",
                            input.value.name,
                            input.file.display(),
                            input
                                .pos
                                .map(|p| format!(":{}", p.line))
                                .unwrap_or_default()
                        )),
                    );
                }
            }
            let inputs: Vec<&str> = module.variables.keys().map(String::as_str).collect();
            for arg in &call.value.arguments {
                if !module.variables.contains_key(&arg.value) {
                    let hint = did_you_mean(&arg.value, &inputs)
                        .map(|c| format!("did you mean `{c}`? "))
                        .unwrap_or_default();
                    diags.push(
                        Diagnostic::new(
                            &arg.file,
                            format!("module `{}` has no input `{}`", call.value.name, arg.value),
                        )
                        .at(arg.pos)
                        .help(format!(
                            "{hint}the inputs of {} are: {}",
                            module.dir.display(),
                            inputs.join(", ")
                        )),
                    );
                }
            }
        }
        let outputs: BTreeMap<String, Vec<String>> = callees
            .iter()
            .filter_map(|(name, dir)| {
                loaded
                    .get(dir)
                    .map(|m| (name.clone(), m.outputs.keys().cloned().collect()))
            })
            .collect();
        check_module_outputs(&stack.module, &outputs, diags);
    }
    for module in loaded.values() {
        check_references(module, diags);
    }
}

/// Every `var.X` is a declared variable of the module it is written in.
fn check_references(module: &TfModule, diags: &mut Vec<Diagnostic>) {
    let declared: Vec<&str> = module.variables.keys().map(String::as_str).collect();
    for r in &module.references {
        if let Reference::Var(name) = &r.value
            && !module.variables.contains_key(name)
        {
            let hint = did_you_mean(name, &declared)
                .map(|c| format!("did you mean `var.{c}`? "))
                .unwrap_or_default();
            diags.push(
                Diagnostic::new(&r.file, format!("`var.{name}` is not a declared variable"))
                    .at(r.pos)
                    .help(format!(
                        "{hint}declare `variable \"{name}\"` in {}",
                        module.dir.display()
                    )),
            );
        }
    }
}

/// Every `module.M.O` names a module call of this stack and one of that module's outputs.
fn check_module_outputs(
    module: &TfModule,
    outputs: &BTreeMap<String, Vec<String>>,
    diags: &mut Vec<Diagnostic>,
) {
    let calls: Vec<&str> = module
        .modules
        .iter()
        .map(|m| m.value.name.as_str())
        .collect();
    for r in &module.references {
        let Reference::ModuleOutput {
            module: name,
            output,
        } = &r.value
        else {
            continue;
        };
        if !calls.contains(&name.as_str()) {
            diags.push(
                Diagnostic::new(
                    &r.file,
                    format!("`module.{name}` is not a module of this stack"),
                )
                .at(r.pos)
                .help(format!("the modules here are: {}", calls.join(", "))),
            );
            continue;
        }
        let Some(known) = outputs.get(name) else {
            continue;
        };
        if !known.contains(output) {
            let names: Vec<&str> = known.iter().map(String::as_str).collect();
            let hint = did_you_mean(output, &names)
                .map(|c| format!("did you mean `{c}`? "))
                .unwrap_or_default();
            diags.push(
                Diagnostic::new(&r.file, format!("module `{name}` has no output `{output}`"))
                    .at(r.pos)
                    .help(format!("{hint}its outputs are: {}", names.join(", "))),
            );
        }
    }
}
