//! The checks a binary must pass before it goes into an image: AgentCore runs linux/arm64 and
//! the image has no dynamic loader and no libc, so it must be an aarch64, statically linked ELF.
//!
//! Reading the few header fields needed here is shorter than a dependency on an ELF crate.

use std::path::Path;

use anyhow::{Context as _, bail};

const EM_AARCH64: u16 = 183;
const PT_DYNAMIC: u32 = 2;
const PT_INTERP: u32 = 3;
const DT_NULL: u64 = 0;
const DT_NEEDED: u64 = 1;

/// Fails, saying what was found instead, unless `bytes` is a 64-bit little-endian aarch64 ELF
/// executable with no program interpreter and no shared-library dependencies. Static-PIE (what
/// Rust's musl targets produce) has a dynamic section for its own relocations but needs nothing.
pub fn check_static_aarch64(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let what = || format!("{} is not a usable agent binary", path.display());
    if bytes.len() < 64 || &bytes[..4] != b"\x7fELF" {
        bail!("{}: not an ELF file", what());
    }
    if bytes[4] != 2 || bytes[5] != 1 {
        bail!("{}: not a 64-bit little-endian ELF", what());
    }
    let machine = u16_at(bytes, 18)?;
    if machine != EM_AARCH64 {
        bail_help!("{}: built for {} (ELF machine {machine}), AgentCore needs aarch64", what(), machine_name(machine); "build with `--target aarch64-unknown-linux-musl` (build-agents does)");
    }
    let phoff = u64_at(bytes, 32)? as usize;
    let phentsize = u16_at(bytes, 54)? as usize;
    let phnum = u16_at(bytes, 56)? as usize;
    for i in 0..phnum {
        let ph = phoff + i * phentsize;
        match u32_at(bytes, ph)? {
            PT_INTERP => {
                bail_help!("{}: dynamically linked (it asks for a program interpreter), but the image has \
                 no libc", what(); "build for the musl target, which links statically")
            }
            PT_DYNAMIC => {
                let offset = u64_at(bytes, ph + 8)? as usize;
                let size = u64_at(bytes, ph + 32)? as usize;
                for entry in (offset..offset + size).step_by(16) {
                    match u64_at(bytes, entry)? {
                        DT_NULL => break,
                        DT_NEEDED => {
                            bail_help!("{}: needs shared libraries, but the image has none", what(); "remove dependencies that link system libraries dynamically")
                        }
                        _ => {}
                    }
                }
            }
            _ => {}
        }
    }
    Ok(())
}

fn machine_name(machine: u16) -> &'static str {
    match machine {
        62 => "x86-64",
        3 => "x86",
        40 => "arm (32-bit)",
        243 => "riscv",
        _ => "another architecture",
    }
}

fn field<const N: usize>(bytes: &[u8], at: usize) -> anyhow::Result<[u8; N]> {
    bytes
        .get(at..at + N)
        .and_then(|s| s.try_into().ok())
        .context("truncated ELF file")
}

fn u16_at(bytes: &[u8], at: usize) -> anyhow::Result<u16> {
    field(bytes, at).map(u16::from_le_bytes)
}

fn u32_at(bytes: &[u8], at: usize) -> anyhow::Result<u32> {
    field(bytes, at).map(u32::from_le_bytes)
}

fn u64_at(bytes: &[u8], at: usize) -> anyhow::Result<u64> {
    field(bytes, at).map(u64::from_le_bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A minimal ELF64 header with `phnum` program headers of the given types.
    fn elf(machine: u16, segments: &[u32]) -> Vec<u8> {
        let mut b = vec![0u8; 64 + 56 * segments.len() + 32];
        b[..4].copy_from_slice(b"\x7fELF");
        b[4] = 2;
        b[5] = 1;
        b[18..20].copy_from_slice(&machine.to_le_bytes());
        b[32..40].copy_from_slice(&64u64.to_le_bytes());
        b[54..56].copy_from_slice(&56u16.to_le_bytes());
        b[56..58].copy_from_slice(&(segments.len() as u16).to_le_bytes());
        let dyn_at = (64 + 56 * segments.len()) as u64;
        for (i, kind) in segments.iter().enumerate() {
            let ph = 64 + 56 * i;
            b[ph..ph + 4].copy_from_slice(&kind.to_le_bytes());
            b[ph + 8..ph + 16].copy_from_slice(&dyn_at.to_le_bytes());
            b[ph + 32..ph + 40].copy_from_slice(&32u64.to_le_bytes());
        }
        b
    }

    #[test]
    fn accepts_static_and_static_pie_aarch64() {
        let path = Path::new("agent");
        check_static_aarch64(path, &elf(EM_AARCH64, &[1])).expect("static");
        // A dynamic section whose first entry is DT_NULL: static-pie.
        check_static_aarch64(path, &elf(EM_AARCH64, &[1, PT_DYNAMIC])).expect("static-pie");
    }

    #[test]
    fn rejects_wrong_arch_dynamic_and_garbage() {
        let path = Path::new("agent");
        let err = check_static_aarch64(path, &elf(62, &[1])).expect_err("x86-64");
        assert!(err.to_string().contains("x86-64"), "{err}");
        let err = check_static_aarch64(path, &elf(EM_AARCH64, &[PT_INTERP])).expect_err("interp");
        assert!(err.to_string().contains("dynamically linked"), "{err}");
        let mut needed = elf(EM_AARCH64, &[PT_DYNAMIC]);
        let at = 64 + 56;
        needed[at] = DT_NEEDED as u8;
        let err = check_static_aarch64(path, &needed).expect_err("needed");
        assert!(err.to_string().contains("shared libraries"), "{err}");
        let err = check_static_aarch64(path, b"#!/bin/sh\n").expect_err("script");
        assert!(err.to_string().contains("not an ELF"), "{err}");
        let mut truncated = elf(EM_AARCH64, &[1]);
        truncated[56] = 200; // more program headers than the file holds
        assert!(check_static_aarch64(path, &truncated).is_err());
    }
}
