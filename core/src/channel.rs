//! `MessageChannel`: creates a pair of entangled ports.

use crate::port::MessagePort;

/// Two entangled [`MessagePort`]s (R-CH-1): what one posts, the other receives, both ways.
#[derive(Debug)]
pub struct MessageChannel {
    port1: MessagePort,
    port2: MessagePort,
}

impl MessageChannel {
    /// Creates a channel whose two ports are entangled with each other and not started.
    pub fn new() -> Self {
        let (port1, port2) = MessagePort::entangled_pair();
        MessageChannel { port1, port2 }
    }

    /// The first port; the same port on every call (R-CH-2).
    pub fn port1(&self) -> &MessagePort {
        &self.port1
    }

    /// The second port; the same port on every call (R-CH-2).
    pub fn port2(&self) -> &MessagePort {
        &self.port2
    }

    /// Gives up the channel object and returns its two ports.
    pub fn into_ports(self) -> (MessagePort, MessagePort) {
        (self.port1, self.port2)
    }
}

impl Default for MessageChannel {
    fn default() -> Self {
        Self::new()
    }
}
