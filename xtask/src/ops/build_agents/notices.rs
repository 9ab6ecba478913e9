//! The licence notices an image carries: the crates linked into the agent with their licence
//! texts, and the licence of the CA bundle.
//!
//! They go where Debian and distroless images keep theirs, one file per component at
//! `/usr/share/doc/<component>/copyright`: the agent is the component `<agent-id>`, the CA
//! bundle is `ca-certificates` (the Debian package that ships the same file at the same path,
//! `/etc/ssl/certs/ca-certificates.crt`). The images already follow distroless for the rest
//! (user 65532, the CA path), so whoever looks for licences in a container finds them where
//! they look first.
//!
//! The bytes depend only on Cargo.lock and the crates' own files: crates sorted by name and
//! version, texts in a fixed order, no paths of this machine, no dates.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use anyhow::Context as _;

use crate::error::HelpExt as _;

use super::crates::{Crate, Program};

/// Where an agent's third-party notices go in its image.
pub fn path(agent_id: &str) -> String {
    format!("usr/share/doc/{agent_id}/copyright")
}

/// Where the CA bundle's licence goes.
pub const CA_CERTIFICATES_PATH: &str = "usr/share/doc/ca-certificates/copyright";

/// File names of licence texts, by prefix, case-insensitively (`LICENSE-MIT`, `COPYING`,
/// `license.txt`, a `LICENSES/` folder…): what crates ship beside their Cargo.toml.
const TEXT_PREFIXES: &[&str] = &[
    "LICENSE",
    "LICENCE",
    "COPYING",
    "NOTICE",
    "COPYRIGHT",
    "UNLICENSE",
];

/// One licence text of a crate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Text {
    /// Relative to the crate's folder, `/`-separated.
    pub file: String,
    pub body: String,
}

/// The notices of the program at `program_path` in the image (e.g. `/usr/local/bin/x`).
pub fn third_party(program: &Program, program_path: &str) -> anyhow::Result<Vec<u8>> {
    let texts = program
        .crates
        .iter()
        .map(texts_of)
        .collect::<anyhow::Result<Vec<_>>>()?;
    Ok(render(&program.crates, &texts, program_path).into_bytes())
}

/// The licence of the CA bundle, `webpki` being the webpki-root-certs crate the bundle is
/// made from (`crate::ops::build_agents::certs::ca_bundle`): its `LICENSE`, under a line that says what it covers.
pub fn ca_certificates(webpki: &Crate) -> anyhow::Result<Vec<u8>> {
    let path = webpki.dir.join("LICENSE");
    let text = std::fs::read(&path)
        .with_context(|| {
            format!(
                "cannot read the licence of the CA bundle, {}",
                path.display()
            )
        })
        .help("`cargo fetch` restores the crate's files")?;
    let mut out = format!(
        "/{}: Mozilla's root certificates (the Mozilla CA Certificate Program), from the \
         Rust crate {}{}, licensed {}:\n\n",
        crate::ops::build_agents::certs::CA_BUNDLE_PATH,
        webpki.label(),
        webpki
            .repository
            .as_deref()
            .map(|r| format!(" ({r})"))
            .unwrap_or_default(),
        webpki.license.as_deref().unwrap_or("as follows"),
    );
    out.push_str(&normalize(&text));
    Ok(out.into_bytes())
}

/// The licence texts in a crate's folder, by file name: top-level files (and the files of a
/// top-level folder such as `LICENSES/`) named like [`TEXT_PREFIXES`], and `license-file`.
pub fn texts_of(krate: &Crate) -> anyhow::Result<Vec<Text>> {
    // A crate's files come from cargo's registry cache: `cargo fetch` restores them.
    let cannot = |what: &Path| {
        format!(
            "cannot read the licence files of crate {} ({}); `cargo fetch` restores them",
            krate.label(),
            what.display()
        )
    };
    let mut files: BTreeMap<String, std::path::PathBuf> = BTreeMap::new();
    let entries = std::fs::read_dir(&krate.dir).with_context(|| cannot(&krate.dir))?;
    for entry in entries {
        let entry = entry.with_context(|| cannot(&krate.dir))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if !is_licence_name(&name) {
            continue;
        }
        // Through symlinks: a workspace crate's LICENSE is often a link to the repository's.
        let kind = std::fs::metadata(entry.path()).with_context(|| cannot(&entry.path()))?;
        if kind.is_file() {
            files.insert(name, entry.path());
        } else if kind.is_dir() {
            for inner in std::fs::read_dir(entry.path()).with_context(|| cannot(&entry.path()))? {
                let inner = inner.with_context(|| cannot(&entry.path()))?;
                if std::fs::metadata(inner.path()).is_ok_and(|m| m.is_file()) {
                    let inner_name = inner.file_name().to_string_lossy().into_owned();
                    files.insert(format!("{name}/{inner_name}"), inner.path());
                }
            }
        }
    }
    if let Some(file) = &krate.license_file {
        files
            .entry(file.clone())
            .or_insert_with(|| krate.dir.join(file));
    }
    files
        .into_iter()
        .map(|(file, path)| {
            let bytes = std::fs::read(&path).with_context(|| cannot(&path))?;
            Ok(Text {
                file,
                body: normalize(&bytes),
            })
        })
        .collect()
}

fn is_licence_name(name: &str) -> bool {
    let upper = name.to_ascii_uppercase();
    TEXT_PREFIXES.iter().any(|p| upper.starts_with(p))
}

/// Line ends as `\n`, no trailing blank lines: texts that differ only there are one text.
fn normalize(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes).replace("\r\n", "\n");
    format!("{}\n", text.trim_end())
}

/// The notices file: every crate with its licence and repository, then each distinct text
/// once, numbered in the order the crates first refer to it.
fn render(crates: &[Crate], texts: &[Vec<Text>], program_path: &str) -> String {
    // Distinct bodies, numbered by first use; for each, who ships it under which file name.
    let mut numbers: BTreeMap<&str, usize> = BTreeMap::new();
    let mut bodies: Vec<(&str, Vec<String>)> = Vec::new();
    let mut refs: Vec<Vec<String>> = Vec::new();
    for (krate, own) in crates.iter().zip(texts) {
        let mut mine = Vec::new();
        for text in own {
            let number = *numbers.entry(&text.body).or_insert_with(|| {
                bodies.push((&text.body, Vec::new()));
                bodies.len()
            });
            bodies[number - 1]
                .1
                .push(format!("{} {}", krate.label(), text.file));
            mine.push(format!("[{number}] {}", text.file));
        }
        refs.push(mine);
    }

    let mut out = String::new();
    let _ = write!(
        out,
        "Third-party software in {program_path}\n\n\
         The program is built from the Rust crates below, linked statically: the normal\n\
         dependencies of its package, compiled for {target}.\n\
         Proc macros and build-time crates are not part of it. For each crate: the licence\n\
         it declares (an SPDX expression) and its repository. The licence texts the crates\n\
         ship follow, each distinct text once, with the crates that ship it.\n\n\
         {} crates, {} distinct licence texts.\n\n\n\
         Crates\n======\n",
        crates.len(),
        bodies.len(),
        target = crate::toolchain::TARGET,
    );
    for (krate, mine) in crates.iter().zip(&refs) {
        let _ = write!(out, "\n{}\n", krate.label());
        match (&krate.license, &krate.license_file) {
            (Some(license), _) => {
                let _ = writeln!(out, "  license:      {license}");
            }
            (None, Some(_)) => {}
            (None, None) => out.push_str("  license:      not declared\n"),
        }
        if let Some(file) = &krate.license_file {
            let _ = writeln!(out, "  license-file: {file}");
        }
        let _ = writeln!(
            out,
            "  repository:   {}",
            krate.repository.as_deref().unwrap_or("not declared")
        );
        let _ = writeln!(
            out,
            "  texts:        {}",
            if mine.is_empty() {
                "none in the crate".to_string()
            } else {
                mine.join(", ")
            }
        );
    }
    out.push_str("\n\nLicence texts\n=============\n");
    for (number, (body, shipped_by)) in bodies.iter().enumerate() {
        let _ = write!(
            out,
            "\n--- [{}], shipped by:\n{}\n\n{body}",
            number + 1,
            shipped_by
                .iter()
                .map(|s| format!("    {s}"))
                .collect::<Vec<_>>()
                .join("\n")
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::build_agents::crates::Origin;

    fn krate(name: &str, dir: &Path) -> Crate {
        Crate {
            name: name.into(),
            version: "1.0.0".into(),
            license: Some("MIT OR Apache-2.0".into()),
            license_file: None,
            repository: Some(format!("https://example.com/{name}")),
            origin: Origin::CratesIo,
            dir: dir.to_path_buf(),
            checksum: None,
        }
    }

    #[test]
    fn finds_licence_files_by_name_in_any_case_and_license_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        for (name, text) in [
            ("LICENSE-MIT", "mit\r\n\r\n"),
            ("license.txt", "lower"),
            ("Copying", "copying"),
            ("NOTICE", "notice"),
            ("README.md", "not a licence"),
            ("LICENSES/Apache-2.0.txt", "apache"),
            ("legal/terms.txt", "license-file"),
            ("../LICENSE-APACHE", "linked"),
        ] {
            let path = dir.path().join("crate").join(name);
            std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
            std::fs::write(path, text).expect("write");
        }
        #[cfg(unix)]
        std::os::unix::fs::symlink("../LICENSE-APACHE", dir.path().join("crate/LICENSE-APACHE"))
            .expect("symlink");
        let dir = dir.path().join("crate");
        let mut krate = krate("a", &dir);
        krate.license_file = Some("legal/terms.txt".into());
        let texts = texts_of(&krate).expect("texts");
        let files: Vec<&str> = texts.iter().map(|t| t.file.as_str()).collect();
        let mut expected = vec![
            "Copying",
            "LICENSE-APACHE",
            "LICENSE-MIT",
            "LICENSES/Apache-2.0.txt",
            "NOTICE",
            "legal/terms.txt",
            "license.txt",
        ];
        if cfg!(not(unix)) {
            expected.remove(1);
        }
        assert_eq!(files, expected);
        let mit = texts.iter().find(|t| t.file == "LICENSE-MIT").expect("MIT");
        assert_eq!(
            mit.body, "mit\n",
            "line ends and trailing blank lines normalised"
        );
        let linked = texts.iter().find(|t| t.file == "LICENSE-APACHE");
        assert!(cfg!(not(unix)) || linked.is_some_and(|t| t.body == "linked\n"));
    }

    #[test]
    fn each_distinct_text_is_printed_once_with_every_crate_that_ships_it() {
        let here = Path::new("/nowhere");
        let mut b = krate("b", here);
        b.license = None;
        b.license_file = Some("COPYING".into());
        let mut c = krate("c", here);
        c.license = None;
        c.repository = None;
        let crates = [krate("a", here), b, c];
        let text = |file: &str, body: &str| Text {
            file: file.into(),
            body: body.into(),
        };
        let texts = [
            vec![
                text("LICENSE-APACHE", "Apache text\n"),
                text("LICENSE-MIT", "MIT a\n"),
            ],
            vec![text("COPYING", "Apache text\n")],
            vec![],
        ];
        let out = render(&crates, &texts, "/usr/local/bin/app");
        assert!(
            out.starts_with("Third-party software in /usr/local/bin/app\n"),
            "{out}"
        );
        assert!(out.contains("3 crates, 2 distinct licence texts."), "{out}");
        assert_eq!(out.matches("Apache text").count(), 1, "{out}");
        assert!(
            out.contains("--- [1], shipped by:\n    a 1.0.0 LICENSE-APACHE\n    b 1.0.0 COPYING\n"),
            "{out}"
        );
        assert!(
            out.contains("a 1.0.0\n  license:      MIT OR Apache-2.0\n"),
            "{out}"
        );
        assert!(out.contains("  texts:        [1] LICENSE-APACHE, [2] LICENSE-MIT\n"));
        assert!(out.contains("b 1.0.0\n  license-file: COPYING\n"), "{out}");
        assert!(
            out.contains(
                "c 1.0.0\n  license:      not declared\n  repository:   not declared\n  \
                 texts:        none in the crate\n"
            ),
            "{out}"
        );
        assert_eq!(out, render(&crates, &texts, "/usr/local/bin/app"));
    }

    #[test]
    fn the_ca_licence_says_what_it_covers() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("LICENSE"), "# CDLA\n").expect("write");
        let mut webpki = krate("webpki-root-certs", dir.path());
        webpki.license = Some("CDLA-Permissive-2.0".into());
        let text = String::from_utf8(ca_certificates(&webpki).expect("licence")).expect("utf-8");
        let (header, body) = text.split_once("\n\n").expect("header line");
        assert!(!header.contains('\n'), "one line: {header}");
        assert!(header.starts_with("/etc/ssl/certs/ca-certificates.crt: Mozilla's"));
        assert!(header.contains("webpki-root-certs 1.0.0"), "{header}");
        assert!(
            header.ends_with("licensed CDLA-Permissive-2.0:"),
            "{header}"
        );
        assert_eq!(body, "# CDLA\n");
    }
}
