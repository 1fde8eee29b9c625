//! # webmessaging-ipc
//!
//! Cross-process ports: a [`MessagePort`] whose peer lives in another process, reached over a
//! Unix socket. A port crosses with the same semantics it has inside a process — posting never
//! blocks, order is kept per direction, ports transfer inside messages to any process, close is
//! lossless — and when the peer's process dies the port gets everything it had sent, then a
//! [`CloseReason::Lost`](webmessaging_core::CloseReason::Lost) notice.
//!
//! Ways to get a first port into another process:
//! - [`spawn`] starts a child with one end of a new channel; the child calls [`parent_port`].
//! - [`listen`] / [`connect`]: a server receives one new port per client.
//! - [`export_fd`] / [`import_fd`]: a port as a socket descriptor, for programs (or two copies
//!   of this library in one process) that already have a way to pass one.
//!
//! STATUS: API skeleton; the transport is being written (every call returns an error for now).

#![warn(missing_docs)]

mod error;

use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::Duration;

pub use error::{Error, ErrorKind, Result};
use webmessaging_core::{MessagePort, Notifier};

/// The environment variable through which [`spawn`] tells the child which inherited descriptor
/// carries its parent port. [`parent_port`] reads it and removes it.
pub const PORT_FD_ENV: &str = "WEBMESSAGING_PORT_FD";

fn not_yet() -> Error {
    Error::Protocol("cross-process ports are not implemented yet".into())
}

/// Exports `port` as a connected Unix socket descriptor: the port is detached here, as by a
/// transfer, and whoever calls [`import_fd`] on the descriptor (in any process, or another copy
/// of this library) gets a port entangled with its old peer, with its backlog.
pub fn export_fd(port: &MessagePort) -> Result<OwnedFd> {
    let _ = port;
    Err(not_yet())
}

/// Imports a descriptor made by [`export_fd`] (here or in another process) as a port.
pub fn import_fd(fd: OwnedFd) -> Result<MessagePort> {
    drop(fd);
    Err(not_yet())
}

/// The port a parent gave this process with [`spawn`] (or any launcher that sets
/// [`PORT_FD_ENV`]), once: the variable is removed when read. `Ok(None)` if none was given.
pub fn parent_port() -> Result<Option<MessagePort>> {
    Err(not_yet())
}

/// Starts `command` as a child process holding one end of a new channel, and returns the child
/// and the other end. The child gets its end with [`parent_port`].
pub fn spawn(command: &mut Command) -> Result<(Child, MessagePort)> {
    let _ = command;
    Err(not_yet())
}

/// A server socket: each client that [`connect`]s becomes one new port here.
pub struct Listener {
    path: PathBuf,
}

/// Listens on a new Unix socket at `path`, created owner-only. Connections from another user
/// id are refused. Errors: the path exists ([`ErrorKind::AddressInUse`]), its directory is not
/// writable ([`ErrorKind::PermissionDenied`]).
pub fn listen(path: impl AsRef<Path>) -> Result<Listener> {
    let _ = path.as_ref();
    Err(not_yet())
}

impl Listener {
    /// The next client's port, waiting up to `timeout` (`None`: forever).
    pub fn accept(&self, timeout: Option<Duration>) -> Result<MessagePort> {
        let _ = timeout;
        Err(not_yet())
    }

    /// The next client's port if one is waiting.
    pub fn try_accept(&self) -> Result<Option<MessagePort>> {
        Err(not_yet())
    }

    /// Installs (or removes) a notifier fired, with no lock held, when a client is waiting.
    pub fn set_notifier(&self, notifier: Option<Notifier>) {
        let _ = notifier;
    }

    /// Stops listening and removes the socket path. Idempotent.
    pub fn close(&self) {}

    /// The socket path.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// Connects to a [`Listener`] at `path` and returns this client's port. Errors: nothing listens
/// there ([`ErrorKind::NotFound`] or [`ErrorKind::Refused`]), the listener refused this user id
/// ([`ErrorKind::Refused`]), `timeout` ran out waiting for its answer.
pub fn connect(path: impl AsRef<Path>, timeout: Option<Duration>) -> Result<MessagePort> {
    let _ = (path.as_ref(), timeout);
    Err(not_yet())
}
