//! A provider schema read from the prebuilt CDK-for-Terraform bindings of `hashicorp/aws`
//! (`cdktn-provider-aws` on PyPI, `@cdktn/provider-aws` on npm). They are generated from the
//! provider's own schema and carry it in their jsii assembly (`package/.jsii`, inside the
//! wheel's `_jsii/*.jsii.tgz`): one class per resource and data source, one struct per block,
//! one property per argument or nested block, its Terraform name in the documentation link and
//! "… block." as the summary of a nested block. `package/package.json` names the provider
//! version the binding was generated from.
//!
//! Terraform itself cannot give this schema here: `terraform providers schema -json` needs the
//! provider binary, which no registry these machines reach serves (ENVIRONMENT: only 5.100.0 is
//! mirrored).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::Read as _;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};
use serde::Deserialize;

use super::usage::Kind;
use super::{Block, Need, ProviderSchema, Source};

/// The schema of the `wanted` types, from the binding unpacked in `dir` (the wheel's
/// `cdktn_provider_aws/_jsii/`); `source` says which published file that was.
pub fn read(
    dir: &Path,
    source: Source,
    wanted: &BTreeSet<(Kind, String)>,
) -> anyhow::Result<ProviderSchema> {
    let tgz = find_assembly_archive(dir)?;
    let (assembly, package) = read_archive(&tgz)?;
    let version = package
        .cdktn
        .or(package.cdktf)
        .map(|c| c.provider)
        .filter(|p| p.name.ends_with("hashicorp/aws"))
        .map(|p| p.version)
        .with_context(|| {
            format!(
                "{}: package.json names no hashicorp/aws provider version",
                tgz.display()
            )
        })?;
    let types: HashMap<String, JsiiType> = serde_json::from_slice::<Assembly>(&assembly)
        .with_context(|| format!("{}: package/.jsii is not a jsii assembly", tgz.display()))?
        .types;

    let mut classes: HashMap<(Kind, String), &str> = HashMap::new();
    for (fqn, ty) in &types {
        if ty.kind == "class"
            && let Some(found) = ty.docs.summary.as_deref().and_then(represented_type)
        {
            classes.insert(found, fqn);
        }
    }
    let mut schema = ProviderSchema {
        provider: "hashicorp/aws".into(),
        version,
        source,
        resources: BTreeMap::new(),
        data_sources: BTreeMap::new(),
    };
    for (kind, name) in wanted {
        // A type the binding lacks is left out: the check then names it, with the version.
        let Some(class) = classes.get(&(*kind, name.clone())) else {
            continue;
        };
        let config = format!("{class}Config");
        let block = block_of(&types, &config, 0)
            .with_context(|| format!("{}: `{config}` is not a struct", tgz.display()))?;
        match kind {
            Kind::Resource => schema.resources.insert(name.clone(), block),
            Kind::DataSource => schema.data_sources.insert(name.clone(), block),
        };
    }
    Ok(schema)
}

/// `…/_jsii/provider-aws@<version>.jsii.tgz`.
fn find_assembly_archive(dir: &Path) -> anyhow::Result<PathBuf> {
    let jsii = dir.join("cdktn_provider_aws/_jsii");
    let entries =
        std::fs::read_dir(&jsii).with_context(|| format!("cannot read {}", jsii.display()))?;
    for entry in entries.filter_map(Result::ok) {
        let path = entry.path();
        if path.to_string_lossy().ends_with(".jsii.tgz") {
            return Ok(path);
        }
    }
    bail!("no *.jsii.tgz in {}", jsii.display())
}

/// `package/.jsii` and `package/package.json`, the first two members of the archive.
fn read_archive(tgz: &Path) -> anyhow::Result<(Vec<u8>, PackageJson)> {
    let file =
        std::fs::File::open(tgz).with_context(|| format!("cannot open {}", tgz.display()))?;
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(file));
    let mut assembly = None;
    let mut package = None;
    for entry in archive
        .entries()
        .with_context(|| format!("cannot read {}", tgz.display()))?
    {
        let mut entry = entry.with_context(|| format!("cannot read {}", tgz.display()))?;
        let name = entry.path()?.to_string_lossy().into_owned();
        if name == "package/.jsii" || name == "package/package.json" {
            let mut bytes = Vec::with_capacity(usize::try_from(entry.size()).unwrap_or(0));
            entry
                .read_to_end(&mut bytes)
                .with_context(|| format!("cannot read {name} in {}", tgz.display()))?;
            if name == "package/.jsii" {
                assembly = Some(bytes);
            } else {
                package = Some(serde_json::from_slice::<PackageJson>(&bytes).with_context(
                    || format!("{}: package/package.json is not valid", tgz.display()),
                )?);
            }
        }
        if assembly.is_some() && package.is_some() {
            break;
        }
    }
    match (assembly, package) {
        (Some(a), Some(p)) => Ok((a, p)),
        _ => bail!(
            "{} lacks package/.jsii or package/package.json",
            tgz.display()
        ),
    }
}

/// `Represents a {@link https://registry.terraform.io/providers/hashicorp/aws/6.48.0/docs/resources/x aws_x}.`
fn represented_type(summary: &str) -> Option<(Kind, String)> {
    let link = summary.strip_prefix("Represents a {@link ")?;
    let (url, rest) = link.split_once(' ')?;
    let kind = if url.contains("/docs/resources/") {
        Kind::Resource
    } else if url.contains("/docs/data-sources/") {
        Kind::DataSource
    } else {
        return None;
    };
    let name = rest.split('}').next()?;
    name.starts_with("aws_").then(|| (kind, name.to_string()))
}

/// The block a struct describes. Depth-limited: the schema is a tree, a cycle would be a
/// broken assembly.
fn block_of(types: &HashMap<String, JsiiType>, fqn: &str, depth: usize) -> Option<Block> {
    let ty = types.get(fqn)?;
    if ty.kind != "interface" || depth > 32 {
        return None;
    }
    let mut block = Block::default();
    for prop in &ty.properties {
        let Some(name) = terraform_name(prop) else {
            continue;
        };
        // A nested block is typed as its struct, and usually summarised "<name> block."; the
        // assembly does not tell it from a nested *attribute* (`x = { … }`), which is rare in
        // this provider (the check on the shipped stacks would show one). A block the binding
        // types as `any` (wafv2's recursive `statement`) has "block." alone: its contents
        // are not described, so they are not checked.
        let summary = prop.docs.summary.as_deref().unwrap_or_default();
        let nested = match struct_in(&prop.ty, types) {
            Some(fqn) => block_of(types, fqn, depth + 1),
            None if summary == format!("{name} block.") => Some(Block {
                undescribed: true,
                ..Block::default()
            }),
            None => None,
        };
        match nested {
            Some(mut nested) => {
                nested.required = !prop.optional;
                block.blocks.insert(name, nested);
            }
            None => {
                let need = if prop.optional {
                    Need::Optional
                } else {
                    Need::Required
                };
                block.arguments.insert(name, need);
            }
        }
    }
    Some(block)
}

/// The Terraform name, from the link every property's documentation ends with:
/// `{@link https://…/docs/resources/x#gateway_iam_role X#gateway_iam_role}`.
fn terraform_name(prop: &Property) -> Option<String> {
    let docs = [prop.docs.summary.as_deref(), prop.docs.remarks.as_deref()];
    docs.into_iter().flatten().find_map(|text| {
        let link = text.split("{@link https://registry.terraform.io/").nth(1)?;
        let url = link.split(' ').next()?;
        let (_, anchor) = url.split_once('#')?;
        (!anchor.is_empty()).then(|| anchor.to_string())
    })
}

/// The struct a property's type names, through unions and collections.
fn struct_in<'a>(ty: &'a serde_json::Value, types: &HashMap<String, JsiiType>) -> Option<&'a str> {
    if let Some(fqn) = ty.get("fqn").and_then(|f| f.as_str())
        && types.get(fqn).is_some_and(|t| t.kind == "interface")
    {
        return Some(fqn);
    }
    if let Some(options) = ty.pointer("/union/types").and_then(|t| t.as_array()) {
        return options.iter().find_map(|t| struct_in(t, types));
    }
    ty.pointer("/collection/elementtype")
        .and_then(|t| struct_in(t, types))
}

/// The parts of a jsii assembly read here; serde skips the rest (methods, initializers, …).
#[derive(Deserialize)]
struct Assembly {
    types: HashMap<String, JsiiType>,
}

#[derive(Deserialize)]
struct JsiiType {
    kind: String,
    #[serde(default)]
    docs: Docs,
    #[serde(default)]
    properties: Vec<Property>,
}

#[derive(Deserialize, Default)]
struct Docs {
    summary: Option<String>,
    remarks: Option<String>,
}

#[derive(Deserialize)]
struct Property {
    #[serde(default)]
    optional: bool,
    #[serde(rename = "type")]
    ty: serde_json::Value,
    #[serde(default)]
    docs: Docs,
}

#[derive(Deserialize)]
struct PackageJson {
    cdktn: Option<Generated>,
    cdktf: Option<Generated>,
}

#[derive(Deserialize)]
struct Generated {
    provider: GeneratedFrom,
}

#[derive(Deserialize)]
struct GeneratedFrom {
    name: String,
    version: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_come_from_the_documentation_links() {
        assert_eq!(
            represented_type(
                "Represents a {@link https://registry.terraform.io/providers/hashicorp/aws/6.69.1/docs/data-sources/region aws_region}."
            ),
            Some((Kind::DataSource, "aws_region".to_string()))
        );
        let prop = Property {
            optional: true,
            ty: serde_json::json!({"primitive": "string"}),
            docs: Docs {
                summary: Some("Defaults to the gateway's Region.".into()),
                remarks: Some(
                    "Docs at Terraform Registry: {@link https://registry.terraform.io/providers/hashicorp/aws/6.69.1/docs/resources/bedrockagentcore_gateway_target#region BedrockagentcoreGatewayTarget#region}".into(),
                ),
            },
        };
        assert_eq!(terraform_name(&prop).as_deref(), Some("region"));
    }
}
