//! Exact line diffs: an agent reviewing a change should quote what changed, not what it
//! remembers changing.

use similar::{ChangeTag, TextDiff};

pub struct Diff {
    pub unified: String,
    pub added: usize,
    pub removed: usize,
}

pub fn lines(before: &str, after: &str, context: usize) -> Diff {
    let diff = TextDiff::from_lines(before, after);
    let (mut added, mut removed) = (0, 0);
    for change in diff.iter_all_changes() {
        match change.tag() {
            ChangeTag::Insert => added += 1,
            ChangeTag::Delete => removed += 1,
            ChangeTag::Equal => {}
        }
    }
    let unified = diff
        .unified_diff()
        .context_radius(context)
        .header("before", "after")
        .to_string();
    Diff {
        unified,
        added,
        removed,
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn counts_and_shows_the_changed_lines() {
        let diff = super::lines("a\nb\nc\n", "a\nB\nc\nd\n", 1);
        assert_eq!((diff.added, diff.removed), (2, 1));
        assert!(diff.unified.contains("-b\n+B\n"), "{}", diff.unified);
        assert!(
            diff.unified.starts_with("--- before\n+++ after\n"),
            "{}",
            diff.unified
        );
        assert_eq!(super::lines("same\n", "same\n", 3).unified, "");
    }
}
