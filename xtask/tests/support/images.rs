//! Test images and test agents for the push and CodeBuild tests: an OCI image layout made by
//! umoci (the contract `build-agents` writes to `target/oci/<agent-id>/`), optionally with an
//! SBOM attached, a minimal agent crate with its blueprint, and a git commit of the scratch
//! workspace.

use std::path::Path;
use std::process::Command;

use super::tool;
use super::workspace::Scratch;

/// Writes an OCI image layout at `dir` (tag `latest`) with one layer per size in `layers`, each
/// holding one file of that many pseudo-random (incompressible) bytes; `seed` varies the content.
pub fn umoci_layout(dir: &Path, layers: &[usize], seed: u64) {
    let work = tempfile::tempdir().expect("tempdir");
    let image = format!("{}:latest", dir.display());
    run(Command::new(tool("umoci"))
        .args(["init", "--layout"])
        .arg(dir));
    run(Command::new(tool("umoci")).args(["new", "--image", &image]));
    for (i, size) in layers.iter().enumerate() {
        let root = work.path().join(format!("layer{i}"));
        std::fs::create_dir_all(&root).expect("mkdir");
        std::fs::write(
            root.join("data"),
            noise(*size, seed.wrapping_mul(31).wrapping_add(i as u64)),
        )
        .expect("write layer file");
        run(Command::new(tool("umoci"))
            .args(["insert", "--image", &image])
            .arg(&root)
            .arg(format!("/layer{i}")));
    }
    // umoci leaves the superseded manifests and configs in blobs/: drop them, as a clean
    // layout from `build-agents` would not have them.
    run(Command::new(tool("umoci"))
        .args(["gc", "--layout"])
        .arg(dir));
}

/// The digest of the image in the layout at `dir`: the manifest tagged `latest` (the others
/// are artifacts about it, such as its SBOM).
pub fn layout_digest(dir: &Path) -> String {
    image_entry(&read_index(dir))["digest"]
        .as_str()
        .expect("manifest digest")
        .to_string()
}

fn read_index(dir: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(dir.join("index.json")).expect("read index.json"))
        .expect("index.json")
}

fn image_entry(index: &serde_json::Value) -> serde_json::Value {
    let tagged: Vec<&serde_json::Value> = index["manifests"]
        .as_array()
        .expect("manifests")
        .iter()
        .filter(|m| m["annotations"]["org.opencontainers.image.ref.name"] == "latest")
        .collect();
    assert_eq!(tagged.len(), 1, "one manifest tagged `latest`: {index}");
    tagged[0].clone()
}

/// Attaches `document` to the image of the layout at `dir` as its SPDX SBOM, in the shape
/// `build-agents` writes (an OCI 1.1 artifact whose `subject` is the image, listed in
/// `index.json` with its `artifactType` and the tag `sbom`); gives the artifact's digest.
pub fn attach_sbom(dir: &Path, document: &[u8]) -> String {
    const MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
    const SPDX: &str = "application/spdx+json";
    let write = |bytes: &[u8]| {
        use sha2::Digest as _;
        let hex: String = sha2::Sha256::digest(bytes)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        std::fs::write(dir.join("blobs/sha256").join(&hex), bytes).expect("write blob");
        (format!("sha256:{hex}"), bytes.len())
    };
    let mut index = read_index(dir);
    let image = image_entry(&index);
    let (config, _) = write(b"{}");
    let (layer, layer_size) = write(document);
    let manifest = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": MANIFEST,
        "artifactType": SPDX,
        "config": {"mediaType": "application/vnd.oci.empty.v1+json", "digest": config, "size": 2},
        "layers": [{"mediaType": SPDX, "digest": layer, "size": layer_size}],
        "subject": {"mediaType": image["mediaType"], "digest": image["digest"], "size": image["size"]},
    });
    let (digest, size) = write(&serde_json::to_vec(&manifest).expect("JSON"));
    index["manifests"]
        .as_array_mut()
        .expect("manifests")
        .push(serde_json::json!({
            "mediaType": MANIFEST,
            "digest": digest,
            "size": size,
            "artifactType": SPDX,
            "annotations": {"org.opencontainers.image.ref.name": "sbom"},
        }));
    std::fs::write(
        dir.join("index.json"),
        serde_json::to_vec(&index).expect("JSON"),
    )
    .expect("write index.json");
    digest
}

/// The blob digests (config and layers) the manifest of the layout at `dir` refers to.
pub fn layout_blobs(dir: &Path) -> Vec<String> {
    let digest = layout_digest(dir);
    let hex = digest.trim_start_matches("sha256:");
    let manifest: serde_json::Value = serde_json::from_slice(
        &std::fs::read(dir.join("blobs/sha256").join(hex)).expect("read manifest"),
    )
    .expect("manifest");
    std::iter::once(&manifest["config"])
        .chain(manifest["layers"].as_array().expect("layers"))
        .map(|d| d["digest"].as_str().expect("digest").to_string())
        .collect()
}

/// Bytes from xorshift64*: incompressible, reproducible, and no dependency.
pub fn noise(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        out.extend_from_slice(&x.wrapping_mul(0x2545_f491_4f6c_dd1d).to_le_bytes());
    }
    out.truncate(len);
    out
}

/// Replaces the scratch workspace's agents with one minimal agent `id`, enabled in dev and,
/// when `staging`, in staging: the tests do not depend on which agents the repository has.
pub fn only_agent(scratch: &Scratch, id: &str, staging: bool) {
    // Only the agents go (folders with a blueprint), from the tree and from the workspace's
    // member list; the shared crates stay, since the workspace and the xtask depend on them.
    let mut manifest = scratch.read("Cargo.toml");
    for entry in std::fs::read_dir(scratch.file("agents"))
        .into_iter()
        .flatten()
        .flatten()
    {
        if entry.path().join("blueprint.yaml").is_file() {
            std::fs::remove_dir_all(entry.path()).expect("remove agent");
            let member = format!("    \"agents/{}\",\n", entry.file_name().to_string_lossy());
            manifest = manifest.replacen(&member, "", 1);
        }
    }
    let members = "members = [\n";
    assert!(
        manifest.contains(members),
        "no workspace members list:\n{manifest}"
    );
    scratch.write(
        "Cargo.toml",
        &manifest.replacen(members, &format!("{members}    \"agents/{id}\",\n"), 1),
    );
    scratch.write(
        &format!("agents/{id}/blueprint.yaml"),
        &format!(
            "id: {id}\nname: Test agent\nversion: 0.1.0\nmodel:\n  provider: bedrock\n  \
             model_id: us.amazon.nova-lite-v1:0\nexecution_modes:\n  dev: true\n  staging: {staging}\n"
        ),
    );
    scratch.write(
        &format!("agents/{id}/Cargo.toml"),
        &format!("[package]\nname = \"{id}\"\nversion = \"0.1.0\"\nedition = \"2024\"\n"),
    );
    scratch.write(&format!("agents/{id}/src/main.rs"), "fn main() {}\n");
}

/// Makes the scratch workspace a git repository with everything committed; returns the commit.
pub fn git_commit_all(scratch: &Scratch) -> String {
    let git = |args: &[&str]| {
        let out = Command::new("git")
            .args([
                "-c",
                "user.name=test",
                "-c",
                "user.email=test@example.com",
                "-c",
                "init.defaultBranch=main",
            ])
            .args(args)
            .current_dir(scratch.path())
            .output()
            .expect("run git");
        assert!(
            out.status.success(),
            "git {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    };
    if !scratch.file(".git").exists() {
        git(&["init", "-q"]);
    }
    git(&["add", "-A"]);
    git(&["commit", "-q", "--allow-empty", "-m", "test"]);
    git(&["rev-parse", "HEAD"])
}

fn run(cmd: &mut Command) {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
