//! Listening on a Unix socket path and connecting to it: one new port per client, as a
//! `SharedWorker` gets one per `connect` event.
//!
//! **The socket file.** [`listen`] binds the socket inside a fresh private directory (mode
//! 0700) created beside `path`, sets the socket file's mode (0600 unless
//! [`ListenOptions::mode`] says otherwise) while no one else can reach it, starts listening,
//! and only then hard-links it to `path` (`link(2)` fails if `path` exists, so another file is
//! never replaced) and removes the private directory. No window leaves the socket more open than
//! asked, and no process-wide `umask` is touched (that would race with other threads).
//! [`Listener::close`] unlinks `path` only while it is still this listener's socket.
//!
//! **The handshake.** An accept thread takes each client at once, reads its credentials
//! (`SO_PEERCRED`) and answers with one message before the transport protocol starts:
//!
//! ```text
//! "WMPORT" (6 bytes) | version: u8 = 1 | status: u8 (0 ok, 1 refused) | len: u16 BE | reason (len bytes, UTF-8)
//! ```
//!
//! An accepted client gets status 0 (len 0) and its socket becomes a port on both sides
//! ([`import_fd`]); a refused one gets status 1 and the reason, then the socket is closed. By
//! default only clients with this process's effective uid are accepted ([`ListenOptions`] can
//! allow others). [`connect`] reads exactly these bytes, so nothing of the transport that
//! follows is consumed.

use std::collections::hash_map::RandomState;
use std::collections::VecDeque;
use std::hash::{BuildHasher, Hasher};
use std::io;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use parking_lot::{Condvar, Mutex, RwLock};
use rustix::event::{eventfd, poll, EventfdFlags, PollFd, PollFlags, Timespec};
use rustix::io::Errno;
use rustix::net::{AddressFamily, RecvFlags, SendFlags, SocketAddrUnix, SocketFlags, SocketType};
use webmessaging_core::clone::wire;
use webmessaging_core::{
    CloseNotice, CloseReason, Error as PortError, MessageEvent, MessageEventTarget,
    MessageEventType, MessagePort, Notifier,
};

use crate::transport::import_fd;
#[allow(unused_imports)] // for the doc links
use crate::ErrorKind;
use crate::{Error, Result};

/// The first bytes of every listener's answer.
const MAGIC: &[u8; 6] = b"WMPORT";
/// The handshake version this library speaks.
const VERSION: u8 = 1;
const STATUS_OK: u8 = 0;
const STATUS_REFUSED: u8 = 1;
/// Magic, version, status, reason length.
const HEADER_LEN: usize = 10;
/// The longest refusal reason a listener sends or a client reads.
const MAX_REASON: usize = 1024;
/// The default for [`ListenOptions::pending`].
const DEFAULT_PENDING: usize = 64;
/// The kernel backlog asked for in `listen(2)`.
const BACKLOG: i32 = 128;
/// `sun_path` holds 108 bytes including the terminating NUL.
const MAX_SOCKET_PATH: usize = 107;

/// Which clients a [`Listener`] accepts and how its socket file is created. The default is
/// owner-only (mode 0600) and accepts only this process's effective user id.
#[derive(Clone, Debug)]
pub struct ListenOptions {
    mode: u32,
    any_uid: bool,
    extra_uids: Vec<u32>,
    pending: usize,
}

impl Default for ListenOptions {
    fn default() -> Self {
        ListenOptions {
            mode: 0o600,
            any_uid: false,
            extra_uids: Vec::new(),
            pending: DEFAULT_PENDING,
        }
    }
}

impl ListenOptions {
    /// The defaults: mode 0600, only this process's effective uid accepted.
    pub fn new() -> Self {
        Self::default()
    }

    /// The socket file's permission bits (only `0o777` counts). Connecting needs write
    /// permission on the file, so a wider mode lets other users reach the credential check;
    /// their connections are still refused unless allowed by [`allow_uid`](Self::allow_uid) or
    /// [`allow_any_uid`](Self::allow_any_uid).
    pub fn mode(mut self, mode: u32) -> Self {
        self.mode = mode & 0o777;
        self
    }

    /// Also accepts clients running as `uid`.
    pub fn allow_uid(mut self, uid: u32) -> Self {
        self.extra_uids.push(uid);
        self
    }

    /// Accepts clients of any user id (the file mode still applies).
    pub fn allow_any_uid(mut self) -> Self {
        self.any_uid = true;
        self
    }

    /// How many clients may be accepted and answered before the program takes them with
    /// [`Listener::accept`] (default 64, at least 1). Past that the listener stops accepting and
    /// further clients wait in the kernel's backlog, unanswered (their [`connect`] times out if
    /// it has a timeout), so a flood of clients costs bounded memory and descriptors.
    pub fn pending(mut self, clients: usize) -> Self {
        self.pending = clients.max(1);
        self
    }

    /// Listens on a new Unix socket at `path` with these options; see [`listen`].
    pub fn listen(&self, path: impl AsRef<Path>) -> Result<Listener> {
        Listener::bind(path.as_ref(), self)
    }
}

/// A server socket: each client that [`connect`]s becomes one new port here.
///
/// A thread per listener accepts clients, checks their credentials and answers them, so
/// [`accept`](Self::accept) and [`try_accept`](Self::try_accept) only take ready ports. Dropping
/// the listener closes it. `Listener` is `Send + Sync`: any thread may accept or close.
pub struct Listener {
    inner: Arc<Inner>,
}

struct Inner {
    /// The path as given, for `path()` and messages.
    path: PathBuf,
    /// The same made absolute at `listen` time, so `close` finds it whatever the working
    /// directory is by then.
    absolute: PathBuf,
    /// The listening socket and the close latch; `None` once closed. Held for reading while
    /// the accept thread polls or accepts, so `close` can never pull the descriptors from under
    /// it (a reused descriptor number would otherwise be accepted on).
    fds: RwLock<Option<Fds>>,
    queue: Mutex<Queue>,
    /// Signalled when a port is queued, when one is taken (room) and on close.
    changed: Condvar,
    /// The socket file this listener linked at `path` (device, inode), to unlink only it.
    file_id: (u64, u64),
    allowed: ListenOptions,
    euid: u32,
    thread: Mutex<Option<JoinHandle<()>>>,
    /// Readable while a port waits in `queue` or once closed: for event loops to poll. Kept
    /// until the listener is gone, so a loop polling it never sees the number reused.
    ready: OwnedFd,
}

struct Fds {
    listen: OwnedFd,
    /// An eventfd written once, on close: it stays readable, so every later poll wakes.
    closed: OwnedFd,
}

#[derive(Default)]
struct Queue {
    ready: VecDeque<Result<MessagePort>>,
    closed: bool,
    notifier: Option<Notifier>,
}

/// Listens on a new Unix socket at `path`, created owner-only (mode 0600), with the default
/// [`ListenOptions`]: connections from another user id are refused. The socket is
/// close-on-exec and nonblocking. Errors (each naming `path`): the path exists
/// ([`ErrorKind::AddressInUse`]; the existing file is left alone), its directory is not writable
/// ([`ErrorKind::PermissionDenied`]) or does not exist ([`ErrorKind::NotFound`]), the path is
/// too long for a socket address (an `ENAMETOOLONG` [`ErrorKind::Io`]).
pub fn listen(path: impl AsRef<Path>) -> Result<Listener> {
    ListenOptions::default().listen(path)
}

fn io_err(op: &'static str, path: &Path, e: impl Into<io::Error>) -> Error {
    Error::Io {
        op,
        path: Some(path.to_path_buf()),
        source: e.into(),
    }
}

/// Removes the private directory (and the socket in it) on every exit from `bind`.
struct PrivateDir {
    dir: PathBuf,
    socket: PathBuf,
}

impl Drop for PrivateDir {
    fn drop(&mut self) {
        let _ = rustix::fs::unlink(&self.socket);
        let _ = rustix::fs::rmdir(&self.dir);
    }
}

/// A name nobody can guess in advance: each `RandomState` has fresh random keys.
fn random_u32() -> u32 {
    RandomState::new().build_hasher().finish() as u32
}

fn make_private_dir(path: &Path) -> Result<PrivateDir> {
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    for _ in 0..16 {
        let dir = parent.join(format!(".wm{:08x}", random_u32()));
        match rustix::fs::mkdir(&dir, rustix::fs::Mode::from_raw_mode(0o700)) {
            Ok(()) => {
                return Ok(PrivateDir {
                    socket: dir.join("s"),
                    dir,
                })
            }
            Err(Errno::EXIST) => continue,
            Err(e) => return Err(io_err("listen", path, e)),
        }
    }
    Err(io_err("listen", path, Errno::EXIST))
}

impl Listener {
    fn bind(path: &Path, options: &ListenOptions) -> Result<Listener> {
        if path.file_name().is_none() {
            return Err(io_err("listen: the path names no file", path, Errno::INVAL));
        }
        if path.as_os_str().as_bytes().len() > MAX_SOCKET_PATH {
            return Err(io_err("listen", path, Errno::NAMETOOLONG));
        }
        match rustix::fs::lstat(path) {
            Ok(_) => return Err(io_err("listen", path, Errno::ADDRINUSE)),
            Err(Errno::NOENT) => {}
            Err(e) => return Err(io_err("listen", path, e)),
        }
        let private = make_private_dir(path)?;
        if private.socket.as_os_str().as_bytes().len() > MAX_SOCKET_PATH {
            return Err(io_err(
                "listen: no room for the private directory in the socket path",
                path,
                Errno::NAMETOOLONG,
            ));
        }
        let fd = rustix::net::socket_with(
            AddressFamily::UNIX,
            SocketType::STREAM,
            SocketFlags::CLOEXEC | SocketFlags::NONBLOCK,
            None,
        )
        .map_err(|e| io_err("listen: socket", path, e))?;
        let addr = SocketAddrUnix::new(&private.socket).map_err(|e| io_err("listen", path, e))?;
        rustix::net::bind(&fd, &addr).map_err(|e| io_err("listen: bind", path, e))?;
        rustix::fs::chmod(
            &private.socket,
            rustix::fs::Mode::from_raw_mode(options.mode),
        )
        .map_err(|e| io_err("listen: chmod", path, e))?;
        rustix::net::listen(&fd, BACKLOG).map_err(|e| io_err("listen", path, e))?;
        // The socket file's identity, taken where no one else can reach it yet.
        let made = rustix::fs::lstat(&private.socket).map_err(|e| io_err("listen", path, e))?;
        let file_id = (made.st_dev, made.st_ino);
        rustix::fs::link(&private.socket, path).map_err(|e| match e {
            Errno::EXIST => io_err("listen", path, Errno::ADDRINUSE),
            e => io_err("listen: link", path, e),
        })?;
        drop(private);
        let unlink_ours = || unlink_if(path, file_id);
        let closed = match eventfd(0, EventfdFlags::CLOEXEC | EventfdFlags::NONBLOCK) {
            Ok(fd) => fd,
            Err(e) => {
                unlink_ours();
                return Err(io_err("listen: eventfd", path, e));
            }
        };
        let ready = match eventfd(0, EventfdFlags::CLOEXEC | EventfdFlags::NONBLOCK) {
            Ok(fd) => fd,
            Err(e) => {
                unlink_ours();
                return Err(io_err("listen: eventfd", path, e));
            }
        };
        let inner = Arc::new(Inner {
            path: path.to_path_buf(),
            absolute: std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf()),
            fds: RwLock::new(Some(Fds { listen: fd, closed })),
            queue: Mutex::new(Queue::default()),
            changed: Condvar::new(),
            file_id,
            allowed: options.clone(),
            euid: rustix::process::geteuid().as_raw(),
            thread: Mutex::new(None),
            ready,
        });
        let for_thread = Arc::clone(&inner);
        let spawned = std::thread::Builder::new()
            .name("wm-listener".into())
            .spawn(move || for_thread.run());
        match spawned {
            Ok(handle) => *inner.thread.lock() = Some(handle),
            Err(e) => {
                inner.close();
                return Err(io_err("listen: starting the accept thread", path, e));
            }
        }
        Ok(Listener { inner })
    }

    /// The next client's port, waiting up to `timeout` (`None`: forever). Errors: the timeout
    /// ran out (an `ETIMEDOUT` [`ErrorKind::Io`]); the listener is or gets closed (an `EBADF`
    /// [`ErrorKind::Io`], "accept on a closed listener"); a client could not be set up (e.g.
    /// [`ErrorKind::DescriptorLimit`]) — that client is lost, the listener keeps serving.
    pub fn accept(&self, timeout: Option<Duration>) -> Result<MessagePort> {
        let deadline = timeout.and_then(|t| Instant::now().checked_add(t));
        let inner = &*self.inner;
        let mut q = inner.queue.lock();
        loop {
            if let Some(item) = q.ready.pop_front() {
                inner.taken(&q);
                return item;
            }
            if q.closed {
                return Err(inner.closed_error());
            }
            match deadline {
                None => inner.changed.wait(&mut q),
                Some(d) => {
                    if inner.changed.wait_until(&mut q, d).timed_out() && q.ready.is_empty() {
                        if q.closed {
                            return Err(inner.closed_error());
                        }
                        return Err(io_err("accept", &inner.path, Errno::TIMEDOUT));
                    }
                }
            }
        }
    }

    /// The next client's port if one is waiting, `Ok(None)` if none is. Errors as
    /// [`accept`](Self::accept), without the timeout.
    pub fn try_accept(&self) -> Result<Option<MessagePort>> {
        let inner = &*self.inner;
        let mut q = inner.queue.lock();
        match q.ready.pop_front() {
            Some(item) => {
                inner.taken(&q);
                item.map(Some)
            }
            None if q.closed => Err(inner.closed_error()),
            None => Ok(None),
        }
    }

    /// Installs (or with `None` removes) a notifier, called from the accept thread with no lock
    /// held each time a client's port becomes ready, and once when the listener closes; also
    /// called at once if one is already waiting or the listener is closed already. A binding
    /// schedules a task on its event loop that drains [`try_accept`](Self::try_accept) until it
    /// returns `Ok(None)`. The notifier must not block.
    pub fn set_notifier(&self, notifier: Option<Notifier>) {
        let fire = {
            let mut q = self.inner.queue.lock();
            if q.closed {
                notifier
            } else {
                q.notifier = notifier;
                q.notifier.clone().filter(|_| !q.ready.is_empty())
            }
        };
        if let Some(n) = fire {
            n();
        }
    }

    /// A descriptor for event loops (`poll`, `epoll`, libuv, asyncio's `add_reader`): it polls
    /// readable while a client's port waits to be taken, and for good once the listener is
    /// closed. Never read or close it; call [`try_accept`](Self::try_accept) until it returns
    /// `Ok(None)` (or the closed error). It stays open as long as the listener exists.
    pub fn ready_fd(&self) -> BorrowedFd<'_> {
        self.inner.ready.as_fd()
    }

    /// Stops listening: refuses new clients, removes the socket path (only if it is still this
    /// listener's socket), closes the ports of clients not yet accepted (they see a close
    /// notice), and wakes every blocked [`accept`](Self::accept) with the closed error. Returns
    /// once the listening socket is closed. Idempotent.
    pub fn close(&self) {
        self.inner.close();
    }

    /// Whether [`close`](Self::close) was called (or the listener dropped).
    pub fn is_closed(&self) -> bool {
        self.inner.queue.lock().closed
    }

    /// The socket path.
    pub fn path(&self) -> &Path {
        &self.inner.path
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        self.inner.close();
    }
}

impl std::fmt::Debug for Listener {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Listener")
            .field("path", &self.inner.path)
            .field("closed", &self.is_closed())
            .finish()
    }
}

fn unlink_if(path: &Path, file_id: (u64, u64)) {
    if let Ok(st) = rustix::fs::lstat(path) {
        if (st.st_dev, st.st_ino) == file_id {
            let _ = rustix::fs::unlink(path);
        }
    }
}

/// What the accept thread does with one accepted connection.
enum Verdict {
    Accept,
    Refuse(String),
}

/// Makes an eventfd readable (it stays so until drained).
fn signal(fd: &OwnedFd) {
    let _ = rustix::io::write(fd, &1u64.to_ne_bytes());
}

impl Inner {
    /// After a port was taken from the queue (lock held): room for the accept thread, and the
    /// ready descriptor stops polling readable once nothing waits.
    fn taken(&self, q: &Queue) {
        self.changed.notify_all();
        if q.ready.is_empty() && !q.closed {
            let mut drain = [0u8; 8];
            let _ = rustix::io::read(&self.ready, &mut drain);
        }
    }

    fn closed_error(&self) -> Error {
        io_err("accept on a closed listener", &self.path, Errno::BADF)
    }

    fn close(&self) {
        let (pending, notifier) = {
            let mut q = self.queue.lock();
            if q.closed {
                return;
            }
            q.closed = true;
            signal(&self.ready);
            self.changed.notify_all();
            (std::mem::take(&mut q.ready), q.notifier.take())
        };
        // The end of the stream of clients is news for a receiver (its next look finds it).
        if let Some(n) = notifier {
            n();
        }
        if let Some(fds) = self.fds.read().as_ref() {
            let _ = rustix::io::write(&fds.closed, &1u64.to_ne_bytes());
        }
        // Waits for the accept thread to leave poll/accept (the latch above wakes it).
        drop(self.fds.write().take());
        unlink_if(&self.absolute, self.file_id);
        for port in pending.into_iter().flatten() {
            port.close();
        }
        // Joined unless this is the accept thread itself (closing from a notifier).
        let handle = {
            let mut thread = self.thread.lock();
            match &*thread {
                Some(h) if h.thread().id() != std::thread::current().id() => thread.take(),
                _ => None,
            }
        };
        if let Some(handle) = handle {
            let _ = handle.join();
        }
    }

    /// The accept thread: accept, check, answer, import, queue; until closed.
    fn run(&self) {
        loop {
            {
                let mut q = self.queue.lock();
                while !q.closed && q.ready.len() >= self.allowed.pending {
                    self.changed.wait(&mut q);
                }
                if q.closed {
                    return;
                }
            }
            let accepted = {
                let guard = self.fds.read();
                let Some(fds) = guard.as_ref() else { return };
                let mut polled = [
                    PollFd::new(&fds.listen, PollFlags::IN),
                    PollFd::new(&fds.closed, PollFlags::IN),
                ];
                match poll(&mut polled, None) {
                    Ok(_) if !polled[1].revents().is_empty() => return,
                    Ok(_) | Err(Errno::INTR) => {}
                    Err(e) => {
                        drop(guard);
                        self.push(Err(io_err("accept: poll", &self.path, e)));
                        self.back_off();
                        continue;
                    }
                }
                rustix::net::accept_with(&fds.listen, SocketFlags::CLOEXEC | SocketFlags::NONBLOCK)
            };
            match accepted {
                Ok(conn) => self.serve(conn),
                Err(Errno::AGAIN | Errno::INTR | Errno::CONNABORTED) => {}
                Err(e) => {
                    // Out of descriptors or memory: tell an accepter, then wait rather than spin
                    // on a socket that stays readable.
                    self.push(Err(io_err("accept", &self.path, e)));
                    self.back_off();
                }
            }
        }
    }

    fn back_off(&self) {
        let mut q = self.queue.lock();
        if !q.closed {
            let _ = self.changed.wait_for(&mut q, Duration::from_millis(100));
        }
    }

    fn verdict(&self, conn: &OwnedFd) -> Verdict {
        let uid = match rustix::net::sockopt::socket_peercred(conn) {
            Ok(cred) => cred.uid.as_raw(),
            Err(e) => {
                return Verdict::Refuse(format!(
                    "the listener could not read the client's credentials: {e}"
                ))
            }
        };
        let a = &self.allowed;
        if a.any_uid || uid == self.euid || a.extra_uids.contains(&uid) {
            Verdict::Accept
        } else {
            Verdict::Refuse(format!(
                "user id {uid} may not connect (this listener accepts user id {} only)",
                self.euid
            ))
        }
    }

    fn serve(&self, conn: OwnedFd) {
        let verdict = self.verdict(&conn);
        let (status, reason) = match &verdict {
            Verdict::Accept => (STATUS_OK, ""),
            Verdict::Refuse(r) => (STATUS_REFUSED, r.as_str()),
        };
        let answer = encode_answer(status, reason);
        // A fresh socket's buffer takes these few bytes at once; a client already gone is
        // simply dropped.
        match rustix::net::send(&conn, &answer, SendFlags::DONTWAIT | SendFlags::NOSIGNAL) {
            Ok(n) if n == answer.len() => {}
            _ => return,
        }
        if let Verdict::Accept = verdict {
            self.push(import_fd(conn));
        }
    }

    /// Queues a ready client (or an error for the next accepter) and fires the notifier with no
    /// lock held. After close, a port is closed instead.
    fn push(&self, item: Result<MessagePort>) {
        let notifier = {
            let mut q = self.queue.lock();
            if q.closed {
                drop(q);
                if let Ok(port) = item {
                    port.close();
                }
                return;
            }
            if q.ready.is_empty() {
                signal(&self.ready);
            }
            q.ready.push_back(item);
            self.changed.notify_all();
            q.notifier.clone()
        };
        if let Some(n) = notifier {
            n();
        }
    }
}

/// The connect event of one client: `undefined` data, the client's port in `ports[0]` (as a
/// `SharedWorker`'s `connect` event carries it), empty origin, no source.
fn connect_event(port: MessagePort) -> MessageEvent {
    MessageEvent {
        event_type: MessageEventType::Message,
        data: vec![wire::VERSION, wire::LATEST_VERSION as u8, wire::UNDEFINED],
        array_buffers: Vec::new(),
        origin: String::new(),
        last_event_id: String::new(),
        source: None,
        ports: vec![port],
    }
}

/// The end of a listener's stream of clients: it was closed (by this side).
fn listener_closed() -> PortError {
    PortError::Closed(CloseNotice {
        reason: CloseReason::Closed,
        by_peer: false,
    })
}

impl Inner {
    /// The next client's port from the queue (lock held), skipping clients whose setup failed:
    /// a receiver of connect events has no use for them (the accept calls report them). Bounded
    /// by the queue, which the accept thread cannot grow while the lock is held.
    fn pop_client(&self, q: &mut Queue) -> Option<MessagePort> {
        let (mut port, mut popped) = (None, false);
        while let Some(item) = q.ready.pop_front() {
            popped = true;
            if let Ok(p) = item {
                port = Some(p);
                break;
            }
        }
        if popped {
            self.taken(q);
        }
        port
    }
}

/// A listener as a receiver of connect events: one event per accepted client, its port in
/// `ports[0]`, then the end of the stream (`Closed`) once [`close`](Listener::close) is called.
/// Clients whose setup failed are skipped (the accept calls report them as errors).
impl MessageEventTarget for Listener {
    fn try_next_event(&self) -> webmessaging_core::Result<Option<MessageEvent>> {
        let inner = &*self.inner;
        let mut q = inner.queue.lock();
        match inner.pop_client(&mut q) {
            Some(port) => Ok(Some(connect_event(port))),
            None if q.closed => Err(listener_closed()),
            None => Ok(None),
        }
    }

    fn next_event(&self, timeout: Option<Duration>) -> webmessaging_core::Result<MessageEvent> {
        let deadline = timeout.and_then(|t| Instant::now().checked_add(t));
        let inner = &*self.inner;
        let mut q = inner.queue.lock();
        loop {
            if let Some(port) = inner.pop_client(&mut q) {
                return Ok(connect_event(port));
            }
            if q.closed {
                return Err(listener_closed());
            }
            match deadline {
                None => inner.changed.wait(&mut q),
                Some(d) => {
                    if inner.changed.wait_until(&mut q, d).timed_out()
                        && q.ready.is_empty()
                        && !q.closed
                    {
                        return Err(PortError::Timeout);
                    }
                }
            }
        }
    }

    fn set_notifier(&self, notifier: Option<Notifier>) {
        Listener::set_notifier(self, notifier)
    }
}

fn encode_answer(status: u8, reason: &str) -> Vec<u8> {
    let mut reason = reason.as_bytes();
    if reason.len() > MAX_REASON {
        let mut cut = MAX_REASON;
        while std::str::from_utf8(&reason[..cut]).is_err() {
            cut -= 1;
        }
        reason = &reason[..cut];
    }
    let mut out = Vec::with_capacity(HEADER_LEN + reason.len());
    out.extend_from_slice(MAGIC);
    out.push(VERSION);
    out.push(status);
    out.extend_from_slice(&(reason.len() as u16).to_be_bytes());
    out.extend_from_slice(reason);
    out
}

/// Connects to a [`Listener`] at `path` and returns this client's port, waiting up to `timeout`
/// (`None`: forever) for the listener's answer. Errors (each naming `path`): nothing there
/// ([`ErrorKind::NotFound`]), a socket file no one listens on ([`ErrorKind::Refused`]), no
/// permission on the socket file ([`ErrorKind::PermissionDenied`]), the listener refused this
/// user id ([`ErrorKind::Refused`], with the listener's reason), the listener closed without
/// answering ([`ErrorKind::Refused`]), not a webmessaging listener ([`ErrorKind::Protocol`]),
/// no answer in time (an `ETIMEDOUT` [`ErrorKind::Io`]).
pub fn connect(path: impl AsRef<Path>, timeout: Option<Duration>) -> Result<MessagePort> {
    let path = path.as_ref();
    let deadline = timeout.and_then(|t| Instant::now().checked_add(t));
    let addr = SocketAddrUnix::new(path).map_err(|e| io_err("connect", path, e))?;
    let fd = rustix::net::socket_with(
        AddressFamily::UNIX,
        SocketType::STREAM,
        SocketFlags::CLOEXEC | SocketFlags::NONBLOCK,
        None,
    )
    .map_err(|e| io_err("connect: socket", path, e))?;
    loop {
        match rustix::net::connect(&fd, &addr) {
            Ok(()) => break,
            Err(Errno::INTR) => {}
            // The listener's backlog is full: retry until the deadline.
            Err(Errno::AGAIN) => {
                if deadline.is_some_and(|d| Instant::now() >= d) {
                    return Err(io_err("connect", path, Errno::TIMEDOUT));
                }
                std::thread::sleep(Duration::from_millis(2));
            }
            Err(e) => return Err(io_err("connect", path, e)),
        }
    }
    let mut header = [0u8; HEADER_LEN];
    let got = read_answer(&fd, &mut header, deadline, path)?;
    if got == 0 {
        return Err(Error::Refused(format!(
            "{}: the listener closed the connection without answering",
            path.display()
        )));
    }
    if got < HEADER_LEN || &header[..6] != MAGIC {
        return Err(Error::Protocol(format!(
            "{} is not a webmessaging listener (it answered {:02x?})",
            path.display(),
            &header[..got]
        )));
    }
    if header[6] != VERSION {
        return Err(Error::Protocol(format!(
            "{}: the listener speaks handshake version {}, this library version {VERSION}",
            path.display(),
            header[6]
        )));
    }
    let len = u16::from_be_bytes([header[8], header[9]]) as usize;
    match header[7] {
        STATUS_OK if len == 0 => import_fd(fd),
        STATUS_REFUSED if len <= MAX_REASON => {
            let mut reason = vec![0u8; len];
            let got = read_answer(&fd, &mut reason, deadline, path)?;
            Err(Error::Refused(format!(
                "{}: {}",
                path.display(),
                String::from_utf8_lossy(&reason[..got])
            )))
        }
        status => Err(Error::Protocol(format!(
            "{}: unexpected answer from the listener (status {status}, length {len})",
            path.display()
        ))),
    }
}

/// Reads exactly `buf.len()` bytes (fewer only at end of stream), waiting until `deadline`.
fn read_answer(
    fd: &OwnedFd,
    buf: &mut [u8],
    deadline: Option<Instant>,
    path: &Path,
) -> Result<usize> {
    let mut got = 0;
    while got < buf.len() {
        let timeout = match deadline {
            None => None,
            Some(d) => {
                let left = d.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    return Err(io_err(
                        "connect: waiting for the listener's answer",
                        path,
                        Errno::TIMEDOUT,
                    ));
                }
                Some(Timespec {
                    tv_sec: left.as_secs() as _,
                    tv_nsec: left.subsec_nanos() as _,
                })
            }
        };
        let mut polled = [PollFd::new(fd, PollFlags::IN)];
        match poll(&mut polled, timeout.as_ref()) {
            Ok(_) | Err(Errno::INTR) => {}
            Err(e) => return Err(io_err("connect: poll", path, e)),
        }
        match rustix::net::recv(fd.as_fd(), &mut buf[got..], RecvFlags::DONTWAIT) {
            Ok((0, _)) => break,
            Ok((n, _)) => got += n,
            Err(Errno::AGAIN | Errno::INTR) => {}
            Err(e) => return Err(io_err("connect: reading the listener's answer", path, e)),
        }
    }
    Ok(got)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_send_sync<T: Send + Sync>() {}

    #[test]
    fn listener_is_send_and_sync() {
        assert_send_sync::<Listener>();
    }

    #[test]
    fn answers_are_bounded_and_well_formed() {
        let ok = encode_answer(STATUS_OK, "");
        assert_eq!(ok, b"WMPORT\x01\x00\x00\x00");
        let long = "é".repeat(MAX_REASON);
        let refused = encode_answer(STATUS_REFUSED, &long);
        let len = u16::from_be_bytes([refused[8], refused[9]]) as usize;
        assert!(len <= MAX_REASON);
        assert_eq!(refused.len(), HEADER_LEN + len);
        assert!(std::str::from_utf8(&refused[HEADER_LEN..]).is_ok());
    }

    /// A fresh directory for a socket, removed at the end.
    struct Dir(PathBuf);

    impl Dir {
        fn new(tag: &str) -> Dir {
            let d = std::env::temp_dir().join(format!(
                "wm-listener-{tag}-{}-{:08x}",
                std::process::id(),
                random_u32()
            ));
            std::fs::create_dir(&d).unwrap();
            Dir(d)
        }
    }

    impl Drop for Dir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    const WAIT: Option<Duration> = Some(Duration::from_secs(10));

    #[test]
    fn a_listener_delivers_one_connect_event_per_client_then_closed() {
        let dir = Dir::new("events");
        let listener = listen(dir.0.join("s")).unwrap();
        let target: &dyn MessageEventTarget = &listener;
        assert!(matches!(target.try_next_event(), Ok(None)));
        let client = connect(listener.path(), WAIT).unwrap();
        let event = target.next_event(WAIT).unwrap();
        assert_eq!(event.event_type, MessageEventType::Message);
        assert_eq!(event.data, [0xff, 0x0f, b'_'], "the value is undefined");
        assert_eq!(
            (event.origin.as_str(), event.last_event_id.as_str()),
            ("", "")
        );
        assert!(event.source.is_none());
        let [port] = <[MessagePort; 1]>::try_from(event.ports).unwrap();
        // ports[0] is entangled with the client's port.
        client.post_message(&b"\xff\x0f\x49\x54"[..], &[]).unwrap();
        assert_eq!(port.recv(WAIT).unwrap().data, b"\xff\x0f\x49\x54");
        listener.close();
        for _ in 0..2 {
            assert!(matches!(
                target.try_next_event(),
                Err(PortError::Closed(CloseNotice {
                    reason: CloseReason::Closed,
                    by_peer: false
                }))
            ));
        }
        assert!(matches!(target.next_event(WAIT), Err(PortError::Closed(_))));
    }

    #[test]
    fn next_event_times_out_when_no_client_comes() {
        let dir = Dir::new("timeout");
        let listener = listen(dir.0.join("s")).unwrap();
        let waited = MessageEventTarget::next_event(&listener, Some(Duration::from_millis(20)));
        assert!(matches!(waited, Err(PortError::Timeout)));
    }

    #[test]
    fn the_notifier_fires_for_a_client_and_when_the_listener_closes() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        let dir = Dir::new("notify");
        let listener = listen(dir.0.join("s")).unwrap();
        let fired = Arc::new(AtomicUsize::new(0));
        let f = Arc::clone(&fired);
        let target: &dyn MessageEventTarget = &listener;
        target.set_notifier(Some(Arc::new(move || {
            f.fetch_add(1, Ordering::SeqCst);
        })));
        let _client = connect(listener.path(), WAIT).unwrap();
        let start = Instant::now();
        while fired.load(Ordering::SeqCst) == 0 && start.elapsed() < Duration::from_secs(10) {
            std::thread::sleep(Duration::from_millis(1));
        }
        assert_eq!(fired.load(Ordering::SeqCst), 1);
        assert!(target.try_next_event().unwrap().is_some());
        listener.close();
        assert_eq!(
            fired.load(Ordering::SeqCst),
            2,
            "close is news for the receiver"
        );
        // A notifier installed after the close fires at once: the end is there to be taken.
        let late = Arc::new(AtomicUsize::new(0));
        let l = Arc::clone(&late);
        target.set_notifier(Some(Arc::new(move || {
            l.fetch_add(1, Ordering::SeqCst);
        })));
        assert_eq!(late.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn clients_whose_setup_failed_are_skipped_by_the_event_stream() {
        let dir = Dir::new("failed");
        let listener = listen(dir.0.join("s")).unwrap();
        let inner = &listener.inner;
        let failed = || Err(io_err("accept", &inner.path, Errno::MFILE));
        let (port, peer) = webmessaging_core::MessageChannel::new().into_ports();
        inner.push(failed());
        inner.push(failed());
        inner.push(Ok(port));
        inner.push(failed());
        let event = listener.try_next_event().unwrap().expect("the good client");
        assert_eq!(event.ports.len(), 1);
        assert!(event.ports[0].is_entangled());
        drop(peer);
        // Only a failed client left: nothing to deliver, and the queue is empty afterwards.
        assert!(matches!(listener.try_next_event(), Ok(None)));
        assert!(matches!(listener.try_accept(), Ok(None)));
    }
}
