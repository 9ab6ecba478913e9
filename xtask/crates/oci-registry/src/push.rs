//! Pushing one image with the OCI distribution API: ask which blobs the registry has, upload
//! the others, then put the manifest under its tag — unless the tag already names this digest.
//! The artifacts about the image (its SBOM) follow, their manifests put by digest: registries
//! with the referrers API find them through their `subject`.
//!
//! Every request goes through [`retry::with_backoff`]. Blobs are the unit of resumption: a
//! push stopped half-way leaves the finished blobs in the registry, and the next run's
//! existence checks skip them.

use anyhow::bail;
use bytes::Bytes;
use indicatif::ProgressBar;

use crate::ImageRef;
use oci_client::errors::OciDistributionError;
use oci_client::{Client, Reference};
use serde::Serialize;
use tokio::io::AsyncReadExt as _;

use crate::retry::{self, Policy};
use crate::{Credentials, Target as Destination, is_loopback};
use oci_image::{Blob, Image};

/// What one push did, for the summary and `--json`.
#[derive(Debug, Clone, Serialize)]
pub struct Pushed {
    /// What was pushed (an agent's id).
    #[serde(rename = "agent")]
    pub name: String,
    /// `host/repository@sha256:…`: what deployments pin.
    #[serde(rename = "uri")]
    pub image: ImageRef,
    pub digest: String,
    pub tag: Option<String>,
    pub blobs: usize,
    pub blobs_uploaded: usize,
    pub bytes_uploaded: u64,
    /// False when the registry already had this manifest under this tag.
    pub manifest_pushed: bool,
    /// `sha256:…` of the SBOM artifact pushed with the image (its `subject` is the image),
    /// when the layout has one.
    pub sbom: Option<String>,
    /// False when the registry already had the SBOM (or there is none).
    pub sbom_pushed: bool,
}

const USER_AGENT: &str = concat!("agentcore-xtask-oci-registry/", env!("CARGO_PKG_VERSION"));

/// One client for all pushes of a run: connections are reused across agents.
pub struct Registry {
    client: Client,
    http: reqwest::Client,
    policy: Policy,
}

impl Registry {
    pub fn new(hosts: &[&str], policy: Policy) -> anyhow::Result<Registry> {
        let plain: Vec<String> = hosts
            .iter()
            .filter(|h| is_loopback(h))
            .map(|h| h.to_string())
            .collect();
        let config = oci_client::client::ClientConfig {
            protocol: oci_client::client::ClientProtocol::HttpsExcept(plain),
            // POST + one streaming PUT per blob: what ECR and every registry accept, two requests
            // per blob instead of one per 4 MiB chunk.
            use_monolithic_push: true,
            connect_timeout: Some(std::time::Duration::from_secs(10)),
            read_timeout: Some(std::time::Duration::from_secs(120)),
            user_agent: USER_AGENT,
            ..Default::default()
        };
        let client = Client::try_from(config)?;
        let http = reqwest::Client::builder()
            .user_agent(USER_AGENT)
            .connect_timeout(std::time::Duration::from_secs(10))
            .timeout(std::time::Duration::from_secs(60))
            .build()?;
        Ok(Registry {
            client,
            http,
            policy,
        })
    }

    /// Pushes `image` to `dest`, reporting bytes on `bar`. With `dry_run`, only asks which blobs
    /// are missing.
    pub async fn push(
        &self,
        image: &Image,
        dest: &Destination,
        credentials: &Credentials,
        tag: Option<&str>,
        bar: &ProgressBar,
        dry_run: bool,
    ) -> anyhow::Result<Pushed> {
        let by_digest = Reference::with_digest(
            dest.host.clone(),
            dest.repository.clone(),
            image.digest.clone(),
        );
        if let Credentials::Basic { .. } = credentials {
            self.client
                .store_auth_if_needed(
                    by_digest.resolve_registry(),
                    &credentials.to_registry_auth(),
                )
                .await;
        }
        let what = |step: &str| format!("{step} for agent `{}` at {}", dest.name, dest.url());

        bar.set_message("checking");
        // The image's blobs, then its artifacts' (an SBOM is two small blobs).
        let mut blobs: Vec<&Blob> = Vec::new();
        for blob in image
            .blobs
            .iter()
            .chain(image.referrers.iter().flat_map(|r| &r.blobs))
        {
            if !blobs.iter().any(|b| b.digest == blob.digest) {
                blobs.push(blob);
            }
        }
        let mut missing = Vec::new();
        for blob in blobs.iter().copied() {
            let exists = self
                .retrying(&bar_note(bar), || {
                    self.client.blob_exists(&by_digest, &blob.digest)
                })
                .await
                .map_err(|f| failure(f, &what("checking blob existence")))?;
            if !exists {
                missing.push(blob);
            }
        }
        let to_upload: u64 = missing.iter().map(|b| b.size).sum();
        bar.set_length(to_upload);

        let tag = tag.map(|t| image_tag(t, &image.digest));
        let manifest_ref = match &tag {
            Some(tag) => {
                Reference::with_tag(dest.host.clone(), dest.repository.clone(), tag.clone())
            }
            None => by_digest.clone(),
        };
        let mut pushed = Pushed {
            name: dest.name.clone(),
            image: ImageRef::new(dest.url(), image.digest.clone()),
            digest: image.digest.clone(),
            tag: tag.clone(),
            blobs: blobs.len(),
            blobs_uploaded: 0,
            bytes_uploaded: 0,
            manifest_pushed: false,
            sbom: image
                .referrer(oci_image::SPDX_JSON)
                .map(|s| s.digest.clone()),
            sbom_pushed: false,
        };
        if dry_run {
            pushed.blobs_uploaded = missing.len();
            pushed.bytes_uploaded = to_upload;
            pushed.manifest_pushed = self.manifest_digest(&manifest_ref, credentials).await?
                != Some(image.digest.clone());
            if let Some(sbom) = image.referrer(oci_image::SPDX_JSON) {
                pushed.sbom_pushed = !self.has_manifest(dest, &sbom.digest, credentials).await?;
            }
            bar.finish_with_message("dry run");
            return Ok(pushed);
        }

        for blob in missing {
            bar.set_message(format!("uploading {}", short(&blob.digest)));
            let before = bar.position();
            let path = blob.path.clone();
            let progress = bar.clone();
            self.retrying(&bar_note(bar), || {
                // A retried upload starts again from the first byte.
                progress.set_position(before);
                let stream = file_stream(path.clone(), progress.clone());
                self.client
                    .push_blob_stream(&by_digest, stream, &blob.digest, Some(blob.size))
            })
            .await
            .map_err(|f| failure(f, &what(&format!("uploading blob {}", short(&blob.digest)))))?;
            pushed.blobs_uploaded += 1;
            pushed.bytes_uploaded += blob.size;
        }

        bar.set_message("manifest");
        let existing = self.manifest_digest(&manifest_ref, credentials).await?;
        if existing.as_deref() != Some(image.digest.as_str()) {
            let content_type: reqwest::header::HeaderValue = image.media_type.parse()?;
            let body = Bytes::from(image.manifest.clone());
            self.retrying(&bar_note(bar), || {
                self.client
                    .push_manifest_raw(&manifest_ref, body.clone(), content_type.clone())
            })
            .await
            .map_err(|f| match (&existing, &tag) {
                // ECR repositories here keep tags immutable: a commit tag names one image.
                (Some(other), Some(tag)) if !f.transient => advised!("{}: tag `{tag}` already names another image ({other}) and the registry \
                     refused to move it: {}", what("pushing the manifest"), crate::one_line(&f.error); "the same commit was built into different \
                     bytes; build from a clean checkout of the commit (builds are reproducible), \
                     or commit your change and push again"),
                _ => failure(f, &what("pushing the manifest")),
            })?;
            pushed.manifest_pushed = true;
        }

        // After the image, so that whoever finds the SBOM finds the image it describes, and a
        // push that fails on the image leaves no SBOM of an image the registry does not have.
        for referrer in &image.referrers {
            if self
                .has_manifest(dest, &referrer.digest, credentials)
                .await?
            {
                continue;
            }
            bar.set_message(format!("artifact {}", short(&referrer.digest)));
            let reference = Reference::with_digest(
                dest.host.clone(),
                dest.repository.clone(),
                referrer.digest.clone(),
            );
            let content_type: reqwest::header::HeaderValue = referrer.media_type.parse()?;
            let body = Bytes::from(referrer.manifest.clone());
            self.retrying(&bar_note(bar), || {
                self.client
                    .push_manifest_raw(&reference, body.clone(), content_type.clone())
            })
            .await
            .map_err(|f| {
                let what = what(&format!(
                    "pushing the artifact {} ({}) about the image",
                    short(&referrer.digest),
                    referrer
                        .artifact_type
                        .as_deref()
                        .unwrap_or("no artifactType")
                ));
                failure(f, &what)
            })?;
            if pushed.sbom.as_deref() == Some(referrer.digest.as_str()) {
                pushed.sbom_pushed = true;
            }
        }
        let unchanged =
            pushed.blobs_uploaded == 0 && !pushed.manifest_pushed && !pushed.sbom_pushed;
        bar.finish_with_message(if unchanged { "up to date" } else { "pushed" });
        Ok(pushed)
    }

    async fn retrying<T, F, Fut>(
        &self,
        note: &(dyn Fn(String) + Sync),
        op: F,
    ) -> Result<T, retry::Failure>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Result<T, OciDistributionError>>,
    {
        retry::with_backoff(self.policy, op, |attempt, err| {
            note(format!(
                "attempt {attempt}/{} failed ({}), retrying",
                self.policy.attempts,
                crate::one_line(err)
            ))
        })
        .await
    }

    /// Whether the registry has the manifest `digest` in `dest`'s repository (one HEAD).
    async fn has_manifest(
        &self,
        dest: &Destination,
        digest: &str,
        credentials: &Credentials,
    ) -> anyhow::Result<bool> {
        let reference =
            Reference::with_digest(dest.host.clone(), dest.repository.clone(), digest.into());
        Ok(self
            .manifest_digest(&reference, credentials)
            .await?
            .as_deref()
            == Some(digest))
    }

    /// The digest the registry has under `reference`, if any. A plain HEAD: oci-client's own
    /// lookup would make every later request of an anonymous push re-probe `/v2/`.
    async fn manifest_digest(
        &self,
        reference: &Reference,
        credentials: &Credentials,
    ) -> anyhow::Result<Option<String>> {
        let host = reference.resolve_registry();
        let scheme = if is_loopback(host) { "http" } else { "https" };
        let name = reference
            .tag()
            .map(str::to_string)
            .or_else(|| reference.digest().map(str::to_string))
            .unwrap_or_else(|| "latest".into());
        let url = format!(
            "{scheme}://{host}/v2/{}/manifests/{name}",
            reference.repository()
        );
        let note = |_: String| {};
        let response = self
            .retrying(&note, || {
                let mut request = self.http.head(&url).header(
                    reqwest::header::ACCEPT,
                    "application/vnd.oci.image.manifest.v1+json, \
                     application/vnd.docker.distribution.manifest.v2+json",
                );
                if let Credentials::Basic { user, password } = credentials {
                    request = request.basic_auth(user, Some(password.expose()));
                }
                async move {
                    let response = request.send().await?;
                    if response.status().is_server_error() || response.status().as_u16() == 429 {
                        return Err(OciDistributionError::ServerError {
                            code: response.status().as_u16(),
                            url: response.url().to_string(),
                            message: "manifest lookup failed".into(),
                        });
                    }
                    Ok(response)
                }
            })
            .await
            .map_err(|f| failure(f, &format!("looking up {}", reference.whole())))?;
        match response.status().as_u16() {
            200 => Ok(response
                .headers()
                .get("docker-content-digest")
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)),
            404 => Ok(None),
            401 | 403 => Err(advised!(
                "the registry {host} refused access to {} ({})",
                reference.repository(),
                response.status();
                "check that your credentials may push to this repository"
            )),
            _ => bail!(
                "the registry answered {} to a manifest lookup at {url}",
                response.status()
            ),
        }
    }
}

/// The message of a failed step, with what to do next. Pushes resume blob by blob, so the
/// advice for an unreachable registry is simply to run again.
fn failure(f: retry::Failure, what: &str) -> anyhow::Error {
    let cause = tidy(&crate::one_line(&f.error));
    let status = match &f.error {
        OciDistributionError::ServerError { code, .. } => Some(*code),
        OciDistributionError::RequestError(e) => e.status().map(|s| s.as_u16()),
        _ => None,
    };
    if retry::speaks_no_tls(&f.error) {
        advised!("{what}: the registry answered in plain HTTP, not HTTPS ({cause})"; "HTTPS is used \
             for every registry but 127.0.0.1 and localhost; put the registry behind TLS, or reach \
             it through localhost (e.g. an SSH tunnel)")
    } else if status == Some(405) {
        advised!("{what}: the registry does not take pushes here (405 Method Not Allowed)"; "is it a \
             read-only mirror or a proxy? Push to the registry itself (--registry HOST[/PREFIX])")
    } else if f.transient {
        advised!("{what}: the registry did not answer after {} attempts: {cause}", f.attempts; "check that the \
             registry is up and reachable, then run the same command again: blobs already uploaded \
             are kept and only the missing ones are sent")
    } else if matches!(
        f.error,
        OciDistributionError::UnauthorizedError { .. }
            | OciDistributionError::AuthenticationFailure(_)
    ) {
        advised!("{what}: the registry refused the credentials: {cause}"; "check that you may push to this repository")
    } else if status == Some(401) {
        advised!("{what}: the registry wants credentials (401): {cause}"; "ECR registries are \
             logged into through your AWS credentials; another registry given with --registry is \
             pushed to anonymously, so it must accept anonymous pushes")
    } else {
        anyhow::anyhow!("{what}: {cause}")
    }
}

/// A registry's message, fit for one line: an HTML error page becomes its title (or its text),
/// and nothing runs on for pages.
fn tidy(message: &str) -> String {
    let lower = message.to_ascii_lowercase();
    let text = if lower.contains("<html") || lower.contains("<!doctype") {
        let title = lower
            .find("<title>")
            .and_then(|start| {
                let rest = &message[start + 7..];
                rest.find('<').map(|end| rest[..end].trim().to_string())
            })
            .filter(|t| !t.is_empty());
        match title {
            Some(title) => format!("an HTML page: {title}"),
            None => {
                let mut plain = String::new();
                let mut in_tag = false;
                for c in message.chars() {
                    match c {
                        '<' => in_tag = true,
                        '>' => {
                            in_tag = false;
                            plain.push(' ');
                        }
                        c if !in_tag => plain.push(c),
                        _ => {}
                    }
                }
                format!(
                    "an HTML page: {}",
                    plain.split_whitespace().collect::<Vec<_>>().join(" ")
                )
            }
        }
    } else {
        message.split_whitespace().collect::<Vec<_>>().join(" ")
    };
    if text.chars().count() > 300 {
        format!("{}…", text.chars().take(300).collect::<String>())
    } else {
        text
    }
}

/// A line about a retry, above the bars; plain stderr when the bars are not drawn (no terminal,
/// `--json`), so that a slow push always says why it is slow.
fn bar_note(bar: &ProgressBar) -> impl Fn(String) + Sync + use<> {
    let bar = bar.clone();
    move |text| {
        let line = format!("    {}: {text}", bar.prefix());
        if bar.is_hidden() {
            eprintln!("{line}");
        } else {
            bar.println(line);
        }
    }
}

/// The tag of an image: the revision, and for a dirty tree also the image's own digest, since
/// two different dirty builds of one commit must not compete for one immutable tag.
fn image_tag(revision: &str, digest: &str) -> String {
    if revision.ends_with("-dirty") {
        format!("{revision}-{}", short(digest))
    } else {
        revision.to_string()
    }
}

fn short(digest: &str) -> &str {
    let hex = digest.strip_prefix("sha256:").unwrap_or(digest);
    &hex[..hex.len().min(12)]
}

/// Reads a blob file in 1 MiB pieces, moving the bar as each piece is handed to the client.
fn file_stream(
    path: std::path::PathBuf,
    bar: ProgressBar,
) -> impl futures_util::Stream<Item = Result<Bytes, OciDistributionError>> + Send + 'static {
    enum State {
        Start(std::path::PathBuf),
        Reading(tokio::fs::File),
        Done,
    }
    futures_util::stream::unfold((State::Start(path), bar), |(state, bar)| async move {
        let mut file = match state {
            State::Start(path) => match tokio::fs::File::open(&path).await {
                Ok(file) => file,
                Err(e) => return Some((Err(OciDistributionError::IoError(e)), (State::Done, bar))),
            },
            State::Reading(file) => file,
            State::Done => return None,
        };
        let mut buf = vec![0u8; 1 << 20];
        match file.read(&mut buf).await {
            Ok(0) => None,
            Ok(n) => {
                buf.truncate(n);
                bar.inc(n as u64);
                Some((Ok(Bytes::from(buf)), (State::Reading(file), bar)))
            }
            Err(e) => Some((Err(OciDistributionError::IoError(e)), (State::Done, bar))),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn advice(err: &anyhow::Error) -> String {
        err.downcast_ref::<crate::Error>()
            .and_then(|e| e.advice.clone())
            .unwrap_or_default()
    }

    #[test]
    fn registry_refusals_say_what_to_do() {
        let refused = |code: u16| {
            failure(
                retry::Failure {
                    error: OciDistributionError::ServerError {
                        code,
                        url: "http://r/v2/x/blobs/uploads/".into(),
                        message: "<html><title>Nope</title></html>".into(),
                    },
                    attempts: 1,
                    transient: false,
                },
                "uploading",
            )
        };
        let err = refused(405);
        assert!(advice(&err).contains("read-only mirror"), "{err:#}");
        let err = refused(401);
        assert!(advice(&err).contains("anonymous"), "{err:#}");
    }

    #[test]
    fn html_error_pages_become_one_line() {
        let page = "<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head>\
                    <body><h1>502</h1></body></html>";
        assert_eq!(tidy(page), "an HTML page: 502 Bad Gateway");
        assert_eq!(
            tidy("<html><body><p>Service\n   unavailable</p></body></html>"),
            "an HTML page: Service unavailable"
        );
        assert_eq!(tidy("blob unknown\n"), "blob unknown");
        assert!(tidy(&"x ".repeat(400)).ends_with('…'));
    }

    #[test]
    fn dirty_images_get_their_own_tag() {
        let digest = format!("sha256:{}", "ab".repeat(32));
        assert_eq!(image_tag("c0ffee", &digest), "c0ffee");
        assert_eq!(
            image_tag("c0ffee-dirty", &digest),
            "c0ffee-dirty-abababababab"
        );
    }
}
