//! An environment's tfvars file: its keys with their positions, and the checks that need no
//! Terraform (syntax, required keys, placeholders, and — for the selected environment — that
//! every placeholder has a value).

use std::path::{Path, PathBuf};

use serde::Serialize;

use super::{Env, Placeholder, placeholders, pos_of, render};
use crate::project::Project;
use diagnostics::{Diagnostic, Pos};

/// Keys every environment file must set: the ones the seed's deployment sequence relies on.
pub const REQUIRED_KEYS: &[&str] = &[
    "environment",
    "aws_region",
    "bedrock_region",
    "ssm_root_path",
    "vpc_id",
    "private_subnet_ids",
];

#[derive(Debug, Clone, Serialize)]
pub struct Tfvars {
    pub env: Env,
    /// Relative to the workspace root.
    pub file: PathBuf,
    pub text: String,
    /// Top-level keys in file order, with where they stand.
    #[serde(skip)]
    pub keys: Vec<(String, Pos)>,
    /// The environment variables the file needs.
    pub placeholders: Vec<String>,
}

impl Tfvars {
    /// Reads and checks `infra/envs/<env>.tfvars`. Every problem is returned, not just the first.
    pub fn load(project: &Project, env: Env) -> Result<Tfvars, Vec<Diagnostic>> {
        let path = crate::environment::tfvars_path(project, env);
        let file = project.rel(&path).to_path_buf();
        let envs_dir = project.envs_dir();
        if !envs_dir.is_dir() {
            return Err(vec![
                Diagnostic::new(
                    project.rel(&envs_dir),
                    format!(
                        "no environment files: {} is not a folder",
                        project.rel(&envs_dir).display()
                    ),
                )
                .help(format!(
                    "is the infrastructure root right? It is `{}` (--infra-dir, or \
                     XTASK_INFRA_DIR; default `infra`)",
                    project.rel(&project.infra_dir).display()
                )),
            ]);
        }
        let text = std::fs::read_to_string(&path).map_err(|err| {
            let message = if err.kind() == std::io::ErrorKind::NotFound {
                format!("the environment file for `{env}` is missing")
            } else {
                format!("cannot read the environment file for `{env}`: {err}")
            };
            let source = Env::ALL
                .into_iter()
                .map(|e| crate::environment::tfvars_path(project, e))
                .find(|p| p != &path && p.is_file());
            let help = match source {
                Some(source) => format!(
                    "create it from another environment's file, e.g. `cp {} {}`",
                    project.rel(&source).display(),
                    file.display()
                ),
                None => format!(
                    "create it with the keys of an environment: {}",
                    REQUIRED_KEYS.join(", ")
                ),
            };
            vec![Diagnostic::new(&file, message).help(help)]
        })?;
        let mut diags = Vec::new();
        let found = placeholders(&file, &text).unwrap_or_else(|mut errs| {
            diags.append(&mut errs);
            Vec::new()
        });
        if let Err(err) = hcl::parse(&text) {
            diags.push(hcl_diagnostic(&file, &err));
            return Err(diags);
        }
        let keys = top_level_keys(&text);
        check_keys(env, &file, &text, &keys, &mut diags);
        if !diags.is_empty() {
            return Err(diags);
        }
        let mut names: Vec<String> = found.into_iter().map(|p: Placeholder| p.name).collect();
        names.sort();
        names.dedup();
        Ok(Tfvars {
            env,
            file,
            text,
            keys,
            placeholders: names,
        })
    }

    /// The file with every placeholder filled from the process environment.
    pub fn render_from_env(&self) -> Result<String, Vec<Diagnostic>> {
        render(&self.file, &self.text, |name| std::env::var(name).ok())
    }
}

fn check_keys(
    env: Env,
    file: &Path,
    text: &str,
    keys: &[(String, Pos)],
    diags: &mut Vec<Diagnostic>,
) {
    for (i, (key, pos)) in keys.iter().enumerate() {
        if keys[..i].iter().any(|(k, _)| k == key) {
            diags.push(
                Diagnostic::new(file, format!("`{key}` is set twice"))
                    .at(Some(*pos))
                    .help("keep one of them"),
            );
        }
    }
    for required in REQUIRED_KEYS {
        if !keys.iter().any(|(k, _)| k == required) {
            diags.push(
                Diagnostic::new(file, format!("`{required}` is not set")).help(format!(
                    "add a line `{required} = ...` (see infra/envs/dev.tfvars)"
                )),
            );
        }
    }
    let Ok(body) = hcl::parse(text) else { return };
    let string_value = |key: &str| {
        body.attributes()
            .find(|a| a.key() == key)
            .map(|a| match a.expr() {
                hcl::Expression::String(s) => Some(s.clone()),
                _ => None,
            })
    };
    let pos = |key: &str| keys.iter().find(|(k, _)| k == key).map(|(_, p)| *p);
    match string_value("environment") {
        Some(Some(name)) if name == env.name() => {}
        Some(_) => diags.push(
            Diagnostic::new(
                file,
                format!("`environment` must be \"{env}\" in this file"),
            )
            .at(pos("environment"))
            .help(format!(
                "write `environment = \"{env}\"`: the file's name is the environment"
            )),
        ),
        None => {}
    }
    if let Some(Some(path)) = string_value("ssm_root_path")
        && !path.starts_with('/')
    {
        diags.push(
            Diagnostic::new(
                file,
                format!("ssm_root_path `{path}` is not an absolute SSM path"),
            )
            .at(pos("ssm_root_path"))
            .help(format!("start it with `/`, e.g. \"/platform/{env}\"")),
        );
    }
}

fn hcl_diagnostic(file: &Path, err: &hcl::Error) -> Diagnostic {
    let (pos, message) = match err {
        hcl::Error::Parse(e) => (
            Some(Pos {
                line: e.location().line(),
                column: e.location().column(),
            }),
            e.message().to_string(),
        ),
        other => (None, other.to_string()),
    };
    Diagnostic::new(file, format!("not valid tfvars: {message}"))
        .at(pos)
        .help("each line is `name = value`; strings in double quotes, lists in [ ]")
}

/// The top-level attribute names of an HCL body, with positions. Nested braces and brackets,
/// strings and comments are skipped, so only `name =` at depth 0 counts.
pub fn top_level_keys(text: &str) -> Vec<(String, Pos)> {
    let bytes = text.as_bytes();
    let mut keys = Vec::new();
    let mut depth = 0usize;
    let mut i = 0;
    let mut line_start = true;
    while i < bytes.len() {
        let c = bytes[i];
        match c {
            b'\n' => {
                line_start = true;
                i += 1;
                continue;
            }
            b' ' | b'\t' | b'\r' => {
                i += 1;
                continue;
            }
            b'#' => {
                i = skip_line(bytes, i);
                continue;
            }
            b'/' if bytes.get(i + 1) == Some(&b'/') => {
                i = skip_line(bytes, i);
                continue;
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => {
                i = text[i + 2..]
                    .find("*/")
                    .map_or(bytes.len(), |j| i + 2 + j + 2);
                continue;
            }
            b'"' => {
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
                i += 1;
            }
            b'[' | b'{' | b'(' => {
                depth += 1;
                i += 1;
            }
            b']' | b'}' | b')' => {
                depth = depth.saturating_sub(1);
                i += 1;
            }
            c if depth == 0 && line_start && (c.is_ascii_alphabetic() || c == b'_') => {
                let start = i;
                while i < bytes.len()
                    && (bytes[i].is_ascii_alphanumeric() || matches!(bytes[i], b'_' | b'-'))
                {
                    i += 1;
                }
                let rest = text[i..].trim_start_matches([' ', '\t']);
                if rest.starts_with('=') && !rest.starts_with("==") {
                    keys.push((text[start..i].to_string(), pos_of(text, start)));
                }
            }
            _ => i += 1,
        }
        line_start = false;
    }
    keys
}

fn skip_line(bytes: &[u8], from: usize) -> usize {
    bytes[from..]
        .iter()
        .position(|&b| b == b'\n')
        .map_or(bytes.len(), |j| from + j)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_top_level_keys_only() {
        let text =
            "# a = 1\na = 1\nlist = [\n  \"x = 2\",\n]\nmap = {\n  inner = 3\n}\n  b=\"=\"\n";
        let keys: Vec<(String, usize)> = top_level_keys(text)
            .into_iter()
            .map(|(k, p)| (k, p.line))
            .collect();
        assert_eq!(
            keys,
            vec![
                ("a".into(), 2),
                ("list".into(), 3),
                ("map".into(), 6),
                ("b".into(), 9)
            ]
        );
    }
}
