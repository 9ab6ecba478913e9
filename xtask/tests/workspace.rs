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

/// An agent's bytes must not depend on which other agents share its build: cargo unifies
/// features over the packages of one invocation, so a crate only one agent uses could turn on
/// features of crates every agent links (ARCHITECTURE.md, "No neighbours").
#[test]
fn each_agent_resolves_the_same_features_alone_as_with_every_other_agent() {
    let root = repo_root();
    let mut agents: Vec<String> = std::fs::read_dir(root.join("agents"))
        .expect("agents/")
        .filter_map(Result::ok)
        .filter(|e| e.path().join("blueprint.yaml").is_file())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    agents.sort();
    assert!(agents.len() >= 2, "{agents:?}");
    let selection = |ids: &[String]| -> Vec<String> {
        let mut args: Vec<String> = [
            "--target",
            "aarch64-unknown-linux-musl",
            "--edges",
            "normal,build",
        ]
        .map(String::from)
        .to_vec();
        for id in ids {
            args.extend(["--package".to_string(), id.clone()]);
        }
        args
    };
    let together = {
        let args = selection(&agents);
        resolved(&args.iter().map(String::as_str).collect::<Vec<_>>())
    };
    for agent in &agents {
        let args = selection(std::slice::from_ref(agent));
        let alone = resolved(&args.iter().map(String::as_str).collect::<Vec<_>>());
        let differ: Vec<&String> = alone.difference(&together).collect();
        assert!(
            differ.is_empty(),
            "{agent} built alone gets other features than built with {agents:?}:\n{differ:#?}"
        );
    }
}
