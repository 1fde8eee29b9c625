//! Peer credentials: a client running as another user is refused, with the listener's reason,
//! and the listener keeps serving. Needs root (to switch a child to `nobody`); skips loudly
//! otherwise.

mod entry_common;

use std::io::{BufRead, BufReader, Read};
use std::os::unix::fs::PermissionsExt;
use std::process::Stdio;
use std::time::Duration;

use entry_common::{is_root, role, role_command, run, TempDir, NOBODY};
use webmessaging_ipc::{connect, ErrorKind, ListenOptions};

fn path_env() -> String {
    std::env::var("WM_ENTRY_PATH").unwrap()
}

/// Not a test: the entry point of this binary re-run as a child (see `role_command`).
#[test]
fn role_entry_point() {
    let Some(role) = role() else { return };
    let code = match role.as_str() {
        // Connect and report the outcome: the exit code says which, stderr says why.
        "connect" => match connect(path_env(), Some(Duration::from_secs(10))) {
            Ok(port) => {
                let _ = port.post_message("from another user", &[]);
                port.close();
                0
            }
            Err(e) => {
                eprintln!("{e}");
                match e.kind() {
                    ErrorKind::Refused => 10,
                    ErrorKind::PermissionDenied => 11,
                    _ => 12,
                }
            }
        },
        // Listen, say READY, and serve until stdin closes.
        "listen" => {
            let listener = match ListenOptions::new().mode(0o666).listen(path_env()) {
                Ok(l) => l,
                Err(e) => {
                    eprintln!("{e}");
                    std::process::exit(4);
                }
            };
            println!("READY");
            let _ = std::io::stdin().read_to_end(&mut Vec::new());
            listener.close();
            0
        }
        other => {
            eprintln!("unknown role {other}");
            3
        }
    };
    std::process::exit(code);
}

fn skip_unless_root(test: &str) -> bool {
    if !is_root() {
        eprintln!("SKIPPED {test}: needs root to run a client as another user (uid {NOBODY})");
        return true;
    }
    false
}

/// Runs the `connect` role as `nobody` against `path`; returns (exit code, stderr).
fn connect_as_nobody(dir: &TempDir, path: &std::path::Path) -> (Option<i32>, String) {
    let mut cmd = role_command("connect", Some((NOBODY, dir)));
    cmd.env("WM_ENTRY_PATH", path);
    let out = run(cmd);
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn another_user_is_refused_with_the_reason() {
    if skip_unless_root("another_user_is_refused_with_the_reason") {
        return;
    }
    let dir = TempDir::new("creds");
    let path = dir.join("s");
    // A mode that lets the other user reach the socket: the credential check must stop it.
    let listener = ListenOptions::new().mode(0o666).listen(&path).unwrap();
    for _ in 0..2 {
        let (code, stderr) = connect_as_nobody(&dir, &path);
        assert_eq!(code, Some(10), "{stderr}");
        assert!(stderr.contains("user id 65534 may not connect"), "{stderr}");
        assert!(stderr.contains("accepts user id 0 only"), "{stderr}");
        assert!(stderr.contains(path.to_str().unwrap()), "{stderr}");
    }
    // Refused clients never reach accept, and the listener keeps serving its own user.
    assert!(listener.try_accept().unwrap().is_none());
    let client = connect(&path, Some(Duration::from_secs(10))).unwrap();
    let server = listener.accept(Some(Duration::from_secs(10))).unwrap();
    client.post_message(b"still here".to_vec(), &[]).unwrap();
    let got = server.recv(Some(Duration::from_secs(10))).unwrap();
    assert_eq!(got.data, b"still here");
    assert!(listener.try_accept().unwrap().is_none());
}

#[test]
fn the_default_mode_keeps_other_users_out() {
    if skip_unless_root("the_default_mode_keeps_other_users_out") {
        return;
    }
    let dir = TempDir::new("mode");
    let path = dir.join("s");
    let listener = webmessaging_ipc::listen(&path).unwrap();
    let (code, stderr) = connect_as_nobody(&dir, &path);
    assert_eq!(code, Some(11), "{stderr}");
    assert!(listener.try_accept().unwrap().is_none());
}

#[test]
fn a_listener_refuses_root_when_it_runs_as_another_user() {
    if skip_unless_root("a_listener_refuses_root_when_it_runs_as_another_user") {
        return;
    }
    let dir = TempDir::new("reverse");
    let home = dir.join("home");
    std::fs::create_dir(&home).unwrap();
    std::fs::set_permissions(&home, std::fs::Permissions::from_mode(0o755)).unwrap();
    rustix::fs::chown(
        &home,
        Some(rustix::fs::Uid::from_raw(NOBODY)),
        Some(rustix::fs::Gid::from_raw(NOBODY)),
    )
    .unwrap();
    let path = home.join("s");
    let mut cmd = role_command("listen", Some((NOBODY, &dir)));
    cmd.env("WM_ENTRY_PATH", &path)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped());
    let mut child = entry_common::spawn_retrying(&mut cmd);
    // The test harness prints its own lines first.
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    while out.read_line(&mut line).unwrap() > 0 && !line.contains("READY") {
        line.clear();
    }
    if !line.contains("READY") {
        let out = child.wait_with_output().unwrap();
        panic!(
            "listener child said {line:?}, exited {:?}: {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let err = connect(&path, Some(Duration::from_secs(10))).unwrap_err();
    drop(child.stdin.take());
    let status = child.wait().unwrap();
    assert_eq!(err.kind(), ErrorKind::Refused, "{err}");
    assert!(
        err.to_string()
            .contains("user id 0 may not connect (this listener accepts user id 65534 only)"),
        "{err}"
    );
    assert!(status.success());
    assert!(!path.exists(), "the child's close unlinked its socket");
}
