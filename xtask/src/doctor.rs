//! `cargo xtask doctor`: is this machine ready for the other commands (and the tests)?
//!
//! One line per prerequisite with its state and the exact command that fixes it; `--fix` runs
//! the fixes that need no interactive root prompt (rustup, pip; apt only when already root).

use std::process::ExitCode;

use serde::Serialize;

use crate::Context;
use crate::output::table;
use crate::toolchain::{self, TARGET, which};

#[derive(clap::Args)]
#[command(after_help = "Examples:
  cargo xtask doctor                 what is there, what is missing, how to fix it
  cargo xtask doctor --fix           install what can be installed without a root prompt
  cargo xtask doctor --json          the same as data")]
pub struct Args {
    /// Install what is missing where that needs no root prompt (rustup targets, pip packages;
    /// Debian packages only when running as root).
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
    Rustup(&'static str),
    Pip(&'static [&'static str]),
    Apt(&'static [&'static str]),
}

pub fn run(ctx: &Context, args: Args) -> anyhow::Result<ExitCode> {
    let mut checks = checks();
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
        println!(
            "{}",
            table(&["state", "prerequisite", "for", "detail"], &rows)
        );
        let missing: Vec<&Check> = checks.iter().filter(|c| !c.ok).collect();
        if !missing.is_empty() {
            println!("\nTo fix:");
            for c in missing {
                if let Some(fix) = &c.fix {
                    println!("  {:<22} {fix}", c.name);
                }
            }
            if !args.fix {
                println!("\n`cargo xtask doctor --fix` runs the fixes that need no root prompt.");
            }
        }
    }
    Ok(if required_missing == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// Every prerequisite, checked now.
pub fn checks() -> Vec<Check> {
    let mut out = Vec::new();
    let rust_target = toolchain::rust_target_installed(TARGET);
    out.push(Check {
        name: "rust target",
        need: Need::Build,
        ok: rust_target,
        detail: if rust_target {
            format!("{TARGET} installed")
        } else {
            format!("{TARGET} not installed")
        },
        fix: Some(format!("rustup target add {TARGET}")),
        install: Some(Install::Rustup(TARGET)),
    });
    let cross = toolchain::detect();
    out.push(Check {
        name: "C cross compiler",
        need: Need::Build,
        ok: cross.is_ok(),
        detail: match &cross {
            Ok(t) => t.describe(),
            Err(_) => "none: no zig (cargo-zigbuild), no aarch64 gcc".into(),
        },
        fix: Some(toolchain::INSTALL_ZIG.into()),
        install: Some(Install::Pip(&["cargo-zigbuild", "ziglang"])),
    });
    out.push(tool(
        "qemu-aarch64-static",
        Need::Tests,
        "runs arm64 builds here (`cargo xtask run --arm64`, tests)",
        &["qemu-user-static"],
    ));
    out.push(terraform());
    out.push(aws_credentials());
    out.push(aws_region());
    out.push(tool(
        "docker-registry",
        Need::Tests,
        "a real OCI registry for the push tests",
        &["docker-registry"],
    ));
    out.push(tool(
        "skopeo",
        Need::Tests,
        "inspects images from outside in tests",
        &["skopeo"],
    ));
    out.push(tool(
        "umoci",
        Need::Tests,
        "unpacks images in tests",
        &["umoci"],
    ));
    let moto = which("moto_server").is_some();
    out.push(Check {
        name: "moto_server",
        need: Need::Tests,
        ok: moto,
        detail: if moto {
            "the local AWS emulator for tests".into()
        } else {
            "not found: the tests emulate AWS with it".into()
        },
        fix: Some("pip install 'moto[server]'".into()),
        install: Some(Install::Pip(&["moto[server]"])),
    });
    // The tests run Terraform without registry access: the aws provider comes from a mirror.
    let mirror = std::env::var("TF_PLUGIN_MIRROR").unwrap_or_else(|_| "/opt/tf-plugins".into());
    let mirrored = std::path::Path::new(&mirror)
        .join("registry.terraform.io/hashicorp/aws")
        .is_dir();
    out.push(Check {
        name: "aws provider mirror",
        need: Need::Tests,
        ok: mirrored,
        detail: if mirrored {
            format!("{mirror} (hashicorp/aws for the Terraform tests)")
        } else {
            format!("no hashicorp/aws under {mirror}")
        },
        fix: Some(
            "terraform providers mirror <DIR> in any stack of tests/stacks, then export TF_PLUGIN_MIRROR=<DIR>"
                .into(),
        ),
        install: None,
    });
    let aws_cli = which("aws").is_some();
    out.push(Check {
        name: "aws CLI",
        need: Need::Tests,
        ok: aws_cli,
        detail: if aws_cli {
            "looks at moto from outside in tests".into()
        } else {
            "not found: tests read S3 and SSM with it".into()
        },
        fix: Some("pip install awscli".into()),
        install: Some(Install::Pip(&["awscli"])),
    });
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

/// A program on PATH that a Debian package provides.
fn tool(name: &'static str, need: Need, what: &str, packages: &'static [&'static str]) -> Check {
    let found = which(name);
    Check {
        name,
        need,
        ok: found.is_some(),
        detail: match found {
            Some(path) => format!("{} ({what})", path.display()),
            None => format!("not found: {what}"),
        },
        fix: Some(format!("apt-get install -y {}", packages.join(" "))),
        install: Some(Install::Apt(packages)),
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

/// Runs the automatic fixes of the failed checks that `wanted` selects; returns the checks
/// as they stand afterwards.
pub fn fix(
    ctx: &Context,
    checks: Vec<Check>,
    wanted: impl Fn(&Check) -> bool,
) -> anyhow::Result<Vec<Check>> {
    let todo: Vec<&Check> = checks.iter().filter(|c| !c.ok && wanted(c)).collect();
    if todo.is_empty() {
        return Ok(checks);
    }
    let root = is_root();
    let mut apt: Vec<&str> = Vec::new();
    for check in &todo {
        match &check.install {
            Some(Install::Rustup(target)) => {
                let t = ctx.out.timed(format!("rustup target add {target}"));
                duct::cmd!("rustup", "target", "add", target)
                    .stdout_to_stderr()
                    .run()?;
                t.done();
            }
            Some(Install::Pip(packages)) => {
                let t = ctx.out.timed(format!("pip install {}", packages.join(" ")));
                let mut args = vec!["-m", "pip", "install", "--quiet"];
                if !root && std::env::var_os("VIRTUAL_ENV").is_none() {
                    args.push("--user");
                }
                args.extend(packages.iter());
                duct::cmd("python3", &args).stdout_to_stderr().run()?;
                t.done();
            }
            Some(Install::Apt(packages)) if root => apt.extend(packages.iter()),
            Some(Install::Apt(packages)) => ctx.out.step(format!(
                "skipping `{}`: needs root; run `sudo apt-get install -y {}`",
                check.name,
                packages.join(" ")
            )),
            None => {}
        }
    }
    if !apt.is_empty() {
        apt.sort();
        apt.dedup();
        let t = ctx
            .out
            .timed(format!("apt-get install -y {}", apt.join(" ")));
        duct::cmd!("apt-get", "update", "-qq")
            .stdout_to_stderr()
            .run()?;
        let mut args = vec!["install", "-y", "-qq", "--no-install-recommends"];
        args.extend(apt.iter());
        duct::cmd("apt-get", &args)
            .env("DEBIAN_FRONTEND", "noninteractive")
            .stdout_to_stderr()
            .run()?;
        t.done();
    }
    Ok(self::checks())
}

fn is_root() -> bool {
    duct::cmd!("id", "-u")
        .stderr_null()
        .read()
        .is_ok_and(|uid| uid.trim() == "0")
}
