//! `cargo xtask doctor`: is this machine ready for the other commands (and the tests)?
//!
//! One line per prerequisite with its state and the exact command that fixes it. What the xtask
//! installs itself (the `pinned-tools` crate) is installed on first use or by `--fix`; what it cannot
//! install (the README's short list, terraform and its provider) it names.

use std::process::ExitCode;

use serde::Serialize;

use crate::Context;
use crate::output::table;
use crate::project::Project;
use crate::toolchain::{self, TARGET, which};
use pinned_tools::Tool;

#[derive(clap::Args)]
#[command(after_help = "Examples:
  cargo xtask doctor                 what is there, what is missing, how to fix it
  cargo xtask doctor --fix           install now what the commands install on first use
  cargo xtask doctor --json          the same as data")]
pub struct Args {
    /// Install everything the xtask installs itself (the rust target, zig, the test tools),
    /// now rather than on first use. Needs no root.
    #[arg(long)]
    pub fix: bool,
}

/// Who needs a prerequisite: a missing `Tests` tool only matters for `cargo xtask test`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Need {
    Build,
    Deploy,
    Tests,
    Optional,
}

#[derive(Debug, Clone, Serialize)]
pub struct Check {
    pub name: &'static str,
    pub need: Need,
    pub ok: bool,
    /// What was found, or what is wrong.
    pub detail: String,
    /// The exact command (or step) that fixes it.
    pub fix: Option<String>,
    #[serde(skip)]
    install: Option<Install>,
}

/// How `--fix` installs something.
#[derive(Debug, Clone)]
enum Install {
    RustTarget,
    Tool(Tool),
}

pub fn run(ctx: &Context, args: Args) -> anyhow::Result<ExitCode> {
    let mut checks = checks(&ctx.project);
    if args.fix {
        checks = fix(ctx, checks, |_| true)?;
    }
    let required_missing = checks
        .iter()
        .filter(|c| !c.ok && matches!(c.need, Need::Build | Need::Deploy))
        .count();
    if ctx.out.json {
        ctx.out.print_json(&serde_json::json!({
            "ok": required_missing == 0,
            "checks": checks,
        }));
    } else {
        let rows: Vec<Vec<String>> = checks
            .iter()
            .map(|c| {
                vec![
                    if c.ok { "ok" } else { "MISSING" }.to_string(),
                    c.name.to_string(),
                    format!("{:?}", c.need).to_lowercase(),
                    c.detail.clone(),
                ]
            })
            .collect();
        crate::output::print_line(&table(&["state", "prerequisite", "for", "detail"], &rows));
        let missing: Vec<&Check> = checks.iter().filter(|c| !c.ok).collect();
        if !missing.is_empty() {
            crate::output::print_line("\nTo fix:");
            for c in missing {
                if let Some(fix) = &c.fix {
                    crate::output::print_line(&format!("  {:<22} {fix}", c.name));
                }
            }
            if !args.fix {
                crate::output::print_line(
                    "\n`cargo xtask doctor --fix` installs what the xtask can install itself.",
                );
            }
        }
    }
    Ok(if required_missing == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// Every prerequisite, checked now: what the README asks a machine to have, what the xtask
/// installs itself (pinned, in `target/xtask/tools/`), and what it can only name.
pub fn checks(project: &Project) -> Vec<Check> {
    let mut out = Vec::new();
    for (name, program, args, fix) in [
        (
            "python3 + pip",
            "python3",
            &["-m", "pip", "--version"][..],
            "install Python 3 with pip (Debian: apt-get install python3-pip)",
        ),
        ("git", "git", &["--version"][..], "install git"),
        (
            "host C compiler",
            "cc",
            &["--version"][..],
            "install a C compiler for this machine (Debian: apt-get install gcc)",
        ),
    ] {
        let version = duct::cmd(program, args)
            .stderr_null()
            .stdout_capture()
            .unchecked()
            .run()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| {
                String::from_utf8_lossy(&o.stdout)
                    .lines()
                    .next()
                    .unwrap_or("")
                    .to_string()
            });
        out.push(Check {
            name,
            need: Need::Build,
            ok: version.is_some(),
            detail: version
                .unwrap_or_else(|| format!("`{program}` not found (the README asks for it)")),
            fix: Some(fix.into()),
            install: None,
        });
    }
    let rust_target = toolchain::rust_target_installed(project, TARGET);
    out.push(Check {
        name: "rust target",
        need: Need::Build,
        ok: rust_target,
        detail: if rust_target {
            format!("{TARGET} installed")
        } else {
            format!("{TARGET} not installed (build-agents adds it with rustup)")
        },
        fix: Some(format!("rustup target add {TARGET}")),
        install: Some(Install::RustTarget),
    });
    let tools = project.tools();
    for tool in Tool::ALL {
        if tool.not_needed_here() {
            continue;
        }
        let installed = tools.is_installed(tool);
        out.push(Check {
            name: tool.name(),
            need: if tool.for_tests() {
                Need::Tests
            } else {
                Need::Build
            },
            // The commands install it on first use: missing is not a failure.
            ok: installed || !tool.for_tests(),
            detail: format!(
                "{} {} — {}",
                tool.version(),
                if installed {
                    "installed"
                } else if tool.for_tests() {
                    "not installed yet (`cargo xtask test` installs it)"
                } else {
                    "not installed yet (installed on first use)"
                },
                tool.purpose()
            ),
            fix: Some("cargo xtask doctor --fix".into()),
            install: Some(Install::Tool(tool)),
        });
    }
    out.push(terraform());
    out.push(provider_mirror());
    out.push(aws_credentials());
    out.push(aws_region());
    let docker = which("docker").is_some()
        && duct::cmd!("docker", "info")
            .stdout_null()
            .stderr_null()
            .unchecked()
            .run()
            .is_ok_and(|o| o.status.success());
    out.push(Check {
        name: "docker engine",
        need: Need::Optional,
        ok: docker,
        detail: if docker {
            "running (`build-agents --builder docker` available)".into()
        } else {
            "not running: images are built without it (the default)".into()
        },
        fix: None,
        install: None,
    });
    out
}

/// The aws provider for the Terraform tests, from a filesystem mirror: no registry serves
/// providers to these machines, so the xtask can only name it.
pub fn provider_mirror_dir() -> std::path::PathBuf {
    std::env::var_os("TF_PLUGIN_MIRROR")
        .map(Into::into)
        .unwrap_or_else(|| "/opt/tf-plugins".into())
}

fn provider_mirror() -> Check {
    let mirror = provider_mirror_dir();
    let mirrored = mirror.join("registry.terraform.io/hashicorp/aws").is_dir();
    Check {
        name: "aws provider mirror",
        need: Need::Tests,
        ok: mirrored,
        detail: if mirrored {
            format!(
                "{} (hashicorp/aws for the Terraform tests)",
                mirror.display()
            )
        } else {
            format!("no hashicorp/aws under {}", mirror.display())
        },
        fix: Some(
            "`terraform providers mirror <DIR>` in any stack of tests/stacks on a machine that \
             reaches the registry, copy <DIR> here, export TF_PLUGIN_MIRROR=<DIR>"
                .into(),
        ),
        install: None,
    }
}

/// Terraform 1.10 or newer: the S3 backend's native locking (`use_lockfile`) came in 1.10.
fn terraform() -> Check {
    let fix = Some(
        "install Terraform >= 1.10 from https://developer.hashicorp.com/terraform/install".into(),
    );
    let version = duct::cmd!("terraform", "version", "-json")
        .stderr_null()
        .read()
        .ok()
        .and_then(|s| serde_json::from_str::<serde_json::Value>(&s).ok())
        .and_then(|v| v["terraform_version"].as_str().map(str::to_string));
    let (ok, detail) = match version {
        None => (false, "not found".to_string()),
        Some(v) => match semver::Version::parse(&v) {
            Ok(parsed) if parsed >= semver::Version::new(1, 10, 0) => (true, v),
            _ => (
                false,
                format!("{v} is older than 1.10 (no S3 native state locking)"),
            ),
        },
    };
    Check {
        name: "terraform",
        need: Need::Deploy,
        ok,
        detail,
        fix,
        install: None,
    }
}

/// Credentials from any link of the AWS default chain that can be seen without calling AWS.
fn aws_credentials() -> Check {
    let home = std::env::var_os("HOME").map(std::path::PathBuf::from);
    let source = if std::env::var_os("AWS_ACCESS_KEY_ID").is_some() {
        Some("AWS_ACCESS_KEY_ID".to_string())
    } else if let Some(p) = std::env::var_os("AWS_PROFILE") {
        Some(format!("profile {}", p.to_string_lossy()))
    } else if std::env::var_os("AWS_WEB_IDENTITY_TOKEN_FILE").is_some() {
        Some("web identity token".into())
    } else if std::env::var_os("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI").is_some()
        || std::env::var_os("AWS_CONTAINER_CREDENTIALS_FULL_URI").is_some()
    {
        Some("container credentials".into())
    } else {
        home.as_ref().and_then(|h| {
            ["credentials", "config"]
                .iter()
                .map(|f| h.join(".aws").join(f))
                .find(|p| p.is_file())
                .map(|p| format!("{}", p.display()))
        })
    };
    Check {
        name: "AWS credentials",
        need: Need::Deploy,
        ok: source.is_some(),
        detail: source.unwrap_or_else(|| "none found in the environment or ~/.aws".into()),
        fix: Some("aws configure sso   (or export AWS_PROFILE=... / AWS_ACCESS_KEY_ID=...)".into()),
        install: None,
    }
}

fn aws_region() -> Check {
    let region = std::env::var("AWS_REGION")
        .or_else(|_| std::env::var("AWS_DEFAULT_REGION"))
        .ok();
    Check {
        name: "AWS region",
        need: Need::Deploy,
        ok: region.is_some(),
        detail: region.unwrap_or_else(|| "AWS_REGION is not set".into()),
        fix: Some("export AWS_REGION=eu-central-1   (the deployment region)".into()),
        install: None,
    }
}

/// What the tests and the benchmarks need — the build's and the tests' tools — installed when
/// `install`; an error naming every one still missing (terraform included: it is named, not
/// installed) and how to get it.
pub fn require_test_tools(ctx: &Context, install: bool) -> anyhow::Result<()> {
    let needed = |c: &Check| matches!(c.need, Need::Build | Need::Tests);
    let mut checks = checks(&ctx.project);
    if install {
        checks = fix(ctx, checks, needed)?;
    }
    let missing: Vec<String> = checks
        .iter()
        .filter(|c| !c.ok && (needed(c) || c.name == "terraform"))
        .map(|c| {
            format!(
                "  {}: {}\n      fix: {}",
                c.name,
                c.detail,
                c.fix.as_deref().unwrap_or("-")
            )
        })
        .collect();
    if !missing.is_empty() {
        anyhow::bail!(
            "the tests need what this machine does not have:\n{}",
            missing.join("\n")
        );
    }
    Ok(())
}

/// Runs the automatic fixes of the failed checks that `wanted` selects; returns the checks
/// as they stand afterwards.
pub fn fix(
    ctx: &Context,
    checks: Vec<Check>,
    wanted: impl Fn(&Check) -> bool,
) -> anyhow::Result<Vec<Check>> {
    let tools = ctx.project.tools();
    for check in checks.iter().filter(|c| wanted(c)) {
        match &check.install {
            Some(Install::RustTarget) if !check.ok => {
                toolchain::ensure_rust_target(&ctx.project, &ctx.out)?;
            }
            Some(Install::Tool(tool)) => tools.ensure(*tool, &ctx.out)?,
            _ => {}
        }
    }
    Ok(self::checks(&ctx.project))
}
