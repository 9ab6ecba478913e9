//! What the static checks need to know about a Terraform module (a folder of `.tf` files),
//! read without Terraform: its variables, outputs, module calls and `var.`/`module.`
//! references, each with where it stands.
//!
//! `terraform validate` would find some of this too, but it needs the provider installed, and
//! the shipped stacks need `hashicorp/aws` >= 6.48, which is not available everywhere the
//! checks run. hcl-rs gives the structure; positions come from the text, since hcl-rs keeps none.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::environment::pos_of;
use crate::project::Project;
use diagnostics::{Diagnostic, Pos};

#[derive(Debug, Clone)]
pub struct Located<T> {
    pub value: T,
    /// Relative to the workspace root.
    pub file: PathBuf,
    pub pos: Option<Pos>,
}

#[derive(Debug, Clone)]
pub struct Variable {
    pub name: String,
    pub required: bool,
    /// `string`, `number` or `bool` when the type is one of those (not a collection).
    pub primitive: Option<String>,
}

#[derive(Debug, Clone)]
pub struct ModuleCall {
    pub name: String,
    pub source: String,
    /// The arguments set in the block, meta-arguments excluded.
    pub arguments: Vec<Located<String>>,
}

/// `var.NAME` or `module.NAME.OUTPUT`, as written somewhere in the module.
#[derive(Debug, Clone)]
pub enum Reference {
    Var(String),
    ModuleOutput { module: String, output: String },
}

#[derive(Debug, Default)]
pub struct TfModule {
    /// Relative to the workspace root.
    pub dir: PathBuf,
    pub variables: BTreeMap<String, Located<Variable>>,
    pub outputs: BTreeMap<String, Located<()>>,
    pub modules: Vec<Located<ModuleCall>>,
    pub references: Vec<Located<Reference>>,
}

/// Arguments of a `module` block that are Terraform's, not the module's inputs.
const META_ARGUMENTS: &[&str] = &[
    "source",
    "version",
    "providers",
    "count",
    "for_each",
    "depends_on",
];

impl TfModule {
    /// Reads every `.tf` file of `dir`. Syntax errors come back as diagnostics; the rest of the
    /// folder is still read.
    pub fn load(project: &Project, dir: &Path, diags: &mut Vec<Diagnostic>) -> TfModule {
        let mut module = TfModule {
            dir: project.rel(dir).to_path_buf(),
            ..TfModule::default()
        };
        let mut files: Vec<PathBuf> = match std::fs::read_dir(dir) {
            Ok(entries) => entries
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|e| e == "tf"))
                .collect(),
            Err(err) => {
                diags.push(Diagnostic::new(
                    &module.dir,
                    format!("cannot read the folder: {err}"),
                ));
                return module;
            }
        };
        files.sort();
        for path in files {
            let rel = project.rel(&path).to_path_buf();
            match std::fs::read_to_string(&path) {
                Ok(text) => module.add_file(&rel, &text, diags),
                Err(err) => diags.push(Diagnostic::new(&rel, format!("cannot read: {err}"))),
            }
        }
        module
    }

    fn add_file(&mut self, file: &Path, text: &str, diags: &mut Vec<Diagnostic>) {
        let body = match hcl::parse(text) {
            Ok(body) => body,
            Err(err) => {
                let (pos, message) = match &err {
                    hcl::Error::Parse(e) => (
                        Some(Pos {
                            line: e.location().line(),
                            column: e.location().column(),
                        }),
                        e.message().to_string(),
                    ),
                    other => (None, other.to_string()),
                };
                diags.push(
                    Diagnostic::new(file, format!("not valid Terraform: {message}"))
                        .at(pos)
                        .help("fix the syntax; `terraform fmt` points at the same place"),
                );
                return;
            }
        };
        for block in body.blocks() {
            let Some(name) = block.labels().first().map(|l| l.as_str().to_string()) else {
                continue;
            };
            let start = block_start(text, block.identifier(), &name);
            match block.identifier() {
                "variable" => {
                    let required = !block.body().attributes().any(|a| a.key() == "default");
                    let primitive = block
                        .body()
                        .attributes()
                        .find(|a| a.key() == "type")
                        .and_then(|a| match a.expr() {
                            hcl::Expression::Variable(v) => Some(v.as_str().to_string()),
                            _ => None,
                        })
                        .filter(|t| ["string", "number", "bool"].contains(&t.as_str()));
                    self.variables.insert(
                        name.clone(),
                        located(
                            file,
                            Variable {
                                name,
                                required,
                                primitive,
                            },
                            start,
                        ),
                    );
                }
                "output" => {
                    self.outputs.insert(name, located(file, (), start));
                }
                "module" => {
                    let source = block
                        .body()
                        .attributes()
                        .find(|a| a.key() == "source")
                        .and_then(|a| match a.expr() {
                            hcl::Expression::String(s) => Some(s.clone()),
                            _ => None,
                        })
                        .unwrap_or_default();
                    let arguments = block
                        .body()
                        .attributes()
                        .map(|a| a.key().to_string())
                        .filter(|k| !META_ARGUMENTS.contains(&k.as_str()))
                        .map(|k| {
                            let pos = start.and_then(|s| argument_pos(text, s, &k));
                            located(file, k, pos)
                        })
                        .collect();
                    self.modules.push(located(
                        file,
                        ModuleCall {
                            name,
                            source,
                            arguments,
                        },
                        start,
                    ));
                }
                _ => {}
            }
        }
        for (reference, pos) in references(text) {
            self.references.push(located(file, reference, Some(pos)));
        }
    }

    /// The folder a local `source` points at, if it is local (`./…` or `../…`).
    pub fn local_source(&self, project: &Project, call: &ModuleCall) -> Option<PathBuf> {
        (call.source.starts_with("./") || call.source.starts_with("../"))
            .then(|| project.root.join(&self.dir).join(&call.source))
    }

    pub fn required_variables(&self) -> impl Iterator<Item = &Located<Variable>> {
        self.variables.values().filter(|v| v.value.required)
    }
}

fn located<T>(file: &Path, value: T, pos: Option<Pos>) -> Located<T> {
    Located {
        value,
        file: file.to_path_buf(),
        pos,
    }
}

/// Where `IDENT "NAME"` opens its block.
fn block_start(text: &str, ident: &str, name: &str) -> Option<Pos> {
    let needle = format!("\"{name}\"");
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let trimmed = line.trim_start();
        if let Some(rest) = trimmed.strip_prefix(ident)
            && rest.trim_start().starts_with(&needle)
        {
            return Some(pos_of(text, offset + (line.len() - trimmed.len())));
        }
        offset += line.len();
    }
    None
}

/// Where `KEY =` is first set after the block that starts at `start`.
fn argument_pos(text: &str, start: Pos, key: &str) -> Option<Pos> {
    let mut offset = 0;
    for (i, line) in text.split_inclusive('\n').enumerate() {
        if i + 1 > start.line {
            let trimmed = line.trim_start();
            if let Some(rest) = trimmed.strip_prefix(key)
                && rest.trim_start().starts_with('=')
                && !rest.trim_start().starts_with("==")
            {
                return Some(pos_of(text, offset + (line.len() - trimmed.len())));
            }
        }
        offset += line.len();
    }
    None
}

/// Every `var.NAME` and `module.NAME.OUTPUT` outside comments.
fn references(text: &str) -> Vec<(Reference, Pos)> {
    let mut found = Vec::new();
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let code = strip_comment(line);
        let bytes = code.as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            let boundary = i == 0 || !is_ident(bytes[i - 1]) && bytes[i - 1] != b'.';
            if boundary && bytes[i..].starts_with(b"var.") {
                let name = ident_at(code, i + 4);
                if !name.is_empty() {
                    found.push((
                        Reference::Var(name.to_string()),
                        pos_of_line(text, offset, i),
                    ));
                }
                i += 4 + name.len();
            } else if boundary && bytes[i..].starts_with(b"module.") {
                let module = ident_at(code, i + 7);
                let after = i + 7 + module.len();
                let output = if bytes.get(after) == Some(&b'.') {
                    ident_at(code, after + 1)
                } else {
                    ""
                };
                if !module.is_empty() && !output.is_empty() {
                    found.push((
                        Reference::ModuleOutput {
                            module: module.to_string(),
                            output: output.to_string(),
                        },
                        pos_of_line(text, offset, i),
                    ));
                }
                i = after + 1 + output.len();
            } else {
                i += 1;
            }
        }
        offset += line.len();
    }
    found
}

fn pos_of_line(text: &str, line_offset: usize, column_offset: usize) -> Pos {
    pos_of(text, line_offset + column_offset)
}

/// The line without a `#` or `//` comment (outside strings).
fn strip_comment(line: &str) -> &str {
    let bytes = line.as_bytes();
    let mut in_string = false;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' if in_string => i += 1,
            b'"' => in_string = !in_string,
            b'#' if !in_string => return &line[..i],
            b'/' if !in_string && bytes.get(i + 1) == Some(&b'/') => return &line[..i],
            _ => {}
        }
        i += 1;
    }
    line
}

fn is_ident(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'-'
}

fn ident_at(text: &str, from: usize) -> &str {
    let len = text.as_bytes()[from.min(text.len())..]
        .iter()
        .take_while(|b| is_ident(**b))
        .count();
    &text[from.min(text.len())..from.min(text.len()) + len]
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = r#"
variable "a" {
  type = string
}

variable "b" {
  default = 1
}

module "m" {
  source = "../../modules/m"
  providers = { aws = aws }
  x      = var.a # var.not_this
  y      = "${var.b}-${module.other.out}"
}

output "o" {
  value = module.m.thing
}
"#;

    #[test]
    fn reads_variables_outputs_modules_and_references() {
        let mut m = TfModule::default();
        let mut diags = Vec::new();
        m.add_file(Path::new("main.tf"), TEXT, &mut diags);
        assert!(diags.is_empty(), "{diags:?}");
        assert!(m.variables["a"].value.required);
        assert!(!m.variables["b"].value.required);
        assert_eq!(m.variables["b"].pos.map(|p| p.line), Some(6));
        assert_eq!(m.outputs["o"].pos.map(|p| p.line), Some(17));
        let call = &m.modules[0];
        assert_eq!(call.value.source, "../../modules/m");
        let args: Vec<(&str, usize)> = call
            .value
            .arguments
            .iter()
            .map(|a| (a.value.as_str(), a.pos.map_or(0, |p| p.line)))
            .collect();
        assert_eq!(args, vec![("x", 13), ("y", 14)]);
        let refs: Vec<String> = m
            .references
            .iter()
            .map(|r| match &r.value {
                Reference::Var(v) => format!("var.{v}"),
                Reference::ModuleOutput { module, output } => format!("module.{module}.{output}"),
            })
            .collect();
        assert_eq!(
            refs,
            vec!["var.a", "var.b", "module.other.out", "module.m.thing"]
        );
    }

    #[test]
    fn non_ascii_text_is_fine() {
        let refs =
            references("  description = \"digest (…@sha256:…)\" # é var.x\n  x = var.é_not\n");
        assert!(refs.is_empty());
    }

    #[test]
    fn syntax_errors_have_a_position() {
        let mut m = TfModule::default();
        let mut diags = Vec::new();
        m.add_file(
            Path::new("bad.tf"),
            "variable \"a\" {\n  type = \n",
            &mut diags,
        );
        assert_eq!(diags.len(), 1);
        assert!(diags[0].line.is_some(), "{:?}", diags[0]);
    }
}
