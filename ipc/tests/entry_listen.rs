//! `listen` / `connect`: the socket file, the named errors, close, and the handshake seen from a
//! client's side against listeners that are not ours.

mod entry_common;

use std::io::{Read, Write};
use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::os::unix::net::UnixListener;
use std::time::Duration;

use entry_common::{is_root, role, role_command, run, TempDir, NOBODY};
use webmessaging_ipc::{connect, listen, ErrorKind, ListenOptions};

const ETIMEDOUT: i32 = 110;
const EBADF: i32 = 9;

/// Not a test: the entry point of this binary re-run as a child (see `role_command`).
#[test]
fn role_entry_point() {
    let Some(role) = role() else { return };
    let code = match role.as_str() {
        // Listen where this (unprivileged) user may not write.
        "listen-unwritable" => {
            let path = std::env::var("WM_ENTRY_PATH").unwrap();
            match listen(&path) {
                Ok(_) => {
                    eprintln!("listen succeeded");
                    1
                }
                Err(e) => {
                    eprintln!("{e}");
                    if e.kind() == ErrorKind::PermissionDenied && e.to_string().contains(&path) {
                        0
                    } else {
                        2
                    }
                }
            }
        }
        other => {
            eprintln!("unknown role {other}");
            3
        }
    };
    std::process::exit(code);
}

#[test]
fn socket_file_is_owner_only_and_close_unlinks_it() {
    let dir = TempDir::new("mode");
    let path = dir.join("s.sock");
    let listener = listen(&path).unwrap();
    assert_eq!(listener.path(), path);
    let meta = std::fs::symlink_metadata(&path).unwrap();
    assert!(meta.file_type().is_socket());
    assert_eq!(meta.permissions().mode() & 0o777, 0o600);
    // The private directory the socket was made in is gone.
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, vec![std::ffi::OsString::from("s.sock")]);
    assert!(!listener.is_closed());
    listener.close();
    assert!(listener.is_closed());
    assert!(!path.exists(), "close unlinks the socket path");
    listener.close(); // idempotent
    drop(listener);
}

#[test]
fn mode_option_sets_the_socket_files_mode() {
    let dir = TempDir::new("mode2");
    let path = dir.join("s");
    let listener = ListenOptions::new().mode(0o660).listen(&path).unwrap();
    let mode = std::fs::symlink_metadata(&path)
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o660);
    drop(listener);
    assert!(!path.exists(), "drop closes and unlinks");
}

#[test]
fn existing_path_is_address_in_use_and_left_alone() {
    let dir = TempDir::new("inuse");
    // A regular file.
    let file = dir.join("taken");
    std::fs::write(&file, b"someone else's").unwrap();
    let err = listen(&file).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::AddressInUse, "{err}");
    assert!(err.to_string().contains(file.to_str().unwrap()), "{err}");
    assert_eq!(std::fs::read(&file).unwrap(), b"someone else's");

    // Another live listener's socket: it keeps its file.
    let path = dir.join("live");
    let first = listen(&path).unwrap();
    let err = listen(&path).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::AddressInUse, "{err}");
    assert!(path.exists());
    assert!(!first.is_closed());
    // No private directories left behind by the failed attempts.
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 2);
    drop(first);

    // A dangling symlink counts as taken too (binding through it would create its target).
    let link = dir.join("link");
    std::os::unix::fs::symlink(dir.join("nowhere"), &link).unwrap();
    assert_eq!(listen(&link).unwrap_err().kind(), ErrorKind::AddressInUse);
    assert!(!dir.join("nowhere").exists());
}

#[test]
fn missing_directory_is_not_found() {
    let dir = TempDir::new("missing");
    let path = dir.join("no/such/dir/s");
    let err = listen(&path).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound, "{err}");
    assert!(err.to_string().contains(path.to_str().unwrap()), "{err}");
}

#[test]
fn unwritable_directory_is_permission_denied() {
    let dir = TempDir::new("unwritable");
    let locked = dir.join("locked");
    std::fs::create_dir(&locked).unwrap();
    std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o555)).unwrap();
    let path = locked.join("s");
    if is_root() {
        // Root writes anywhere: try as nobody instead.
        let mut cmd = role_command("listen-unwritable", Some((NOBODY, &dir)));
        cmd.env("WM_ENTRY_PATH", &path);
        let out = run(cmd);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    } else {
        let err = listen(&path).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::PermissionDenied, "{err}");
        assert!(err.to_string().contains(path.to_str().unwrap()), "{err}");
    }
    assert!(!path.exists());
    assert_eq!(std::fs::read_dir(&locked).unwrap().count(), 0);
}

#[test]
fn too_long_a_path_is_a_named_error() {
    let dir = TempDir::new("long");
    let path = dir.join(&"x".repeat(120));
    let err = listen(&path).unwrap_err();
    assert_eq!(err.raw_os_error(), Some(36), "{err}"); // ENAMETOOLONG
    assert!(!path.exists());
}

#[test]
fn connect_to_nothing_is_not_found() {
    let dir = TempDir::new("nothing");
    let path = dir.join("absent");
    let err = connect(&path, Some(Duration::from_secs(5))).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound, "{err}");
    assert!(err.to_string().contains(path.to_str().unwrap()), "{err}");
}

#[test]
fn connect_to_a_dead_socket_or_a_file_is_refused() {
    let dir = TempDir::new("dead");
    let stale = dir.join("stale");
    drop(UnixListener::bind(&stale).unwrap()); // leaves the file, with no one listening
    let err = connect(&stale, Some(Duration::from_secs(5))).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Refused, "{err}");

    let file = dir.join("file");
    std::fs::write(&file, b"").unwrap();
    let err = connect(&file, Some(Duration::from_secs(5))).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Refused, "{err}");
}

/// A listener that is not ours: it accepts one client and answers with `answer`, then waits
/// for the client to go (or closes at once when `hold` is false).
fn foreign_listener(dir: &TempDir, answer: &'static [u8], hold: bool) -> std::path::PathBuf {
    let path = dir.join("foreign");
    let server = UnixListener::bind(&path).unwrap();
    std::thread::spawn(move || {
        let (mut conn, _) = server.accept().unwrap();
        conn.write_all(answer).unwrap();
        if hold {
            let mut sink = Vec::new();
            let _ = conn.read_to_end(&mut sink);
        }
    });
    path
}

#[test]
fn a_listener_that_is_not_ours_is_a_protocol_error() {
    let dir = TempDir::new("garbage");
    let path = foreign_listener(&dir, b"HTTP/1.1 400 Bad Request\r\n\r\n", true);
    let err = connect(&path, Some(Duration::from_secs(5))).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Protocol, "{err}");
    assert!(
        err.to_string().contains("not a webmessaging listener"),
        "{err}"
    );

    let dir = TempDir::new("short");
    let path = foreign_listener(&dir, b"WMP", false);
    let err = connect(&path, Some(Duration::from_secs(5))).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Protocol, "{err}");

    let dir = TempDir::new("version");
    let path = foreign_listener(&dir, b"WMPORT\x09\x00\x00\x00", true);
    let err = connect(&path, Some(Duration::from_secs(5))).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Protocol, "{err}");
    assert!(err.to_string().contains("version 9"), "{err}");

    // An absurd refusal length is not read.
    let dir = TempDir::new("absurd");
    let path = foreign_listener(&dir, b"WMPORT\x01\x01\xff\xff", true);
    let err = connect(&path, Some(Duration::from_secs(5))).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Protocol, "{err}");
}

#[test]
fn a_refusal_carries_the_listeners_reason() {
    let dir = TempDir::new("reason");
    let path = foreign_listener(&dir, b"WMPORT\x01\x01\x00\x04nope", true);
    let err = connect(&path, Some(Duration::from_secs(5))).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Refused, "{err}");
    assert!(err.to_string().ends_with(": nope"), "{err}");
}

#[test]
fn a_listener_that_closes_without_answering_refuses() {
    let dir = TempDir::new("hangup");
    let path = foreign_listener(&dir, b"", false);
    let err = connect(&path, Some(Duration::from_secs(5))).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Refused, "{err}");
}

#[test]
fn a_silent_listener_times_out() {
    let dir = TempDir::new("silent");
    let path = foreign_listener(&dir, b"", true);
    let err = connect(&path, Some(Duration::from_millis(100))).unwrap_err();
    assert_eq!(err.raw_os_error(), Some(ETIMEDOUT), "{err}");
}

#[test]
fn accept_times_out_and_try_accept_finds_nobody() {
    let dir = TempDir::new("idle");
    let listener = listen(dir.join("s")).unwrap();
    assert!(listener.try_accept().unwrap().is_none());
    let err = listener
        .accept(Some(Duration::from_millis(50)))
        .unwrap_err();
    assert_eq!(err.raw_os_error(), Some(ETIMEDOUT), "{err}");
    assert!(!listener.is_closed());
}

#[test]
fn close_wakes_a_blocked_accept_with_a_named_error() {
    let dir = TempDir::new("wake");
    let listener = std::sync::Arc::new(listen(dir.join("s")).unwrap());
    let waiting = {
        let listener = listener.clone();
        std::thread::spawn(move || listener.accept(None))
    };
    std::thread::sleep(Duration::from_millis(50));
    listener.close();
    let err = waiting.join().unwrap().unwrap_err();
    assert_eq!(err.raw_os_error(), Some(EBADF), "{err}");
    assert!(err.to_string().contains("closed listener"), "{err}");
    let err = listener.try_accept().unwrap_err();
    assert_eq!(err.raw_os_error(), Some(EBADF), "{err}");
    assert!(listener.accept(Some(Duration::from_secs(1))).is_err());
    assert!(!dir.join("s").exists());
    // A client now finds nothing there.
    let err = connect(dir.join("s"), Some(Duration::from_secs(1))).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound, "{err}");
}

#[test]
fn close_leaves_a_file_that_replaced_the_socket() {
    let dir = TempDir::new("replaced");
    let path = dir.join("s");
    let listener = listen(&path).unwrap();
    std::fs::remove_file(&path).unwrap();
    std::fs::write(&path, b"new owner").unwrap();
    listener.close();
    assert_eq!(std::fs::read(&path).unwrap(), b"new owner");
}
