//! Where a key of a workflow file is written. serde_yaml gives the values without positions;
//! a block-style YAML key's children are the lines below it that are indented further, which
//! is all the checks need to point at a line (flow-style YAML falls back to the enclosing
//! key's line).

use crate::environment::pos_of;
use diagnostics::Pos;

/// A key's line and the lines below it that belong to it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Block {
    /// The first line (0-based) after the key's own.
    first: usize,
    /// The key's column (0-based); `None` for the whole file.
    indent: Option<usize>,
    /// Where the key is written.
    pub pos: Option<Pos>,
}

/// A line's 0-based index, byte offset, text, and the column its key starts at (after any
/// `- `), or `None` for a blank or comment line.
fn lines(text: &str) -> impl Iterator<Item = (usize, usize, &str, Option<usize>)> {
    let mut offset = 0;
    text.split_inclusive('\n')
        .enumerate()
        .map(move |(i, line)| {
            let at = offset;
            offset += line.len();
            let mut col = line.len() - line.trim_start().len();
            let mut rest = &line[col..];
            while let Some(after) = rest.strip_prefix("- ") {
                let skipped = rest.len() - after.trim_start().len();
                col += skipped;
                rest = &rest[skipped..];
            }
            let content = !rest.trim().is_empty() && !rest.starts_with('#');
            (i, at, line, content.then_some(col))
        })
}

/// Whether `line`, from column `col`, is the key `key` (plain or quoted).
fn is_key(line: &str, col: usize, key: &str) -> bool {
    let rest = &line[col..];
    [key.to_string(), format!("\"{key}\""), format!("'{key}'")]
        .iter()
        .any(|k| {
            rest.strip_prefix(k.as_str())
                .and_then(|r| r.strip_prefix(':'))
                .is_some_and(|r| r.is_empty() || r.starts_with([' ', '\n', '\r', '\t']))
        })
}

impl Block {
    /// The whole file.
    pub fn root() -> Block {
        Block {
            first: 0,
            indent: None,
            pos: None,
        }
    }

    /// The lines of this block: the ones after its key, up to the first line indented no
    /// further than the key.
    fn body<'t>(&self, text: &'t str) -> impl Iterator<Item = (usize, usize, &'t str, usize)> {
        let (first, indent) = (self.first, self.indent);
        lines(text)
            .skip(first)
            .filter_map(|(i, at, line, col)| col.map(|c| (i, at, line, c)))
            .take_while(move |(_, _, _, col)| indent.is_none_or(|k| *col > k))
    }

    fn at(text: &str, line: usize, offset: usize, col: usize) -> Block {
        Block {
            first: line + 1,
            indent: Some(col),
            pos: Some(pos_of(text, offset + col)),
        }
    }

    /// The direct child `key` of this block, when written in block style.
    pub fn child(&self, text: &str, key: &str) -> Option<Block> {
        let mut body = self.body(text).peekable();
        let depth = body.peek().map(|(_, _, _, col)| *col)?;
        body.filter(|(_, _, _, col)| *col == depth)
            .find(|(_, _, line, col)| is_key(line, *col, key))
            .map(|(i, at, _, col)| Block::at(text, i, at, col))
    }

    /// The first key `key` after this block's own line, at any depth: a state after the
    /// previous one (state names are unique in a state machine).
    pub fn find_after(text: &str, key: &str, after: Block) -> Option<Block> {
        lines(text)
            .skip(after.first)
            .find_map(|(i, at, line, col)| {
                col.filter(|c| is_key(line, *c, key))
                    .map(|c| Block::at(text, i, at, c))
            })
    }

    /// Where `needle` is first written in this block.
    pub fn find_text(&self, text: &str, needle: &str) -> Option<Pos> {
        self.body(text)
            .find_map(|(_, at, line, _)| line.find(needle).map(|i| pos_of(text, at + i)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "\
# comment
definition:
  States:
    A:
      Parameters:
        X: 1
        Y.$: $.y
      Retry:
        - ErrorEquals:
            - Svc.Err
    B:
      Parameters: {X: 2}
other: 1
";

    #[test]
    fn finds_children_states_and_text() {
        let def = Block::root().child(TEXT, "definition").expect("definition");
        assert_eq!(def.pos.map(|p| p.line), Some(2));
        let states = def.child(TEXT, "States").expect("States");
        let a = Block::find_after(TEXT, "A", states).expect("A");
        assert_eq!(a.pos.map(|p| (p.line, p.column)), Some((4, 5)));
        let params = a.child(TEXT, "Parameters").expect("Parameters");
        let y = params.child(TEXT, "Y.$").expect("Y.$");
        assert_eq!(y.pos.map(|p| p.line), Some(7));
        // Not a grandchild, and not beyond the block.
        assert!(a.child(TEXT, "X").is_none());
        assert!(params.child(TEXT, "other").is_none());
        let retry = a.child(TEXT, "Retry").expect("Retry");
        let err = retry.find_text(TEXT, "Svc.Err").expect("Svc.Err");
        assert_eq!((err.line, err.column), (10, 15));
        let b = Block::find_after(TEXT, "B", a).expect("B");
        assert_eq!(b.pos.map(|p| p.line), Some(11));
        // Flow style: no child block.
        let bp = b.child(TEXT, "Parameters").expect("Parameters");
        assert!(bp.child(TEXT, "X").is_none());
    }
}
