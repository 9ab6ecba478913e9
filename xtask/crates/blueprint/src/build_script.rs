//! For an agent's `build.rs`: the blueprint is validated when the agent is compiled, with every
//! rule `cargo xtask check` applies, and what the agent needs of it at run time is compiled in
//! as constants. A broken blueprint is a build error with its `file:line:col`; the binary
//! carries no YAML parser and parses nothing at start-up.
//!
//! ```text
//! // agents/<id>/build.rs
//! fn main() {
//!     blueprint::build_script::emit();
//! }
//! // agents/<id>/src/main.rs
//! mod blueprint {
//!     include!(concat!(env!("OUT_DIR"), "/blueprint.rs"));
//! }
//! ```

use std::fmt::Write as _;
use std::path::PathBuf;

use crate::{Agent, BLUEPRINT_FILE};

/// Validates `$CARGO_MANIFEST_DIR/blueprint.yaml` and writes `$OUT_DIR/blueprint.rs`; on a
/// problem, fails the build with each diagnostic (`cargo::error`).
pub fn emit() {
    let dir = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default());
    let out = PathBuf::from(std::env::var_os("OUT_DIR").unwrap_or_default());
    println!("cargo::rerun-if-changed={BLUEPRINT_FILE}");
    println!("cargo::rerun-if-changed=Cargo.toml");
    // The workspace root, for paths in messages: agents live at <root>/agents/<id>/.
    let root = dir.ancestors().nth(2).unwrap_or(&dir).to_path_buf();
    match crate::validate::load_agent(&root, &dir) {
        Ok(agent) => {
            let path = out.join("blueprint.rs");
            if let Err(err) = std::fs::write(&path, constants(&agent)) {
                println!("cargo::error=cannot write {}: {err}", path.display());
            }
        }
        Err(diags) => {
            for d in diags {
                // One line each: cargo shows `cargo::error` messages line by line.
                let mut line = format!("{}: {}", d.location(), d.message);
                if let Some(help) = &d.help {
                    let _ = write!(line, " (help: {help})");
                }
                println!("cargo::error={line}");
            }
        }
    }
}

/// The Rust source of the constants an agent compiles in.
pub fn constants(agent: &Agent) -> String {
    let bp = &agent.blueprint;
    let mut text = String::from(
        "// Generated from blueprint.yaml by `blueprint::build_script::emit` (build.rs).\n",
    );
    let _ = writeln!(text, "pub const ID: &str = {:?};", bp.id);
    let _ = writeln!(text, "pub const VERSION: &str = {:?};", bp.version);
    let _ = writeln!(text, "pub const MODEL_ID: &str = {:?};", bp.model.model_id);
    let _ = writeln!(text, "pub const MAX_TOKENS: u32 = {};", bp.model.max_tokens);
    let _ = writeln!(
        text,
        "pub const TEMPERATURE: f32 = {:?};",
        bp.model.temperature
    );
    let _ = writeln!(text, "pub const PORT: u16 = {};", bp.runtime.port);
    let _ = writeln!(text, "pub const MEMORY: bool = {};", bp.memory.enabled);
    let _ = writeln!(
        text,
        "pub const MEMORY_NAMESPACES: &[&str] = &{:?};",
        bp.memory.namespaces(&bp.id)
    );
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_valid_blueprint_becomes_constants_and_a_broken_one_its_diagnostics() {
        let root = tempfile::tempdir().expect("tempdir");
        let dir = root.path().join("agents/echo");
        std::fs::create_dir_all(dir.join("src")).expect("mkdir");
        std::fs::write(
            dir.join("Cargo.toml"),
            "[package]\nname = \"echo\"\nversion = \"0.1.0\"\n",
        )
        .expect("write");
        std::fs::write(dir.join("src/main.rs"), "fn main() {}\n").expect("write");
        std::fs::write(
            dir.join(BLUEPRINT_FILE),
            "id: echo\nname: Echo\nversion: 0.1.0\nmodel:\n  provider: bedrock\n  \
             model_id: m-1\n  temperature: 0.3\n",
        )
        .expect("write");
        let agent = crate::validate::load_agent(root.path(), &dir).expect("valid");
        let text = constants(&agent);
        assert!(
            text.contains("pub const MODEL_ID: &str = \"m-1\";"),
            "{text}"
        );
        assert!(text.contains("pub const TEMPERATURE: f32 = 0.3;"), "{text}");
        assert!(text.contains("pub const MAX_TOKENS: u32 = 1024;"), "{text}");
        assert!(text.contains("pub const MEMORY: bool = false;"), "{text}");

        // A strategy without namespaces is given the agent's own prefix, as infra/modules/agents
        // gives it.
        std::fs::write(
            dir.join(BLUEPRINT_FILE),
            "id: echo\nname: Echo\nversion: 0.1.0\nmodel:\n  provider: bedrock\n  \
             model_id: m-1\nmemory:\n  enabled: true\n  strategies:\n    \
             - {name: facts, type: SEMANTIC}\n    \
             - {name: prefs, type: USER_PREFERENCE, namespaces: [\"/prefs/{actorId}\"]}\n",
        )
        .expect("write");
        let agent = crate::validate::load_agent(root.path(), &dir).expect("valid");
        let text = constants(&agent);
        assert!(text.contains("pub const MEMORY: bool = true;"), "{text}");
        assert!(
            text.contains(
                r#"pub const MEMORY_NAMESPACES: &[&str] = &["/agents/echo/{actorId}", "/prefs/{actorId}"];"#
            ),
            "{text}"
        );

        std::fs::write(
            dir.join(BLUEPRINT_FILE),
            "id: echo\nname: Echo\nversion: 0.1.0\nmodel:\n  provider: bedrock\n  \
             model_id: m-1\n  temperature: 3.0\n",
        )
        .expect("write");
        let diags = crate::validate::load_agent(root.path(), &dir).expect_err("broken");
        assert_eq!(diags[0].location(), "agents/echo/blueprint.yaml:7:16");
        assert!(diags[0].message.contains("temperature"), "{:?}", diags[0]);
    }
}
