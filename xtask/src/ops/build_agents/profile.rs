//! Which cargo profile an image is compiled with, recorded in the image, and the rule that an
//! image built for fast iteration never reaches staging or production.
//!
//! `release` (fat LTO, one codegen unit) is what ships: the smallest, fastest binary, but its
//! link-time optimisation of the whole program takes most of a minute after any change on 2
//! cores. `fast` (no LTO, 16 codegen units, incremental, otherwise `release`) rebuilds in seconds
//! and is what dev deploys by default (README, "Build profiles", has the figures). Promotion copies bytes, it
//! never rebuilds: so the profile is written into the image's manifest annotations, and every
//! push to staging or production (`push`, `deploy staging`, `promote`) reads it and refuses a
//! `fast` image, naming the command that builds the image properly.

use crate::environment::Env;

/// The manifest annotation (and config label) that records the profile.
pub const ANNOTATION: &str = "dev.agentcore-monorepo.cargo-profile";

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Profile {
    /// Fat LTO, one codegen unit, opt-level "s": the bytes staging and production run.
    Release,
    /// No LTO, 16 codegen units, incremental: a one-line change rebuilds in seconds; dev only.
    Fast,
}

impl Profile {
    /// The profile's name in Cargo.toml, and the folder under `target/<triple>/`.
    pub fn name(self) -> &'static str {
        match self {
            Profile::Release => "release",
            Profile::Fast => "fast",
        }
    }

    /// What `deploy <env>` builds when `--profile` is not given.
    pub fn default_for(env: Env) -> Profile {
        match env {
            Env::Dev => Profile::Fast,
            Env::Staging | Env::Production => Profile::Release,
        }
    }

    /// The profile an image records; `None` for images that record none (built before profiles
    /// were recorded, or by `--builder docker`, whose Dockerfiles build `--release`).
    pub fn of_image(image: &oci_image::Image) -> Option<Profile> {
        Profile::of_annotation(image.annotations.get(ANNOTATION).map(String::as_str))
    }

    fn of_annotation(value: Option<&str>) -> Option<Profile> {
        match value? {
            "release" => Some(Profile::Release),
            "fast" => Some(Profile::Fast),
            _ => None,
        }
    }

    /// Whether images of this profile may run in `env`.
    pub fn allowed_in(self, env: Env) -> bool {
        self == Profile::Release || env == Env::Dev
    }
}

impl std::fmt::Display for Profile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Refuses to let `images` (agent id, the profile its image records) go to `env` if any was
/// built with a profile `env` does not take.
pub fn refuse_outside_dev(env: Env, images: &[(String, Option<Profile>)]) -> anyhow::Result<()> {
    let fast: Vec<&str> = images
        .iter()
        .filter(|(_, profile)| profile.is_some_and(|p| !p.allowed_in(env)))
        .map(|(id, _)| id.as_str())
        .collect();
    if fast.is_empty() {
        return Ok(());
    }
    bail_help!(
        "refusing to put {} into {env}: built with the `fast` profile, which is for dev only \
         (no LTO; not the bytes {env} must run)",
        fast.iter().map(|id| format!("`{id}`")).collect::<Vec<_>>().join(", ");
        "build and deploy dev with the release profile, then promote those bytes: \
         `cargo xtask deploy dev --profile release` and `cargo xtask promote dev staging` \
         (or `cargo xtask build-agents` — release by default — then push)"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_dev_takes_fast_images() {
        let images = |p: Option<Profile>| vec![("assistant".to_string(), p)];
        for env in [Env::Dev, Env::Staging, Env::Production] {
            assert!(refuse_outside_dev(env, &images(Some(Profile::Release))).is_ok());
            // An image that records no profile predates the annotation (or came from docker).
            assert!(refuse_outside_dev(env, &images(None)).is_ok());
        }
        assert!(refuse_outside_dev(Env::Dev, &images(Some(Profile::Fast))).is_ok());
        for env in [Env::Staging, Env::Production] {
            let err = refuse_outside_dev(env, &images(Some(Profile::Fast)))
                .expect_err("fast outside dev");
            let text = format!("{err:#}");
            assert!(
                text.contains("`assistant`") && text.contains("fast"),
                "{text}"
            );
            let help = crate::error::helps(&err).join("\n");
            assert!(help.contains("--profile release"), "{help}");
        }
    }

    #[test]
    fn reads_what_it_writes() {
        for profile in [Profile::Release, Profile::Fast] {
            assert_eq!(Profile::of_annotation(Some(profile.name())), Some(profile));
        }
        assert_eq!(Profile::of_annotation(Some("debug")), None);
        assert_eq!(Profile::of_annotation(None), None);
    }
}
