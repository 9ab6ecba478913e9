//! Every program the xtask downloads, pinned by version and SHA-256.
//!
//! Changing a pin changes what every machine and CI run uses, so it is a reviewed commit like
//! any other code change. To move a pin: take the new file's address and `sha256=` from
//! `https://pypi.org/simple/<name>/` (wheels) or from `apt-cache show <package>` (`Filename`,
//! `SHA256`, from Debian 12 "bookworm" main, whose pool keeps a released version for years).

/// A file to download, and the SHA-256 it must have.
#[derive(Debug, Clone, Copy)]
pub struct Download {
    pub url: &'static str,
    pub sha256: &'static str,
}

/// The machines the pins cover: the operating system and CPU of the host running the xtask.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Host {
    LinuxX86_64,
    LinuxAarch64,
    MacosX86_64,
    MacosAarch64,
}

impl Host {
    pub fn current() -> Option<Host> {
        match (std::env::consts::OS, std::env::consts::ARCH) {
            ("linux", "x86_64") => Some(Host::LinuxX86_64),
            ("linux", "aarch64") => Some(Host::LinuxAarch64),
            ("macos", "x86_64") => Some(Host::MacosX86_64),
            ("macos", "aarch64") => Some(Host::MacosAarch64),
            _ => None,
        }
    }
}

/// One pinned release of a program, with the file to fetch for each host it supports.
#[derive(Debug)]
pub struct Pin {
    pub name: &'static str,
    pub version: &'static str,
    pub files: &'static [(Host, Download)],
}

impl Pin {
    pub fn download(&self, host: Host) -> Option<Download> {
        self.files.iter().find(|(h, _)| *h == host).map(|(_, d)| *d)
    }

    /// The folder it is unpacked into: name, version and the file's hash, so that a change of
    /// pin never reuses an old install.
    pub fn dir_name(&self, download: &Download) -> String {
        format!("{}-{}-{}", self.name, self.version, &download.sha256[..12])
    }
}

/// A wheel on PyPI's file host, by the path `https://pypi.org/simple/<name>/` links to.
macro_rules! pypi {
    ($path:literal) => {
        concat!("https://files.pythonhosted.org/packages/", $path)
    };
}

/// A package in Debian's pool. Plain HTTP, like apt: the SHA-256 pin is what makes it safe.
macro_rules! debian {
    ($path:literal) => {
        concat!("http://deb.debian.org/debian/pool/main/", $path)
    };
}

/// zig: the C compiler and linker for the agents' target (from the `ziglang` wheel, which
/// carries the zig release unchanged).
pub const ZIG: Pin = Pin {
    name: "zig",
    version: "0.17.1",
    files: &[
        (
            Host::LinuxX86_64,
            Download {
                url: pypi!(
                    "59/e3/2a34676370a11c36b7cd04ffb2439c1089c0530cf4b01408c77cf7f8d9c3/ziglang-0.17.1-py3-none-manylinux_2_12_x86_64.manylinux2010_x86_64.musllinux_1_1_x86_64.whl"
                ),
                sha256: "ea6cc5d87b033cf0aedfbc8f9549a908cae6c50ac31f1698188fa48a74524b54",
            },
        ),
        (
            Host::LinuxAarch64,
            Download {
                url: pypi!(
                    "91/72/bb7c4f098ba3e535fa2ebefd9f26327ba63fb0672562959255cb5dd37aff/ziglang-0.17.1-py3-none-manylinux_2_17_aarch64.manylinux2014_aarch64.musllinux_1_1_aarch64.whl"
                ),
                sha256: "b7c5f02fccd40f89b999ee16a1f5ddced56e6182370f8affe494bcf8a28cf07e",
            },
        ),
        (
            Host::MacosX86_64,
            Download {
                url: pypi!(
                    "17/f6/f4dfc8cf0e510980fda251a8edf99823b9446f5d7a2a6a24801e55e09c28/ziglang-0.17.1-py3-none-macosx_13_0_x86_64.whl"
                ),
                sha256: "4e0b4b9c02b8d0d220e9948010f860b62ff11d96abb39762eca5fa2ef3f7bc97",
            },
        ),
        (
            Host::MacosAarch64,
            Download {
                url: pypi!(
                    "ea/e1/4a9a97324fcf2d292c14a2e0121ea0df86c01d0c307ea24fa35aebaccd15/ziglang-0.17.1-py3-none-macosx_13_0_arm64.whl"
                ),
                sha256: "09953b6af7f64168b915180a42774f520f92d86ef6331b28e33915c7e1f0bb23",
            },
        ),
    ],
};

/// cargo-zigbuild: only its `zig cc` adapter is used (it turns rustc's and cc-rs's arguments
/// into ones zig accepts); cargo itself is run plainly, with the compiler set explicitly.
pub const CARGO_ZIGBUILD: Pin = Pin {
    name: "cargo-zigbuild",
    version: "0.24.1",
    files: &[
        (
            Host::LinuxX86_64,
            Download {
                url: pypi!(
                    "19/bd/5476661915fd4fb8bc6eb439ac2c3682a6454cfd3efb0365832e02897556/cargo_zigbuild-0.24.1-py3-none-manylinux1_x86_64.manylinux_2_5_x86_64.whl"
                ),
                sha256: "238a1ab54a95053a4eadc34775c81f795a8ad75f80bfed63f3f445f518102375",
            },
        ),
        (
            Host::LinuxAarch64,
            Download {
                url: pypi!(
                    "98/74/69f6f26cb6ba003c3946940afe69828354a8c78781b74651b550851f58e3/cargo_zigbuild-0.24.1-py3-none-manylinux2014_aarch64.manylinux_2_17_aarch64.whl"
                ),
                sha256: "07c5e3dcddf208500462ec927c556bb306cca2b533b0abe29446bffb63767b85",
            },
        ),
        (
            Host::MacosX86_64,
            Download {
                url: pypi!(
                    "49/2e/a29ea1d3da84e9a41fc29cc23d4b66bb88968853255cfe2ba218c86186b4/cargo_zigbuild-0.24.1-py3-none-macosx_10_12_universal2.macosx_10_12_x86_64.macosx_11_0_arm64.whl"
                ),
                sha256: "7b832d824bbf852b9a99b02a0dfa2166a00462fc237c2387d15a67c385755795",
            },
        ),
        (
            Host::MacosAarch64,
            Download {
                url: pypi!(
                    "49/2e/a29ea1d3da84e9a41fc29cc23d4b66bb88968853255cfe2ba218c86186b4/cargo_zigbuild-0.24.1-py3-none-macosx_10_12_universal2.macosx_10_12_x86_64.macosx_11_0_arm64.whl"
                ),
                sha256: "7b832d824bbf852b9a99b02a0dfa2166a00462fc237c2387d15a67c385755795",
            },
        ),
    ],
};

/// A Debian 12 (bookworm) amd64 package: the machines CI runs on. Unpacked without dpkg or root.
macro_rules! deb {
    ($name:literal, $version:literal, $path:literal, $sha256:literal) => {
        Pin {
            name: $name,
            version: $version,
            files: &[(
                Host::LinuxX86_64,
                Download {
                    url: debian!($path),
                    sha256: $sha256,
                },
            )],
        }
    };
}

/// qemu-user: runs the agents' arm64 binaries here (`run --arm64`, the image tests).
pub const QEMU_USER_STATIC: Pin = deb!(
    "qemu-user-static",
    "7.2+dfsg-7+deb12u18+b2",
    "q/qemu/qemu-user-static_7.2+dfsg-7+deb12u18+b2_amd64.deb",
    "325eaa448a481f7b4e581eb9541fd50014b3d2a65c3e7aff33b99b47361bb6dc"
);

/// skopeo: reads images from outside in the tests and the push benchmark.
pub const SKOPEO: Pin = deb!(
    "skopeo",
    "1.9.3+ds1-1+b10",
    "s/skopeo/skopeo_1.9.3+ds1-1+b10_amd64.deb",
    "5c1978f6a95577b143be772bbe50c247a28132a5cc961c74d4d2a6f2b1ab4f3d"
);

/// The shared libraries skopeo links that a minimal Debian lacks (libc and the rest it has).
pub const SKOPEO_LIBRARIES: &[Pin] = &[
    deb!(
        "libgpgme11",
        "1.18.0-3+b1",
        "g/gpgme1.0/libgpgme11_1.18.0-3+b1_amd64.deb",
        "dc075584050dc5c8ac27563fc222e8c1ea71128a019a6d129d5823e47ac1e55e"
    ),
    deb!(
        "libassuan0",
        "2.5.5-5",
        "liba/libassuan/libassuan0_2.5.5-5_amd64.deb",
        "5912430927da16ccc831459679207fdbb9dfc5a206f2bab8d6f36d5a1ab53e25"
    ),
    deb!(
        "libgpg-error0",
        "1.46-1",
        "libg/libgpg-error/libgpg-error0_1.46-1_amd64.deb",
        "89944ee11d7370ce6ef46fc52f094c4a6512eff8943ec4c6ebefeae6360ceada"
    ),
    deb!(
        "libdevmapper1.02.1",
        "1.02.185-2",
        "l/lvm2/libdevmapper1.02.1_1.02.185-2_amd64.deb",
        "aaa78ca236055fedccf637eacf7bda02bf1980b2db668dccd202b04d0d2cfe04"
    ),
];

/// umoci: unpacks images the way a container runtime lays them out, in the tests.
pub const UMOCI: Pin = deb!(
    "umoci",
    "0.4.7+ds-3+b7",
    "u/umoci/umoci_0.4.7+ds-3+b7_amd64.deb",
    "8adce0c435368b8514425bfa31647ff1629241c97331ba4cd3da838a61a58e5a"
);

/// The CNCF distribution registry (v2.8): a real OCI registry for the push and deploy tests.
pub const DOCKER_REGISTRY: Pin = deb!(
    "docker-registry",
    "2.8.2+ds1-1",
    "d/docker-registry/docker-registry_2.8.2+ds1-1_amd64.deb",
    "a9bd06c0e006854608f8469b4371743f40604ad90975532bb3b7ceeb72fe2913"
);

/// A wheel for every host (`py3-none-any`): data, not a program.
macro_rules! any_host {
    ($path:literal, $sha256:literal) => {
        &[
            (
                Host::LinuxX86_64,
                Download {
                    url: pypi!($path),
                    sha256: $sha256,
                },
            ),
            (
                Host::LinuxAarch64,
                Download {
                    url: pypi!($path),
                    sha256: $sha256,
                },
            ),
            (
                Host::MacosX86_64,
                Download {
                    url: pypi!($path),
                    sha256: $sha256,
                },
            ),
            (
                Host::MacosAarch64,
                Download {
                    url: pypi!($path),
                    sha256: $sha256,
                },
            ),
        ]
    };
}

/// The prebuilt CDK-for-Terraform bindings of `hashicorp/aws`, for the provider schema they
/// embed (the extracts in `infra/schema/` are derived from them, and checked against them by
/// `xtask/tests/provider_schema.rs`). Each binding release is generated from one provider
/// release, named in its `package.json`; the version here is the binding's.
///
/// hashicorp/aws 6.48.0: the floor the stacks declare (the first with a gateway target's
/// `gateway_iam_role { service, region }`).
pub const CDKTN_PROVIDER_AWS_6_48: Pin = Pin {
    name: "cdktn-provider-aws",
    version: "24.4.0",
    files: any_host!(
        "fb/0a/b07b40b664ad02c6bf197bda28824e39a2e2faca5562ad6ccd685270b990/cdktn_provider_aws-24.4.0-py3-none-any.whl",
        "0366d03480efde85c0382edbfedfaccb2c091a777717f64d8060742e4c402406"
    ),
};

/// hashicorp/aws 6.69.1: the newest release with a published binding when last moved.
pub const CDKTN_PROVIDER_AWS_6_69: Pin = Pin {
    name: "cdktn-provider-aws",
    version: "25.8.1",
    files: any_host!(
        "90/4c/4a5124a2cae9ef9a57cbd62f4021dabfd57c641c91d9c1048ec016824b70/cdktn_provider_aws-25.8.1-py3-none-any.whl",
        "2ffa579cb88b063cb3a9937e43c519391e876845768f51638a848bdf2ce9f354"
    ),
};

/// hashicorp/aws 6.47.0, the release before the floor: the test shows the check refuses the
/// stacks against it, so the floor is not lower than it must be.
pub const CDKTN_PROVIDER_AWS_6_47: Pin = Pin {
    name: "cdktn-provider-aws",
    version: "24.3.0",
    files: any_host!(
        "58/51/451201f140e144b3c43f7f67e74ce061ec1c0da7de423cf131513961ab38/cdktn_provider_aws-24.3.0-py3-none-any.whl",
        "204c6ec59d895b22bb038a86a7e45b7f2c5395f707e0c46e17734bf9a885a229"
    ),
};

/// Every binding above, as `Tool::ProviderSchemas` installs them.
pub const PROVIDER_SCHEMAS: [&Pin; 3] = [
    &CDKTN_PROVIDER_AWS_6_47,
    &CDKTN_PROVIDER_AWS_6_48,
    &CDKTN_PROVIDER_AWS_6_69,
];
