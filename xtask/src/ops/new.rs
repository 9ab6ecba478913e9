//! `cargo xtask new <id>`: a new agent crate from the templates in `xtask/templates/agent/`,
//! added to the workspace and its lock file, all or nothing.
//!
//! The templates are plain files with `{{id}}`-style placeholders, replaced by string
//! replacement. No template engine: there are no loops or conditions (the protocol picks a
//! folder), and every value is checked (the id, the model id) or quoted (the description)
//! before it is put in, so a replace is all an engine would do here; the templates stay files a
//! reader opens as Rust, YAML and TOML.
//!
//! Nothing is half done: the id is refused before anything is written; the files are written
//! into a hidden folder under `agents/` and checked with the blueprint's rules there, then
//! renamed into place (one rename, same file system); `Cargo.toml` and `Cargo.lock` are changed
//! last, and a failure at any step restores both and removes the folder.

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use serde::Serialize;

use crate::output::Output;
use crate::project::Project;
use blueprint::{Agent, Protocol};

/// What to create.
pub struct NewOptions {
    pub id: String,
    pub protocol: Protocol,
    pub description: Option<String>,
    pub model: Option<String>,
    /// Check everything and say what would be written; write nothing.
    pub dry_run: bool,
}

/// What was (or, with `dry_run`, would be) created.
#[derive(Serialize)]
pub struct Created {
    pub id: String,
    pub protocol: Protocol,
    pub model_id: String,
    /// `agents/<id>`, relative to the workspace root.
    pub dir: PathBuf,
    /// Every file of the new crate, relative to the workspace root.
    pub files: Vec<PathBuf>,
    /// The files of the workspace that were changed: `Cargo.toml` (members) and `Cargo.lock`.
    pub changed: Vec<PathBuf>,
    pub dry_run: bool,
    /// The commands to run next.
    pub next: Vec<String>,
}

/// The smallest Bedrock model the agents here use: cheap for a first try; `--model` for another.
pub const DEFAULT_MODEL: &str = "us.amazon.nova-micro-v1:0";

struct Template {
    path: &'static str,
    text: &'static str,
}

macro_rules! template {
    ($dir:literal, $path:literal) => {
        Template {
            path: $path,
            text: include_str!(concat!("../../templates/agent/", $dir, "/", $path)),
        }
    };
    // A file whose template has another name (a `Cargo.toml` in the xtask's tree would be a
    // manifest that cargo finds when run in that folder).
    ($dir:literal, $path:literal, $source:literal) => {
        Template {
            path: $path,
            text: include_str!(concat!("../../templates/agent/", $dir, "/", $source)),
        }
    };
}

const COMMON: [Template; 3] = [
    template!("common", "build.rs"),
    template!("common", "Dockerfile"),
    template!("common", "Dockerfile.dockerignore"),
];

const HTTP: [Template; 4] = [
    template!("http", "blueprint.yaml"),
    template!("http", "Cargo.toml", "Cargo.toml.template"),
    template!("http", "src/main.rs"),
    template!("http", "tests/agent.rs"),
];

const MCP: [Template; 4] = [
    template!("mcp", "blueprint.yaml"),
    template!("mcp", "Cargo.toml", "Cargo.toml.template"),
    template!("mcp", "src/main.rs"),
    template!("mcp", "tests/mcp.rs"),
];

/// Creates the agent (or, with `dry_run`, checks that it could be created).
pub fn create(project: &Project, options: &NewOptions, out: &Output) -> anyhow::Result<Created> {
    let id = options.id.as_str();
    refuse_bad_id(project, id)?;
    let description = description(options)?;
    let model_id = model_id(options.model.as_deref())?;
    let manifest_path = project.root.join("Cargo.toml");
    let manifest = std::fs::read_to_string(&manifest_path)
        .with_context(|| format!("cannot read {}", manifest_path.display()))?;
    let member = format!("agents/{id}");
    let new_manifest = match members(&manifest)? {
        Members { listed, .. } if listed.contains(&member) => {
            bail_help!("`{member}` is already a member of the workspace (Cargo.toml), though the folder does not exist"; "choose another id, or remove \"{member}\" from `members` in Cargo.toml first")
        }
        Members { globs, .. } if globs.iter().any(|g| covered_by(g, &member)) => None,
        _ => Some(add_member(&manifest, &member, |dir| {
            project
                .root
                .join(dir)
                .join(blueprint::BLUEPRINT_FILE)
                .is_file()
        })?),
    };

    let files = render(options.protocol, id, &description, &model_id)?;
    check_names_everywhere(project, id, &files)?;

    let dir = PathBuf::from("agents").join(id);
    let mut changed = Vec::new();
    if new_manifest.is_some() {
        changed.push(PathBuf::from("Cargo.toml"));
    }
    changed.push(PathBuf::from("Cargo.lock"));
    let created = Created {
        id: id.to_string(),
        protocol: options.protocol,
        model_id,
        dir: dir.clone(),
        files: files.iter().map(|(rel, _)| dir.join(rel)).collect(),
        changed,
        dry_run: options.dry_run,
        next: vec![
            "cargo xtask check".into(),
            format!("cargo test -p {id}"),
            format!("cargo xtask run {id}"),
            format!("cargo xtask build-agents {id}"),
        ],
    };
    if options.dry_run {
        return Ok(created);
    }

    let mut undo = Undo::default();
    let agents_dir = project.agents_dir();
    // Beside its final place, so that moving it there is one rename on one file system.
    let staging = tempfile::Builder::new()
        .prefix(".new-")
        .tempdir_in(&agents_dir)
        .with_context(|| format!("cannot create a folder in {}", agents_dir.display()))?;
    let staged = staging.path().join(id);
    for (rel, text) in &files {
        let path = staged.join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("cannot create {}", parent.display()))?;
        }
        std::fs::write(&path, text).with_context(|| format!("cannot write {}", path.display()))?;
    }
    format_rust(&staged, &files, out);
    // Every rule of `check` and of the agent's build.rs, on the files as written.
    blueprint::load_agent(&project.root, &staged)
        .map_err(|diags| anyhow::Error::new(blueprint::Diagnostics(diags)))
        .context(
            "the new agent's blueprint would not pass `cargo xtask check` (a bug in the templates)",
        )?;

    let final_dir = project.root.join(&dir);
    std::fs::rename(&staged, &final_dir).with_context(|| {
        format!(
            "cannot move {} to {}",
            staged.display(),
            final_dir.display()
        )
    })?;
    undo.dir = Some(final_dir);

    let lock_path = project.root.join("Cargo.lock");
    undo.files
        .push((manifest_path.clone(), manifest.into_bytes()));
    // A workspace without a lock file gets one; then undoing removes it.
    undo.files.push((
        lock_path.clone(),
        std::fs::read(&lock_path).unwrap_or_default(),
    ));
    if let Some(text) = &new_manifest {
        replace_file(&manifest_path, text.as_bytes())?;
    }
    let timer = out.timed("adding it to Cargo.lock (cargo update --workspace)");
    update_lock(&project.root)?;
    timer.done();

    undo.done = true;
    Ok(created)
}

/// The id's own rules (the blueprint crate's), then what this workspace already uses.
fn refuse_bad_id(project: &Project, id: &str) -> anyhow::Result<()> {
    if let Err(why) = blueprint::check_id(id) {
        bail_help!("invalid agent id `{id}`: {why}"; "use 2 to 32 lower-case letters, digits and single `-`, starting with a letter: it names the crate, the binary, the ECR repository and the AgentCore runtime");
    }
    let folder = project.agents_dir().join(id);
    if folder.join(blueprint::BLUEPRINT_FILE).is_file() {
        bail_help!("agent `{id}` already exists (agents/{id})"; "choose another id");
    }
    // A package of the same name anywhere in the lock would make `cargo -p <id>` ambiguous,
    // and a workspace crate's name (agent-testkit, xtask, …) is taken by that crate.
    let lock_path = project.root.join("Cargo.lock");
    if let Ok(text) = std::fs::read_to_string(&lock_path) {
        let lock: toml::Table = text
            .parse()
            .with_context(|| format!("{} is not valid TOML", lock_path.display()))?;
        let packages = lock.get("package").and_then(|p| p.as_array());
        if let Some(package) = packages
            .into_iter()
            .flatten()
            .find(|p| p.get("name").and_then(|n| n.as_str()) == Some(id))
        {
            if package.get("source").is_none() {
                bail_help!("`{id}` is reserved: a crate of this workspace has that name"; "choose another id");
            }
            bail_help!("`{id}` is reserved: the workspace depends on a crate of that name ({}), and `cargo -p {id}` would no longer say which", package.get("source").and_then(|s| s.as_str()).unwrap_or("a registry"); "choose another id");
        }
    }
    if folder.exists() {
        bail_help!("agents/{id} already exists"; "choose another id, or remove the folder first");
    }
    Ok(())
}

fn description(options: &NewOptions) -> anyhow::Result<String> {
    let Some(given) = &options.description else {
        return Ok(match options.protocol {
            Protocol::Mcp => "An MCP server: tools other agents call through the gateway.".into(),
            _ => "Answers a prompt with Amazon Bedrock's Converse API.".into(),
        });
    };
    let given = given.trim();
    if given.is_empty() {
        bail_help!("the description is empty"; "leave out --description for the default, or say what the agent does");
    }
    if given.chars().any(char::is_control) {
        bail_help!("the description holds a control character (a line break?)"; "give it on one line; edit blueprint.yaml afterwards for more");
    }
    Ok(given.to_string())
}

/// A model id goes into YAML and Rust unquoted, so it keeps to what Bedrock's model ids,
/// inference-profile ids and ARNs are made of.
fn model_id(given: Option<&str>) -> anyhow::Result<String> {
    let Some(given) = given else {
        return Ok(DEFAULT_MODEL.to_string());
    };
    let given = given.trim();
    let allowed = |c: char| c.is_ascii_alphanumeric() || ".:-_/".contains(c);
    if given.is_empty() || given.len() > 2048 || !given.chars().all(allowed) {
        bail_help!("`{given}` is not a Bedrock model id"; "give a model or inference-profile id such as `{DEFAULT_MODEL}`, or its ARN (letters, digits and . : - _ /)");
    }
    Ok(given.to_string())
}

/// The agent's files, relative to its folder, with the placeholders filled in.
fn render(
    protocol: Protocol,
    id: &str,
    description: &str,
    model_id: &str,
) -> anyhow::Result<Vec<(PathBuf, String)>> {
    let (own, port) = match (protocol, protocol.port()) {
        (Protocol::Http, Some(port)) => (&HTTP, port),
        (Protocol::Mcp, Some(port)) => (&MCP, port),
        _ => {
            bail_help!("A2A agents cannot be made here: agentcore-runtime has no A2A server (README.md, \"Blueprints\")"; "use --protocol HTTP, or MCP to offer tools")
        }
    };
    // JSON's string syntax is valid in a YAML double-quoted scalar and a TOML basic string
    // alike (control characters are refused before this, so no escape differs).
    let quoted = serde_json::to_string(description)?;
    let name = human_name(id);
    let port = port.to_string();
    let values = [
        ("{{id}}", id),
        ("{{name}}", name.as_str()),
        ("{{description}}", quoted.as_str()),
        ("{{model_id}}", model_id),
        ("{{port}}", port.as_str()),
    ];
    Ok(COMMON
        .iter()
        .chain(own.iter())
        .map(|t| {
            let text = values
                .iter()
                .fold(t.text.to_string(), |text, (key, value)| {
                    text.replace(key, value)
                });
            (PathBuf::from(t.path), text)
        })
        .collect())
}

/// rustfmt over the new Rust files: the templates are formatted, but a long id can move a line
/// past the width, and `cargo xtask test` checks the format. A rustfmt that fails only warns:
/// the agent works unformatted.
fn format_rust(dir: &Path, files: &[(PathBuf, String)], out: &Output) {
    let rust: Vec<PathBuf> = files
        .iter()
        .filter(|(path, _)| path.extension().is_some_and(|e| e == "rs"))
        .map(|(path, _)| dir.join(path))
        .collect();
    let mut args = vec!["--edition".into(), "2024".into()];
    args.extend(rust.iter().map(|p| p.display().to_string()));
    // In the agent's folder, so rustup picks the workspace's toolchain (rust-toolchain.toml).
    let result = duct::cmd("rustfmt", &args)
        .dir(dir)
        .stdout_capture()
        .stderr_capture()
        .unchecked()
        .run();
    match result {
        Ok(done) if done.status.success() => {}
        Ok(done) => out.warn(format!(
            "rustfmt failed, the new files are unformatted: {}",
            String::from_utf8_lossy(&done.stderr).trim()
        )),
        Err(err) => out.warn(format!(
            "cannot run rustfmt ({err}), the new files are unformatted: `cargo fmt -p <id>` later"
        )),
    }
}

/// `web-researcher` → `Web researcher`.
fn human_name(id: &str) -> String {
    let spaced = id.replace('-', " ");
    let mut chars = spaced.chars();
    match chars.next() {
        Some(first) => first.to_ascii_uppercase().to_string() + chars.as_str(),
        None => spaced,
    }
}

/// The agents stack's name limits (AgentCore runtime, IAM roles) in every environment, not
/// only dev where the agent starts: an id too long for production would otherwise pass until
/// the day it is promoted there.
fn check_names_everywhere(
    project: &Project,
    id: &str,
    files: &[(PathBuf, String)],
) -> anyhow::Result<()> {
    let rel = PathBuf::from("agents")
        .join(id)
        .join(blueprint::BLUEPRINT_FILE);
    let text = files
        .iter()
        .find(|(path, _)| path == Path::new(blueprint::BLUEPRINT_FILE))
        .map(|(_, text)| text.as_str())
        .unwrap_or_default();
    let mut bp = blueprint::parse(&rel, text).map_err(|d| {
        anyhow::Error::new(blueprint::Diagnostics(vec![d]))
            .context("the new blueprint does not parse (a bug in the templates)")
    })?;
    bp.execution_modes.dev = true;
    bp.execution_modes.staging = true;
    bp.execution_modes.production = true;
    let agent = Agent {
        blueprint: bp,
        dir: project.root.join("agents").join(id),
    };
    let envs = crate::infra::loaded_envs(project);
    let mut diags = Vec::new();
    crate::infra::check_agents(project, std::slice::from_ref(&agent), &envs, &mut diags);
    // Said as one error, not as diagnostics: `check` could not show them, there is no file yet.
    let Some(strictest) = diags.last() else {
        return Ok(());
    };
    let problems: Vec<&str> = diags.iter().map(|d| d.message.as_str()).collect();
    bail_help!("agent id `{id}` does not fit where it would be deployed: {}", problems.join("; "); "{}", strictest.help.as_deref().unwrap_or("choose a shorter id"))
}

/// `[workspace] members` as written: exact paths and `dir/*` globs.
struct Members {
    listed: Vec<String>,
    globs: Vec<String>,
}

fn members(manifest: &str) -> anyhow::Result<Members> {
    let table: toml::Table = manifest.parse().context("Cargo.toml is not valid TOML")?;
    let all: Vec<String> = table
        .get("workspace")
        .and_then(|w| w.get("members"))
        .and_then(|m| m.as_array())
        .map(|m| {
            m.iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    let (globs, listed) = all.into_iter().partition(|m| m.contains('*'));
    Ok(Members { listed, globs })
}

fn covered_by(glob: &str, member: &str) -> bool {
    glob.strip_suffix("/*").is_some_and(|parent| {
        member
            .rsplit_once('/')
            .is_some_and(|(dir, _)| dir == parent)
    })
}

/// `manifest` with `member` added to `[workspace] members`, as a line of its own in order among
/// the agents (the entries whose folder `is_agent`), every other byte kept: comments, order
/// and layout are the team's.
fn add_member(
    manifest: &str,
    member: &str,
    is_agent: impl Fn(&str) -> bool,
) -> anyhow::Result<String> {
    let lines: Vec<&str> = manifest.split_inclusive('\n').collect();
    let mut section = "";
    let mut open = None;
    for (i, line) in lines.iter().enumerate() {
        let trimmed = line.trim();
        if trimmed.starts_with('[') && !trimmed.starts_with("[[") && trimmed.ends_with(']') {
            section = trimmed;
        } else if section == "[workspace]"
            && trimmed.starts_with("members")
            && trimmed
                .trim_end_matches(|c: char| c.is_whitespace())
                .ends_with('[')
        {
            open = Some(i);
            break;
        }
    }
    let Some(open) = open else {
        bail_help!("Cargo.toml's `members` is not a list with one entry per line under [workspace], so the new agent cannot be added to it in place"; "add \"{member}\" to `members` by hand after `cargo xtask new`, or write the list one entry per line");
    };
    let entry = |line: &str| -> Option<String> {
        let rest = line.trim().strip_prefix('"')?;
        Some(rest[..rest.find('"')?].to_string())
    };
    let mut close = None;
    let mut before = None;
    let mut last_agent = None;
    for (i, line) in lines.iter().enumerate().skip(open + 1) {
        if line.trim().starts_with(']') {
            close = Some(i);
            break;
        }
        let Some(existing) = entry(line) else {
            continue;
        };
        if is_agent(&existing) {
            if before.is_none() && existing.as_str() > member {
                before = Some(i);
            }
            last_agent = Some(i);
        }
    }
    let Some(close) = close else {
        bail_help!("Cargo.toml's `members` list has no closing `]` on a line of its own"; "add \"{member}\" to `members` by hand");
    };
    let at = before.or(last_agent.map(|i| i + 1)).unwrap_or(close);
    // The indentation of the entry next to it (the list's own when it is empty).
    let neighbour = lines
        .get(if at == close {
            at.saturating_sub(1)
        } else {
            at
        })
        .filter(|_| at > open + 1 || at != close)
        .copied()
        .unwrap_or("    ");
    let indent: String = neighbour
        .chars()
        .take_while(|c| *c == ' ' || *c == '\t')
        .collect();
    let indent = if indent.is_empty() {
        "    ".into()
    } else {
        indent
    };
    let mut text = String::with_capacity(manifest.len() + member.len() + 8);
    for (i, line) in lines.iter().enumerate() {
        if i == at {
            text.push_str(&format!("{indent}\"{member}\",\n"));
        }
        text.push_str(line);
    }
    // The list as cargo reads it must be the old one plus this entry, or the edit is wrong.
    let old = members(manifest)?;
    let new = members(&text)?;
    let mut expected = old.listed.clone();
    expected.push(member.to_string());
    expected.sort();
    let mut got = new.listed.clone();
    got.sort();
    if got != expected || new.globs != old.globs {
        bail_help!("adding \"{member}\" to Cargo.toml's `members` in place did not give the list it should"; "add \"{member}\" to `members` by hand");
    }
    Ok(text)
}

/// Writes `path` whole or not at all: a temporary file beside it, renamed over it.
fn replace_file(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    use std::io::Write as _;
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut file = tempfile::NamedTempFile::new_in(dir)
        .with_context(|| format!("cannot create a file in {}", dir.display()))?;
    file.write_all(bytes)
        .with_context(|| format!("cannot write {}", path.display()))?;
    file.persist(path)
        .with_context(|| format!("cannot replace {}", path.display()))?;
    Ok(())
}

/// Adds the new crate to Cargo.lock. CI, the Dockerfiles and `cargo xtask test` build with
/// `--locked`, which refuses a lock that lacks a member; `--workspace` changes only the
/// members' entries (every dependency the templates use is locked already), so the registry
/// is not needed: offline first, then online for a workspace whose registry cache is empty.
fn update_lock(root: &Path) -> anyhow::Result<()> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut last = String::new();
    for offline in [true, false] {
        let mut args = vec!["update", "--workspace"];
        if offline {
            args.push("--offline");
        }
        let out = duct::cmd(&cargo, &args)
            .dir(root)
            .stdout_capture()
            .stderr_capture()
            .unchecked()
            .run()
            .with_context(|| format!("cannot run `{cargo} update`"))?;
        if out.status.success() {
            return Ok(());
        }
        last = String::from_utf8_lossy(&out.stderr).trim().to_string();
    }
    bail_help!("`cargo update --workspace` failed, so Cargo.lock cannot name the new agent:\n{last}"; "nothing was created; fix what cargo says (is the registry reachable?) and run `cargo xtask new` again")
}

/// Puts things back unless the creation finished: the folder goes, the files get their old
/// bytes (an empty old file was not there).
#[derive(Default)]
struct Undo {
    done: bool,
    dir: Option<PathBuf>,
    files: Vec<(PathBuf, Vec<u8>)>,
}

impl Drop for Undo {
    fn drop(&mut self) {
        if self.done {
            return;
        }
        for (path, bytes) in &self.files {
            let restored = if bytes.is_empty() {
                std::fs::remove_file(path).or_else(|e| match e.kind() {
                    std::io::ErrorKind::NotFound => Ok(()),
                    _ => Err(e),
                })
            } else {
                std::fs::write(path, bytes)
            };
            if let Err(err) = restored {
                eprintln!("warning: could not restore {}: {err}", path.display());
            }
        }
        if let Some(dir) = &self.dir
            && let Err(err) = std::fs::remove_dir_all(dir)
        {
            eprintln!("warning: could not remove {}: {err}", dir.display());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MANIFEST: &str = r#"[workspace]
resolver = "3"
# Listed, not globbed.
members = [
    "xtask",
    "xtask/crates/*",
    "agents/agentcore-runtime",
    "agents/agent-testkit",
    "agents/assistant",
    "agents/toolbox",
    "agents/triage",
]

[workspace.package]
edition = "2024"
"#;

    fn is_agent(dir: &str) -> bool {
        ["agents/assistant", "agents/toolbox", "agents/triage"].contains(&dir)
    }

    #[test]
    fn a_member_goes_in_order_among_the_agents_and_nothing_else_moves() {
        let text = add_member(MANIFEST, "agents/demo", is_agent).expect("added");
        assert_eq!(
            text,
            MANIFEST.replace(
                "    \"agents/toolbox\",\n",
                "    \"agents/demo\",\n    \"agents/toolbox\",\n"
            )
        );
        // Before every agent: after the libraries, not among them.
        let text = add_member(MANIFEST, "agents/aaa", is_agent).expect("added");
        assert!(
            text.contains(
                "\"agents/agent-testkit\",\n    \"agents/aaa\",\n    \"agents/assistant\""
            ),
            "{text}"
        );
        let text = add_member(MANIFEST, "agents/zed", is_agent).expect("added");
        assert!(
            text.contains("\"agents/triage\",\n    \"agents/zed\",\n]"),
            "{text}"
        );
    }

    #[test]
    fn a_list_on_one_line_is_refused_not_rewritten() {
        let manifest = "[workspace]\nmembers = [\"xtask\"]\n";
        let err = add_member(manifest, "agents/demo", is_agent).unwrap_err();
        assert!(format!("{err:#}").contains("one entry per line"), "{err:#}");
    }

    #[test]
    fn every_placeholder_is_filled_and_the_blueprint_parses() {
        for protocol in [Protocol::Http, Protocol::Mcp] {
            let files = render(
                protocol,
                "web-researcher",
                "Says \"hi\" \\ back",
                DEFAULT_MODEL,
            )
            .expect("rendered");
            for (path, text) in &files {
                assert!(!text.contains("{{"), "{}: {text}", path.display());
            }
            let (_, text) = files
                .iter()
                .find(|(p, _)| p == Path::new("blueprint.yaml"))
                .expect("a blueprint");
            let bp = blueprint::parse(Path::new("blueprint.yaml"), text).expect("parses");
            assert_eq!(bp.id, "web-researcher");
            assert_eq!(bp.name, "Web researcher");
            assert_eq!(bp.description, "Says \"hi\" \\ back");
            assert_eq!(bp.runtime.protocol, protocol);
            assert_eq!(Some(bp.runtime.port), protocol.port());
            assert!(bp.execution_modes.dev && !bp.execution_modes.production);
            let (_, cargo) = files
                .iter()
                .find(|(p, _)| p == Path::new("Cargo.toml"))
                .expect("a manifest");
            let cargo: toml::Table = cargo.parse().expect("valid TOML");
            assert_eq!(
                cargo["package"]["description"].as_str(),
                Some("Says \"hi\" \\ back")
            );
        }
    }

    #[test]
    fn model_ids_keep_to_what_bedrock_names_are_made_of() {
        assert!(
            model_id(Some(
                "arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.x-v1:0"
            ))
            .is_ok()
        );
        for bad in ["", "a b", "x\"y", "model: {}"] {
            assert!(model_id(Some(bad)).is_err(), "{bad}");
        }
    }
}
