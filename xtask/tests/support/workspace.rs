//! A scratch copy of this workspace for tests that change files (break a blueprint, edit an
//! environment) or need a clean target dir, and a way to run the real xtask binary on it.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The workspace this test binary was built from.
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask sits in the workspace root")
        .to_path_buf()
}

pub struct Scratch {
    pub dir: tempfile::TempDir,
}

impl Scratch {
    /// Copies the workspace's tracked files (as `git ls-files` lists them, with the working
    /// tree's content) into a new temporary folder.
    pub fn copy_of_repo() -> Scratch {
        let root = repo_root();
        let dir = tempfile::tempdir().expect("tempdir");
        let listed = Command::new("git")
            .args([
                "ls-files",
                "-z",
                "--cached",
                "--others",
                "--exclude-standard",
            ])
            .current_dir(&root)
            .output()
            .expect("git ls-files");
        for rel in listed.stdout.split(|b| *b == 0).filter(|s| !s.is_empty()) {
            let rel = Path::new(std::str::from_utf8(rel).expect("utf-8 path"));
            let from = root.join(rel);
            if !from.is_file() {
                continue; // deleted in the working tree
            }
            let to = dir.path().join(rel);
            std::fs::create_dir_all(to.parent().expect("parent")).expect("mkdir");
            std::fs::copy(&from, &to).expect("copy file");
        }
        Scratch { dir }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn file(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    pub fn write(&self, rel: &str, text: &str) {
        let path = self.file(rel);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(path, text).expect("write file");
    }

    pub fn read(&self, rel: &str) -> String {
        std::fs::read_to_string(self.file(rel)).expect("read file")
    }

    /// Replaces the first `from` in file `rel` with `to`, failing if `from` is not there.
    pub fn edit(&self, rel: &str, from: &str, to: &str) {
        let text = self.read(rel);
        assert!(text.contains(from), "`{from}` is not in {rel}:\n{text}");
        self.write(rel, &text.replacen(from, to, 1));
    }

    /// `cargo xtask -C <scratch> ARGS`, run as the built binary.
    pub fn xtask(&self) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_xtask"));
        cmd.arg("-C").arg(self.path());
        cmd
    }
}

/// Runs a command and returns its output; stdout and stderr together, for assertions.
pub fn run(cmd: &mut Command) -> (Output, String) {
    let out = cmd.output().expect("run command");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out, text)
}

/// Runs `cmd` and expects a failure, without a panic, whose output shows every one of
/// `needles`; gives the output.
pub fn fails_with(cmd: &mut Command, needles: &[&str]) -> String {
    let (out, text) = run(cmd);
    assert!(!out.status.success(), "passed but should fail:\n{text}");
    assert!(!text.contains("panicked"), "panicked:\n{text}");
    for needle in needles {
        assert!(
            text.contains(needle),
            "`{needle}` is not in the output:\n{text}"
        );
    }
    text
}
