//! The reactor: one thread per copy of the library that pumps every bridge port to and from its
//! socket. Only this thread touches bridge state; other threads reach it through the inbox (new
//! bridges, ports with something to send, flush requests) and an eventfd.

use std::collections::HashMap;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use parking_lot::{Condvar, Mutex};
use rustix::event::{epoll, eventfd, EventfdFlags};
use rustix::io::Errno;
use webmessaging_core::{CloseReason, Error as CoreError, MessageChannel, MessagePort, Notifier};

use super::conn::{InBuf, OutBuf, ReadEnd, FDS_PER_SEND};
use super::wire;
use crate::frame::{self, Frame};

const WAKE: u64 = 0;
/// Messages taken from one bridge port per round before the others get a turn.
const DRAIN_BATCH: usize = 1024;
/// Unsent descriptors a bridge may gather before it writes in the middle of a batch.
const FLUSH_FDS: usize = 256;
/// Messages a posting thread writes itself before it leaves the rest to the reactor.
const DIRECT_BATCH: usize = 64;
/// A post this soon after the bridge's last write is part of a burst: the reactor batches a
/// burst into few writes, where the direct path would pay one system call per message. Longer
/// than the gap between posts of a busy sender (1–5 µs), shorter than a cross-process round
/// trip, whose posts keep the direct path's latency.
const BURST_GAP: Duration = Duration::from_micros(10);

/// A bridge the reactor has not seen yet.
pub(crate) struct NewBridge {
    pub(crate) port: MessagePort,
    pub(crate) fd: OwnedFd,
    pub(crate) hello_sent: bool,
    pub(crate) hello_received: bool,
    /// Bytes (and their descriptors) to read before the socket's.
    pub(crate) prefix: InBuf,
    /// Bytes owed to the socket, after the HELLO when `hello_sent` is false.
    pub(crate) pending: OutBuf,
}

#[derive(Default)]
struct Inbox {
    new: Vec<NewBridge>,
    ready: Vec<u64>,
    flush_waiters: Vec<Arc<FlushWaiter>>,
}

#[derive(Default)]
struct FlushWaiter {
    done: Mutex<bool>,
    cv: Condvar,
}

/// What the rest of the crate shares with the reactor thread.
pub(crate) struct Shared {
    inbox: Mutex<Inbox>,
    wake: OwnedFd,
    /// Set while the inbox is non-empty and the eventfd was signalled (edge-only wakeups).
    signalled: std::sync::atomic::AtomicBool,
    thread: OnceLock<std::thread::ThreadId>,
    pid: rustix::process::Pid,
    pub(crate) diag: Mutex<Diag>,
    pub(crate) live: AtomicUsize,
    pub(crate) protocol_errors: AtomicU64,
}

/// The last protocol error seen, for diagnostics.
#[derive(Default)]
pub(crate) struct Diag {
    pub(crate) last_protocol_error: Option<String>,
}

static SHARED: OnceLock<Result<Arc<Shared>, Errno>> = OnceLock::new();

/// The reactor, started on first use.
pub(crate) fn shared() -> std::io::Result<Arc<Shared>> {
    SHARED
        .get_or_init(start)
        .clone()
        .map_err(std::io::Error::from)
}

/// The reactor if it was ever started (diagnostics and flush need not start it).
pub(crate) fn started() -> Option<Arc<Shared>> {
    SHARED.get().and_then(|r| r.as_ref().ok().cloned())
}

fn start() -> Result<Arc<Shared>, Errno> {
    raise_fd_limit();
    let epoll = epoll::create(epoll::CreateFlags::CLOEXEC)?;
    let wake = eventfd(0, EventfdFlags::CLOEXEC | EventfdFlags::NONBLOCK)?;
    epoll::add(
        &epoll,
        &wake,
        epoll::EventData::new_u64(WAKE),
        epoll::EventFlags::IN,
    )?;
    let shared = Arc::new(Shared {
        inbox: Mutex::new(Inbox::default()),
        wake,
        signalled: Default::default(),
        thread: OnceLock::new(),
        pid: rustix::process::getpid(),
        diag: Mutex::new(Diag::default()),
        live: AtomicUsize::new(0),
        protocol_errors: AtomicU64::new(0),
    });
    let s = shared.clone();
    std::thread::Builder::new()
        .name("webmessaging-ipc".into())
        .spawn(move || {
            let _ = s.thread.set(std::thread::current().id());
            Reactor::new(s, epoll).run()
        })
        .map_err(|e| Errno::from_io_error(&e).unwrap_or(Errno::AGAIN))?;
    register_exit_flush();
    Ok(shared)
}

/// Many cross-process ports each hold a descriptor: lift the soft limit to the hard one.
fn raise_fd_limit() {
    use rustix::process::{getrlimit, setrlimit, Resource};
    let mut lim = getrlimit(Resource::Nofile);
    if lim.current != lim.maximum {
        lim.current = lim.maximum;
        let _ = setrlimit(Resource::Nofile, lim);
    }
}

/// How long a process that exits waits for its bridges to write what they owe.
const EXIT_FLUSH: Duration = Duration::from_secs(5);

extern "C" fn flush_at_exit() {
    let _ = super::flush(Some(EXIT_FLUSH));
}

fn register_exit_flush() {
    extern "C" {
        fn atexit(f: extern "C" fn()) -> std::ffi::c_int;
    }
    // SAFETY: `atexit` only records the function pointer; `flush_at_exit` is a plain
    // `extern "C" fn` that never unwinds (flush catches nothing that panics).
    unsafe {
        atexit(flush_at_exit);
    }
}

impl Shared {
    fn signal(&self) {
        if !self.signalled.swap(true, Ordering::AcqRel) {
            let _ = rustix::io::write(&self.wake, &1u64.to_ne_bytes());
        }
    }

    /// Hands a new bridge to the reactor.
    pub(crate) fn submit(&self, nb: NewBridge) {
        self.inbox.lock().new.push(nb);
        self.signal();
    }

    fn ready(&self, id: u64) {
        self.inbox.lock().ready.push(id);
        self.signal();
    }

    pub(crate) fn on_reactor_thread(&self) -> bool {
        self.thread.get() == Some(&std::thread::current().id())
    }

    pub(crate) fn same_process(&self) -> bool {
        rustix::process::getpid() == self.pid
    }

    /// Waits until every bridge has written everything it was given before this call.
    pub(crate) fn flush(&self, timeout: Option<Duration>) -> bool {
        let w = Arc::new(FlushWaiter::default());
        self.inbox.lock().flush_waiters.push(w.clone());
        self.signal();
        let deadline = timeout.and_then(|t| Instant::now().checked_add(t));
        let mut done = w.done.lock();
        while !*done {
            match deadline {
                Some(d) => {
                    if w.cv.wait_until(&mut done, d).timed_out() {
                        return *done;
                    }
                }
                None => w.cv.wait(&mut done),
            }
        }
        true
    }

    pub(crate) fn protocol_error(&self, what: String) {
        self.protocol_errors.fetch_add(1, Ordering::Relaxed);
        self.diag.lock().last_protocol_error = Some(what);
    }
}

/// What a bridge owes its socket. Shared with the posting threads' direct path: whoever pops
/// the bridge port's messages holds this lock, so frames go out in queue order.
struct Outgoing {
    out: OutBuf,
    /// Still writing (false after a write error: the peer is gone).
    writing: bool,
    /// Posting threads may write small messages themselves: the bridge is open, not closing,
    /// not moving, and keeps `raw` open while this is set.
    direct: bool,
    raw: RawFd,
}

/// A posting thread's fast path, run from the bridge port's notifier: pops small data-only
/// messages and writes them at once, sparing two thread hand-offs. Returns `false` when the
/// reactor must take over (busy, a port or a close record or a large buffer to send, a full
/// socket). No user code runs here: popping and writing call none.
fn direct_send(tx: &Mutex<Outgoing>, port: &MessagePort) -> bool {
    let Some(mut o) = tx.try_lock() else {
        return false;
    };
    if !o.direct || !o.writing || !o.out.is_empty() || o.out.sent_within(BURST_GAP) {
        return false;
    }
    let mut done = false;
    for _ in 0..DIRECT_BATCH {
        match port.try_recv() {
            Ok(Some(m)) if wire::is_plain(&m) => wire::send_plain(&mut o.out, m),
            Ok(Some(m)) => {
                // Back where it was, for the reactor (which can move ports).
                let _ = port.requeue_front(m);
                break;
            }
            Ok(None) => {
                done = true;
                break;
            }
            Err(_) => break,
        }
    }
    // SAFETY: `direct` is set, so the bridge keeps this descriptor open (it clears `direct`
    // under this lock before it closes or hands over the socket).
    let fd = unsafe { BorrowedFd::borrow_raw(o.raw) };
    match o.out.flush(fd) {
        Ok(flushed) => done && flushed,
        Err(_) => {
            o.writing = false;
            o.out.clear();
            false
        }
    }
}

/// `WEBMESSAGING_IPC_DIRECT=0` turns the posting threads' direct path off (every message then
/// goes through the reactor thread), for comparison.
fn direct_enabled() -> bool {
    static ON: OnceLock<bool> = OnceLock::new();
    *ON.get_or_init(|| std::env::var("WEBMESSAGING_IPC_DIRECT").map_or(true, |v| v != "0"))
}

/// Runs `f`, which may call a program's notifier (posting into or closing a program's port),
/// so that a notifier that panics costs that notification, not the transport's thread.
fn guard_user_code(shared: &Shared, f: impl FnOnce()) {
    if std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).is_err() {
        shared.protocol_error("a port's notifier panicked on the transport's thread".into());
    }
}

/// One bridge: the local port the transport owns and its socket.
struct Bridge {
    port: MessagePort,
    mailbox: u64,
    fd: OwnedFd,
    tx: Arc<Mutex<Outgoing>>,
    inbuf: InBuf,
    hello_received: bool,
    /// Still reading the socket (false once a frame or EOF ended it).
    reading: bool,
    /// The local port closed: CLOSE is queued; the bridge ends once it is written.
    closing: bool,
    /// Epoll interest now registered.
    interest: epoll::EventFlags,
}

/// How a bridge's socket ended, from the reading side.
enum Ended {
    /// The peer sent CLOSE with this reason.
    Closed(CloseReason),
    /// EOF or a read error with no CLOSE.
    Lost,
    /// The peer broke the protocol.
    Protocol(String),
}

pub(crate) struct Reactor {
    shared: Arc<Shared>,
    epoll: OwnedFd,
    next_id: u64,
    bridges: HashMap<u64, Bridge>,
    by_mailbox: HashMap<u64, u64>,
    /// Bridges to look at again this round (a new bridge's prefix, a drain cut short).
    again: Vec<u64>,
    /// Read storage lent to whichever bridge is reading, so an idle bridge holds none.
    spare: Vec<u8>,
}

impl Reactor {
    fn new(shared: Arc<Shared>, epoll: OwnedFd) -> Self {
        Reactor {
            shared,
            epoll,
            next_id: 1,
            bridges: HashMap::new(),
            by_mailbox: HashMap::new(),
            again: Vec::new(),
            spare: Vec::new(),
        }
    }

    fn run(mut self) {
        let mut events: Vec<epoll::Event> = Vec::with_capacity(1024);
        let mut readable = Vec::new();
        let mut writable = Vec::new();
        let zero = rustix::event::Timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        loop {
            events.clear();
            let timeout = if self.again.is_empty() {
                None
            } else {
                Some(&zero)
            };
            match epoll::wait(
                &self.epoll,
                rustix::buffer::spare_capacity(&mut events),
                timeout,
            ) {
                Ok(_) | Err(Errno::INTR) => {}
                Err(_) => std::thread::sleep(Duration::from_millis(10)),
            }
            for ev in &events {
                let id = ev.data.u64();
                if id == WAKE {
                    let mut b = [0u8; 8];
                    let _ = rustix::io::read(&self.shared.wake, &mut b);
                    continue;
                }
                let f = ev.flags;
                if f.intersects(
                    epoll::EventFlags::IN
                        | epoll::EventFlags::HUP
                        | epoll::EventFlags::ERR
                        | epoll::EventFlags::RDHUP,
                ) {
                    readable.push(id);
                }
                if f.intersects(epoll::EventFlags::OUT | epoll::EventFlags::ERR) {
                    writable.push(id);
                }
            }
            let inbox = {
                let mut ib = self.shared.inbox.lock();
                self.shared.signalled.store(false, Ordering::Release);
                std::mem::take(&mut *ib)
            };
            for nb in inbox.new {
                self.register(nb);
            }
            let mut todo = std::mem::take(&mut self.again);
            todo.extend(inbox.ready);
            for id in todo {
                self.service(id);
            }
            for id in readable.drain(..) {
                self.read(id);
            }
            for id in writable.drain(..) {
                self.flush(id);
            }
            let mut waiters = inbox.flush_waiters;
            if !waiters.is_empty() {
                if self.idle() {
                    for w in waiters.drain(..) {
                        *w.done.lock() = true;
                        w.cv.notify_all();
                    }
                } else {
                    // Not yet: ask again next round.
                    self.shared.inbox.lock().flush_waiters.append(&mut waiters);
                    self.shared.signal();
                    if self.again.is_empty() {
                        // Waiting on sockets to drain; do not spin.
                        std::thread::sleep(Duration::from_millis(1));
                    }
                }
            }
        }
    }

    fn idle(&self) -> bool {
        self.again.is_empty()
            && self.bridges.values().all(|b| {
                let o = b.tx.lock();
                !o.writing || o.out.is_empty()
            })
            && {
                let ib = self.shared.inbox.lock();
                ib.ready.is_empty() && ib.new.is_empty()
            }
    }

    /// Takes ownership of a new bridge and looks at it at once: its port may already hold
    /// messages whose notifier fired before the bridge was known here.
    fn register(&mut self, nb: NewBridge) -> u64 {
        let id = self.next_id;
        self.next_id += 1;
        let mut out = OutBuf::default();
        if !nb.hello_sent {
            let mut hello = Vec::new();
            frame::write_hello(&mut hello);
            out.push(&hello, Vec::new());
        }
        let mut pending = nb.pending;
        let (bytes, attach) = pending.take();
        out.push_raw(&bytes, attach);
        let mailbox = nb.port.mailbox_id().unwrap_or(0);
        let tx = Arc::new(Mutex::new(Outgoing {
            out,
            writing: true,
            direct: direct_enabled(),
            raw: nb.fd.as_raw_fd(),
        }));
        let bridge = Bridge {
            port: nb.port,
            mailbox,
            fd: nb.fd,
            tx: tx.clone(),
            inbuf: nb.prefix,
            hello_received: nb.hello_received,
            reading: true,
            closing: false,
            interest: epoll::EventFlags::empty(),
        };
        let shared = self.shared.clone();
        // The notifier holds a handle on the bridge port (for the direct path): a cycle through
        // the port's own queue, broken when the bridge retires or moves (`set_notifier(None)`).
        let port = bridge.port.clone();
        let notifier: Notifier = Arc::new(move || {
            if !direct_send(&tx, &port) {
                shared.ready(id);
            }
        });
        bridge.port.set_onmessage(Some(notifier));
        self.by_mailbox.insert(mailbox, id);
        self.bridges.insert(id, bridge);
        self.shared.live.fetch_add(1, Ordering::Relaxed);
        self.again.push(id);
        id
    }

    /// Sends what the bridge port holds, parses any prefix, flushes.
    fn service(&mut self, id: u64) {
        let Some(mut b) = self.bridges.remove(&id) else {
            return;
        };
        let mut ended = None;
        if b.reading && !b.inbuf.unread().is_empty() {
            ended = self.parse(&mut b);
        }
        if ended.is_none() && !b.closing {
            let mut more = true;
            let tx = b.tx.clone();
            let mut o = tx.lock();
            for _ in 0..DRAIN_BATCH {
                match b.port.try_recv() {
                    Ok(Some(m)) => {
                        if let Err(e) = wire::send(self, &mut o.out, m) {
                            ended = Some(Ended::Protocol(e));
                            more = false;
                            break;
                        }
                        if o.out.unsent_fds() > FLUSH_FDS && o.writing {
                            // Descriptors waiting here count against this process's limit;
                            // in the socket they do not.
                            if o.out.flush(b.fd.as_fd()).is_err() {
                                o.writing = false;
                                o.out.clear();
                            }
                        }
                    }
                    Ok(None) => {
                        more = false;
                        break;
                    }
                    Err(CoreError::Closed(n)) => {
                        more = false;
                        if n.by_peer && o.writing {
                            let mut f = Vec::new();
                            frame::write_close(&mut f, n.reason);
                            o.out.push(&f, Vec::new());
                        }
                        o.direct = false;
                        // Reading goes on (what arrives goes nowhere: the port is closed), so two
                        // ends closing at once with full sockets cannot wait on each other.
                        b.closing = true;
                        break;
                    }
                    Err(_) => {
                        more = false;
                        break;
                    }
                }
            }
            drop(o);
            if more {
                self.again.push(id);
            }
        }
        self.bridges.insert(id, b);
        match ended {
            Some(e) => self.end(id, e),
            None => self.flush(id),
        }
    }

    fn read(&mut self, id: u64) {
        let Some(mut b) = self.bridges.remove(&id) else {
            return;
        };
        let mut ended = None;
        if b.reading {
            b.inbuf.lend(&mut self.spare);
            let res = b.inbuf.read(b.fd.as_fd());
            match res {
                Ok(ReadEnd::Again | ReadEnd::Budget) => ended = self.parse(&mut b),
                Ok(ReadEnd::Eof) => {
                    ended = self.parse(&mut b);
                    if ended.is_none() {
                        ended = Some(lost_or_cut(&b));
                    }
                }
                Err(e) => {
                    ended = self.parse(&mut b);
                    if ended.is_none() {
                        // A peer that closes with our bytes unread resets the connection
                        // instead of ending it: a cut frame is still the peer's fault.
                        ended = Some(if e.kind() == std::io::ErrorKind::Other {
                            Ended::Protocol(e.to_string())
                        } else {
                            lost_or_cut(&b)
                        });
                    }
                }
            }
        }
        b.inbuf.give_back(&mut self.spare);
        let hup = !b.reading;
        self.bridges.insert(id, b);
        match ended {
            Some(e) => self.end(id, e),
            None if hup => self.flush(id),
            None => self.update_interest(id),
        }
    }

    /// Delivers every complete frame in the bridge's input. Returns how the connection ended
    /// if a frame ended it.
    fn parse(&mut self, b: &mut Bridge) -> Option<Ended> {
        loop {
            let (unread, queue, cut_off) = b.inbuf.parts();
            let mut missing = 0;
            let parsed = match frame::parse(unread, queue.len()) {
                Ok(Some(p)) => p,
                Ok(None) => break,
                Err(frame::FrameError::MissingDescriptors { needed, arrived })
                    if *cut_off && needed <= FDS_PER_SEND =>
                {
                    // This process ran out of descriptors: the kernel dropped this frame's last
                    // ones (all came in one message, so the missing ones are the last). What
                    // they carried is lost (a port arrives ended), the rest goes on.
                    *cut_off = false;
                    missing = needed - arrived;
                    match frame::parse(unread, needed) {
                        Ok(Some(p)) => p,
                        Ok(None) => break,
                        Err(e) => return Some(Ended::Protocol(e.to_string())),
                    }
                }
                Err(e) => return Some(Ended::Protocol(e.to_string())),
            };
            let (bytes, nfds) = (parsed.bytes, parsed.fds - missing);
            if bytes == unread.len() && queue.len() > nfds {
                // Descriptors beyond this frame's, and no frame after it to claim them.
                let extra = queue.len() - nfds;
                return Some(Ended::Protocol(
                    frame::FrameError::UnexpectedDescriptors(extra).to_string(),
                ));
            }
            let fds: Vec<Option<OwnedFd>> = queue
                .drain(..nfds)
                .map(Some)
                .chain(std::iter::repeat_with(|| None).take(missing))
                .collect();
            let result = match parsed.frame {
                Frame::Hello if !b.hello_received => {
                    b.hello_received = true;
                    Ok(None)
                }
                Frame::Hello => Err("a second HELLO".to_string()),
                _ if !b.hello_received => Err("a frame before HELLO".to_string()),
                Frame::Close(reason) => Ok(Some(Ended::Closed(reason))),
                Frame::Message(m) => match wire::receive(self, &m, fds) {
                    Ok((payload, ports)) => {
                        // The ports are the fresh ends of new bridges: posting detaches them.
                        let port = &b.port;
                        guard_user_code(&self.shared, || {
                            let _ = port.post_message(payload, &ports);
                        });
                        Ok(None)
                    }
                    Err(e) => Err(e),
                },
            };
            b.inbuf.consume(bytes);
            match result {
                Ok(None) => {}
                Ok(Some(end)) => return Some(end),
                Err(e) => return Some(Ended::Protocol(e)),
            }
        }
        frame::check_leftover(b.inbuf.unread(), b.inbuf.fds.len())
            .err()
            .map(|e| Ended::Protocol(e.to_string()))
    }

    /// The reading side ended: close the local channel with the right reason and retire.
    fn end(&mut self, id: u64, how: Ended) {
        let Some(b) = self.bridges.remove(&id) else {
            return;
        };
        let reason = match how {
            Ended::Closed(r) => r,
            Ended::Lost => CloseReason::Lost,
            Ended::Protocol(e) => {
                self.shared.protocol_error(e);
                CloseReason::Lost
            }
        };
        guard_user_code(&self.shared, || b.port.close_with(reason));
        self.retire(b);
    }

    fn retire(&mut self, b: Bridge) {
        b.tx.lock().direct = false;
        let _ = epoll::delete(&self.epoll, &b.fd);
        self.by_mailbox.remove(&b.mailbox);
        self.shared.live.fetch_sub(1, Ordering::Relaxed);
        b.port.set_notifier(None);
        // Dropped here: the port's queue is closed already, the socket closes.
        drop(b);
    }

    fn flush(&mut self, id: u64) {
        let Some(b) = self.bridges.get_mut(&id) else {
            return;
        };
        let finished = {
            let mut o = b.tx.lock();
            if o.writing {
                if let Err(_e) = o.out.flush(b.fd.as_fd()) {
                    // The peer is gone: keep reading what it wrote before it went.
                    o.writing = false;
                    o.out.clear();
                }
            }
            o.out.is_empty() || !o.writing
        };
        if b.closing && finished {
            if let Some(b) = self.bridges.remove(&id) {
                self.retire(b);
            }
            return;
        }
        self.update_interest(id);
    }

    fn update_interest(&mut self, id: u64) {
        let Some(b) = self.bridges.get_mut(&id) else {
            return;
        };
        let mut want = epoll::EventFlags::empty();
        if b.reading {
            want |= epoll::EventFlags::IN | epoll::EventFlags::RDHUP;
        }
        {
            let o = b.tx.lock();
            if o.writing && !o.out.is_empty() {
                want |= epoll::EventFlags::OUT;
            }
        }
        if want == b.interest && !want.is_empty() {
            return;
        }
        let data = epoll::EventData::new_u64(id);
        let res = if b.interest.is_empty() {
            epoll::add(&self.epoll, &b.fd, data, want)
        } else {
            epoll::modify(&self.epoll, &b.fd, data, want)
        };
        match res {
            Ok(()) => b.interest = want,
            Err(Errno::EXIST) => {
                let _ = epoll::modify(&self.epoll, &b.fd, data, want);
                b.interest = want;
            }
            Err(e) => {
                let msg = format!("cannot watch a port's socket: {e}");
                self.end(id, Ended::Protocol(msg));
            }
        }
    }

    // ---- used by `wire` ----

    /// Starts bridging `port` over `fd` (a port whose socket arrived in a frame, or a local port
    /// that is leaving over a new socket pair).
    pub(crate) fn adopt(&mut self, nb: NewBridge) -> u64 {
        self.register(nb)
    }

    /// The bridge whose port is the mailbox `peer`, taken out of the reactor for a hand-over:
    /// no longer read or written here. Returns its port, socket, input and owed output.
    pub(crate) fn take_bridge_of(&mut self, peer: u64) -> Option<TakenBridge> {
        // Not while that bridge is out of the map being serviced (it cannot be T's peer then:
        // T would be travelling through its own channel, which the core refuses).
        let id = *self.by_mailbox.get(&peer)?;
        let b = self.bridges.remove(&id)?;
        if b.closing || !b.reading {
            // Ending anyway: not worth handing over (the caller makes a new pair).
            self.bridges.insert(id, b);
            return None;
        }
        self.by_mailbox.remove(&peer);
        let _ = epoll::delete(&self.epoll, &b.fd);
        self.shared.live.fetch_sub(1, Ordering::Relaxed);
        b.port.set_notifier(None);
        let (out, writing) = {
            let mut o = b.tx.lock();
            o.direct = false;
            (std::mem::take(&mut o.out), o.writing)
        };
        Some(TakenBridge {
            port: b.port,
            fd: b.fd,
            out,
            writing,
            inbuf: b.inbuf,
            hello_received: b.hello_received,
        })
    }

    /// Records a problem that cost one port, not the connection.
    pub(crate) fn note(&self, what: String) {
        self.shared.protocol_error(what);
    }

    /// A fresh local channel: one end for the program, one for a bridge.
    pub(crate) fn channel() -> (MessagePort, MessagePort) {
        MessageChannel::new().into_ports()
    }
}

/// A bridge taken out of the reactor for a hand-over.
pub(crate) struct TakenBridge {
    pub(crate) port: MessagePort,
    pub(crate) fd: OwnedFd,
    pub(crate) out: OutBuf,
    pub(crate) writing: bool,
    pub(crate) inbuf: InBuf,
    pub(crate) hello_received: bool,
}

/// How a connection that stopped delivering bytes ended: cleanly between frames (`Lost`), or
/// inside one, which is the peer's protocol error.
fn lost_or_cut(b: &Bridge) -> Ended {
    if b.inbuf.unread().is_empty() {
        Ended::Lost
    } else {
        Ended::Protocol("the connection ended inside a frame".into())
    }
}
