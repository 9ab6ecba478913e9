//! Downloading, verifying and unpacking, against archives made by other people's writers (the
//! `ar`, `zip` and `lzma-rust2` crates) and a plain HTTP server on 127.0.0.1.

use std::io::{Read as _, Write as _};
use std::net::TcpListener;
use std::path::Path;

use pinned_tools::pins::Download;
use pinned_tools::{Tools, fetch, unpack};

/// A Debian package as dpkg-deb lays it out: `debian-binary`, `control.tar.xz`, `data.tar.xz`.
fn deb(files: &[(&str, &[u8], u32)], symlinks: &[(&str, &str)]) -> Vec<u8> {
    let mut tar = tar::Builder::new(Vec::new());
    for (path, bytes, mode) in files {
        let mut h = tar::Header::new_gnu();
        h.set_size(bytes.len() as u64);
        h.set_mode(*mode);
        h.set_cksum();
        tar.append_data(&mut h, format!("./{path}"), *bytes)
            .expect("tar");
    }
    for (path, target) in symlinks {
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(tar::EntryType::Symlink);
        h.set_size(0);
        tar.append_link(&mut h, format!("./{path}"), target)
            .expect("tar link");
    }
    let tar = tar.into_inner().expect("tar");
    let mut xz = Vec::new();
    {
        let mut w =
            lzma_rust2::XzWriter::new(&mut xz, lzma_rust2::XzOptions::with_preset(1)).expect("xz");
        w.write_all(&tar).expect("xz write");
        w.finish().expect("xz finish");
    }
    let mut ar = ar::Builder::new(Vec::new());
    for (name, data) in [
        ("debian-binary", b"2.0\n".to_vec()),
        ("control.tar.xz", Vec::new()),
        ("data.tar.xz", xz),
    ] {
        let header = ar::Header::new(name.as_bytes().to_vec(), data.len() as u64);
        ar.append(&header, &data[..]).expect("ar");
    }
    ar.into_inner().expect("ar")
}

#[test]
fn a_debian_package_unpacks_its_programs_and_libraries_only() {
    let dir = tempfile::tempdir().expect("tempdir");
    let package = dir.path().join("tool.deb");
    std::fs::write(
        &package,
        deb(
            &[
                ("usr/bin/tool", b"#!/bin/sh\necho tool\n", 0o755),
                ("usr/lib/x86_64-linux-gnu/libtool.so.1.2", b"ELF", 0o644),
                ("usr/share/doc/tool/copyright", b"text", 0o644),
            ],
            &[("usr/lib/x86_64-linux-gnu/libtool.so.1", "libtool.so.1.2")],
        ),
    )
    .expect("write deb");
    let dest = dir.path().join("out");
    let count =
        unpack::deb(&package, &["usr/bin/", "usr/lib/x86_64-linux-gnu/"], &dest).expect("unpack");
    assert_eq!(count, 3);
    let tool = dest.join("usr/bin/tool");
    let mode = std::os::unix::fs::PermissionsExt::mode(
        &std::fs::metadata(&tool).expect("tool").permissions(),
    );
    assert_eq!(mode & 0o111, 0o111, "programs stay executable");
    assert_eq!(
        std::fs::read_link(dest.join("usr/lib/x86_64-linux-gnu/libtool.so.1")).expect("link"),
        Path::new("libtool.so.1.2")
    );
    assert!(!dest.join("usr/share").exists(), "docs are left out");
}

#[test]
fn a_wheel_unpacks_the_wanted_members_with_their_modes() {
    let dir = tempfile::tempdir().expect("tempdir");
    let wheel = dir.path().join("tool.whl");
    let mut zip = zip::ZipWriter::new(std::fs::File::create(&wheel).expect("create"));
    let exe = zip::write::SimpleFileOptions::default().unix_permissions(0o755);
    let file = zip::write::SimpleFileOptions::default().unix_permissions(0o644);
    zip.start_file("ziglang/zig", exe).expect("zip");
    zip.write_all(b"zig").expect("zip");
    zip.start_file("ziglang/lib/std.zig", file).expect("zip");
    zip.write_all(b"std").expect("zip");
    zip.start_file("ziglang-0.1.dist-info/RECORD", file)
        .expect("zip");
    zip.write_all(b"record").expect("zip");
    zip.finish().expect("zip");

    let dest = dir.path().join("out");
    assert_eq!(
        unpack::wheel(&wheel, &["ziglang/"], &dest).expect("unpack"),
        2
    );
    let mode = std::os::unix::fs::PermissionsExt::mode(
        &std::fs::metadata(dest.join("ziglang/zig"))
            .expect("zig")
            .permissions(),
    );
    assert_eq!(mode & 0o111, 0o111);
    assert!(!dest.join("ziglang-0.1.dist-info").exists());
}

/// Serves `body` once per connection, `count` times, on a free port.
fn serve(body: Vec<u8>, count: usize) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}/file", listener.local_addr().expect("addr"));
    std::thread::spawn(move || {
        for stream in listener.incoming().take(count) {
            let mut stream = stream.expect("accept");
            let mut request = [0u8; 1024];
            let _ = stream.read(&mut request);
            let _ = write!(
                stream,
                "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            let _ = stream.write_all(&body);
        }
    });
    url
}

#[test]
fn a_download_is_kept_only_when_its_sha256_is_the_pinned_one() {
    let dir = tempfile::tempdir().expect("tempdir");
    let body = b"pinned bytes".to_vec();
    let good = fetch::sha256_hex(&body);
    let url: &'static str = Box::leak(serve(body.clone(), 2).into_boxed_str());

    let to = dir.path().join("good");
    fetch::fetch(
        &Download {
            url,
            sha256: Box::leak(good.into_boxed_str()),
        },
        &to,
        "good",
    )
    .expect("download");
    assert_eq!(std::fs::read(&to).expect("read"), body);

    let to = dir.path().join("bad");
    let wrong = "0".repeat(64);
    let err = fetch::fetch(
        &Download {
            url,
            sha256: Box::leak(wrong.into_boxed_str()),
        },
        &to,
        "bad",
    )
    .expect_err("a hash mismatch fails");
    assert!(format!("{err:#}").contains("is pinned"), "{err:#}");
    assert!(!to.exists(), "nothing is left behind");
    assert!(!to.with_extension("partial").exists());
}

#[test]
fn the_hermetic_path_holds_the_tools_and_the_allowed_programs_only() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path().join("ws");
    std::fs::create_dir_all(&root).expect("mkdir");
    let tools = Tools::new(&root, root.join("target/xtask/tools"));
    let sh = Path::new("/bin/sh").to_path_buf();
    let path = tools.hermetic_path(&[("sh", sh)]).expect("path");
    let dirs: Vec<_> = std::env::split_paths(&path).collect();
    assert_eq!(dirs, [tools.bin_dir(), tools.dir.join("hermetic-bin")]);
    let names: Vec<String> = std::fs::read_dir(&dirs[1])
        .expect("read")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["sh"]);
}
