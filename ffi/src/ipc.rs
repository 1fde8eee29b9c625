//! Cross-process ports for C: `wm_spawn`/`wm_parent_port`, `wm_listen`/`wm_listener_*`/
//! `wm_connect`, and a port as a socket descriptor (`wm_port_export_fd`/`wm_port_import_fd`).
//!
//! Thin over the `webmessaging-ipc` crate: a port that reaches another process is an ordinary
//! `wm_port` (every receive path, the loop included, works unchanged); this module only adds the
//! ways to get a first one there, a listener handle, and the mapping of the crate's error kinds to
//! status codes.

use std::ffi::{c_char, c_int, c_void, CStr, OsStr, OsString};
use std::os::fd::{AsRawFd, FromRawFd, IntoRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use webmessaging_core::MessageEventTarget;
use webmessaging_ipc::{Error as IpcError, ErrorKind, Listener};

use crate::event_loop::{
    attach_source, detach_source, take_registration, wm_finalizer, wm_loop, Callbacks, Source,
    Watch,
};
use crate::handle::{Kind, Table};
use crate::json;
use crate::message::timeout_arg;
use crate::message::wm_message;
use crate::port::{new_port_handle, port_arg, wm_port};
use crate::receive::Receiver;
use crate::status::*;

/// A listening Unix socket (`wm_listen`): each client that `wm_connect`s becomes one new port,
/// taken with `wm_listener_accept`, as a `SharedWorker` gets one port per `connect` event.
///
/// An opaque handle: create it with `wm_listen`, release it with `wm_listener_free`.
pub struct wm_listener {
    _private: [u8; 0],
}

/// `onconnect`: called by `wm_loop_dispatch` for each client of an attached listener, with a
/// connect event: a message whose value is `undefined` and whose one port (take it with
/// `wm_message_take_port(event, 0, &port)`, as `event.ports[0]` of a `SharedWorker`'s `connect`
/// event) is the new port. `listener` is the handle that was attached. The event is lent to
/// the callback: the loop frees it when the callback returns, and a port not taken is dropped
/// with it (the client gets a `WM_CLOSE_DROPPED` notice).
pub type wm_connect_cb = Option<
    unsafe extern "C" fn(userdata: *mut c_void, listener: *mut wm_listener, event: *mut wm_message),
>;

/// What the library keeps behind a listener handle. Its connect events come through the one
/// receive path (the listener is a `MessageEventTarget`); clients whose setup failed are
/// skipped there and reported only by `wm_listener_accept`.
struct ListenerObj {
    listener: Listener,
    /// Event-loop bookkeeping (`wm_listener_attach`).
    watch: Watch,
}

impl Receiver for ListenerObj {
    fn target(&self) -> &dyn MessageEventTarget {
        &self.listener
    }
}

impl Source for ListenerObj {
    fn watch(&self) -> &Watch {
        &self.watch
    }
}

static LISTENERS: Table<Arc<ListenerObj>, { Kind::Listener as u8 }> = Table::new();

pub(crate) fn live() -> usize {
    LISTENERS.live()
}

fn listener_arg(l: *const wm_listener) -> Res<Arc<ListenerObj>> {
    if l.is_null() {
        return Err(Failure::null("listener"));
    }
    LISTENERS.get(l as usize)
}

/// The status of each `ErrorKind` (docs/readme/c.md lists them).
impl From<IpcError> for Failure {
    fn from(e: IpcError) -> Self {
        let status = match &e {
            IpcError::Port(webmessaging_core::Error::Timeout) => WM_ERR_TIMEOUT,
            IpcError::Io { source, .. } if source.kind() == std::io::ErrorKind::TimedOut => {
                WM_ERR_TIMEOUT
            }
            // A socket path longer than a socket address holds is a bad argument, not an
            // operating-system failure.
            IpcError::Io { source, .. } if source.raw_os_error() == Some(libc::ENAMETOOLONG) => {
                WM_ERR_INVALID_ARG
            }
            _ => match e.kind() {
                ErrorKind::Port => WM_ERR_DATA_CLONE,
                ErrorKind::AddressInUse => WM_ERR_ADDRESS_IN_USE,
                ErrorKind::PermissionDenied => WM_ERR_PERMISSION,
                ErrorKind::NotFound => WM_ERR_NOT_FOUND,
                ErrorKind::Refused => WM_ERR_REFUSED,
                ErrorKind::DescriptorLimit => WM_ERR_DESCRIPTORS,
                ErrorKind::Protocol => WM_ERR_PROTOCOL,
                _ => WM_ERR_IO,
            },
        };
        Failure::new(status, e.to_string())
    }
}

fn os_failure(op: &str) -> Failure {
    let e = std::io::Error::last_os_error();
    let status = match e.raw_os_error() {
        Some(libc::EMFILE) | Some(libc::ENFILE) => WM_ERR_DESCRIPTORS,
        _ => WM_ERR_IO,
    };
    Failure::new(status, format!("{op}: {e}"))
}

/// Reads a NULL-terminated array of C strings (argv, envp) as OS strings (any bytes but NUL).
///
/// # Safety
/// `list` must be non-NULL and point at readable pointers up to a NULL one, each a
/// NUL-terminated string.
unsafe fn string_list(list: *const *const c_char) -> Vec<OsString> {
    let mut out = Vec::new();
    let mut i = 0;
    loop {
        // SAFETY: the caller promises the array is readable up to its NULL terminator.
        let s = unsafe { *list.add(i) };
        if s.is_null() {
            return out;
        }
        // SAFETY: each element is a NUL-terminated string.
        let bytes = unsafe { CStr::from_ptr(s) }.to_bytes();
        out.push(OsStr::from_bytes(bytes).to_owned());
        i += 1;
    }
}

/// Starts a child process holding one end of a new message channel and gives the other end to
/// the caller. The child gets its end with `wm_parent_port` (or its language's `parent_port()`):
/// it inherits one socket descriptor, named by the environment variable `WEBMESSAGING_PORT_FD`.
///
/// `argv` is the child's argument vector, NULL-terminated; `argv[0]` is the program, looked up
/// on `PATH` when it contains no slash, as `execvp` does. `envp` is the child's whole
/// environment as `"NAME=value"` strings, NULL-terminated, or NULL to inherit this process's
/// environment (`WEBMESSAGING_PORT_FD` is added either way). Strings may hold any bytes but NUL.
/// The child inherits this process's standard input, output and error.
///
/// Ownership: on `WM_OK`, `*pid` is the child's process id (reap it with `waitpid`; the library
/// neither waits for nor kills the child) and `*port` a new port handle owned by the caller
/// (`wm_port_free`), not started, entangled with the child's port. On failure `*port` is NULL,
/// `*pid` is -1, and no child is left running.
/// Thread safety: any thread.
/// Returns `WM_OK`, `WM_ERR_NULL_ARG` (`argv`, `pid` or `port`), `WM_ERR_INVALID_ARG` (`argv`
/// empty, an `envp` entry without `=`), `WM_ERR_NOT_FOUND` (no such program),
/// `WM_ERR_PERMISSION` (not executable), `WM_ERR_DESCRIPTORS`, `WM_ERR_IO`, `WM_ERR_PANIC`.
#[no_mangle]
pub unsafe extern "C" fn wm_spawn(
    argv: *const *const c_char,
    envp: *const *const c_char,
    pid: *mut c_int,
    port: *mut *mut wm_port,
) -> wm_status {
    // SAFETY: the caller passes NULL or writable pointers.
    unsafe {
        write_out(pid, -1);
        write_out(port, std::ptr::null_mut());
    }
    guard(here!(), || {
        if argv.is_null() {
            return Err(Failure::null("argv"));
        }
        if pid.is_null() {
            return Err(Failure::null("pid"));
        }
        if port.is_null() {
            return Err(Failure::null("port"));
        }
        // SAFETY: the caller promises a NULL-terminated array of strings.
        let args = unsafe { string_list(argv) };
        let Some((program, rest)) = args.split_first() else {
            return Err(Failure::invalid("`argv` is empty (argv[0] is NULL)"));
        };
        let mut cmd = Command::new(program);
        cmd.args(rest);
        if !envp.is_null() {
            cmd.env_clear();
            // SAFETY: as for `argv`.
            for (i, entry) in unsafe { string_list(envp) }.iter().enumerate() {
                let bytes = entry.as_bytes();
                let Some(eq) = bytes.iter().position(|&b| b == b'=') else {
                    return Err(Failure::invalid(format!("envp[{i}] has no '='")));
                };
                cmd.env(
                    OsStr::from_bytes(&bytes[..eq]),
                    OsStr::from_bytes(&bytes[eq + 1..]),
                );
            }
        }
        let (mut child, p) = webmessaging_ipc::spawn(&mut cmd)?;
        let h = match new_port_handle(p) {
            Ok(h) => h,
            Err(e) => {
                // No handle for the port: do not leave a child nobody can talk to.
                let _ = child.kill();
                let _ = child.wait();
                return Err(e);
            }
        };
        // SAFETY: checked non-null above; the caller promises they are writable.
        unsafe {
            *pid = child.id() as c_int;
            *port = h;
        }
        // Dropping `Child` neither waits for nor kills the process: the pid is the caller's.
        drop(child);
        Ok(())
    })
}

/// Takes the port a parent process gave this one (`wm_spawn`, or any language's `spawn`):
/// reads the environment variable `WEBMESSAGING_PORT_FD`, removes it, and imports the descriptor
/// it names. Only the first call finds it; later calls return `WM_ERR_NOT_FOUND`.
///
/// Call it early, before starting threads that read the environment (it removes a variable).
/// Ownership: on `WM_OK`, `*out` is a new port handle owned by the caller (`wm_port_free`), not
/// started; on failure NULL.
/// Returns `WM_OK`, `WM_ERR_NOT_FOUND` (this process was not given a port, or it was taken
/// already), `WM_ERR_IO` (the variable does not name an open Unix stream socket: it is removed
/// all the same, and a descriptor it names that is not a socket is left open),
/// `WM_ERR_DESCRIPTORS`, `WM_ERR_NULL_ARG`, `WM_ERR_PANIC`.
#[no_mangle]
pub unsafe extern "C" fn wm_parent_port(out: *mut *mut wm_port) -> wm_status {
    // SAFETY: the caller passes NULL or a writable pointer.
    unsafe { write_out(out, std::ptr::null_mut()) };
    guard(here!(), || {
        if out.is_null() {
            return Err(Failure::null("out"));
        }
        let Some(p) = webmessaging_ipc::parent_port()? else {
            return Err(Failure::new(
                WM_ERR_NOT_FOUND,
                format!(
                    "this process was given no parent port ({} is not set)",
                    webmessaging_ipc::PORT_FD_ENV
                ),
            ));
        };
        let h = new_port_handle(p)?;
        // SAFETY: checked non-null; the caller promises it is writable.
        unsafe { *out = h };
        Ok(())
    })
}

/// Reads a socket path argument: non-NULL, non-empty UTF-8.
///
/// # Safety
/// `path` must be NULL or a NUL-terminated string.
unsafe fn path_arg<'a>(path: *const c_char) -> Res<&'a str> {
    // SAFETY: forwarded caller promise.
    let p = unsafe { json::str_arg(path, "path")? };
    if p.is_empty() {
        return Err(Failure::invalid("`path` is empty"));
    }
    Ok(p)
}

/// Listens on a new Unix socket at `path`, created readable and writable by the owner only.
/// Each client that connects (`wm_connect`, or `connect` in any language) becomes one new port,
/// taken with `wm_listener_accept`. Connections from another user id are refused.
///
/// `path` is a NUL-terminated UTF-8 file name (at most about 100 bytes, the limit of a Unix
/// socket address). It must not exist: an existing file is never replaced.
/// Ownership: on `WM_OK`, `*out` is a new listener owned by the caller (`wm_listener_free`, which
/// also removes the socket file); on failure NULL.
/// Thread safety: any thread; the listener may be used from any thread.
/// Returns `WM_OK`, `WM_ERR_ADDRESS_IN_USE` (the path exists), `WM_ERR_PERMISSION` (its directory
/// is not writable), `WM_ERR_NOT_FOUND` (its directory does not exist), `WM_ERR_INVALID_ARG`
/// (not UTF-8, empty, too long), `WM_ERR_NULL_ARG`, `WM_ERR_DESCRIPTORS`, `WM_ERR_IO`,
/// `WM_ERR_PANIC`.
#[no_mangle]
pub unsafe extern "C" fn wm_listen(path: *const c_char, out: *mut *mut wm_listener) -> wm_status {
    // SAFETY: the caller passes NULL or a writable pointer.
    unsafe { write_out(out, std::ptr::null_mut()) };
    guard(here!(), || {
        // SAFETY: the caller passes NULL or a NUL-terminated string.
        let path = unsafe { path_arg(path)? };
        if out.is_null() {
            return Err(Failure::null("out"));
        }
        let obj = Arc::new(ListenerObj {
            listener: webmessaging_ipc::listen(path)?,
            watch: Watch::default(),
        });
        let h = match LISTENERS.insert(Arc::clone(&obj)) {
            Ok(h) => h,
            Err(e) => {
                obj.listener.close();
                return Err(e);
            }
        };
        // SAFETY: checked non-null; the caller promises it is writable.
        unsafe { *out = h as *mut wm_listener };
        Ok(())
    })
}

/// Takes the next client's port, waiting up to `timeout_ms` as every receive call does: < 0
/// waits without limit, 0 does not wait, > 0 waits that many milliseconds (`WM_ERR_TIMEOUT`
/// when no client came).
///
/// A client whose connection failed (another user id, a broken handshake, no descriptor left)
/// makes the accept that reaches it return that client's error (`WM_ERR_REFUSED`,
/// `WM_ERR_PROTOCOL`, `WM_ERR_DESCRIPTORS`, `WM_ERR_IO`); the listener goes on, and the next
/// accept takes the next client.
///
/// Ownership: on `WM_OK`, `*out` is a new port handle owned by the caller (`wm_port_free`), not
/// started, entangled with the client's port; on failure NULL.
/// Thread safety: any thread. If several threads accept on one listener, each client goes to one.
/// Returns `WM_OK`, `WM_ERR_TIMEOUT`, `WM_ERR_CLOSED` (`wm_listener_close` was called), a failed
/// client's error (above), `WM_ERR_NULL_ARG`, `WM_ERR_INVALID_HANDLE`, `WM_ERR_PANIC`.
#[no_mangle]
pub unsafe extern "C" fn wm_listener_accept(
    listener: *mut wm_listener,
    timeout_ms: i64,
    out: *mut *mut wm_port,
) -> wm_status {
    // SAFETY: the caller passes NULL or a writable pointer.
    unsafe { write_out(out, std::ptr::null_mut()) };
    guard(here!(), || {
        let l = listener_arg(listener)?;
        if out.is_null() {
            return Err(Failure::null("out"));
        }
        let closed = || Failure::new(WM_ERR_CLOSED, "the listener is closed");
        if l.listener.is_closed() {
            return Err(closed());
        }
        let accepted = match timeout_arg(timeout_ms) {
            Some(t) if t.is_zero() => l.listener.try_accept(),
            t => l.listener.accept(t).map(Some),
        };
        let p = match accepted {
            Ok(Some(p)) => p,
            Ok(None) => {
                return Err(Failure::new(WM_ERR_TIMEOUT, "no client is waiting"));
            }
            Err(_) if l.listener.is_closed() => return Err(closed()),
            Err(e) => return Err(e.into()),
        };
        let h = new_port_handle(p)?;
        // SAFETY: checked non-null; the caller promises it is writable.
        unsafe { *out = h };
        Ok(())
    })
}

/// Writes the listener's file descriptor to `*fd`, for programs with their own event loop
/// (epoll, poll, libuv, GLib): it is readable (`POLLIN`/`EPOLLIN`, level triggered) exactly
/// while a client's port waits to be taken — then call `wm_listener_accept(listener, 0, &port)`
/// until it returns `WM_ERR_TIMEOUT` — and for good once the listener is closed (accept then
/// returns `WM_ERR_CLOSED`). Do not read, write or close it yourself; it stays valid until
/// `wm_listener_free`.
///
/// Thread safety: any thread. Returns `WM_OK`, `WM_ERR_NULL_ARG`, `WM_ERR_INVALID_HANDLE`,
/// `WM_ERR_PANIC`.
#[no_mangle]
pub unsafe extern "C" fn wm_listener_fd(listener: *const wm_listener, fd: *mut c_int) -> wm_status {
    guard(here!(), || {
        let l = listener_arg(listener)?;
        if fd.is_null() {
            return Err(Failure::null("fd"));
        }
        // SAFETY: checked non-null; the caller promises it is writable.
        unsafe { *fd = l.listener.ready_fd().as_raw_fd() };
        Ok(())
    })
}

/// Stops listening: removes the socket file, refuses new clients, and makes
/// `wm_listener_accept` return `WM_ERR_CLOSED` (also in threads blocked in it). Ports already
/// accepted are not affected. Idempotent. The handle stays valid: free it with
/// `wm_listener_free`.
///
/// Thread safety: any thread.
/// Returns `WM_OK`, `WM_ERR_NULL_ARG`, `WM_ERR_INVALID_HANDLE`, `WM_ERR_PANIC`.
#[no_mangle]
pub extern "C" fn wm_listener_close(listener: *mut wm_listener) -> wm_status {
    guard(here!(), || {
        let l = listener_arg(listener)?;
        close_listener(&l);
        Ok(())
    })
}

/// Closes the listener. The notifier of the loop it is attached to fires, so the loop finds
/// the end of its stream of clients and the registration ends. (Its descriptor turns readable
/// by itself.)
fn close_listener(l: &ListenerObj) {
    l.listener.close();
}

/// Attaches a listener to a loop: from now on `wm_loop_dispatch` calls `onconnect` once per
/// client, on the dispatching thread, with a connect event carrying the client's port (see
/// `wm_connect_cb`). For programs that wait with `wm_loop_wait` or watch only `wm_loop_fd`;
/// `wm_listener_fd` serves programs that prefer to accept themselves. Clients whose connection
/// failed (see `wm_listener_accept`) are skipped. Attaching a listener that
/// is already attached replaces its registration (whose finalizer runs). When the listener is
/// closed, the registration ends (its finalizer runs; no callback).
///
/// Ownership: the loop does not take the listener handle: free it with `wm_listener_free` (which
/// detaches it). `userdata` is yours; it is passed to `onconnect` and, once when the
/// registration ends, to `finalizer` (may be NULL). If this call fails, nothing is registered and
/// `finalizer` is not called.
/// Thread safety: any thread. Callbacks run only on the thread calling `wm_loop_dispatch`.
/// Returns `WM_OK`, `WM_ERR_CLOSED` (the listener is closed), `WM_ERR_NULL_ARG`,
/// `WM_ERR_INVALID_HANDLE`, `WM_ERR_PANIC`.
#[no_mangle]
pub extern "C" fn wm_listener_attach(
    l: *mut wm_loop,
    listener: *mut wm_listener,
    onconnect: wm_connect_cb,
    userdata: *mut c_void,
    finalizer: wm_finalizer,
) -> wm_status {
    guard(here!(), || {
        let obj = listener_arg(listener)?;
        if obj.listener.is_closed() {
            return Err(Failure::new(WM_ERR_CLOSED, "the listener is closed"));
        }
        attach_source(
            l,
            obj,
            listener as usize,
            Callbacks::Listener(onconnect),
            userdata,
            finalizer,
        )
    })
}

/// Detaches a listener from the loop: no more `onconnect` calls (one already running finishes),
/// and its finalizer runs. Clients wait for `wm_listener_accept` or a new attach. Detaching a
/// listener that is not attached to this loop does nothing.
///
/// Thread safety: any thread, including inside its own callback.
/// Returns `WM_OK`, `WM_ERR_NULL_ARG`, `WM_ERR_INVALID_HANDLE`, `WM_ERR_PANIC`.
#[no_mangle]
pub extern "C" fn wm_listener_detach(l: *mut wm_loop, listener: *mut wm_listener) -> wm_status {
    guard(here!(), || {
        let obj = listener_arg(listener)?;
        detach_source(l, &*obj)
    })
}

/// Releases a listener handle, closing it first as `wm_listener_close` does (the socket file is
/// removed). Ports it accepted are not affected. A thread blocked in `wm_listener_accept` on it
/// returns (`WM_ERR_CLOSED`).
///
/// Ownership: consumes the handle. Accepts NULL (does nothing, returns `WM_OK`).
/// Thread safety: any thread.
/// Returns `WM_OK`, `WM_ERR_INVALID_HANDLE` (already freed or never issued), `WM_ERR_PANIC`.
#[no_mangle]
pub extern "C" fn wm_listener_free(listener: *mut wm_listener) -> wm_status {
    guard(here!(), || {
        if listener.is_null() {
            return Ok(());
        }
        let l = LISTENERS.remove(listener as usize)?;
        let reg = take_registration(&*l);
        close_listener(&l);
        // The finalizer is C code: run it with nothing of ours locked.
        drop(reg);
        drop(l);
        Ok(())
    })
}

/// Connects to a listener at `path` (`wm_listen`, or `listen` in any language) and returns this
/// client's port, entangled with the one the listener's accept gets. Waits up to `timeout_ms`
/// for the listener's answer (< 0: without limit; 0: the answer must be there at once).
///
/// Ownership: on `WM_OK`, `*out` is a new port handle owned by the caller (`wm_port_free`), not
/// started; on failure NULL. `path` is borrowed for the call.
/// Thread safety: any thread.
/// Returns `WM_OK`, `WM_ERR_NOT_FOUND` (no socket at the path), `WM_ERR_REFUSED` (nobody
/// listens there any more, or the listener refused this user id), `WM_ERR_PERMISSION`,
/// `WM_ERR_TIMEOUT`, `WM_ERR_PROTOCOL` (not a webmessaging listener), `WM_ERR_INVALID_ARG`
/// (`path` not UTF-8, empty, or too long for a socket address), `WM_ERR_NULL_ARG`, `WM_ERR_DESCRIPTORS`, `WM_ERR_IO`,
/// `WM_ERR_PANIC`.
#[no_mangle]
pub unsafe extern "C" fn wm_connect(
    path: *const c_char,
    timeout_ms: i64,
    out: *mut *mut wm_port,
) -> wm_status {
    // SAFETY: the caller passes NULL or a writable pointer.
    unsafe { write_out(out, std::ptr::null_mut()) };
    guard(here!(), || {
        // SAFETY: the caller passes NULL or a NUL-terminated string.
        let path = unsafe { path_arg(path)? };
        if out.is_null() {
            return Err(Failure::null("out"));
        }
        let timeout: Option<Duration> = timeout_arg(timeout_ms);
        let p = webmessaging_ipc::connect(path, timeout)?;
        let h = new_port_handle(p)?;
        // SAFETY: checked non-null; the caller promises it is writable.
        unsafe { *out = h };
        Ok(())
    })
}

/// Exports the port as a connected Unix socket descriptor, to hand it to another process (for
/// example with `SCM_RIGHTS`, or by inheritance) or to another copy of this library in this
/// process (the Python or Node binding), which imports it (`wm_port_import_fd`, `import_fd`,
/// `importFd`) as a port entangled with this port's peer, with its backlog.
///
/// The port is detached here as by a transfer: the handle stays valid (free it with
/// `wm_port_free`) but can no longer send or receive, and its loop registration is dropped.
/// Ownership: on `WM_OK`, `*fd` is a new descriptor owned by the caller, with close-on-exec
/// set; closing it without importing it drops the port (its peer gets a close notice). On
/// failure `*fd` is -1 and the port is unchanged.
/// Thread safety: any thread.
/// Returns `WM_OK`, `WM_ERR_DATA_CLONE` (the port is closed or already transferred),
/// `WM_ERR_DESCRIPTORS`, `WM_ERR_IO`, `WM_ERR_NULL_ARG`, `WM_ERR_INVALID_HANDLE`, `WM_ERR_PANIC`.
#[no_mangle]
pub unsafe extern "C" fn wm_port_export_fd(port: *mut wm_port, fd: *mut c_int) -> wm_status {
    // SAFETY: the caller passes NULL or a writable pointer.
    unsafe { write_out(fd, -1) };
    guard(here!(), || {
        let p = port_arg(port, "port")?;
        if fd.is_null() {
            return Err(Failure::null("fd"));
        }
        let owned = webmessaging_ipc::export_fd(&p.port)?;
        // The port moved away: its notifier went with it, so its registration ends now.
        drop(take_registration(&*p));
        // SAFETY: checked non-null; the caller promises it is writable.
        unsafe { *fd = owned.into_raw_fd() };
        Ok(())
    })
}

/// Imports a descriptor made by `wm_port_export_fd` (in this process or another, by any of the
/// library's languages) as a port, entangled with the exported port's peer, with its backlog.
///
/// Ownership: on `WM_OK` the library owns `fd` (it is closed here; do not use or close it
/// again) and `*out` is a new port handle owned by the caller (`wm_port_free`), not started.
/// On failure `*out` is NULL and `fd` is still the caller's to close (if the failure came from
/// what was read on it, that part is lost).
/// Thread safety: any thread.
/// Returns `WM_OK`, `WM_ERR_INVALID_ARG` (`fd` is negative, not open, or not a socket),
/// `WM_ERR_PROTOCOL` (the socket does not carry an exported port), `WM_ERR_DESCRIPTORS`,
/// `WM_ERR_IO`, `WM_ERR_NULL_ARG`, `WM_ERR_PANIC`.
#[no_mangle]
pub unsafe extern "C" fn wm_port_import_fd(fd: c_int, out: *mut *mut wm_port) -> wm_status {
    // SAFETY: the caller passes NULL or a writable pointer.
    unsafe { write_out(out, std::ptr::null_mut()) };
    guard(here!(), || {
        if out.is_null() {
            return Err(Failure::null("out"));
        }
        if fd < 0 {
            return Err(Failure::invalid(format!(
                "fd {fd} is not a descriptor (negative)"
            )));
        }
        // SAFETY: `stat` is plain data, for which all zero bytes are a valid value.
        let mut st: libc::stat = unsafe { std::mem::zeroed() };
        // SAFETY: fstat writes into a live local; the result is checked.
        if unsafe { libc::fstat(fd, &mut st) } != 0 {
            let e = std::io::Error::last_os_error();
            return Err(Failure::invalid(format!("fd {fd} is not usable: {e}")));
        }
        if st.st_mode & libc::S_IFMT != libc::S_IFSOCK {
            return Err(Failure::invalid(format!("fd {fd} is not a socket")));
        }
        // The crate takes ownership whether or not the import works; import a duplicate so the
        // caller's descriptor is only closed on success.
        // SAFETY: plain fcntl on a descriptor the caller lends; the result is checked.
        let dup = unsafe { libc::fcntl(fd, libc::F_DUPFD_CLOEXEC, 0) };
        if dup < 0 {
            return Err(os_failure("dup"));
        }
        // SAFETY: `dup` is a fresh descriptor that nothing else owns.
        let owned = unsafe { OwnedFd::from_raw_fd(dup) };
        let p = webmessaging_ipc::import_fd(owned)?;
        let h = new_port_handle(p)?;
        // SAFETY: success: the caller's descriptor is now ours, closed once here.
        unsafe { libc::close(fd) };
        // SAFETY: checked non-null; the caller promises it is writable.
        unsafe { *out = h };
        Ok(())
    })
}

/// Waits until every message posted before this call to a port whose peer is in another process
/// has been written to its socket (or its peer is gone), up to `timeout_ms` (< 0: without limit,
/// 0: just look). The library does this by itself when the process exits normally (through
/// `exit` or a return from `main`, for up to 5 seconds), so a program that posts, closes and
/// exits loses nothing; call it before `_exit`, `abort` or `exec`, or to bound the wait yourself.
///
/// Thread safety: any thread. In a child forked without `exec` it cannot wait for the parent's
/// transport and returns `WM_ERR_TIMEOUT` at once.
/// Returns `WM_OK` (everything was written, or no port ever left this process),
/// `WM_ERR_TIMEOUT`, `WM_ERR_PANIC`.
#[no_mangle]
pub extern "C" fn wm_flush(timeout_ms: i64) -> wm_status {
    guard(here!(), || {
        if webmessaging_ipc::flush(timeout_arg(timeout_ms)) {
            Ok(())
        } else {
            Err(Failure::new(
                WM_ERR_TIMEOUT,
                "messages were still waiting to be written when the timeout ran out",
            ))
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_error_kind_has_its_status() {
        let io = |errno: i32| IpcError::Io {
            op: "bind",
            path: None,
            source: std::io::Error::from_raw_os_error(errno),
        };
        let cases = [
            (io(libc::EADDRINUSE), WM_ERR_ADDRESS_IN_USE),
            (io(libc::EACCES), WM_ERR_PERMISSION),
            (io(libc::ENOENT), WM_ERR_NOT_FOUND),
            (io(libc::ECONNREFUSED), WM_ERR_REFUSED),
            (io(libc::EMFILE), WM_ERR_DESCRIPTORS),
            (io(libc::ETIMEDOUT), WM_ERR_TIMEOUT),
            (io(libc::EIO), WM_ERR_IO),
            (IpcError::Protocol("x".into()), WM_ERR_PROTOCOL),
            (IpcError::Refused("uid".into()), WM_ERR_REFUSED),
            (
                IpcError::Port(webmessaging_core::Error::DataCloneError("d".into())),
                WM_ERR_DATA_CLONE,
            ),
        ];
        for (e, want) in cases {
            let text = e.to_string();
            assert_eq!(Failure::from(e).status, want, "{text}");
        }
    }
}
