//! Listening on a Unix socket path and connecting to it: one new port per client, as a
//! `SharedWorker` gets one per `connect` event. (Skeleton.)

use std::path::{Path, PathBuf};
use std::time::Duration;

use webmessaging_core::{MessagePort, Notifier};

#[allow(unused_imports)] // for the doc links
use crate::ErrorKind;
use crate::{not_yet, Result};

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
