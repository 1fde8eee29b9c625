//! # webmessaging-ipc
//!
//! Cross-process ports: a [`MessagePort`](webmessaging_core::MessagePort) whose peer lives in another process, reached over a
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
//! The design (bridges, frames, descriptor passing, hand-over, close and crash) is in
//! `docs/cross-process.md`.

#![warn(missing_docs)]

mod error;
pub mod frame;
mod listener;
mod spawn;
mod transport;

pub use error::{Error, ErrorKind, Result};
pub use listener::{connect, listen, ListenOptions, Listener};
pub use spawn::{parent_port, spawn, PORT_FD_ENV};
pub use transport::{diagnostics, export_fd, flush, import_fd, Diagnostics};
