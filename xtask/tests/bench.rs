//! `cargo xtask bench`: the benchmarks are a binary of their own (`xtask/bench`), which this
//! command runs with the arguments it was given. What is measured is not tested here (numbers
//! are not assertions); that every suite is reachable and bad flags are refused is.

mod support;

use support::workspace::{repo_root, run};

fn xtask() -> std::process::Command {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_xtask"));
    cmd.arg("-C").arg(repo_root());
    cmd
}

#[test]
fn every_suite_is_listed_and_reached_through_cargo_xtask_bench() {
    let (out, text) = run(xtask().arg("--help"));
    assert!(out.status.success(), "{text}");
    assert!(text.contains("agents, build, push or deploy"), "{text}");

    let (out, text) = run(xtask().args(["bench", "--help"]));
    assert!(out.status.success(), "{text}");
    for suite in ["agents", "build", "deploy", "push"] {
        assert!(
            text.lines()
                .any(|l| l.trim_start().starts_with(&format!("{suite} "))),
            "suite `{suite}` is not listed:\n{text}"
        );
    }
    let (out, text) = run(xtask().args(["bench", "push", "--help"]));
    assert!(out.status.success(), "{text}");
    assert!(text.contains("skopeo"), "{text}");
}

#[test]
fn a_benchmark_that_would_measure_nothing_is_refused() {
    for args in [
        &["bench", "deploy", "--runs", "0"][..],
        &["bench", "push", "--runs", "0"][..],
        &["bench", "agents", "--duration", "0"][..],
    ] {
        let (out, text) = run(xtask().args(args));
        assert_eq!(out.status.code(), Some(1), "`{}`:\n{text}", args.join(" "));
        assert!(
            text.contains("would measure nothing") || text.contains("at least 1"),
            "{text}"
        );
    }
    let (out, text) = run(xtask().args(["bench", "shipit"]));
    assert_eq!(out.status.code(), Some(64), "{text}");
}
