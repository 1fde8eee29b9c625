//! The end of a port's queue: why it ended and the in-band record that says so.
//!
//! Its own module because the queue, the errors and the ports all speak of it.

use std::fmt;

/// Why a port's queue ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CloseReason {
    /// `close()` was called.
    Closed,
    /// The last handle was dropped without `close()` (the stand-in for garbage collection).
    Dropped,
    /// The port was posted through its own channel (the standard's "doomed" case); the channel
    /// is lost and the message with it.
    Doomed,
    /// The process holding the peer port went away (it exited or was killed) without closing
    /// it: everything it had sent was delivered first. Only cross-process ports end this way.
    Lost,
}

impl CloseReason {
    /// The reason's name as the bindings spell it: `"closed"`, `"dropped"`, `"doomed"`, `"lost"`
    /// (Python's `PortClosedError.reason`, Node's `'close'` event `reason`).
    pub fn name(self) -> &'static str {
        match self {
            CloseReason::Closed => "closed",
            CloseReason::Dropped => "dropped",
            CloseReason::Doomed => "doomed",
            CloseReason::Lost => "lost",
        }
    }
}

/// The in-band record that ends a port's queue: every earlier message is delivered first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct CloseNotice {
    /// What ended the channel.
    pub reason: CloseReason,
    /// `true` when the peer port caused it, `false` when this port did (e.g. its own `close()`).
    pub by_peer: bool,
}

impl fmt::Display for CloseNotice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let who = if self.by_peer {
            "the peer port"
        } else {
            "this port"
        };
        match self.reason {
            CloseReason::Closed => write!(f, "{who} was closed"),
            CloseReason::Dropped => write!(f, "{who} was dropped without close()"),
            CloseReason::Doomed => write!(f, "{who} was posted through its own channel"),
            CloseReason::Lost => write!(f, "{who} was lost with its process"),
        }
    }
}
