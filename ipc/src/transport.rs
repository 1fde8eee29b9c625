//! The transport: a cross-process port is a core port entangled with a local *bridge* port that
//! this module pumps to and from a Unix socket. (Skeleton.)

use std::os::fd::OwnedFd;

use webmessaging_core::MessagePort;

use crate::{not_yet, Result};

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
