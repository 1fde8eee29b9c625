//! Handing a first port to a child process: [`spawn`] and the child's [`parent_port`].
//!
//! The child's end is a connected Unix stream socket made by [`export_fd`]. The parent keeps it
//! close-on-exec, so no other child (spawned concurrently by another thread) inherits it; only
//! in the forked child, just before `exec`, is the flag cleared, so the descriptor keeps its
//! number there. The number goes in [`PORT_FD_ENV`]; the parent closes its copy once the child
//! has started.

use std::ffi::OsString;
use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command};
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::Arc;

use parking_lot::Mutex;
use rustix::io::{Errno, FdFlags};
use rustix::net::{AddressFamily, SocketType};
use webmessaging_core::{MessageChannel, MessagePort};

use crate::transport::{export_fd, import_fd};
#[allow(unused_imports)] // for the doc links
use crate::ErrorKind;
use crate::{Error, Result};

/// The environment variable through which [`spawn`] tells the child which inherited descriptor
/// carries its parent port. [`parent_port`] reads it and removes it.
pub const PORT_FD_ENV: &str = "WEBMESSAGING_PORT_FD";

/// Serializes [`parent_port`] so two threads never both take the descriptor.
static PARENT_PORT: Mutex<()> = Mutex::new(());

/// The port a parent gave this process with [`spawn`] (or any launcher that sets
/// [`PORT_FD_ENV`] to the number of an inherited connected Unix stream socket made by
/// [`export_fd`]), once: the variable is removed from the environment before anything else, so
/// grandchildren do not see it and a second call returns `Ok(None)`. `Ok(None)` if none was
/// given. The descriptor is made close-on-exec and owned by the returned port.
///
/// Errors, each an [`ErrorKind::Io`] naming the variable and its value (the variable is removed
/// all the same; a descriptor that is not a socket is left open, as it is not ours): the value
/// is not a descriptor number (`EINVAL`), the descriptor is not open (`EBADF`), not a socket
/// (`ENOTSOCK`), or not a Unix stream socket (`EPROTOTYPE`); or [`import_fd`]'s errors.
///
/// The environment is process-wide and not thread-safe to change: call this early, before
/// other threads may read the environment (C's `getenv` takes no lock Rust's `std::env` honours).
pub fn parent_port() -> Result<Option<MessagePort>> {
    let _serial = PARENT_PORT.lock();
    let Some(value) = std::env::var_os(PORT_FD_ENV) else {
        return Ok(None);
    };
    std::env::remove_var(PORT_FD_ENV);
    let fd = inherited_socket(&value)?;
    import_fd(fd).map(Some)
}

/// Checks that `value` names an open Unix stream socket and takes ownership of it.
fn inherited_socket(value: &OsString) -> Result<OwnedFd> {
    let named = || {
        let mut s = OsString::from(format!("{PORT_FD_ENV}="));
        s.push(value);
        Some(PathBuf::from(s))
    };
    let fail = |op: &'static str, e: Errno| Error::Io {
        op,
        path: named(),
        source: io::Error::from(e),
    };
    let raw: RawFd = value
        .to_str()
        .and_then(|s| s.trim().parse().ok())
        .filter(|&n: &RawFd| n >= 0)
        .ok_or_else(|| fail("parent_port: not a descriptor number", Errno::INVAL))?;
    // SAFETY: only borrowed for the checks below, while nothing in this process closes it
    // (the variable that names it is gone, and it is no descriptor Rust owns: we take it next).
    let borrowed = unsafe { BorrowedFd::borrow_raw(raw) };
    let flags = rustix::io::fcntl_getfd(borrowed)
        .map_err(|e| fail("parent_port: descriptor not open", e))?;
    let stat =
        rustix::fs::fstat(borrowed).map_err(|e| fail("parent_port: descriptor not open", e))?;
    if rustix::fs::FileType::from_raw_mode(stat.st_mode) != rustix::fs::FileType::Socket {
        return Err(fail("parent_port: not a socket", Errno::NOTSOCK));
    }
    let domain = rustix::net::sockopt::socket_domain(borrowed)
        .map_err(|e| fail("parent_port: not a socket", e))?;
    let kind = rustix::net::sockopt::socket_type(borrowed)
        .map_err(|e| fail("parent_port: not a socket", e))?;
    if domain != AddressFamily::UNIX || kind != SocketType::STREAM {
        return Err(fail(
            "parent_port: not a Unix stream socket",
            Errno::PROTOTYPE,
        ));
    }
    rustix::io::fcntl_setfd(borrowed, flags | FdFlags::CLOEXEC)
        .map_err(|e| fail("parent_port: setting close-on-exec", e))?;
    // SAFETY: `raw` is an open socket handed to this process for this purpose; the variable
    // naming it was removed under `PARENT_PORT`, so no other call takes it.
    Ok(unsafe { OwnedFd::from_raw_fd(raw) })
}

/// Starts `command` as a child process holding one end of a new channel, and returns the child
/// and the other end. The child gets its end with [`parent_port`]: the end is an inherited
/// descriptor, at the same number it has here, named by [`PORT_FD_ENV`] in the child's
/// environment. Nothing else of `command` changes: after the call, `command` no longer sets
/// [`PORT_FD_ENV`] (it removes any inherited value), so it may be reused.
///
/// Errors: the port could not be exported (see [`export_fd`]), or the child could not be
/// started (an [`ErrorKind::Io`] with op `"spawn"`, e.g. `ENOENT` for a missing program, which
/// maps to [`ErrorKind::NotFound`]).
pub fn spawn(command: &mut Command) -> Result<(Child, MessagePort)> {
    let (ours, theirs) = MessageChannel::new().into_ports();
    let fd = export_fd(&theirs)?;
    drop(theirs);
    // export_fd's descriptor is close-on-exec here and above stdio (0-2, which the child's
    // stdio setup would overwrite); the hook below clears close-on-exec in the child only.
    let raw = fd.as_raw_fd();
    // Read by the forked child. Reset once this spawn is over, so the hook this leaves on a
    // reused `command` does nothing for the next spawn (whose descriptor `raw` may by then
    // name something else).
    let target = Arc::new(AtomicI32::new(raw));
    let in_child = Arc::clone(&target);
    command.env(PORT_FD_ENV, raw.to_string());
    // SAFETY: the hook only makes two raw fcntl system calls (async-signal-safe) and allocates
    // nothing.
    unsafe {
        command.pre_exec(move || {
            let fd = in_child.load(Ordering::Relaxed);
            if fd >= 0 {
                let fd = BorrowedFd::borrow_raw(fd);
                let flags = rustix::io::fcntl_getfd(fd)?;
                rustix::io::fcntl_setfd(fd, flags.difference(FdFlags::CLOEXEC))?;
            }
            Ok(())
        });
    }
    let spawned = command.spawn();
    target.store(-1, Ordering::Relaxed);
    command.env_remove(PORT_FD_ENV);
    drop(fd);
    let child = spawned.map_err(spawn_err)?;
    Ok((child, ours))
}

fn spawn_err(source: io::Error) -> Error {
    Error::Io {
        op: "spawn",
        path: None,
        source,
    }
}
