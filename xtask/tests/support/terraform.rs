//! Terraform on this machine: no registry access, so the hashicorp/aws provider comes from a
//! filesystem mirror (TF_PLUGIN_MIRROR, default /opt/tf-plugins; ENVIRONMENT.md). The tests
//! point Terraform at it with a CLI config file, Terraform's standard `TF_CLI_CONFIG_FILE`.

use std::path::{Path, PathBuf};

use super::require_tool;

/// A CLI config file that installs providers from the mirror only; lives as long as `dir`.
pub fn cli_config(dir: &Path) -> PathBuf {
    require_tool("terraform");
    let mirror = std::env::var("TF_PLUGIN_MIRROR").unwrap_or_else(|_| "/opt/tf-plugins".into());
    assert!(
        Path::new(&mirror)
            .join("registry.terraform.io/hashicorp/aws")
            .is_dir(),
        "no hashicorp/aws provider mirror at {mirror}: set TF_PLUGIN_MIRROR (see ENVIRONMENT.md)"
    );
    let path = dir.join("terraform.rc");
    std::fs::write(
        &path,
        format!(
            "provider_installation {{\n  filesystem_mirror {{\n    path    = \"{mirror}\"\n    \
             include = [\"registry.terraform.io/hashicorp/aws\"]\n  }}\n  direct {{\n    \
             exclude = [\"registry.terraform.io/*/*\"]\n  }}\n}}\n"
        ),
    )
    .expect("write terraform.rc");
    path
}
