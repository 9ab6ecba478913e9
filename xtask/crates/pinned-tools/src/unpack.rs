//! Takes files out of a wheel (a zip) or a Debian package (an `ar` holding `data.tar.xz`),
//! without pip, dpkg or root: the tools are run from where they are unpacked.

use std::path::Path;

use anyhow::{Context as _, bail};

/// Unpacks the members of the wheel at `archive` whose path starts with one of `prefixes`
/// into `dest`, keeping their relative paths and executable bits.
pub fn wheel(archive: &Path, prefixes: &[&str], dest: &Path) -> anyhow::Result<usize> {
    let file = std::fs::File::open(archive)
        .with_context(|| format!("cannot open {}", archive.display()))?;
    let mut zip = zip::ZipArchive::new(std::io::BufReader::new(file))
        .with_context(|| format!("{} is not a wheel (zip)", archive.display()))?;
    let mut count = 0;
    for i in 0..zip.len() {
        let mut member = zip.by_index(i)?;
        let Some(rel) = member.enclosed_name() else {
            bail!("{} holds an unsafe path", archive.display());
        };
        let name = rel.to_string_lossy().into_owned();
        if member.is_dir() || !prefixes.iter().any(|p| name.starts_with(p)) {
            continue;
        }
        let to = dest.join(&rel);
        if let Some(parent) = to.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("cannot create {}", parent.display()))?;
        }
        let mut out = std::fs::File::create(&to)
            .with_context(|| format!("cannot create {}", to.display()))?;
        std::io::copy(&mut member, &mut out).with_context(|| format!("cannot unpack {name}"))?;
        if member.unix_mode().is_some_and(|m| m & 0o111 != 0) {
            make_executable(&to)?;
        }
        count += 1;
    }
    Ok(count)
}

/// Unpacks the members of the Debian package at `archive` whose path (as `usr/bin/x`, no
/// leading `./`) starts with one of `prefixes` into `dest`, symlinks included.
pub fn deb(archive: &Path, prefixes: &[&str], dest: &Path) -> anyhow::Result<usize> {
    let file = std::fs::File::open(archive)
        .with_context(|| format!("cannot open {}", archive.display()))?;
    let mut ar = ar::Archive::new(std::io::BufReader::new(file));
    while let Some(entry) = ar.next_entry() {
        let entry =
            entry.with_context(|| format!("{} is not a Debian package", archive.display()))?;
        let name = String::from_utf8_lossy(entry.header().identifier()).into_owned();
        if !name.starts_with("data.tar") {
            continue;
        }
        let data: Box<dyn std::io::Read> = match name.as_str() {
            "data.tar.xz" => Box::new(lzma_rust2::XzReader::new(entry, false)),
            "data.tar" => Box::new(entry),
            other => bail!(
                "{} holds {other}; only xz-compressed packages are supported",
                archive.display()
            ),
        };
        return untar(data, prefixes, dest)
            .with_context(|| format!("cannot unpack {}", archive.display()));
    }
    bail!("{} has no data.tar member", archive.display())
}

fn untar(data: impl std::io::Read, prefixes: &[&str], dest: &Path) -> anyhow::Result<usize> {
    let mut tar = tar::Archive::new(data);
    tar.set_preserve_permissions(true);
    let mut count = 0;
    for entry in tar.entries()? {
        let mut entry = entry?;
        let path = entry.path()?.into_owned();
        let rel = path.strip_prefix(".").unwrap_or(&path);
        let rel_text = rel.to_string_lossy();
        if entry.header().entry_type().is_dir() || !prefixes.iter().any(|p| rel_text.starts_with(p))
        {
            continue;
        }
        let to = dest.join(rel);
        if let Some(parent) = to.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("cannot create {}", parent.display()))?;
        }
        // `unpack` refuses to write outside `dest` only through `unpack_in`; the paths here
        // were already checked to lie under a wanted prefix.
        anyhow::ensure!(
            !rel.components()
                .any(|c| matches!(c, std::path::Component::ParentDir)),
            "a member of the package escapes its root: {}",
            rel.display()
        );
        entry
            .unpack(&to)
            .with_context(|| format!("cannot unpack {}", rel.display()))?;
        count += 1;
    }
    // Drain the rest so that an xz stream with a bad checksum is noticed.
    std::io::copy(&mut tar.into_inner(), &mut std::io::sink())?;
    Ok(count)
}

#[cfg(unix)]
pub fn make_executable(path: &Path) -> anyhow::Result<()> {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755))
        .with_context(|| format!("cannot make {} executable", path.display()))
}

#[cfg(not(unix))]
pub fn make_executable(_: &Path) -> anyhow::Result<()> {
    Ok(())
}
