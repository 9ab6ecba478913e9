//! The workspace's own shape, where it costs every build.

use std::collections::BTreeSet;
use std::process::Command;

mod support;

use support::workspace::repo_root;

/// Packages with their features, as `cargo tree` resolves them for `selection`.
fn resolved(selection: &[&str]) -> BTreeSet<String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .args([
            "tree",
            "--locked",
            "--prefix",
            "none",
            "--format",
            "{p} [{f}]",
        ])
        .args(selection)
        .current_dir(repo_root())
        .output()
        .expect("run cargo tree");
    assert!(
        out.status.success(),
        "cargo tree failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| l.trim_end_matches(" (*)").to_string())
        .filter(|l| !l.is_empty())
        .collect()
}

/// `cargo xtask` builds the xtask alone and `cargo test --workspace` every member: when a
/// crate both build has other features in one, it is compiled twice, and with it everything
/// above it (the whole AWS SDK stack above hyper, on a fresh machine minutes of CI).
#[test]
fn cargo_xtask_and_the_workspace_tests_build_the_xtasks_dependencies_alike() {
    let xtask = resolved(&["--package", "xtask", "--edges", "normal,build"]);
    let workspace = resolved(&["--workspace", "--edges", "normal,build,dev"]);
    let differ: Vec<&String> = xtask.difference(&workspace).collect();
    assert!(
        differ.is_empty(),
        "these crates get other features in `cargo xtask` than in `cargo test --workspace`:\n\
         {differ:#?}\nadd the workspace's features to the unification list in xtask/Cargo.toml \
         (`cargo tree --workspace -e normal,build,dev -f '{{p}} [{{f}}]'` shows them)"
    );
}
