//! The deployment environments (dev, staging, production) and their files in `infra/envs/`.
//!
//! An environment file is Terraform tfvars that may hold `${NAME}` placeholders — values such as
//! VPC and subnet ids that belong to another project. Rendering fills them from the process
//! environment; Terraform never sees a placeholder.

pub mod backend;
pub mod prepared;
pub mod settings;
pub mod tfvars;

pub use prepared::Environment;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use crate::project::Project;
use diagnostics::{Diagnostic, Pos};

pub use blueprint::Env;

/// The one way the xtask configures the AWS SDK: the standard credential chain and endpoint
/// variables (`AWS_PROFILE`, `AWS_ENDPOINT_URL*`, …), in `region` when one is given.
pub async fn aws_config(region: Option<&str>) -> aws_config::SdkConfig {
    let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest());
    if let Some(region) = region {
        loader = loader.region(aws_config::Region::new(region.to_string()));
    }
    loader.load().await
}

/// `infra/envs/<env>.tfvars`.
pub fn tfvars_path(project: &Project, env: Env) -> PathBuf {
    project.envs_dir().join(format!("{}.tfvars", env.name()))
}

/// A `${NAME}` in a template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Placeholder {
    pub name: String,
    pub pos: Pos,
    /// Byte range of the whole `${…}` in the text.
    range: std::ops::Range<usize>,
}

/// Finds the `${NAME}` placeholders of a template. `$${` is Terraform's escape for a literal
/// `${` and is left alone. A `${…}` whose content is not an upper-case variable name is an
/// error: tfvars cannot reference Terraform expressions.
pub fn placeholders(file: &Path, text: &str) -> Result<Vec<Placeholder>, Vec<Diagnostic>> {
    let mut found = Vec::new();
    let mut errors = Vec::new();
    let bytes = text.as_bytes();
    let comments = comment_ranges(text);
    let mut i = 0;
    while let Some(off) = text[i..].find("${") {
        let start = i + off;
        let escaped = start > 0 && bytes[start - 1] == b'$';
        if escaped || comments.iter().any(|c| c.contains(&start)) {
            i = start + 2;
            continue;
        }
        let pos = pos_of(text, start);
        let Some(len) = text[start + 2..].find('}') else {
            errors.push(
                Diagnostic::new(file, "unclosed `${` placeholder")
                    .at(Some(pos))
                    .help("close it as `${NAME}`, or write `$${` for a literal `${`"),
            );
            break;
        };
        let name = &text[start + 2..start + 2 + len];
        let end = start + 2 + len + 1;
        if is_env_var_name(name) {
            found.push(Placeholder {
                name: name.to_string(),
                pos,
                range: start..end,
            });
        } else {
            errors.push(
                Diagnostic::new(file, format!("`${{{name}}}` is not a placeholder"))
                    .at(Some(pos))
                    .help(
                        "placeholders name an environment variable in upper case, such as \
                         `${VPC_ID}`; tfvars cannot hold Terraform expressions",
                    ),
            );
        }
        i = end;
    }
    if errors.is_empty() {
        Ok(found)
    } else {
        Err(errors)
    }
}

/// The byte ranges of HCL comments (`#`, `//`, `/* */`), skipping over strings.
fn comment_ranges(text: &str) -> Vec<std::ops::Range<usize>> {
    let bytes = text.as_bytes();
    let line_end = |from: usize| {
        bytes[from..]
            .iter()
            .position(|&b| b == b'\n')
            .map_or(bytes.len(), |j| from + j)
    };
    let mut ranges = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'"' => {
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' && bytes[i] != b'\n' {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
                i += 1;
            }
            b'#' => {
                let end = line_end(i);
                ranges.push(i..end);
                i = end;
            }
            b'/' if bytes.get(i + 1) == Some(&b'/') => {
                let end = line_end(i);
                ranges.push(i..end);
                i = end;
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => {
                let end = text[i + 2..]
                    .find("*/")
                    .map_or(bytes.len(), |j| i + 2 + j + 2);
                ranges.push(i..end);
                i = end;
            }
            _ => i += 1,
        }
    }
    ranges
}

fn is_env_var_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_uppercase() || c == '_')
        && chars.all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
}

/// Fills every placeholder of `text` with `lookup(name)`. Fails naming *every* missing variable
/// at once, each with where it is used, so that one run tells the whole story.
pub fn render(
    file: &Path,
    text: &str,
    lookup: impl Fn(&str) -> Option<String>,
) -> Result<String, Vec<Diagnostic>> {
    let found = placeholders(file, text)?;
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    let mut missing = Vec::new();
    let mut missing_names = BTreeSet::new();
    for p in &found {
        out.push_str(&text[last..p.range.start]);
        match lookup(&p.name) {
            Some(value) => out.push_str(&escape_hcl_string(&value)),
            None => {
                missing_names.insert(p.name.clone());
                missing.push(p);
            }
        }
        last = p.range.end;
    }
    out.push_str(&text[last..]);
    if missing.is_empty() {
        return Ok(out);
    }
    let all: Vec<&str> = missing_names.iter().map(String::as_str).collect();
    let exports: Vec<String> = all.iter().map(|n| format!("{n}=...")).collect();
    let mut diags: Vec<Diagnostic> = missing
        .into_iter()
        .map(|p| {
            Diagnostic::new(
                file,
                format!("environment variable `{}` is not set", p.name),
            )
            .at(Some(p.pos))
        })
        .collect();
    // One fix for all of them, on the first: the same advice on every line would be noise.
    diags[0].help = Some(format!(
        "set every missing variable ({}), e.g. `export {}`",
        all.join(", "),
        exports.join(" ")
    ));
    Err(diags)
}

/// A value substituted inside a quoted HCL string must not be able to end the string or start
/// an interpolation.
fn escape_hcl_string(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
        .replace("${", "$${")
        .replace("%{", "%%{")
}

/// The 1-based line and column (in characters) of byte offset `at`.
pub fn pos_of(text: &str, at: usize) -> Pos {
    let before = &text[..at];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    Pos {
        line,
        column: text[line_start..at].chars().count() + 1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lookup(name: &str) -> Option<String> {
        match name {
            "VPC_ID" => Some("vpc-123".into()),
            "QUOTE" => Some("a\"b${c}".into()),
            _ => None,
        }
    }

    #[test]
    fn renders_placeholders_and_keeps_escapes() {
        let text = "vpc_id = \"${VPC_ID}\"\nliteral = \"$${NOT_ME}\"\n";
        let out = render(Path::new("dev.tfvars"), text, lookup).unwrap();
        assert_eq!(out, "vpc_id = \"vpc-123\"\nliteral = \"$${NOT_ME}\"\n");
    }

    #[test]
    fn values_cannot_break_out_of_their_string() {
        let out = render(Path::new("f"), "x = \"${QUOTE}\"", lookup).unwrap();
        assert_eq!(out, "x = \"a\\\"b$${c}\"");
    }

    #[test]
    fn every_missing_variable_is_named_with_its_place() {
        let text = "a = \"${VPC_ID}\"\nb = [\"${SUBNET_A}\",\n  \"${SUBNET_B}\"]\n";
        let errs = render(Path::new("dev.tfvars"), text, lookup).unwrap_err();
        assert_eq!(errs.len(), 2);
        assert_eq!((errs[0].line, errs[0].column), (Some(2), Some(7)));
        assert_eq!((errs[1].line, errs[1].column), (Some(3), Some(4)));
        assert!(
            errs[0]
                .help
                .as_deref()
                .unwrap()
                .contains("SUBNET_A, SUBNET_B")
        );
        assert!(errs[1].help.is_none());
    }

    #[test]
    fn placeholders_in_comments_are_not_rendered() {
        let text = "# fill ${VPC_ID}-style values\n/* ${X} */ a = \"#${VPC_ID}\" // ${Y}\n";
        let found = placeholders(Path::new("f"), text).unwrap();
        assert_eq!(found.len(), 1);
        assert_eq!(
            found[0].pos,
            Pos {
                line: 2,
                column: 18
            }
        );
    }

    #[test]
    fn rejects_expressions_and_unclosed_placeholders() {
        assert!(placeholders(Path::new("f"), "x = \"${var.region}\"").is_err());
        assert!(placeholders(Path::new("f"), "x = \"${VPC_ID\"").is_err());
    }

    #[test]
    fn unknown_environment_lists_the_known_ones() {
        let err = "prod".parse::<Env>().unwrap_err();
        assert!(err.contains("dev, staging, production"), "{err}");
        assert!(err.contains("did you mean `production`"), "{err}");
    }
}
