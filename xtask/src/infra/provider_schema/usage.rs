//! What the Terraform in the infra folder asks of the provider: every `resource "aws_…"` and
//! `data "aws_…"` block, with the arguments and nested blocks written in it (a `dynamic`
//! block counts as the block it generates), each with its position.
//!
//! hcl-rs gives the structure but no positions; they come from the text, walking it in the
//! order hcl-rs gives the structures (a body keeps its order), one line-start match at a time.

use std::path::{Path, PathBuf};

use crate::environment::pos_of;
use diagnostics::{Diagnostic, Pos};

/// A resource or data source block, as written.
#[derive(Debug, Clone)]
pub struct Used {
    pub kind: Kind,
    /// `aws_bedrockagentcore_gateway_target`.
    pub type_name: String,
    /// The block's own name (`agent` in `resource "aws_x" "agent"`).
    pub name: String,
    pub body: UsedBody,
    /// Relative to the workspace root.
    pub file: PathBuf,
    pub pos: Option<Pos>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    Resource,
    DataSource,
}

impl Kind {
    /// How Terraform addresses it: `aws_x.name` or `data.aws_x.name`.
    pub fn address(self, type_name: &str, name: &str) -> String {
        match self {
            Kind::Resource => format!("{type_name}.{name}"),
            Kind::DataSource => format!("data.{type_name}.{name}"),
        }
    }
}

/// The arguments and nested blocks of one block body.
#[derive(Debug, Clone, Default)]
pub struct UsedBody {
    pub arguments: Vec<(String, Option<Pos>)>,
    pub blocks: Vec<UsedBlock>,
}

#[derive(Debug, Clone)]
pub struct UsedBlock {
    pub name: String,
    pub body: UsedBody,
    pub pos: Option<Pos>,
}

/// Terraform's own arguments and blocks in a resource or data source, not the provider's.
const META_ARGUMENTS: &[&str] = &["count", "for_each", "provider", "depends_on"];
const META_BLOCKS: &[&str] = &["lifecycle", "provisioner", "connection"];

/// Every `resource` and `data` block of the provider's types (`aws_…`) in the `.tf` files of
/// `dirs` (each relative to `root`), in file order. Files that do not parse are left to the
/// other checks, which report them.
pub fn scan(root: &Path, dirs: &[PathBuf], diags: &mut Vec<Diagnostic>) -> Vec<Used> {
    let mut found = Vec::new();
    for dir in dirs {
        let mut files: Vec<PathBuf> = match std::fs::read_dir(root.join(dir)) {
            Ok(entries) => entries
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|e| e == "tf"))
                .collect(),
            Err(err) => {
                diags.push(Diagnostic::new(
                    dir,
                    format!("cannot read the folder: {err}"),
                ));
                continue;
            }
        };
        files.sort();
        for path in files {
            let rel = path.strip_prefix(root).unwrap_or(&path).to_path_buf();
            match std::fs::read_to_string(&path) {
                Ok(text) => found.extend(scan_text(&rel, &text)),
                Err(err) => diags.push(Diagnostic::new(&rel, format!("cannot read: {err}"))),
            }
        }
    }
    found
}

/// The provider blocks of one file's text.
pub fn scan_text(file: &Path, text: &str) -> Vec<Used> {
    let Ok(body) = hcl::parse(text) else {
        return Vec::new();
    };
    let mut cursor = Cursor::new(text);
    let mut found = Vec::new();
    for block in body.blocks() {
        let kind = match block.identifier() {
            "resource" => Kind::Resource,
            "data" => Kind::DataSource,
            _ => continue,
        };
        let labels: Vec<&str> = block.labels().iter().map(|l| l.as_str()).collect();
        let [type_name, name] = labels[..] else {
            continue;
        };
        let pos = cursor.block(block.identifier(), Some(type_name));
        if !type_name.starts_with("aws_") {
            continue;
        }
        found.push(Used {
            kind,
            type_name: type_name.to_string(),
            name: name.to_string(),
            body: read_body(block.body(), &mut cursor, true),
            file: file.to_path_buf(),
            pos,
        });
    }
    found
}

fn read_body(body: &hcl::Body, cursor: &mut Cursor, top: bool) -> UsedBody {
    let mut used = UsedBody::default();
    for structure in body.iter() {
        match structure {
            hcl::Structure::Attribute(attr) => {
                let pos = cursor.argument(attr.key());
                if !(top && META_ARGUMENTS.contains(&attr.key())) {
                    used.arguments.push((attr.key().to_string(), pos));
                }
            }
            hcl::Structure::Block(block) => {
                let ident = block.identifier();
                let label = block.labels().first().map(|l| l.as_str());
                let pos = cursor.block(ident, label);
                if top && META_BLOCKS.contains(&ident) {
                    cursor.skip(block.body());
                    continue;
                }
                // `dynamic "x" { for_each = …  content { … } }` writes blocks `x { … }`.
                let (name, content) = match (ident, label) {
                    ("dynamic", Some(label)) => {
                        let content = block
                            .body()
                            .blocks()
                            .find(|b| b.identifier() == "content")
                            .map(|b| b.body().clone())
                            .unwrap_or_default();
                        (label.to_string(), content)
                    }
                    _ => (ident.to_string(), block.body().clone()),
                };
                if ident == "dynamic" {
                    cursor.block("content", None);
                }
                let body = read_body(&content, cursor, false);
                used.blocks.push(UsedBlock { name, body, pos });
            }
        }
    }
    used
}

/// Finds structures in the text in the order they come, each on a line of its own after the
/// one before (what `terraform fmt`, which `check` enforces, writes).
struct Cursor<'a> {
    text: &'a str,
    /// Byte offsets where each line starts.
    lines: Vec<usize>,
    /// The next line to look at.
    next: usize,
}

impl<'a> Cursor<'a> {
    fn new(text: &'a str) -> Cursor<'a> {
        let mut lines = vec![0];
        lines.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        Cursor {
            text,
            lines,
            next: 0,
        }
    }

    /// The next line that opens `ident` (`ident {`, `ident "label" …`).
    fn block(&mut self, ident: &str, label: Option<&str>) -> Option<Pos> {
        self.find(
            |rest| {
                let rest = rest.trim_start();
                match label {
                    Some(label) => rest.starts_with(&format!("\"{label}\"")),
                    None => rest.starts_with('{'),
                }
            },
            ident,
        )
    }

    /// The next line that sets `key = …`.
    fn argument(&mut self, key: &str) -> Option<Pos> {
        self.find(
            |rest| {
                let rest = rest.trim_start();
                rest.starts_with('=') && !rest.starts_with("==")
            },
            key,
        )
    }

    /// Moves past what a skipped block holds, so its lines are not taken for later ones.
    fn skip(&mut self, body: &hcl::Body) {
        for structure in body.iter() {
            match structure {
                hcl::Structure::Attribute(attr) => {
                    self.argument(attr.key());
                }
                hcl::Structure::Block(block) => {
                    let label = block.labels().first().map(|l| l.as_str());
                    self.block(block.identifier(), label);
                    self.skip(block.body());
                }
            }
        }
    }

    fn find(&mut self, rest_matches: impl Fn(&str) -> bool, word: &str) -> Option<Pos> {
        for i in self.next..self.lines.len() {
            let start = self.lines[i];
            let end = self.lines.get(i + 1).copied().unwrap_or(self.text.len());
            let line = &self.text[start..end];
            let trimmed = line.trim_start();
            if let Some(rest) = trimmed.strip_prefix(word)
                && rest.starts_with([' ', '\t', '=', '{', '"'])
                && rest_matches(rest)
            {
                self.next = i + 1;
                return Some(pos_of(self.text, start + (line.len() - trimmed.len())));
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = r#"resource "aws_thing" "a" {
  for_each = var.x
  name     = "a"
  tags = {
    name = "not an argument of the resource"
  }

  settings {
    name = "inner"
  }

  dynamic "rule" {
    for_each = var.rules
    content {
      name = rule.value
    }
  }

  lifecycle {
    precondition {
      condition     = true
      error_message = "x"
    }
  }
}

data "aws_region" "here" {}

resource "random_id" "r" {}
"#;

    #[test]
    fn reads_arguments_blocks_and_dynamic_blocks_with_their_lines() {
        let used = scan_text(Path::new("main.tf"), TEXT);
        assert_eq!(used.len(), 2);
        let thing = &used[0];
        assert_eq!(
            thing.kind.address(&thing.type_name, &thing.name),
            "aws_thing.a"
        );
        let args: Vec<(&str, usize)> = thing
            .body
            .arguments
            .iter()
            .map(|(k, p)| (k.as_str(), p.map_or(0, |p| p.line)))
            .collect();
        assert_eq!(args, vec![("name", 3), ("tags", 4)]);
        let lines = |body: &UsedBody| -> Vec<(String, usize)> {
            body.arguments
                .iter()
                .map(|(k, p)| (k.clone(), p.map_or(0, |p| p.line)))
                .collect()
        };
        let blocks: Vec<String> = thing
            .body
            .blocks
            .iter()
            .map(|b| {
                format!(
                    "{} {} {:?}",
                    b.name,
                    b.pos.map_or(0, |p| p.line),
                    lines(&b.body)
                )
            })
            .collect();
        assert_eq!(
            blocks,
            [r#"settings 8 [("name", 9)]"#, r#"rule 12 [("name", 15)]"#,]
        );
        assert_eq!(used[1].kind, Kind::DataSource);
        assert_eq!(used[1].pos.map(|p| p.line), Some(27));
    }
}
