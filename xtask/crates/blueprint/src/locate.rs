//! Where a field is in a YAML file, for errors found after parsing (a bad id, a duplicate id).
//!
//! serde_yaml keeps positions only for its own errors; yaml-rust2's event parser gives the
//! position of every key and value, so we index them by their dotted path (`runtime.port`).

use std::collections::HashMap;

use yaml_rust2::Event;
use yaml_rust2::parser::{MarkedEventReceiver, Parser};
use yaml_rust2::scanner::Marker;

use diagnostics::Pos;

#[derive(Default)]
pub struct Locations {
    keys: HashMap<String, Pos>,
    values: HashMap<String, Pos>,
}

impl Locations {
    pub fn of(text: &str) -> Locations {
        let mut indexer = Indexer::default();
        // A file that does not parse has no positions to give; serde's error says why.
        let _ = Parser::new_from_str(text).load(&mut indexer, false);
        indexer.found
    }

    /// Where the value at `path` starts, else where its key is.
    pub fn value(&self, path: &str) -> Option<Pos> {
        self.values
            .get(path)
            .or_else(|| self.keys.get(path))
            .copied()
    }

    /// Where the key of `path` is, else where its value is.
    pub fn key(&self, path: &str) -> Option<Pos> {
        self.keys
            .get(path)
            .or_else(|| self.values.get(path))
            .copied()
    }
}

enum Frame {
    Map { key: Option<String> },
    Seq { index: usize },
}

#[derive(Default)]
struct Indexer {
    stack: Vec<Frame>,
    found: Locations,
}

impl Indexer {
    fn path_with(&self, last: Option<&str>) -> String {
        let mut parts: Vec<String> = self
            .stack
            .iter()
            .take(self.stack.len().saturating_sub(1))
            .filter_map(|f| match f {
                Frame::Map { key } => key.clone(),
                Frame::Seq { index } => Some(index.to_string()),
            })
            .collect();
        if let Some(last) = last {
            parts.push(last.to_string());
        }
        parts.join(".")
    }

    /// A value (scalar or container) starts at `pos` in the current frame.
    fn value_starts(&mut self, pos: Pos) {
        let last = match self.stack.last() {
            Some(Frame::Map { key: Some(k) }) => Some(k.clone()),
            Some(Frame::Seq { index }) => Some(index.to_string()),
            _ => None,
        };
        if let Some(last) = last {
            let path = self.path_with(Some(&last));
            self.found.values.entry(path).or_insert(pos);
        }
    }

    fn value_ends(&mut self) {
        match self.stack.last_mut() {
            Some(Frame::Map { key }) => *key = None,
            Some(Frame::Seq { index }) => *index += 1,
            None => {}
        }
    }
}

impl MarkedEventReceiver for Indexer {
    fn on_event(&mut self, ev: Event, mark: Marker) {
        let pos = Pos {
            line: mark.line(),
            column: mark.col() + 1,
        };
        match ev {
            Event::Scalar(value, ..) => {
                if let Some(Frame::Map { key: key @ None }) = self.stack.last_mut() {
                    *key = Some(value.clone());
                    let path = self.path_with(Some(&value));
                    self.found.keys.entry(path).or_insert(pos);
                } else {
                    self.value_starts(pos);
                    self.value_ends();
                }
            }
            Event::MappingStart(..) => {
                self.value_starts(pos);
                self.stack.push(Frame::Map { key: None });
            }
            Event::SequenceStart(..) => {
                self.value_starts(pos);
                self.stack.push(Frame::Seq { index: 0 });
            }
            Event::MappingEnd | Event::SequenceEnd => {
                self.stack.pop();
                self.value_ends();
            }
            Event::Alias(_) => {
                self.value_starts(pos);
                self.value_ends();
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_nested_keys_and_values() {
        let text =
            "id: a\nruntime:\n  network_mode: VPC\n  environment:\n    X: \"1\"\ntags: [a, b]\n";
        let loc = Locations::of(text);
        assert_eq!(loc.key("id"), Some(Pos { line: 1, column: 1 }));
        assert_eq!(loc.value("id"), Some(Pos { line: 1, column: 5 }));
        assert_eq!(
            loc.value("runtime.network_mode"),
            Some(Pos {
                line: 3,
                column: 17
            })
        );
        assert_eq!(
            loc.key("runtime.environment.X"),
            Some(Pos { line: 5, column: 5 })
        );
        assert_eq!(
            loc.value("tags.1"),
            Some(Pos {
                line: 6,
                column: 11
            })
        );
        assert_eq!(loc.value("nope"), None);
    }
}
