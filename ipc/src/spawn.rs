//! Handing a first port to a child process: [`spawn`] and the child's [`parent_port`]. (Skeleton.)

use std::process::{Child, Command};

use webmessaging_core::MessagePort;

use crate::{not_yet, Result};

/// The environment variable through which [`spawn`] tells the child which inherited descriptor
/// carries its parent port. [`parent_port`] reads it and removes it.
pub const PORT_FD_ENV: &str = "WEBMESSAGING_PORT_FD";

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
