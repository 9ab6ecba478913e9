//! `terraform fmt -check` over the modules and stacks. The environment files are left out on
//! purpose: they are templates, and fmt would unquote their `"${PLACEHOLDER}"` values.

use crate::project::Project;
use diagnostics::Diagnostic;

pub fn check(project: &Project, diags: &mut Vec<Diagnostic>) {
    let dirs: Vec<&str> = ["modules", "stacks"]
        .into_iter()
        .filter(|d| project.infra_dir.join(d).is_dir())
        .collect();
    if dirs.is_empty() {
        return;
    }
    let mut args = vec!["fmt", "-check", "-recursive", "-list=true", "-no-color"];
    args.extend(&dirs);
    let infra = project.rel(&project.infra_dir).to_path_buf();
    let result = duct::cmd("terraform", &args)
        .dir(&project.infra_dir)
        .stdout_capture()
        .stderr_capture()
        .unchecked()
        .run();
    let out = match result {
        Ok(out) => out,
        Err(err) => {
            diags.push(
                Diagnostic::new(&infra, format!("cannot run `terraform fmt`: {err}"))
                    .help("install Terraform >= 1.10 (`cargo xtask doctor` says how)"),
            );
            return;
        }
    };
    if out.status.success() {
        return;
    }
    let listed: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(String::from)
        .collect();
    if listed.is_empty() {
        let stderr = String::from_utf8_lossy(&out.stderr);
        diags.push(
            Diagnostic::new(
                &infra,
                format!("`terraform fmt -check` failed: {}", stderr.trim()),
            )
            .help("run `terraform fmt -recursive modules stacks` in the infra folder to see why"),
        );
    }
    for file in listed {
        diags.push(
            Diagnostic::new(
                infra.join(&file),
                "not formatted the way `terraform fmt` writes it",
            )
            .help(format!(
                "run `terraform fmt {}`",
                infra.join(&file).display()
            )),
        );
    }
}
