//! Running Terraform on one root module ("stack"): init (only when needed), plan to a file,
//! apply exactly that plan, read outputs; and Ctrl-C handling that lets Terraform release its
//! state lock.
//!
//! Owns: the terraform command lines, the work folder of a stack (its own `TF_DATA_DIR`, plan
//! file and inputs file, so that switching environments never re-initialises a shared
//! `.terraform/` and an unchanged stack is not initialised again), and turning Terraform's
//! output into values and errors. Knows nothing of environments, phases or AWS: the caller
//! says where the state lives (backend settings and key) and which variable files apply.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};
use serde::Serialize;
use sha2::{Digest, Sha256};

mod signals;

/// How long a locking operation waits for a state lock another run holds: long enough for a
/// concurrent plan elsewhere or a run that is just finishing, short of hanging a pipeline.
pub const LOCK_TIMEOUT: &str = "-lock-timeout=120s";

/// Where a command's progress goes: the caller's verbose channel (`-v`).
pub trait Log {
    fn verbose(&self, line: &str);
}

/// The terraform program: `TERRAFORM` if set, else `terraform` on PATH.
pub fn program() -> std::ffi::OsString {
    std::env::var_os("TERRAFORM").unwrap_or_else(|| "terraform".into())
}

/// Terraform's version (`terraform version -json`), or why it cannot be run.
pub fn version() -> anyhow::Result<semver::Version> {
    let text = duct::cmd!(program(), "version", "-json")
        .stderr_null()
        .read()
        .map_err(|err| {
            let not_found = err.kind() == std::io::ErrorKind::NotFound;
            anyhow::anyhow!(
                "{}: {err}",
                if not_found {
                    "terraform is not installed (not on PATH, and TERRAFORM is not set)"
                } else {
                    "cannot run `terraform version`"
                }
            )
        })?;
    let value: serde_json::Value =
        serde_json::from_str(&text).context("`terraform version -json` did not print JSON")?;
    let version = value["terraform_version"]
        .as_str()
        .context("`terraform version -json` has no terraform_version")?;
    semver::Version::parse(version).with_context(|| format!("unexpected version `{version}`"))
}

pub use signals::{catch_interrupts, interrupted};

/// One Terraform root module with one state: where it is, where its state lives, and the
/// variable file it is planned with.
pub struct Stack {
    pub name: String,
    /// The root module.
    pub dir: PathBuf,
    /// Names the stack in messages, e.g. the environment (`dev`).
    pub label: String,
    /// This stack's own folder: data dir, plan file, inputs file.
    work: PathBuf,
    /// Backend settings (`-backend-config=FILE`).
    backend_config: PathBuf,
    /// The state's key in the backend (S3 and the like), if it takes one.
    state_key: Option<String>,
    /// The variable file (`-var-file=FILE`); earlier stacks' outputs come in a second one.
    var_file: PathBuf,
}

/// What a plan would do.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct PlanSummary {
    pub add: usize,
    pub change: usize,
    pub destroy: usize,
    /// Resource addresses that would be destroyed (including replaced).
    pub destroyed: Vec<String>,
    /// Only outputs would change.
    pub outputs_only: bool,
}

impl PlanSummary {
    pub fn is_empty(&self) -> bool {
        self.add == 0 && self.change == 0 && self.destroy == 0 && !self.outputs_only
    }
}

impl std::fmt::Display for PlanSummary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.is_empty() {
            return f.write_str("no changes");
        }
        write!(
            f,
            "{} to add, {} to change, {} to destroy",
            self.add, self.change, self.destroy
        )?;
        if self.outputs_only && self.add + self.change + self.destroy == 0 {
            f.write_str(" (outputs only)")?;
        }
        Ok(())
    }
}

/// What a plan run found.
pub enum Planned {
    NoChanges,
    Changes(PlanSummary),
}

/// How to build a [`Stack`].
pub struct StackSpec {
    pub name: String,
    pub dir: PathBuf,
    pub label: String,
    pub work: PathBuf,
    pub backend_config: PathBuf,
    pub state_key: Option<String>,
    pub var_file: PathBuf,
}

impl Stack {
    pub fn new(spec: StackSpec) -> Stack {
        Stack {
            name: spec.name,
            dir: spec.dir,
            label: spec.label,
            work: spec.work,
            backend_config: spec.backend_config,
            state_key: spec.state_key,
            var_file: spec.var_file,
        }
    }

    pub fn plan_file(&self) -> PathBuf {
        self.work.join("plan.tfplan")
    }

    fn inputs_file(&self) -> PathBuf {
        self.work.join("inputs.tfvars.json")
    }

    fn data_dir(&self) -> PathBuf {
        self.work.join("data")
    }

    pub fn state_key(&self) -> Option<&str> {
        self.state_key.as_deref()
    }

    fn terraform(&self, args: &[String]) -> duct::Expression {
        duct::cmd(program(), args)
            .dir(&self.dir)
            .env("TF_DATA_DIR", self.data_dir())
            .env("TF_IN_AUTOMATION", "1")
            .env("TF_INPUT", "0")
    }

    /// The command line as a person would type it, for `--dry-run` and `-v`.
    pub fn show(&self, args: &[String]) -> String {
        format!(
            "(cd {} && TF_DATA_DIR={} terraform {})",
            self.dir.display(),
            self.data_dir().display(),
            args.join(" ")
        )
    }

    pub fn init_args(&self) -> Vec<String> {
        let mut args = vec![
            "init".into(),
            "-input=false".into(),
            "-no-color".into(),
            "-reconfigure".into(),
            format!("-backend-config={}", self.backend_config.display()),
        ];
        if let Some(key) = &self.state_key {
            args.push(format!("-backend-config=key={key}"));
        }
        args
    }

    /// `lock`: take the state lock (a plan that will be applied), or read the state without
    /// it (a drift check, which must never stand in a running deploy's way).
    pub fn plan_args(&self, destroy: bool, lock: bool) -> Vec<String> {
        let mut args = vec![
            "plan".into(),
            "-input=false".into(),
            "-no-color".into(),
            "-detailed-exitcode".into(),
            if lock { LOCK_TIMEOUT } else { "-lock=false" }.into(),
            format!("-out={}", self.plan_file().display()),
            format!("-var-file={}", self.var_file.display()),
            format!("-var-file={}", self.inputs_file().display()),
        ];
        if destroy {
            args.push("-destroy".into());
        }
        args
    }

    pub fn apply_args(&self) -> Vec<String> {
        vec![
            "apply".into(),
            "-input=false".into(),
            "-no-color".into(),
            LOCK_TIMEOUT.into(),
            self.plan_file().display().to_string(),
        ]
    }

    /// `terraform init`, unless this data dir was initialised with the same backend settings
    /// and the same configuration files.
    pub fn init(&self, out: &dyn Log) -> anyhow::Result<bool> {
        std::fs::create_dir_all(&self.work)
            .with_context(|| format!("cannot create {}", self.work.display()))?;
        let stamp_file = self.work.join("init.stamp");
        let stamp = self.init_stamp()?;
        if std::fs::read_to_string(&stamp_file).ok().as_deref() == Some(stamp.as_str())
            && self.data_dir().join("terraform.tfstate").is_file()
        {
            return Ok(false);
        }
        let args = self.init_args();
        out.verbose(&self.show(&args));
        self.run_captured(&args, "init")?;
        std::fs::write(&stamp_file, stamp)?;
        Ok(true)
    }

    /// A hash of what `init` depends on: backend settings, state key, and every .tf file of
    /// the stack and of the modules next to it (a new module or provider needs a new init).
    fn init_stamp(&self) -> anyhow::Result<String> {
        let mut hasher = Sha256::new();
        hasher.update(std::fs::read(&self.backend_config).unwrap_or_default());
        hasher.update(self.state_key.as_deref().unwrap_or_default());
        let mut files = Vec::new();
        collect_tf_files(&self.dir, &mut files);
        if let Some(modules) = self
            .dir
            .parent()
            .and_then(Path::parent)
            .map(|p| p.join("modules"))
        {
            collect_tf_files(&modules, &mut files);
        }
        files.sort();
        for file in files {
            hasher.update(file.display().to_string());
            hasher.update(std::fs::read(&file)?);
        }
        Ok(format!("{:x}", hasher.finalize()))
    }

    /// Writes the inputs this stack takes from earlier phases: only the ones it declares, so
    /// that Terraform never warns about undeclared variables.
    pub fn write_inputs(
        &self,
        available: &BTreeMap<String, serde_json::Value>,
    ) -> anyhow::Result<()> {
        std::fs::create_dir_all(&self.work)?;
        let declared = declared_variables(&self.dir)?;
        let inputs: BTreeMap<&String, &serde_json::Value> = available
            .iter()
            .filter(|(k, _)| declared.contains(*k))
            .collect();
        std::fs::write(self.inputs_file(), serde_json::to_vec_pretty(&inputs)?)?;
        Ok(())
    }

    /// Plans to the plan file. Exit code 2 of `-detailed-exitcode` means "changes".
    pub fn plan(&self, out: &dyn Log, destroy: bool, lock: bool) -> anyhow::Result<Planned> {
        let args = self.plan_args(destroy, lock);
        out.verbose(&self.show(&args));
        let output = self.exec(&args)?;
        match output.status.code() {
            Some(0) => Ok(Planned::NoChanges),
            Some(2) => Ok(Planned::Changes(self.summary()?)),
            _ => Err(self.failure("plan", &output)),
        }
    }

    /// Reads the plan file back as JSON and counts what it would do.
    fn summary(&self) -> anyhow::Result<PlanSummary> {
        let output = self.exec(&[
            "show".into(),
            "-json".into(),
            self.plan_file().display().to_string(),
        ])?;
        if !output.status.success() {
            return Err(self.failure("show", &output));
        }
        let text = String::from_utf8_lossy(&output.stdout);
        let plan: serde_json::Value = serde_json::from_str(&text)?;
        let mut summary = PlanSummary::default();
        for rc in plan["resource_changes"].as_array().into_iter().flatten() {
            let actions: Vec<&str> = rc["change"]["actions"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|a| a.as_str())
                .collect();
            if actions.contains(&"create") {
                summary.add += 1;
            }
            if actions.contains(&"update") {
                summary.change += 1;
            }
            if actions.contains(&"delete") {
                summary.destroy += 1;
                summary
                    .destroyed
                    .push(rc["address"].as_str().unwrap_or("?").to_string());
            }
        }
        summary.outputs_only = summary.add + summary.change + summary.destroy == 0;
        Ok(summary)
    }

    /// Applies exactly the saved plan, streaming Terraform's output to stderr under `-v`.
    pub fn apply(&self, out: &dyn Log) -> anyhow::Result<()> {
        let args = self.apply_args();
        out.verbose(&self.show(&args));
        let output = self.exec(&args)?;
        if !output.status.success() {
            return Err(self.failure("apply", &output));
        }
        Ok(())
    }

    /// `terraform output -json`, as name → value.
    pub fn outputs(&self) -> anyhow::Result<BTreeMap<String, serde_json::Value>> {
        let output = self.exec(&["output".into(), "-json".into()])?;
        if !output.status.success() {
            return Err(self.failure("output", &output));
        }
        let text = String::from_utf8_lossy(&output.stdout);
        let raw: BTreeMap<String, serde_json::Value> = serde_json::from_str(&text)?;
        Ok(raw
            .into_iter()
            .map(|(k, v)| {
                (
                    k,
                    v.get("value").cloned().unwrap_or(serde_json::Value::Null),
                )
            })
            .collect())
    }

    /// Runs terraform with `args`, output captured, interruptible (see `signals`).
    fn exec(&self, args: &[String]) -> anyhow::Result<std::process::Output> {
        signals::run(self.terraform(args).stdout_capture().stderr_capture())
            .map_err(|err| not_installed(err, args))
    }

    fn run_captured(&self, args: &[String], what: &str) -> anyhow::Result<()> {
        let output = self.exec(args)?;
        if !output.status.success() {
            return Err(self.failure(what, &output));
        }
        Ok(())
    }

    /// An error that shows Terraform's own message (its diagnostics are on stderr, the
    /// context on stdout).
    fn failure(&self, what: &str, output: &std::process::Output) -> anyhow::Error {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let stdout = String::from_utf8_lossy(&output.stdout);
        let message = if stderr.trim().is_empty() {
            stdout
        } else {
            stderr
        };
        anyhow::Error::new(Failure {
            command: what.to_string(),
            stack: self.name.clone(),
            label: self.label.clone(),
            lock_held: message.contains("Error acquiring the state lock"),
            interrupted: interrupted(),
            message: message.trim_end().to_string(),
        })
    }
}

/// A Terraform command that failed, with Terraform's own message.
#[derive(Debug)]
pub struct Failure {
    /// `init`, `plan`, `apply`, …
    pub command: String,
    pub stack: String,
    pub label: String,
    /// Another run holds the stack's state lock.
    pub lock_held: bool,
    /// This process was asked to stop while Terraform ran.
    pub interrupted: bool,
    pub message: String,
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "terraform {} of stack `{}` ({}) {}:\n{}",
            self.command,
            self.stack,
            self.label,
            if self.interrupted {
                "was interrupted"
            } else {
                "failed"
            },
            self.message
        )
    }
}

impl std::error::Error for Failure {}

fn collect_tf_files(dir: &Path, files: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            if !path
                .file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with('.'))
            {
                collect_tf_files(&path, files);
            }
        } else if path.extension().is_some_and(|e| e == "tf")
            || path.file_name().is_some_and(|n| n == ".terraform.lock.hcl")
        {
            files.push(path);
        }
    }
}

/// "terraform is not installed" for a terraform that cannot be started.
fn not_installed(err: std::io::Error, args: &[String]) -> anyhow::Error {
    if err.kind() == std::io::ErrorKind::NotFound {
        anyhow::anyhow!(
            "terraform is not installed: `terraform {}` cannot run (it is not on PATH, and \
             TERRAFORM does not name it)",
            args.first().map(String::as_str).unwrap_or_default()
        )
    } else {
        anyhow::Error::new(err).context(format!(
            "cannot run `terraform {}`",
            args.first().map(String::as_str).unwrap_or_default()
        ))
    }
}

/// The `variable "…"` blocks of a root module.
pub fn declared_variables(dir: &Path) -> anyhow::Result<std::collections::BTreeSet<String>> {
    let mut names = std::collections::BTreeSet::new();
    let entries =
        std::fs::read_dir(dir).with_context(|| format!("cannot read stack {}", dir.display()))?;
    for entry in entries.flatten() {
        let path = entry.path();
        if path.extension().is_none_or(|e| e != "tf") {
            continue;
        }
        let text = std::fs::read_to_string(&path)?;
        let body: hcl::Body =
            hcl::from_str(&text).with_context(|| format!("{} is not valid HCL", path.display()))?;
        for block in body.blocks().filter(|b| b.identifier() == "variable") {
            if let Some(label) = block.labels().first() {
                names.insert(label.as_str().to_string());
            }
        }
    }
    if names.is_empty() && !dir.is_dir() {
        bail!("no stack at {}", dir.display());
    }
    Ok(names)
}
