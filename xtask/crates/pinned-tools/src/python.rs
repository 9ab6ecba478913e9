//! The Python tools (moto, the AWS CLI, spdx-tools, the official AgentCore SDK): a hash-locked
//! `pip install --target` of `python/requirements.txt` (beside this crate) into a folder named
//! after that file's hash, run with the python3 that installed them and nothing from the user's
//! site-packages. `python3-pinned` is that interpreter with those packages importable, for the
//! tests' Python programs (the SDK's reference server).

use std::path::{Path, PathBuf};

use anyhow::Context as _;

use super::{Log, Tool, Tools, quote, write_script};

/// The packages' console scripts that get a command in `bin/`.
pub const SCRIPTS: [&str; 3] = ["moto_server", "aws", "pyspdxtools"];
/// The command that runs python3 with the pinned packages importable.
pub const INTERPRETER: &str = "python3-pinned";

/// The lock file, relative to the workspace root.
pub const REQUIREMENTS: &str = "xtask/crates/pinned-tools/python/requirements.txt";

fn requirements(tools: &Tools) -> PathBuf {
    tools.root.join(REQUIREMENTS)
}

/// `pkgs/python-<sha256 of requirements.txt>`: a new lock file is a new install.
fn install_dir(tools: &Tools) -> anyhow::Result<PathBuf> {
    let path = requirements(tools);
    let text = std::fs::read(&path).with_context(|| format!("cannot read {}", path.display()))?;
    let digest = super::fetch::sha256_hex(&text);
    Ok(tools
        .dir
        .join("pkgs")
        .join(format!("python-{}", &digest[..12])))
}

/// Installed, and the commands in `bin/` run this install: another checkout (or commit) with
/// another lock file shares `bin/` and may have pointed them at its own.
pub fn is_installed(tools: &Tools) -> bool {
    let Ok(dir) = install_dir(tools) else {
        return false;
    };
    let ours = quote(&dir);
    dir.join(super::INSTALLED).is_file()
        && Tool::Python.commands().iter().all(|c| {
            std::fs::read_to_string(tools.bin_dir().join(c)).is_ok_and(|text| text.contains(&ours))
        })
}

pub fn install(tools: &Tools, out: &dyn Log) -> anyhow::Result<()> {
    let dir = install_dir(tools)?;
    let python = python3()?;
    if !dir.join(super::INSTALLED).is_file() {
        if dir.exists() {
            std::fs::remove_dir_all(&dir)
                .with_context(|| format!("cannot clear {}", dir.display()))?;
        }
        let requirements = requirements(tools);
        let args: Vec<std::ffi::OsString> = vec![
            "-m".into(),
            "pip".into(),
            "install".into(),
            "--quiet".into(),
            "--disable-pip-version-check".into(),
            "--no-input".into(),
            "--root-user-action=ignore".into(),
            "--require-hashes".into(),
            "--no-deps".into(),
            "--target".into(),
            dir.clone().into(),
            "-r".into(),
            requirements.into(),
        ];
        out.verbose(&format!("$ {} {}", python.display(), shell_join(&args)));
        duct::cmd(&python, &args)
            .stdout_to_stderr()
            .run()
            .with_context(|| {
                format!(
                    "`pip install -r {REQUIREMENTS}` failed (its output is above)\n  \
                     help: python3 needs pip (`python3 -m ensurepip --user`, or Debian's \
                     python3-pip) and access to PyPI"
                )
            })?;
        std::fs::write(dir.join(super::INSTALLED), "")
            .with_context(|| format!("cannot write {}", dir.display()))?;
    }
    let env = format!("PYTHONPATH={} PYTHONNOUSERSITE=1", quote(&dir));
    write_script(
        &tools.bin_dir().join(INTERPRETER),
        &format!("{env} exec {} -s \"$@\"", quote(&python)),
    )?;
    for command in SCRIPTS {
        write_script(
            &tools.bin_dir().join(command),
            &format!(
                "{env} exec {} -s {} \"$@\"",
                quote(&python),
                quote(&dir.join("bin").join(command))
            ),
        )?;
    }
    Ok(())
}

/// The interpreter behind `python3` (a pyenv or venv shim resolved), so that the commands keep
/// working with a PATH that has no shims on it.
pub fn python3() -> anyhow::Result<PathBuf> {
    let printed = duct::cmd!("python3", "-c", "import sys; print(sys.executable)")
        .stderr_null()
        .read()
        .context(
            "cannot run python3\n  help: the README asks for python3 with pip; install them \
             (Debian: `apt-get install python3-pip`)",
        )?;
    Ok(PathBuf::from(printed.trim()))
}

fn shell_join(args: &[std::ffi::OsString]) -> String {
    args.iter()
        .map(|a| quote(Path::new(a)))
        .collect::<Vec<_>>()
        .join(" ")
}
