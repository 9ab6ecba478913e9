//! Which source an image is built from: the git commit, and whether the tree has changes that
//! commit does not hold. One definition of "dirty" for everything that says it (the image's
//! `revision` annotation, its registry tag, the clean-tree guards): a tracked file changed, or
//! an untracked file that git does not ignore (it may be a new source file).

use xshell::{Shell, cmd};

use crate::environment::Env;
use crate::project::Project;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Revision {
    /// The full commit id.
    pub commit: String,
    /// Tracked files changed, or untracked files that are not ignored (first few, for messages).
    pub changes: Vec<String>,
    /// Seconds since the epoch of the commit: the reproducible-build timestamp.
    pub commit_time: Option<u64>,
}

impl Revision {
    pub fn is_dirty(&self) -> bool {
        !self.changes.is_empty()
    }

    /// The image tag: the commit, with `-dirty` when the tree had changes.
    pub fn tag(&self) -> String {
        if self.is_dirty() {
            format!("{}-dirty", self.commit)
        } else {
            self.commit.clone()
        }
    }
}

/// Reads the revision of the checkout at the project root; `None` when it is not a git checkout
/// (e.g. a CodeBuild source archive).
pub fn current(project: &Project) -> Option<Revision> {
    current_at(&project.root)
}

/// The revision of the checkout at `root`; without git (a CodeBuild source archive), the one
/// the archive was made from, passed as `XTASK_SOURCE_REVISION` (and `SOURCE_DATE_EPOCH`).
pub fn current_at(root: &std::path::Path) -> Option<Revision> {
    from_git(root).or_else(|| {
        let commit = std::env::var("XTASK_SOURCE_REVISION").ok()?;
        let commit = commit.trim();
        let (commit, dirty) = match commit.strip_suffix("-dirty") {
            Some(c) => (c, true),
            None => (commit, false),
        };
        Some(Revision {
            commit: commit.to_string(),
            changes: if dirty {
                vec!["(the source archive's tree)".into()]
            } else {
                Vec::new()
            },
            commit_time: std::env::var("SOURCE_DATE_EPOCH")
                .ok()
                .and_then(|t| t.trim().parse().ok()),
        })
    })
}

fn from_git(root: &std::path::Path) -> Option<Revision> {
    let sh = Shell::new().ok()?;
    sh.change_dir(root);
    let commit = cmd!(sh, "git rev-parse --verify HEAD")
        .quiet()
        .ignore_stderr()
        .read()
        .ok()?;
    let status = cmd!(sh, "git status --porcelain=v1 --untracked-files=normal")
        .quiet()
        .ignore_stderr()
        .read()
        .ok()?;
    let changes = status
        .lines()
        .filter_map(|l| l.get(3..))
        .map(str::to_string)
        .collect();
    let commit_time = cmd!(sh, "git show -s --format=%ct HEAD")
        .quiet()
        .ignore_stderr()
        .read()
        .ok()
        .and_then(|t| t.trim().parse().ok());
    Some(Revision {
        commit: commit.trim().to_string(),
        changes,
        commit_time,
    })
}

/// Staging and production get only what a commit holds: the tag must name the source exactly.
pub fn require_clean(env: Env, rev: &Revision, action: &str) -> anyhow::Result<()> {
    if env == Env::Dev || !rev.is_dirty() {
        return Ok(());
    }
    let shown: Vec<&str> = rev.changes.iter().take(5).map(String::as_str).collect();
    let more = rev.changes.len().saturating_sub(shown.len());
    bail_help!("refusing to {action} for {env} from a dirty git tree: {} changed or untracked file(s): {}{}", rev.changes.len(), shown.join(", "), if more > 0 {
            format!(" and {more} more")
        } else {
            String::new()
        }; "commit (or remove) the changes first; images for staging and production are tagged \
         with the exact commit they were built from")
}

/// The tag given on the command line (e.g. by the CodeBuild job, whose source has no `.git`).
pub fn check_tag(env: Env, tag: &str) -> anyhow::Result<()> {
    let valid = tag.len() <= 128
        && tag
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')
        && tag
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'));
    if !valid {
        bail_help!("`{tag}` cannot be an image tag"; "a tag is up to 128 letters, digits, `_`, `.` \
             and `-`, not starting with `.` or `-`; pass the commit id with --revision");
    }
    if env != Env::Dev && tag.ends_with("-dirty") {
        bail_help!("refusing to push to {env} an image built from a dirty tree (revision `{tag}`)"; "commit the changes and build again");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rev(changes: &[&str]) -> Revision {
        Revision {
            commit: "a".repeat(40),
            changes: changes.iter().map(|s| s.to_string()).collect(),
            commit_time: None,
        }
    }

    #[test]
    fn dirty_trees_are_refused_beyond_dev() {
        assert!(require_clean(Env::Dev, &rev(&["x"]), "push").is_ok());
        assert!(require_clean(Env::Staging, &rev(&[]), "push").is_ok());
        let err = require_clean(Env::Production, &rev(&["a.rs", "b.rs"]), "push").unwrap_err();
        assert!(err.to_string().contains("a.rs, b.rs"), "{err}");
        assert_eq!(rev(&["x"]).tag(), format!("{}-dirty", "a".repeat(40)));
    }

    #[test]
    fn tags_are_checked() {
        assert!(check_tag(Env::Dev, "0123abc").is_ok());
        assert!(check_tag(Env::Dev, "-x").is_err());
        assert!(check_tag(Env::Dev, "a/b").is_err());
        assert!(check_tag(Env::Staging, "abc-dirty").is_err());
    }
}
