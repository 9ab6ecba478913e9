//! Editing a blueprint in place the way a person would: change one value, keep every comment,
//! blank line and the order of keys. (Re-serialising the YAML would lose all of that.)

use std::path::Path;

use anyhow::{Context as _, bail};

use super::locate::Locations;
use crate::Env;

/// Sets `execution_modes.<env>: true`. Returns whether the file changed.
pub fn enable(path: &Path, env: Env) -> anyhow::Result<bool> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let edited = enable_in(&text, env)
        .with_context(|| format!("cannot enable {env} in {}", path.display()))?;
    let Some(edited) = edited else {
        return Ok(false);
    };
    super::parse(path, &edited)
        .map_err(|d| anyhow::anyhow!("the edit would break the file: {d}"))?;
    std::fs::write(path, edited).with_context(|| format!("cannot write {}", path.display()))?;
    Ok(true)
}

/// The text with `execution_modes.<env>` set to true, or `None` when it already is.
pub fn enable_in(text: &str, env: Env) -> anyhow::Result<Option<String>> {
    let loc = Locations::of(text);
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    let path = format!("execution_modes.{env}");
    if let Some(pos) = loc
        .value(&path)
        .filter(|_| loc.key(&path) != loc.value(&path))
    {
        // Replace the scalar where it stands; anything after it (a comment) stays.
        let line = lines[pos.line - 1];
        let start = line
            .char_indices()
            .nth(pos.column - 1)
            .map_or(line.len(), |(i, _)| i);
        let rest = &line[start..];
        let end = rest
            .find(|c: char| c.is_whitespace() || c == '#' || c == ',' || c == '}')
            .unwrap_or(rest.len());
        if &rest[..end] == "true" {
            return Ok(None);
        }
        let mut out: String = lines[..pos.line - 1].concat();
        out.push_str(&line[..start]);
        out.push_str("true");
        out.push_str(&rest[end..]);
        out.push_str(&lines[pos.line..].concat());
        return Ok(Some(out));
    }
    match loc.key("execution_modes") {
        Some(key) => {
            let line = lines[key.line - 1];
            if !line.trim_end().ends_with(':') {
                bail!(
                    "`execution_modes` is written in flow style on line {}; write `{env}: true` \
                     under it by hand",
                    key.line
                );
            }
            // Indent like its first child, or two spaces deeper than the key.
            let indent = ["dev", "staging", "production"]
                .iter()
                .filter_map(|e| loc.key(&format!("execution_modes.{e}")))
                .map(|p| p.column - 1)
                .min()
                .unwrap_or(key.column - 1 + 2);
            let mut out: String = lines[..key.line].concat();
            if !out.ends_with('\n') {
                out.push('\n');
            }
            out.push_str(&format!("{}{env}: true\n", " ".repeat(indent)));
            out.push_str(&lines[key.line..].concat());
            Ok(Some(out))
        }
        None => {
            let mut out = text.to_string();
            if !out.ends_with('\n') {
                out.push('\n');
            }
            out.push_str(&format!("execution_modes:\n  {env}: true\n"));
            Ok(Some(out))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flips_the_value_and_keeps_comments() {
        let text = "id: a\nexecution_modes:\n  dev: true\n  staging: false   # not yet\n";
        let out = enable_in(text, Env::Staging).unwrap().unwrap();
        assert_eq!(
            out,
            "id: a\nexecution_modes:\n  dev: true\n  staging: true   # not yet\n"
        );
        assert_eq!(enable_in(&out, Env::Staging).unwrap(), None);
    }

    #[test]
    fn adds_the_key_under_the_existing_block() {
        let text = "# top\nexecution_modes:\n    dev: true\ntags: {}\n";
        let out = enable_in(text, Env::Staging).unwrap().unwrap();
        assert_eq!(
            out,
            "# top\nexecution_modes:\n    staging: true\n    dev: true\ntags: {}\n"
        );
    }

    #[test]
    fn adds_the_block_when_missing() {
        let out = enable_in("id: a # x\n", Env::Staging).unwrap().unwrap();
        assert_eq!(out, "id: a # x\nexecution_modes:\n  staging: true\n");
    }
}
