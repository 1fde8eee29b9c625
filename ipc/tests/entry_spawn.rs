//! `spawn` and `parent_port`: the child (this test binary re-run in a role) gets its port from
//! the inherited descriptor named by `WEBMESSAGING_PORT_FD`, once; bad values give named errors.

mod entry_common;

use std::os::fd::AsRawFd;

use entry_common::{role, role_command, run};
use webmessaging_ipc::{parent_port, Error, ErrorKind, PORT_FD_ENV};

const EINVAL: i32 = 22;
const EBADF: i32 = 9;
const ENOTSOCK: i32 = 88;
const EPROTOTYPE: i32 = 91;

/// In a child: sets the variable to `value`, checks `parent_port` fails with `errno` and names
/// the variable, and that the variable is gone afterwards.
fn expect_bad(value: &str, errno: i32, words: &str) -> Result<(), String> {
    std::env::set_var(PORT_FD_ENV, value);
    let got = parent_port();
    if std::env::var_os(PORT_FD_ENV).is_some() {
        return Err(format!("{value:?}: the variable is still set"));
    }
    match got {
        Err(e @ Error::Io { .. }) => {
            let text = e.to_string();
            if e.raw_os_error() != Some(errno)
                || e.kind() != ErrorKind::Io
                || !text.contains(&format!("{PORT_FD_ENV}={value}"))
                || !text.contains(words)
            {
                return Err(format!("{value:?}: wrong error {text:?} ({:?})", e.kind()));
            }
        }
        Err(e) => return Err(format!("{value:?}: wrong error {e}")),
        Ok(p) => return Err(format!("{value:?}: got {p:?}")),
    }
    match parent_port() {
        Ok(None) => Ok(()),
        other => Err(format!("{value:?}: second call gave {other:?}")),
    }
}

fn bad_values() -> Result<(), String> {
    expect_bad("garbage", EINVAL, "not a descriptor number")?;
    expect_bad("-1", EINVAL, "not a descriptor number")?;
    expect_bad("", EINVAL, "not a descriptor number")?;
    expect_bad("987", EBADF, "not open")?;
    let file = std::fs::File::open("/dev/null").unwrap();
    let raw = file.as_raw_fd().to_string();
    expect_bad(&raw, ENOTSOCK, "not a socket")?;
    // Not ours to close: the descriptor stays open.
    rustix::io::fcntl_getfd(&file).map_err(|e| format!("/dev/null was closed: {e}"))?;
    let udp = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    expect_bad(
        &udp.as_raw_fd().to_string(),
        EPROTOTYPE,
        "not a Unix stream socket",
    )?;
    let (dgram, _other) = std::os::unix::net::UnixDatagram::pair().unwrap();
    expect_bad(
        &dgram.as_raw_fd().to_string(),
        EPROTOTYPE,
        "not a Unix stream socket",
    )?;
    Ok(())
}

/// Not a test: the entry point of this binary re-run as a child (see `role_command`).
#[test]
fn role_entry_point() {
    let Some(role) = role() else { return };
    let result = match role.as_str() {
        "bad-values" => bad_values(),
        "no-port" => match parent_port() {
            Ok(None) => Ok(()),
            other => Err(format!("parent_port gave {other:?}")),
        },
        other => Err(format!("unknown role {other}")),
    };
    if let Err(why) = &result {
        eprintln!("role {role}: {why}");
    }
    std::process::exit(if result.is_ok() { 0 } else { 1 });
}

#[test]
fn parent_port_rejects_bad_values_with_named_errors() {
    let out = run(role_command("bad-values", None));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn parent_port_is_none_without_the_variable() {
    let out = run(role_command("no-port", None));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
