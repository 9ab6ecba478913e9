//! Where a build comes from, for the image's timestamps and `org.opencontainers.image.*`
//! annotations: all of it from the source, nothing from the clock or the machine, so the same
//! commit gives the same image digest anywhere.

use std::path::Path;

use anyhow::Context as _;

pub struct Provenance {
    /// Unix seconds used for every timestamp in the image.
    pub epoch: u64,
    /// Where `epoch` came from, for the progress line.
    pub epoch_source: &'static str,
    /// The commit (`<sha>`, `-dirty` when the tree differs from it: `crate::revision`), or
    /// `unknown`.
    pub revision: String,
    /// The repository URL (`[workspace.package] repository` in Cargo.toml).
    pub source: Option<String>,
    pub warnings: Vec<String>,
}

/// `SOURCE_DATE_EPOCH` (the reproducible-builds.org convention) if set, else the time of the
/// commit checked out, else 0 with a warning (a copy of the tree with no git history).
pub fn read(root: &Path) -> anyhow::Result<Provenance> {
    let mut warnings = Vec::new();
    let revision = crate::revision::current_at(root);
    let (epoch, epoch_source) = match std::env::var("SOURCE_DATE_EPOCH") {
        Ok(text) => match text.trim().parse::<u64>() {
            Ok(secs) => (secs, "SOURCE_DATE_EPOCH"),
            Err(_) => {
                bail_help!("SOURCE_DATE_EPOCH=`{text}` is not a number of seconds since 1970"; "unset it to use the commit time, or set it to e.g. `$(git log -1 --format=%ct)`")
            }
        },
        Err(_) => match revision.as_ref().and_then(|r| r.commit_time) {
            Some(secs) => (secs, "commit time"),
            None => {
                warnings.push(
                    "not a git checkout and SOURCE_DATE_EPOCH is not set: image timestamps are \
                     1970-01-01"
                        .to_string(),
                );
                (0, "none")
            }
        },
    };
    Ok(Provenance {
        epoch,
        epoch_source,
        revision: revision.map_or_else(|| "unknown".to_string(), |r| r.tag()),
        source: repository_url(root)?,
        warnings,
    })
}

fn repository_url(root: &Path) -> anyhow::Result<Option<String>> {
    let path = root.join("Cargo.toml");
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("cannot read {}", path.display()))?;
    let manifest: toml::Table =
        toml::from_str(&text).with_context(|| format!("{} is not valid TOML", path.display()))?;
    Ok(manifest
        .get("workspace")
        .and_then(|w| w.get("package"))
        .and_then(|p| p.get("repository"))
        .and_then(|r| r.as_str())
        .map(str::to_string))
}
