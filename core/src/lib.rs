//! # webmessaging-core
//!
//! The HTML Standard's web messaging model as a library: [`MessageChannel`] and
//! [`MessagePort`] (with transfer, `start`, `close`), origin-checked window messaging and
//! `BroadcastChannel`, and structured-clone payloads in a V8-compatible wire format. This crate
//! holds all the semantics; the C, Python and Node bindings are thin layers over it.
//!
//! ## A tour
//!
//! ```
//! use std::time::Duration;
//! use webmessaging_core::{MessageChannel, Error, CloseReason};
//!
//! let channel = MessageChannel::new();
//! let (a, b) = channel.into_ports();
//!
//! // Posting never blocks; the message waits in b's queue, in order.
//! a.post_message("hello", &[])?;
//! assert_eq!(b.recv(Some(Duration::from_secs(1)))?.data, b"hello");
//!
//! // Ports travel inside messages. The moved port keeps its peer and its backlog.
//! let other = MessageChannel::new();
//! let (keep, travel) = other.into_ports();
//! keep.post_message("queued before the move", &[])?;
//! a.post_message("take this", &[travel.clone()])?;
//! assert!(travel.is_detached());
//! let moved = b.recv(None)?.ports.remove(0);
//! assert_eq!(moved.recv(None)?.data, b"queued before the move");
//!
//! // Close is in-band: the peer gets everything sent before it, then one close notice.
//! a.post_message("last words", &[])?;
//! a.close();
//! assert_eq!(b.recv(None)?.data, b"last words");
//! match b.recv(None) {
//!     Err(Error::Closed(notice)) => assert_eq!(notice.reason, CloseReason::Closed),
//!     other => panic!("expected a close notice, got {other:?}"),
//! }
//! # Ok::<(), Error>(())
//! ```
//!
//! Event-driven receivers call [`MessagePort::start`] and install a [`Notifier`]: it fires
//! (outside every lock) when the port has something, and the receiver drains a batch with
//! [`MessagePort::try_recv`].

#![warn(missing_docs)]
#![forbid(unsafe_code)]

mod broadcast;
mod buffer;
mod channel;
pub mod clone;
mod close;
mod error;
mod event;
mod origin;
mod port;
mod queue;
mod receiver;
mod sync;
mod window;

pub use broadcast::{live_broadcast_channels, BroadcastChannel};
pub use buffer::{ArrayBufferContents, ForeignBuffer};
pub use channel::MessageChannel;
pub use close::{CloseNotice, CloseReason};
pub use error::{Error, Result};
pub use event::{MessageEvent, MessageEventType};
pub use origin::Origin;
pub use port::{live_mailboxes, Message, MessagePort, Payload, PortMetrics};
pub use queue::{Capacity, Notifier, QueueMetrics};
pub use receiver::MessageEventTarget;
pub use window::{TargetOrigin, Window, WindowMetrics, WindowPostMessageOptions, WindowProxy};
