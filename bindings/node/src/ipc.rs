//! Cross-process ports for `ipc.js`: a port as a socket descriptor ([`ipc_export_fd`],
//! [`ipc_import_fd`]), the port a parent process handed us ([`ipc_parent_port`]), a listening
//! socket ([`NativeListener`]) and connecting to one ([`ipc_connect`], off the JS thread).
//!
//! Errors of `webmessaging-ipc` reach JS as `"IpcError <CODE> <errno>: message"` (errno 0 when
//! there is none), which `ipc.js` turns into an `Error` with that `code`; a port that cannot be
//! exported is a `"DataCloneError: ..."`, as everywhere else in the binding.

use std::os::fd::{FromRawFd, IntoRawFd, OwnedFd, RawFd};
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use napi::bindgen_prelude::*;
use napi_derive::napi;
use parking_lot::Mutex;
use webmessaging_core as wm;
use webmessaging_ipc as ipc;

use crate::env::current_env;
use crate::port::{forget_port, lookup, NativePort};
use crate::{js_error, NEXT_PORT_ID};

/// An ipc error as a JS error `ipc.js` maps to a Node-style `Error` with a `code`.
fn ipc_error(e: ipc::Error) -> Error {
    let code = match e.kind() {
        ipc::ErrorKind::Port => {
            return match e {
                ipc::Error::Port(inner) => js_error(inner),
                other => js_error(wm::Error::DataCloneError(other.to_string())),
            }
        }
        ipc::ErrorKind::AddressInUse => "EADDRINUSE",
        ipc::ErrorKind::PermissionDenied => "EACCES",
        ipc::ErrorKind::NotFound => "ENOENT",
        ipc::ErrorKind::Refused => "ECONNREFUSED",
        ipc::ErrorKind::DescriptorLimit => "EMFILE",
        ipc::ErrorKind::Protocol => "EPROTO",
        // Io and any kind added later: ipc.js names it from the errno.
        _ => "EIO",
    };
    let errno = e.raw_os_error().unwrap_or(0);
    Error::new(
        Status::GenericFailure,
        format!("IpcError {code} {errno}: {e}"),
    )
}

/// Exports port `id` as a connected socket descriptor (the port object here is detached, as
/// by a transfer) and returns the descriptor, which the caller now owns (close-on-exec set).
#[napi]
pub fn ipc_export_fd(id: u32) -> Result<i32> {
    let handle = lookup(id)?;
    let port = handle.port();
    let Some(port) = port.filter(|p| !p.is_detached()) else {
        return Err(js_error(wm::Error::DataCloneError(
            "the port is closed or already transferred".into(),
        )));
    };
    let fd = ipc::export_fd(&port).map_err(ipc_error)?;
    // Exported: this env's handle is empty from now on, as after a transfer.
    drop(handle.cell.port.lock().take());
    forget_port(id);
    Ok(fd.into_raw_fd())
}

/// Whether `fd` names an open descriptor of this process.
fn is_open(fd: RawFd) -> bool {
    // SAFETY: F_GETFD only reads the descriptor's flags; on a closed descriptor it fails with
    // EBADF and touches nothing.
    fd >= 0 && unsafe { libc::fcntl(fd, libc::F_GETFD) } != -1
}

/// Imports descriptor `fd` (made by `exportFd` here or in any process) as a port. The
/// descriptor is taken over, also when the import fails (it is closed then).
#[napi]
pub fn ipc_import_fd(fd: i32) -> Result<NativePort> {
    let env = current_env()?;
    if !is_open(fd) {
        return Err(Error::new(
            Status::GenericFailure,
            format!(
                "IpcError EBADF {}: descriptor {fd} is not open",
                libc::EBADF
            ),
        ));
    }
    // SAFETY: the descriptor is open (checked above) and the caller hands its ownership over
    // (documented on importFd): nothing else closes it afterwards.
    let owned = unsafe { OwnedFd::from_raw_fd(fd) };
    let port = ipc::import_fd(owned).map_err(ipc_error)?;
    Ok(NativePort::adopt(port, &env))
}

/// The port this process's parent handed over (`WEBMESSAGING_PORT_FD`), once; null if none.
#[napi]
pub fn ipc_parent_port() -> Result<Option<NativePort>> {
    let env = current_env()?;
    let port = ipc::parent_port().map_err(ipc_error)?;
    Ok(port.map(|p| NativePort::adopt(p, &env)))
}

/// A listening socket. Its notifier pushes the listener's id to the env's ready list, so a
/// waiting client wakes JS through the same wake-up as a port with messages.
#[napi]
pub struct NativeListener {
    id: u32,
    inner: Mutex<Option<Arc<ipc::Listener>>>,
    /// An accept error met after some clients were taken: thrown by the next `accept`, so the
    /// ports taken before it are not lost with it.
    deferred: Mutex<Option<ipc::Error>>,
}

/// Listens on a new Unix socket at `path` (owner-only; other user ids are refused).
#[napi]
pub fn ipc_listen(path: String) -> Result<NativeListener> {
    let env = current_env()?;
    let listener = Arc::new(ipc::listen(&path).map_err(ipc_error)?);
    let id = NEXT_PORT_ID.fetch_add(1, Ordering::Relaxed);
    let weak = Arc::downgrade(&env);
    listener.set_notifier(Some(Arc::new(move || {
        if let Some(env) = weak.upgrade() {
            env.notify(id);
        }
    })));
    Ok(NativeListener {
        id,
        inner: Mutex::new(Some(listener)),
        deferred: Mutex::new(None),
    })
}

#[napi]
impl NativeListener {
    /// The id the env's wake-up reports when a client is waiting.
    #[napi(getter)]
    pub fn id(&self) -> u32 {
        self.id
    }

    /// Up to `max` waiting clients' ports (none when closed). The listener queues a failed
    /// client (refused, broken handshake) or a failed accept (out of descriptors) as an error in
    /// line with the ports: it is thrown once, after the ports queued before it.
    #[napi]
    pub fn accept(&self, max: u32) -> Result<Vec<NativePort>> {
        let env = current_env()?;
        if let Some(e) = self.deferred.lock().take() {
            return Err(ipc_error(e));
        }
        let Some(listener) = self.inner.lock().clone() else {
            return Ok(Vec::new());
        };
        let mut out = Vec::new();
        while (out.len() as u32) < max {
            match listener.try_accept() {
                Ok(Some(p)) => out.push(NativePort::adopt(p, &env)),
                Ok(None) => break,
                Err(e) if out.is_empty() => return Err(ipc_error(e)),
                Err(e) => {
                    *self.deferred.lock() = Some(e);
                    break;
                }
            }
        }
        Ok(out)
    }

    /// Whether an error waits for the next [`accept`](Self::accept).
    #[napi(getter)]
    pub fn has_deferred(&self) -> bool {
        self.deferred.lock().is_some()
    }

    /// Stops listening and removes the socket path. Idempotent.
    #[napi]
    pub fn close(&self) {
        let listener = self.inner.lock().take();
        if let Some(l) = listener {
            l.set_notifier(None);
            l.close();
        }
    }
}

impl Drop for NativeListener {
    fn drop(&mut self) {
        // Collected (or its env torn down) while still listening: stop, remove the path.
        self.close();
    }
}

/// Connects to a listener off the JS thread (libuv's thread pool).
pub struct ConnectTask {
    path: PathBuf,
    timeout: Option<Duration>,
}

impl Task for ConnectTask {
    type Output = wm::MessagePort;
    type JsValue = NativePort;

    fn compute(&mut self) -> Result<Self::Output> {
        ipc::connect(&self.path, self.timeout).map_err(ipc_error)
    }

    fn resolve(&mut self, _env: Env, port: Self::Output) -> Result<Self::JsValue> {
        Ok(NativePort::adopt(port, &current_env()?))
    }
}

/// Connects to the listener at `path`, waiting up to `timeout_ms` for its answer (null: no
/// limit); resolves with this client's port.
#[napi(ts_return_type = "Promise<NativePort>")]
pub fn ipc_connect(path: String, timeout_ms: Option<f64>) -> AsyncTask<ConnectTask> {
    let timeout = timeout_ms
        .filter(|t| t.is_finite() && *t >= 0.0)
        .map(|t| Duration::from_secs_f64(t / 1000.0));
    AsyncTask::new(ConnectTask {
        path: PathBuf::from(path),
        timeout,
    })
}
