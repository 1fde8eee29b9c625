//! The transport: a cross-process port is a core port entangled with a local *bridge* port that
//! this module pumps to and from a Unix socket (docs/cross-process.md).
//!
//! The transport is a client of the core's port API: posting from the program's port lands in
//! the bridge's queue as it would for any local peer, the bridge's notifier wakes the reactor,
//! which writes frames; frames read from the socket are posted from the bridge. The port
//! semantics stay the core's.

mod conn;
mod reactor;
mod wire;

use std::os::fd::{AsRawFd, OwnedFd};
use std::sync::atomic::Ordering;
use std::time::Duration;

use webmessaging_core::{MessageChannel, MessagePort};

use crate::{Error, Result};
use reactor::NewBridge;

fn io_error(op: &'static str) -> impl FnOnce(std::io::Error) -> Error {
    move |source| Error::Io {
        op,
        path: None,
        source,
    }
}

/// Exports `port` as a connected Unix socket descriptor: the port is detached here, as by a
/// transfer, and whoever calls [`import_fd`] on the descriptor (in any process, or another copy
/// of this library) gets a port entangled with its old peer, with its backlog.
///
/// The descriptor is close-on-exec and numbered 3 or above, never a stdio number: a parent whose
/// stdio is closed can still hand it to a child, whose stdio setup would overwrite 0–2.
///
/// Errors: the port is closed or already transferred ([`ErrorKind::Port`](crate::ErrorKind::Port));
/// no descriptors left ([`ErrorKind::DescriptorLimit`](crate::ErrorKind::DescriptorLimit)), with
/// the port left untouched.
pub fn export_fd(port: &MessagePort) -> Result<OwnedFd> {
    let shared = reactor::shared().map_err(io_error("start the transport"))?;
    let (near, far) = conn::socketpair().map_err(io_error("socketpair"))?;
    let far = if far.as_raw_fd() <= 2 {
        rustix::io::fcntl_dupfd_cloexec(&far, 3).map_err(|e| io_error("dup")(e.into()))?
    } else {
        far
    };
    let port = port.take_transfer()?;
    shared.submit(NewBridge {
        port,
        fd: near,
        hello_sent: false,
        hello_received: false,
        prefix: Default::default(),
        pending: Default::default(),
    });
    Ok(far)
}

/// Imports a descriptor made by [`export_fd`] (here or in another process) as a port.
///
/// The descriptor must be a connected Unix stream socket whose other end speaks this crate's
/// protocol; if it does not, the port ends with
/// [`CloseReason::Lost`](webmessaging_core::CloseReason::Lost) and [`diagnostics`] says why.
/// Errors: not a Unix stream socket ([`ErrorKind::Protocol`](crate::ErrorKind::Protocol)).
pub fn import_fd(fd: OwnedFd) -> Result<MessagePort> {
    if !conn::is_unix_stream(&fd) {
        return Err(Error::Protocol(
            "import_fd needs a connected Unix stream socket".into(),
        ));
    }
    let shared = reactor::shared().map_err(io_error("start the transport"))?;
    let (user, bridge) = MessageChannel::new().into_ports();
    shared.submit(NewBridge {
        port: bridge,
        fd,
        hello_sent: false,
        hello_received: false,
        prefix: Default::default(),
        pending: Default::default(),
    });
    Ok(user)
}

/// Waits until every message posted to a cross-process port before this call has been written
/// to its socket (or its peer is gone), up to `timeout` (`None`: no limit). Returns whether
/// that happened. A process calls this at exit on its own (up to 5 seconds), so a program that
/// posts, closes and exits loses nothing; call it earlier to bound the wait yourself.
/// Returns `false` at once when called from the transport's own thread (a notifier).
pub fn flush(timeout: Option<Duration>) -> bool {
    match reactor::started() {
        None => true,
        Some(s) if s.on_reactor_thread() || !s.same_process() => false,
        Some(s) => s.flush(timeout),
    }
}

/// What the transport has seen, for tests and troubleshooting.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Diagnostics {
    /// Cross-process ports whose socket this process serves now.
    pub live_bridges: usize,
    /// Problems that cost a connection or a port: the peer broke the protocol, a message
    /// could not be sent, a port's descriptor could not be made or received.
    pub protocol_errors: u64,
    /// The reason of the last such problem.
    pub last_protocol_error: Option<String>,
}

/// The transport's counters in this process.
pub fn diagnostics() -> Diagnostics {
    match reactor::started() {
        None => Diagnostics::default(),
        Some(s) => Diagnostics {
            live_bridges: s.live.load(Ordering::Relaxed),
            protocol_errors: s.protocol_errors.load(Ordering::Relaxed),
            last_protocol_error: s.diag.lock().last_protocol_error.clone(),
        },
    }
}
