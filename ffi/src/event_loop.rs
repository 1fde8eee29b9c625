//! `wm_loop_*`: plugs ports into a C event loop through one pollable file descriptor.
//!
//! Design (hyper's executor/waker idea, with a file descriptor as the waker): each attached
//! port gets a core notifier that only pushes the port on the loop's ready list and makes the
//! loop's descriptor readable (an eventfd on Linux, a pipe elsewhere). The notifier runs on the
//! posting thread, so it does nothing else. The C program polls the descriptor with whatever it
//! uses (epoll, poll, libuv, GLib) and calls `wm_loop_dispatch` on its own thread; dispatch
//! drains ready ports in batches and runs the callbacks there, with no library lock held.

use std::collections::VecDeque;
use std::ffi::{c_int, c_void};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Weak};

use parking_lot::Mutex;
use webmessaging_core::CloseReason;

use crate::broadcast::wm_broadcast;
use crate::handle::{Kind, Table};
use crate::message::{self, wm_message};
use crate::port::{port_arg, wm_port};
use crate::receive::{self, Next, Receiver};
use crate::status::*;
use crate::window::wm_window;

/// An event loop that delivers the messages of attached ports through callbacks.
///
/// An opaque handle: create it with `wm_loop_new`, release it with `wm_loop_free`.
pub struct wm_loop {
    _private: [u8; 0],
}

/// Why a port's queue ended, as passed to `onclose`.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum wm_close_reason {
    /// `wm_port_close` was called.
    WM_CLOSE_CLOSED = 1,
    /// A port handle was freed (or a message carrying it dropped) without being closed: the
    /// stand-in for garbage collection.
    WM_CLOSE_DROPPED = 2,
    /// The port was posted through its own channel (the standard's "doomed" case).
    WM_CLOSE_DOOMED = 3,
    /// The peer port's process exited or was killed without closing it (cross-process ports);
    /// everything it had sent was delivered first.
    WM_CLOSE_LOST = 4,
}

pub(crate) fn close_reason(r: CloseReason) -> wm_close_reason {
    match r {
        CloseReason::Closed => wm_close_reason::WM_CLOSE_CLOSED,
        CloseReason::Dropped => wm_close_reason::WM_CLOSE_DROPPED,
        CloseReason::Doomed => wm_close_reason::WM_CLOSE_DOOMED,
        // A reason newer than this ABI reads as the closest one it has.
        CloseReason::Lost | _ => wm_close_reason::WM_CLOSE_LOST,
    }
}

/// `onmessage`: called by `wm_loop_dispatch` for each message of an attached port.
///
/// `port` is the handle that was attached. `message` is lent to the callback: the loop frees it
/// when the callback returns (take its ports with `wm_message_take_port`, copy its value with
/// `wm_message_to_json`/`wm_message_value`; freeing it yourself is harmless).
pub type wm_message_cb = Option<
    unsafe extern "C" fn(userdata: *mut c_void, port: *mut wm_port, message: *mut wm_message),
>;

/// `onclose`: called once by `wm_loop_dispatch` when an attached port's queue reaches its close
/// notice, after every earlier message. `by_peer` is true when the peer caused it, false when
/// this port was closed. The port is detached from the loop before the call (so the
/// finalizer runs right after it); the handle itself stays valid until you free it.
pub type wm_close_cb = Option<
    unsafe extern "C" fn(
        userdata: *mut c_void,
        port: *mut wm_port,
        reason: wm_close_reason,
        by_peer: bool,
    ),
>;

/// Releases `userdata`; called exactly once when a registration ends (detach, replace, close
/// delivered, port freed, port transferred, loop freed), never while one of its callbacks runs.
pub type wm_finalizer = Option<unsafe extern "C" fn(userdata: *mut c_void)>;

/// The callbacks of one registration, by kind of object.
#[derive(Clone, Copy)]
pub(crate) enum Callbacks {
    Port(wm_message_cb, wm_close_cb),
    Window(crate::window::wm_window_message_cb),
    Broadcast(
        crate::broadcast::wm_broadcast_message_cb,
        crate::broadcast::wm_broadcast_close_cb,
    ),
    Listener(crate::ipc::wm_connect_cb),
}

/// An object's attachment to a loop: the callbacks and the user's data.
pub(crate) struct Registration {
    owner: Weak<LoopInner>,
    /// The handle the object was attached with, passed back to the callbacks.
    handle: usize,
    callbacks: Callbacks,
    userdata: *mut c_void,
    finalizer: wm_finalizer,
}

// SAFETY: `userdata` is an opaque token the library never dereferences; it is only handed back
// to the C callbacks, whose thread-safety contract the caller accepted when attaching.
unsafe impl Send for Registration {}
// SAFETY: as above; nothing in a registration is mutated after creation.
unsafe impl Sync for Registration {}

impl Registration {
    /// Removes the object at `ptr` from its loop's attached list.
    fn forget(&self, ptr: *const ()) {
        if let Some(l) = self.owner.upgrade() {
            let mut st = l.state.lock();
            st.attached.retain(|w| w.as_ptr() as *const () != ptr);
        }
    }

    fn belongs_to(&self, l: &Arc<LoopInner>) -> bool {
        std::ptr::eq(self.owner.as_ptr(), Arc::as_ptr(l))
    }
}

/// The loop bookkeeping every attachable object (port, window, broadcast channel) carries.
#[derive(Default)]
pub(crate) struct Watch {
    /// The registration (`wm_*_attach`), if any.
    reg: Mutex<Option<Arc<Registration>>>,
    /// On its loop's ready list (changed under that loop's state lock).
    queued: AtomicBool,
}

/// An object a loop can watch: a receiver (its events come through the one receive path,
/// `receive::next`) with its loop bookkeeping.
pub(crate) trait Source: Receiver {
    fn watch(&self) -> &Watch;
}

fn ptr_of(src: &dyn Source) -> *const () {
    src as *const dyn Source as *const ()
}

/// Takes away `src`'s registration, if any, and stops its notifications. The caller drops the
/// result with no lock held (its finalizer is C code).
pub(crate) fn take_registration(src: &dyn Source) -> Option<Arc<Registration>> {
    let reg = src.watch().reg.lock().take();
    if let Some(r) = &reg {
        src.target().set_notifier(None);
        r.forget(ptr_of(src));
    }
    reg
}

/// Attaches `src` (whose handle is `handle`) to the loop `l`.
fn attach(
    l: *mut wm_loop,
    src: Arc<dyn Source>,
    handle: usize,
    callbacks: Callbacks,
    userdata: *mut c_void,
    finalizer: wm_finalizer,
) -> Res {
    let inner = loop_arg(l)?;
    let old = take_registration(&*src);
    {
        let mut st = inner.state.lock();
        if st.freed {
            drop(st);
            drop(old);
            return Err(Failure::new(
                WM_ERR_INVALID_HANDLE,
                "the loop is being freed",
            ));
        }
        st.attached.push(Arc::downgrade(&src));
    }
    let reg = Arc::new(Registration {
        owner: Arc::downgrade(&inner),
        handle,
        callbacks,
        userdata,
        finalizer,
    });
    // A registration that a concurrent attach slipped in since `take_registration` above is
    // replaced too; it is dropped after the lock is released (its finalizer is C code).
    let raced = src.watch().reg.lock().replace(reg);
    if let Some(r) = raced.as_ref().filter(|r| !r.belongs_to(&inner)) {
        r.forget(ptr_of(&*src));
    }
    let (wl, ws) = (Arc::downgrade(&inner), Arc::downgrade(&src));
    src.target().set_notifier(Some(Arc::new(move || {
        if let (Some(l), Some(s)) = (wl.upgrade(), ws.upgrade()) {
            l.mark_ready(&s);
        }
    })));
    src.target().start();
    drop(old);
    drop(raced);
    Ok(())
}

/// Detaches `src` from `l` if it is attached there.
fn detach(l: *mut wm_loop, src: &dyn Source) -> Res {
    let inner = loop_arg(l)?;
    let mine = src
        .watch()
        .reg
        .lock()
        .as_ref()
        .is_some_and(|r| r.belongs_to(&inner));
    if mine {
        drop(take_registration(src));
    }
    Ok(())
}

/// `wm_window_attach` and `wm_broadcast_attach` go through here.
pub(crate) fn attach_source(
    l: *mut wm_loop,
    src: Arc<dyn Source>,
    handle: usize,
    callbacks: Callbacks,
    userdata: *mut c_void,
    finalizer: wm_finalizer,
) -> Res {
    attach(l, src, handle, callbacks, userdata, finalizer)
}

/// `wm_window_detach` and `wm_broadcast_detach` go through here.
pub(crate) fn detach_source(l: *mut wm_loop, src: &dyn Source) -> Res {
    detach(l, src)
}

impl Drop for Registration {
    fn drop(&mut self) {
        if let Some(f) = self.finalizer {
            // SAFETY: the C contract of `wm_loop_attach`: `finalizer(userdata)` is valid to call
            // once, and this is the one time (the registration is dropped once).
            unsafe { f(self.userdata) };
        }
    }
}

struct LoopState {
    /// Ports that may have something, in notification order.
    ready: VecDeque<Weak<dyn Source>>,
    /// Whether the descriptor is readable (we wrote and have not drained it).
    signaled: bool,
    /// Attached ports, to detach them all when the loop is freed.
    attached: Vec<Weak<dyn Source>>,
    freed: bool,
}

pub(crate) struct LoopInner {
    wake: Waker,
    state: Mutex<LoopState>,
    /// Held by `wm_loop_dispatch` for its whole run: one dispatcher at a time, no re-entry.
    dispatching: Mutex<()>,
}

static LOOPS: Table<Arc<LoopInner>, { Kind::Loop as u8 }> = Table::new();

/// Messages one port may deliver before the next ready port gets its turn.
const PORT_QUANTUM: usize = 64;
/// Budget used when `wm_loop_dispatch` is passed 0.
const DEFAULT_BUDGET: usize = 1024;

impl LoopInner {
    /// Puts `port` on the ready list and makes the descriptor readable. Called from notifiers
    /// (any thread) and by dispatch for a port that still has messages after its quantum.
    fn mark_ready(&self, src: &Arc<dyn Source>) {
        let mut st = self.state.lock();
        if st.freed || src.watch().queued.swap(true, Ordering::AcqRel) {
            return;
        }
        st.ready.push_back(Arc::downgrade(src));
        if !st.signaled {
            st.signaled = true;
            self.wake.signal();
        }
    }

    fn pop_ready(&self) -> Option<Weak<dyn Source>> {
        let mut st = self.state.lock();
        let next = st.ready.pop_front();
        if let Some(w) = &next {
            if let Some(p) = w.upgrade() {
                p.watch().queued.store(false, Ordering::Release);
            }
        }
        if st.ready.is_empty() && st.signaled {
            st.signaled = false;
            self.wake.drain();
        }
        next
    }
}

fn loop_arg(l: *const wm_loop) -> Res<Arc<LoopInner>> {
    if l.is_null() {
        return Err(Failure::null("loop"));
    }
    LOOPS.get(l as usize)
}

/// The readable-when-ready descriptor: an eventfd on Linux, a non-blocking pipe elsewhere.
struct Waker {
    read_fd: c_int,
    write_fd: c_int,
}

impl Waker {
    #[cfg(target_os = "linux")]
    fn new() -> Res<Waker> {
        // SAFETY: plain syscall; the result is checked.
        let fd = unsafe { libc::eventfd(0, libc::EFD_CLOEXEC | libc::EFD_NONBLOCK) };
        if fd < 0 {
            return Err(Failure::new(
                WM_ERR_IO,
                format!("eventfd: {}", std::io::Error::last_os_error()),
            ));
        }
        Ok(Waker {
            read_fd: fd,
            write_fd: fd,
        })
    }

    #[cfg(not(target_os = "linux"))]
    fn new() -> Res<Waker> {
        let mut fds = [0 as c_int; 2];
        // SAFETY: `fds` has room for the two descriptors; the result is checked.
        if unsafe { libc::pipe(fds.as_mut_ptr()) } != 0 {
            return Err(Failure::new(
                WM_ERR_IO,
                format!("pipe: {}", std::io::Error::last_os_error()),
            ));
        }
        for fd in fds {
            // SAFETY: plain fcntl calls on descriptors we own.
            unsafe {
                libc::fcntl(
                    fd,
                    libc::F_SETFL,
                    libc::fcntl(fd, libc::F_GETFL) | libc::O_NONBLOCK,
                );
                libc::fcntl(fd, libc::F_SETFD, libc::FD_CLOEXEC);
            }
        }
        Ok(Waker {
            read_fd: fds[0],
            write_fd: fds[1],
        })
    }

    fn signal(&self) {
        let one: u64 = 1;
        // SAFETY: writes 8 bytes from a live local to a descriptor we own. A full eventfd/pipe
        // (EAGAIN) means it is already readable, which is all we want.
        unsafe { libc::write(self.write_fd, (&one as *const u64).cast(), 8) };
    }

    fn drain(&self) {
        let mut buf = [0u8; 64];
        loop {
            // SAFETY: reads into a live local buffer from a non-blocking descriptor we own.
            let n = unsafe { libc::read(self.read_fd, buf.as_mut_ptr().cast(), buf.len()) };
            if n <= 0 || (self.read_fd == self.write_fd) {
                break;
            }
        }
    }
}

impl Drop for Waker {
    fn drop(&mut self) {
        // SAFETY: closing descriptors we own, once.
        unsafe {
            libc::close(self.read_fd);
            if self.write_fd != self.read_fd {
                libc::close(self.write_fd);
            }
        }
    }
}

/// Creates an event loop with its pollable descriptor.
///
/// Ownership: on `WM_OK`, `*out` is a new loop owned by the caller (`wm_loop_free`); on failure
/// NULL. Thread safety: any thread; see `wm_loop_dispatch` for where callbacks run.
/// Returns `WM_OK`, `WM_ERR_NULL_ARG`, `WM_ERR_IO` (no descriptor could be made), `WM_ERR_PANIC`.
#[no_mangle]
pub unsafe extern "C" fn wm_loop_new(out: *mut *mut wm_loop) -> wm_status {
    // SAFETY: the caller passes NULL or a writable pointer.
    unsafe { write_out(out, std::ptr::null_mut()) };
    guard(here!(), || {
        if out.is_null() {
            return Err(Failure::null("out"));
        }
        let inner = LoopInner {
            wake: Waker::new()?,
            state: Mutex::new(LoopState {
                ready: VecDeque::new(),
                signaled: false,
                attached: Vec::new(),
                freed: false,
            }),
            dispatching: Mutex::new(()),
        };
        let h = LOOPS.insert(Arc::new(inner))?;
        // SAFETY: checked non-null; the caller promises it is writable.
        unsafe { *out = h as *mut wm_loop };
        Ok(())
    })
}

/// Writes the loop's file descriptor to `*fd`. It is readable (`POLLIN`/`EPOLLIN`, level
/// triggered) whenever some attached port has something to deliver; then call
/// `wm_loop_dispatch`. Do not read, write or close it yourself; it stays valid until
/// `wm_loop_free`.
///
/// Thread safety: any thread. Returns `WM_OK`, `WM_ERR_NULL_ARG`, `WM_ERR_INVALID_HANDLE`,
/// `WM_ERR_PANIC`.
#[no_mangle]
pub unsafe extern "C" fn wm_loop_fd(l: *const wm_loop, fd: *mut c_int) -> wm_status {
    guard(here!(), || {
        let inner = loop_arg(l)?;
        if fd.is_null() {
            return Err(Failure::null("fd"));
        }
        // SAFETY: checked non-null; the caller promises it is writable.
        unsafe { *fd = inner.wake.read_fd };
        Ok(())
    })
}

/// Attaches a port to the loop with its callbacks, and starts the port (setting `onmessage`
/// starts a port, R-CH-5). From now on `wm_loop_dispatch` calls `onmessage` for each message of
/// the port, in order, then `onclose` once when its queue ends. Either callback may be NULL.
/// Attaching a port that is already attached (to this or another loop) replaces its previous
/// registration, whose finalizer runs. Messages already queued are delivered too.
///
/// Ownership: the loop does not take the port handle: you still free it with `wm_port_free`
/// (which detaches it). `userdata` is yours; the library passes it to the callbacks and, exactly
/// once when the registration ends, to `finalizer` (may be NULL). If this call fails, nothing is
/// registered and `finalizer` is not called.
/// Thread safety: any thread. Callbacks run only on the thread calling `wm_loop_dispatch`.
/// Returns `WM_OK`, `WM_ERR_NULL_ARG`, `WM_ERR_INVALID_HANDLE`, `WM_ERR_PANIC`.
#[no_mangle]
pub extern "C" fn wm_loop_attach(
    l: *mut wm_loop,
    port: *mut wm_port,
    onmessage: wm_message_cb,
    onclose: wm_close_cb,
    userdata: *mut c_void,
    finalizer: wm_finalizer,
) -> wm_status {
    guard(here!(), || {
        let p = port_arg(port, "port")?;
        attach(
            l,
            p,
            port as usize,
            Callbacks::Port(onmessage, onclose),
            userdata,
            finalizer,
        )
    })
}

/// Detaches a port from the loop: no more callbacks for it (one already running on the
/// dispatching thread finishes), and its finalizer runs (now, or right after that callback).
/// The port stays started (a started queue is never disabled again, R-CH-7); its messages wait
/// for `wm_port_try_recv`/`wm_port_recv` or a new attach. Detaching a port that is not attached
/// to this loop does nothing.
///
/// Thread safety: any thread, including inside the port's own callbacks.
/// Returns `WM_OK`, `WM_ERR_NULL_ARG`, `WM_ERR_INVALID_HANDLE`, `WM_ERR_PANIC`.
#[no_mangle]
pub extern "C" fn wm_loop_detach(l: *mut wm_loop, port: *mut wm_port) -> wm_status {
    guard(here!(), || {
        let p = port_arg(port, "port")?;
        detach(l, &*p)
    })
}

/// Runs callbacks for ready ports on the calling thread: up to `budget` messages and close
/// notices in all (0 means a default of 1024), per port in order, ports taking turns by up to
/// 64 messages. Ports with more left stay ready and the descriptor stays readable. Call it
/// when the descriptor is readable; calling it at other times is harmless (`*dispatched` = 0).
///
/// Callbacks may call back into the library, including posting, closing, attaching, detaching
/// or freeing their own port, taking ports out of the message, and freeing the loop (dispatch
/// then stops after that callback). They run with no library lock held. Only one thread may
/// dispatch a loop at a time, and a callback cannot dispatch its own loop recursively.
///
/// Ownership: `dispatched` may be NULL; else it receives the number of callbacks run.
/// Thread safety: any one thread at a time; that thread runs the callbacks.
/// Returns `WM_OK`, `WM_ERR_INVALID_STATE` (already dispatching: another thread, or a callback of
/// this loop), `WM_ERR_NULL_ARG`, `WM_ERR_INVALID_HANDLE`, `WM_ERR_PANIC`.
#[no_mangle]
pub unsafe extern "C" fn wm_loop_dispatch(
    l: *mut wm_loop,
    budget: usize,
    dispatched: *mut usize,
) -> wm_status {
    // SAFETY: the caller passes NULL or a writable pointer.
    unsafe { write_out(dispatched, 0) };
    guard(here!(), || {
        let inner = loop_arg(l)?;
        let Some(_running) = inner.dispatching.try_lock() else {
            return Err(Failure::new(
                WM_ERR_INVALID_STATE,
                "the loop is already being dispatched",
            ));
        };
        let budget = if budget == 0 { DEFAULT_BUDGET } else { budget };
        let mut done = 0;
        while done < budget && !inner.state.lock().freed {
            let Some(weak) = inner.pop_ready() else { break };
            let Some(p) = weak.upgrade() else { continue };
            done += drain(&inner, &p, budget - done);
        }
        // SAFETY: the caller passes NULL or a writable pointer.
        unsafe { write_out(dispatched, done) };
        Ok(())
    })
}

/// The registration of `src` if it is still attached to `l`.
fn current_registration(l: &Arc<LoopInner>, src: &dyn Source) -> Option<Arc<Registration>> {
    src.watch()
        .reg
        .lock()
        .as_ref()
        .filter(|r| r.belongs_to(l))
        .cloned()
}

/// Delivers up to `min(budget, PORT_QUANTUM)` callbacks for one object; requeues it if it may
/// have more. Returns how many callbacks ran.
fn drain(l: &Arc<LoopInner>, src: &Arc<dyn Source>, budget: usize) -> usize {
    let quantum = budget.min(PORT_QUANTUM);
    let mut done = 0;
    loop {
        let Some(reg) = current_registration(l, &**src) else {
            return done;
        };
        if done == quantum {
            l.mark_ready(src);
            return done;
        }
        match receive::next(&**src) {
            Next::Item(m) => {
                done += 1;
                let Ok(h) = message::insert_message(m) else {
                    continue;
                };
                // SAFETY (all three calls): the callback contract of the attach call; no
                // library lock is held here, so the callback may call back in.
                match reg.callbacks {
                    Callbacks::Port(Some(cb), _) => unsafe {
                        cb(reg.userdata, reg.handle as *mut wm_port, h)
                    },
                    Callbacks::Window(Some(cb)) => unsafe {
                        cb(reg.userdata, reg.handle as *mut wm_window, h)
                    },
                    Callbacks::Broadcast(Some(cb), _) => unsafe {
                        cb(reg.userdata, reg.handle as *mut wm_broadcast, h)
                    },
                    Callbacks::Listener(Some(cb)) => unsafe {
                        cb(reg.userdata, reg.handle as *mut crate::ipc::wm_listener, h)
                    },
                    _ => {}
                }
                let _ = message::MESSAGES.free(h as usize);
                // `reg` drops here: if the callback detached or freed its object, the finalizer
                // runs now, after the callback returned.
            }
            Next::Empty => return done,
            Next::End(notice) => {
                let taken = take_registration(&**src);
                // A listener's end has no callback of its own: the registration just ends.
                let counted = !matches!(reg.callbacks, Callbacks::Listener(_));
                if let Some(notice) = notice.filter(|_| counted) {
                    done += 1;
                    // SAFETY: as above.
                    match reg.callbacks {
                        Callbacks::Port(_, Some(cb)) => unsafe {
                            cb(
                                reg.userdata,
                                reg.handle as *mut wm_port,
                                close_reason(notice.reason),
                                notice.by_peer,
                            )
                        },
                        Callbacks::Broadcast(_, Some(cb)) => unsafe {
                            cb(reg.userdata, reg.handle as *mut wm_broadcast)
                        },
                        _ => {}
                    }
                }
                drop(taken);
                return done;
            }
        }
    }
}

/// Waits up to `timeout_ms` (< 0: forever) for the loop's descriptor to become readable, for
/// programs without an event loop of their own (`poll` on the descriptor).
///
/// Thread safety: any thread. Returns `WM_OK` (something is ready: call `wm_loop_dispatch`),
/// `WM_ERR_TIMEOUT`, `WM_ERR_IO` (poll failed other than by a signal), `WM_ERR_NULL_ARG`,
/// `WM_ERR_INVALID_HANDLE`, `WM_ERR_PANIC`.
#[no_mangle]
pub extern "C" fn wm_loop_wait(l: *mut wm_loop, timeout_ms: i64) -> wm_status {
    guard(here!(), || {
        let inner = loop_arg(l)?;
        let ms: c_int = if timeout_ms < 0 {
            -1
        } else {
            timeout_ms.min(c_int::MAX as i64) as c_int
        };
        let mut pfd = libc::pollfd {
            fd: inner.wake.read_fd,
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: one live pollfd.
        let n = unsafe { libc::poll(&mut pfd, 1, ms) };
        match n {
            n if n > 0 => Ok(()),
            0 => Err(Failure::new(WM_ERR_TIMEOUT, "nothing became ready")),
            _ => {
                let e = std::io::Error::last_os_error();
                if e.kind() == std::io::ErrorKind::Interrupted {
                    Err(Failure::new(WM_ERR_TIMEOUT, "interrupted by a signal"))
                } else {
                    Err(Failure::new(WM_ERR_IO, format!("poll: {e}")))
                }
            }
        }
    })
}

/// Releases the loop: every attached port is detached (each finalizer runs: now, or right after
/// the callback that is running it), and the descriptor is closed once no call is using the loop
/// any more. The ports themselves stay valid and started; free them with `wm_port_free`.
///
/// Ownership: consumes the handle. Accepts NULL (does nothing, returns `WM_OK`).
/// Thread safety: any thread, including inside a callback of this loop (dispatch stops after it).
/// Returns `WM_OK`, `WM_ERR_INVALID_HANDLE` (already freed or never issued), `WM_ERR_PANIC`.
#[no_mangle]
pub extern "C" fn wm_loop_free(l: *mut wm_loop) -> wm_status {
    guard(here!(), || {
        if l.is_null() {
            return Ok(());
        }
        let inner = LOOPS.remove(l as usize)?;
        let attached = {
            let mut st = inner.state.lock();
            st.freed = true;
            st.ready.clear();
            std::mem::take(&mut st.attached)
        };
        let mut regs = Vec::new();
        for p in attached.iter().filter_map(Weak::upgrade) {
            let mut slot = p.watch().reg.lock();
            if slot.as_ref().is_some_and(|r| r.belongs_to(&inner)) {
                regs.push(slot.take());
                drop(slot);
                p.target().set_notifier(None);
            }
        }
        drop(regs);
        Ok(())
    })
}

pub(crate) fn live() -> usize {
    LOOPS.live()
}
