//! The SBOM of an agent's binary: an SPDX 2.3 JSON document with one package per crate linked
//! into it (`crates.rs`), attached to the image as an OCI artifact (`oci::write_artifact`).
//!
//! SPDX rather than CycloneDX: it is what `ko` (which these images imitate) and `docker buildx`
//! attach by default, an ISO standard (ISO/IEC 5962) whose packages carry the declared licence
//! expression as a field of their own, read by the usual scanners (syft, trivy, grype, AWS
//! Inspector); and its official validator, `pyspdxtools`, checks ours in the tests. Either
//! format would do for vulnerability scanning; one is enough.
//!
//! Deterministic like the image: `created` is the image's epoch, keys are sorted, the
//! namespace is a hash of the content, and no tool version is written.

use serde_json::{Value, json};

use super::crates::{Crate, Origin, Program};
use oci_image::{canonical_json, rfc3339, sha256_digest};

/// The SBOM's tag in the image layout (`org.opencontainers.image.ref.name`), beside the
/// image's `latest`, so that `skopeo inspect --raw oci:target/oci/<agent>:sbom` shows it: the
/// skopeo the tests pin (1.9) cannot name a layout's manifest by digest.
pub const REF_NAME: &str = "sbom";

/// Who wrote the document: a name, without a version that would differ between machines.
const CREATOR: &str = "Tool: cargo-xtask-build-agents";

/// The document describing `program`, built at `created` (Unix seconds). Its namespace is
/// under `repository` (the workspace's `repository` URL) when there is one.
pub fn document(
    program: &Program,
    program_path: &str,
    created: u64,
    repository: Option<&str>,
) -> anyhow::Result<Vec<u8>> {
    let ids = spdx_ids(&program.crates);
    let root = &program.crates[program.root];
    let packages: Vec<Value> = program
        .crates
        .iter()
        .zip(&ids)
        .enumerate()
        .map(|(i, (krate, id))| package(krate, id, i == program.root))
        .collect();
    let mut relationships = vec![json!({
        "spdxElementId": "SPDXRef-DOCUMENT",
        "relationshipType": "DESCRIBES",
        "relatedSpdxElement": ids[program.root],
    })];
    relationships.extend(program.edges.iter().map(|(from, to)| {
        json!({
            "spdxElementId": ids[*from],
            "relationshipType": "DEPENDS_ON",
            "relatedSpdxElement": ids[*to],
        })
    }));
    let name = format!("{}-{}", root.name, root.version);
    let mut document = json!({
        "spdxVersion": "SPDX-2.3",
        "dataLicense": "CC0-1.0",
        "SPDXID": "SPDXRef-DOCUMENT",
        "name": name,
        "comment": format!(
            "The crates linked into {program_path}: the normal dependencies of package `{}` \
             compiled for {} (proc macros and build-time crates are not part of it).",
            root.name,
            crate::toolchain::TARGET
        ),
        "creationInfo": {
            "created": rfc3339(created),
            "creators": [CREATOR],
        },
        "packages": packages,
        "relationships": relationships,
    });
    // Unique per content, the same for the same content: SPDX asks for a URI no other
    // document uses, and a random one would change the bytes on every build.
    let hash = sha256_digest(&canonical_json(&document)?);
    let base = repository
        .map(|r| r.trim_end_matches('/').to_string())
        .unwrap_or_else(|| "https://spdx.org/spdxdocs".to_string());
    document["documentNamespace"] = json!(format!(
        "{base}/spdx/{name}-{}",
        hash.trim_start_matches("sha256:")
    ));
    canonical_json(&document)
}

fn package(krate: &Crate, id: &str, is_root: bool) -> Value {
    let mut package = json!({
        "SPDXID": id,
        "name": krate.name,
        "versionInfo": krate.version,
        "downloadLocation": match krate.origin {
            Origin::CratesIo => format!(
                "https://crates.io/api/v1/crates/{}/{}/download",
                krate.name, krate.version
            ),
            Origin::Path | Origin::Other(_) => "NOASSERTION".to_string(),
        },
        "filesAnalyzed": false,
        "licenseConcluded": "NOASSERTION",
        "licenseDeclared": "NOASSERTION",
        "copyrightText": "NOASSERTION",
        "primaryPackagePurpose": if is_root { "APPLICATION" } else { "LIBRARY" },
        "externalRefs": [{
            "referenceCategory": "PACKAGE-MANAGER",
            "referenceType": "purl",
            "referenceLocator": purl(krate),
        }],
    });
    if let Some(declared) = &krate.license {
        match spdx_expression(declared) {
            Some(expression) => package["licenseDeclared"] = json!(expression),
            None => {
                package["licenseComments"] = json!(format!(
                    "Cargo.toml declares `{declared}`, not an SPDX expression"
                ))
            }
        }
    }
    if let Some(checksum) = &krate.checksum {
        package["checksums"] = json!([{"algorithm": "SHA256", "checksumValue": checksum}]);
    }
    package
}

/// `declared` as a valid SPDX expression: cargo's old `MIT/Apache-2.0` becomes
/// `MIT OR Apache-2.0`, as crates.io reads it; `None` when it is no expression at all.
fn spdx_expression(declared: &str) -> Option<String> {
    let canonical = spdx::Expression::canonicalize(declared)
        .ok()?
        .unwrap_or_else(|| declared.to_string());
    spdx::Expression::parse(&canonical).ok()?;
    Some(canonical)
}

/// `pkg:cargo/<name>@<version>`, percent-encoded as the purl spec asks (`+` in versions).
fn purl(krate: &Crate) -> String {
    let encode = |s: &str| {
        s.bytes().fold(String::new(), |mut out, b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                out.push(char::from(b));
            } else {
                out.push_str(&format!("%{b:02X}"));
            }
            out
        })
    };
    format!(
        "pkg:cargo/{}@{}",
        encode(&krate.name),
        encode(&krate.version)
    )
}

/// `SPDXRef-Crate-<name>-<version>` for each crate (SPDX ids allow letters, digits, `.` and
/// `-`), with a counter after the rare ones that would be equal (same name and version from
/// two sources).
fn spdx_ids(crates: &[Crate]) -> Vec<String> {
    let clean = |s: &str| -> String {
        s.chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                    c
                } else {
                    '-'
                }
            })
            .collect()
    };
    let mut seen = std::collections::BTreeMap::<String, usize>::new();
    crates
        .iter()
        .map(|c| {
            let id = format!("SPDXRef-Crate-{}-{}", clean(&c.name), clean(&c.version));
            let count = seen.entry(id.clone()).or_insert(0);
            *count += 1;
            if *count == 1 {
                id
            } else {
                format!("{id}-{count}")
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::build_agents::crates::tests::{compiled, graph};

    fn document_of_app() -> Value {
        let program = graph().program("app", &compiled()).expect("program");
        let bytes = document(
            &program,
            "/usr/local/bin/app",
            1_700_000_000,
            Some("https://example.com/w"),
        )
        .expect("document");
        serde_json::from_slice(&bytes).expect("JSON")
    }

    #[test]
    fn one_package_per_crate_described_and_related() {
        let doc = document_of_app();
        assert_eq!(doc["spdxVersion"], "SPDX-2.3");
        assert_eq!(doc["creationInfo"]["created"], "2023-11-14T22:13:20Z");
        assert_eq!(doc["creationInfo"]["creators"], json!([CREATOR]));
        let packages = doc["packages"].as_array().expect("packages");
        let names: Vec<&str> = packages.iter().filter_map(|p| p["name"].as_str()).collect();
        assert_eq!(names, ["app", "leaf", "lib", "shared"]);

        let lib = &packages[2];
        assert_eq!(lib["SPDXID"], "SPDXRef-Crate-lib-1.0.0");
        assert_eq!(lib["versionInfo"], "1.0.0");
        assert_eq!(
            lib["downloadLocation"],
            "https://crates.io/api/v1/crates/lib/1.0.0/download"
        );
        assert_eq!(lib["licenseConcluded"], "NOASSERTION");
        assert_eq!(lib["licenseDeclared"], "MIT OR Apache-2.0");
        assert_eq!(
            lib["externalRefs"][0]["referenceLocator"],
            "pkg:cargo/lib@1.0.0"
        );
        assert_eq!(
            lib["checksums"],
            json!([{"algorithm": "SHA256", "checksumValue": "ab".repeat(32)}])
        );
        // cargo's `MIT/Apache-2.0` is not SPDX; its meaning is.
        assert_eq!(packages[1]["licenseDeclared"], "MIT OR Apache-2.0");
        let app = &packages[0];
        assert_eq!(app["downloadLocation"], "NOASSERTION");
        assert_eq!(app["licenseDeclared"], "Apache-2.0");
        assert_eq!(app["primaryPackagePurpose"], "APPLICATION");
        assert!(app.get("checksums").is_none());

        let relationships: Vec<String> = doc["relationships"]
            .as_array()
            .expect("relationships")
            .iter()
            .map(|r| {
                format!(
                    "{} {} {}",
                    r["spdxElementId"].as_str().unwrap_or_default(),
                    r["relationshipType"].as_str().unwrap_or_default(),
                    r["relatedSpdxElement"].as_str().unwrap_or_default()
                )
            })
            .collect();
        assert_eq!(
            relationships,
            [
                "SPDXRef-DOCUMENT DESCRIBES SPDXRef-Crate-app-0.1.0",
                "SPDXRef-Crate-app-0.1.0 DEPENDS_ON SPDXRef-Crate-lib-1.0.0",
                "SPDXRef-Crate-app-0.1.0 DEPENDS_ON SPDXRef-Crate-shared-0.1.0",
                "SPDXRef-Crate-lib-1.0.0 DEPENDS_ON SPDXRef-Crate-leaf-1.0.0",
                "SPDXRef-Crate-shared-0.1.0 DEPENDS_ON SPDXRef-Crate-lib-1.0.0",
            ]
        );
    }

    #[test]
    fn same_input_same_bytes_and_the_namespace_follows_the_content() {
        let program = graph().program("app", &compiled()).expect("program");
        let bytes = |created| document(&program, "/x", created, None).expect("document");
        assert_eq!(bytes(1), bytes(1));
        let namespace = |b: Vec<u8>| {
            let doc: Value = serde_json::from_slice(&b).expect("JSON");
            doc["documentNamespace"]
                .as_str()
                .expect("namespace")
                .to_string()
        };
        let (one, two) = (namespace(bytes(1)), namespace(bytes(2)));
        assert!(
            one.starts_with("https://spdx.org/spdxdocs/spdx/app-0.1.0-"),
            "{one}"
        );
        assert_ne!(one, two);
        let text = String::from_utf8(bytes(1)).expect("utf-8");
        assert!(text.starts_with("{\"SPDXID\":"), "keys sorted: {text}");
    }

    #[test]
    fn ids_purls_and_licences_are_made_valid() {
        let mut odd = graph().program("app", &compiled()).expect("program").crates;
        odd.truncate(2);
        for krate in &mut odd {
            krate.name = "serde_yaml".into();
            krate.version = "0.9.34+deprecated".into();
        }
        let ids = spdx_ids(&odd);
        assert_eq!(
            ids,
            [
                "SPDXRef-Crate-serde-yaml-0.9.34-deprecated",
                "SPDXRef-Crate-serde-yaml-0.9.34-deprecated-2"
            ]
        );
        assert_eq!(purl(&odd[0]), "pkg:cargo/serde_yaml@0.9.34%2Bdeprecated");
        assert_eq!(
            spdx_expression("Apache-2.0 / MIT").as_deref(),
            Some("Apache-2.0 OR MIT")
        );
        assert_eq!(
            spdx_expression("(MIT OR Apache-2.0) AND Unicode-3.0").as_deref(),
            Some("(MIT OR Apache-2.0) AND Unicode-3.0")
        );
        assert_eq!(spdx_expression("see the README"), None);
    }
}
