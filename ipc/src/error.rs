//! The errors of cross-process ports: named so each binding can map them to its language's idiom
//! (`WM_ERR_*` in C, `OSError` subclasses in Python, `err.code` in Node).

use std::io;
use std::path::PathBuf;

/// What went wrong, coarsely: the part a binding maps to its own error names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The port could not be exported (closed, already transferred): a `DataCloneError`.
    Port,
    /// A listener's socket path already exists (`EADDRINUSE`).
    AddressInUse,
    /// The socket path or its directory may not be written or read (`EACCES`, `EPERM`).
    PermissionDenied,
    /// Nothing listens at the path, or the environment names no parent port (`ENOENT`).
    NotFound,
    /// The other side refused the connection (another user id, or not a webmessaging endpoint).
    Refused,
    /// The process (or system) is out of file descriptors (`EMFILE`, `ENFILE`).
    DescriptorLimit,
    /// The other side broke the protocol (bad handshake, malformed frame).
    Protocol,
    /// Any other operating-system error.
    Io,
}

/// Every error of this crate.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A port-level error from the core (e.g. exporting a closed port).
    #[error(transparent)]
    Port(#[from] webmessaging_core::Error),
    /// An operating-system call failed; `op` says which step, `path` which socket path if any.
    #[error("{op}{}: {source}", path.as_ref().map(|p| format!(" {}", p.display())).unwrap_or_default())]
    Io {
        /// The step that failed (`"bind"`, `"connect"`, `"socketpair"`, ...).
        op: &'static str,
        /// The socket path involved, if any.
        path: Option<PathBuf>,
        /// The operating system's error.
        #[source]
        source: io::Error,
    },
    /// The other side refused the connection.
    #[error("Refused: {0}")]
    Refused(String),
    /// The other side broke the protocol.
    #[error("ProtocolError: {0}")]
    Protocol(String),
}

impl Error {
    /// The coarse kind, for bindings to map to their own error names.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::Port(_) => ErrorKind::Port,
            Error::Refused(_) => ErrorKind::Refused,
            Error::Protocol(_) => ErrorKind::Protocol,
            Error::Io { source, .. } => match source.raw_os_error() {
                Some(e) if e == rustix::io::Errno::ADDRINUSE.raw_os_error() => {
                    ErrorKind::AddressInUse
                }
                Some(e)
                    if e == rustix::io::Errno::ACCESS.raw_os_error()
                        || e == rustix::io::Errno::PERM.raw_os_error() =>
                {
                    ErrorKind::PermissionDenied
                }
                Some(e) if e == rustix::io::Errno::NOENT.raw_os_error() => ErrorKind::NotFound,
                Some(e)
                    if e == rustix::io::Errno::MFILE.raw_os_error()
                        || e == rustix::io::Errno::NFILE.raw_os_error() =>
                {
                    ErrorKind::DescriptorLimit
                }
                Some(e) if e == rustix::io::Errno::CONNREFUSED.raw_os_error() => ErrorKind::Refused,
                _ => ErrorKind::Io,
            },
        }
    }

    /// The operating system's error number, when there is one (for `errno`-style bindings).
    pub fn raw_os_error(&self) -> Option<i32> {
        match self {
            Error::Io { source, .. } => source.raw_os_error(),
            _ => None,
        }
    }
}

/// This crate's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
