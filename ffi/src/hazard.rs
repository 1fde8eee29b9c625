//! Hazard slots: how a call uses a long-lived handle (a port, a loop, a window...) without an
//! atomic read-modify-write.
//!
//! Each thread owns one hazard word. A call publishes the address of the handle slot it is about
//! to read there, then checks that the slot is still live under the handle's generation; it
//! clears the word when it leaves. A free first retires the slot (one compare-and-swap on the
//! slot's state), then makes every thread's earlier hazard stores visible and waits until no
//! hazard word names the slot; only then does it take the object out.
//!
//! The store-then-load of the reader and the store-then-scan of the free need a full fence on
//! each side. The reader's side, paid on every call, is only a compiler fence: the free pays for
//! both with one `membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED)`, which runs a full fence on
//! every CPU that is running a thread of this process. Where that system call is unavailable
//! (not Linux, an old kernel, a sandbox refusing it) both sides use a real fence instead: still
//! no read-modify-write on the slot's line, which other threads' calls share.

use std::cell::Cell;
use std::ptr;
use std::sync::atomic::{compiler_fence, fence, AtomicBool, AtomicPtr, AtomicUsize, Ordering};
use std::sync::OnceLock;

use crate::handle::Stash;

/// One thread's hazard word, on its own cache line. Records are never freed: a thread that
/// exits gives its record back for the next thread to take.
#[repr(align(64))]
struct Record {
    /// The address of the slot the owning thread is reading, or 0.
    hazard: AtomicUsize,
    /// Owned by a live thread.
    in_use: AtomicBool,
    /// The next record of the global list (records are only ever prepended).
    next: *const Record,
}

// SAFETY: `next` is written once before the record is published and never changed.
unsafe impl Sync for Record {}

/// The list of every record ever made.
static RECORDS: AtomicPtr<Record> = AtomicPtr::new(ptr::null_mut());

/// The calling thread's record; given back when the thread exits.
struct Owner(Cell<*const Record>);

impl Drop for Owner {
    fn drop(&mut self) {
        let r = self.0.get();
        if !r.is_null() {
            // SAFETY: records live for the whole process.
            let r = unsafe { &*r };
            r.hazard.store(0, Ordering::Release);
            r.in_use.store(false, Ordering::Release);
        }
    }
}

/// Everything the library keeps per thread on its hot paths, in one thread-local: a call that
/// needs both its hazard record and its slot stash (a receive, which reads a port and makes a
/// message) finds them with one look-up of the thread's storage (the hazard lends it out).
pub(crate) struct Local {
    record: Owner,
    /// `asymmetric()`, copied here when the record is taken (it never changes after).
    asym: Cell<bool>,
    /// The handle tables' per-thread stash (`crate::handle`).
    pub(crate) stash: Stash,
}

thread_local! {
    static LOCAL: Local = const {
        Local {
            record: Owner(Cell::new(ptr::null())),
            asym: Cell::new(false),
            stash: Stash::new(),
        }
    };
}

/// Runs `f` on the calling thread's `Local`; `None` once the thread is exiting.
#[inline]
pub(crate) fn with_local<R>(f: impl FnOnce(&Local) -> R) -> Option<R> {
    LOCAL.try_with(f).ok()
}

/// A free record, or a new one. The fence after the take pairs with the one in `wait_unused`:
/// either a retiring thread sees this record in use, or this thread's later checks see the
/// retirement.
fn take_record() -> &'static Record {
    let rec = find_or_make_record();
    fence(Ordering::SeqCst);
    rec
}

fn find_or_make_record() -> &'static Record {
    let mut r = RECORDS.load(Ordering::Acquire);
    while !r.is_null() {
        // SAFETY: published records live for the whole process.
        let rec = unsafe { &*r };
        if !rec.in_use.load(Ordering::Relaxed)
            && rec
                .in_use
                .compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed)
                .is_ok()
        {
            return rec;
        }
        r = rec.next.cast_mut();
    }
    let mut head = RECORDS.load(Ordering::Acquire);
    loop {
        let rec = Box::into_raw(Box::new(Record {
            hazard: AtomicUsize::new(0),
            in_use: AtomicBool::new(true),
            next: head,
        }));
        match RECORDS.compare_exchange_weak(head, rec, Ordering::AcqRel, Ordering::Acquire) {
            // SAFETY: just leaked: lives for the whole process.
            Ok(_) => return unsafe { &*rec },
            Err(h) => {
                // SAFETY: never published; ours to free.
                drop(unsafe { Box::from_raw(rec) });
                head = h;
            }
        }
    }
}

/// Decides the fence mode now (see `asymmetric`), if not yet done. Called when a handle of a
/// hazard kind is made: registering for `membarrier` waits out a kernel grace period (over 10 ms
/// on a busy machine), which then falls on that set-up call instead of on the first message a
/// port sends or receives. No hazard can be published before its handle exists.
#[inline]
pub(crate) fn prepare() {
    asymmetric();
}

/// Whether the process runs with the asymmetric fence (`membarrier` registered): decided once,
/// before the first hazard is published and before the first retirement waits.
fn asymmetric() -> bool {
    static MODE: OnceLock<bool> = OnceLock::new();
    *MODE.get_or_init(membarrier::register)
}

/// A published hazard; clears it when dropped (also by unwinding). It also lends out the
/// thread's `Local` it was found through, so the call it protects needs no second look-up.
pub(crate) struct Hazard {
    record: &'static Record,
    /// The publishing thread's `Local`: alive as long as this hazard, which cannot leave the
    /// thread (a raw pointer makes it `!Send`) and exists only inside a call, never across
    /// the thread's exit, when `Local` goes.
    local: *const Local,
}

impl Hazard {
    /// The calling thread's `Local`.
    #[inline]
    pub(crate) fn local(&self) -> &Local {
        // SAFETY: see the field: the `Local` outlives this hazard.
        unsafe { &*self.local }
    }
}

impl Drop for Hazard {
    fn drop(&mut self) {
        // Release: the object's reads are done before a free can see the word cleared.
        self.record.hazard.store(0, Ordering::Release);
    }
}

/// Publishes `addr` as the calling thread's hazard. The caller must then check that what it
/// protects is still live before reading it. `None` when the thread cannot publish one (its
/// word is taken by an enclosing call, or the thread is exiting): the caller uses its counted
/// path instead.
#[inline]
pub(crate) fn protect(addr: usize) -> Option<Hazard> {
    let (rec, asym, local) = LOCAL
        .try_with(|l| {
            let m = &l.record;
            let r = m.0.get();
            let (rec, asym) = if r.is_null() {
                let asym = asymmetric();
                let rec = take_record();
                m.0.set(rec);
                l.asym.set(asym);
                (rec, asym)
            } else {
                // SAFETY: records live for the whole process.
                (unsafe { &*r }, l.asym.get())
            };
            (rec, asym, l as *const Local)
        })
        .ok()?;
    if rec.hazard.load(Ordering::Relaxed) != 0 {
        return None;
    }
    rec.hazard.store(addr, Ordering::Relaxed);
    if asym {
        // The free's membarrier orders this store before the caller's check.
        compiler_fence(Ordering::SeqCst);
    } else {
        fence(Ordering::SeqCst);
    }
    Some(Hazard { record: rec, local })
}

/// Waits until no thread's hazard names `addr`. Call it after `addr`'s slot was retired (no
/// later check can find it live): afterwards no call is reading it and none will.
pub(crate) fn wait_unused(addr: usize) {
    // No other thread holds a record: none is reading, and one that takes a record from now on
    // finds the slot retired (see `take_record`). A single-threaded program never pays the
    // process-wide fence.
    fence(Ordering::SeqCst);
    let mine = LOCAL.try_with(|l| l.record.0.get()).unwrap_or(ptr::null());
    let mut r = RECORDS.load(Ordering::Acquire);
    let mut alone = true;
    while !r.is_null() {
        // SAFETY: published records live for the whole process.
        let rec = unsafe { &*r };
        if !ptr::eq(rec, mine) && rec.in_use.load(Ordering::SeqCst) {
            alone = false;
            break;
        }
        r = rec.next.cast_mut();
    }
    if alone {
        return;
    }
    if asymmetric() {
        membarrier::run();
    } else {
        fence(Ordering::SeqCst);
    }
    let mut r = RECORDS.load(Ordering::Acquire);
    while !r.is_null() {
        // SAFETY: published records live for the whole process.
        let rec = unsafe { &*r };
        // Acquire: the reader's use of the object happened before it cleared the word.
        while rec.hazard.load(Ordering::Acquire) == addr {
            std::thread::yield_now();
        }
        r = rec.next.cast_mut();
    }
}

#[cfg(target_os = "linux")]
mod membarrier {
    use rustix::thread::{membarrier, MembarrierCommand};

    /// Registers the process for private expedited membarriers; whether that worked.
    pub(super) fn register() -> bool {
        membarrier(MembarrierCommand::RegisterPrivateExpedited).is_ok()
    }

    /// A full fence on every CPU running a thread of this process.
    pub(super) fn run() {
        // It fails only for an unregistered process, and `register` succeeded before any
        // reader relied on it; EINTR is not among its errors. Should it ever fail anyway, the
        // fence below still orders this side, and the retirement stays a retirement.
        if membarrier(MembarrierCommand::PrivateExpedited).is_err() {
            std::sync::atomic::fence(std::sync::atomic::Ordering::SeqCst);
        }
    }
}

#[cfg(not(target_os = "linux"))]
mod membarrier {
    pub(super) fn register() -> bool {
        false
    }
    pub(super) fn run() {}
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_nested_protect_falls_back_and_the_word_clears() {
        let a = protect(0x1000).expect("a free word");
        assert!(protect(0x2000).is_none(), "one hazard per thread");
        drop(a);
        let b = protect(0x2000).expect("cleared on drop");
        drop(b);
        // Nothing names the address any more: the wait returns at once.
        wait_unused(0x2000);
    }

    #[test]
    fn a_wait_lasts_until_the_reader_leaves() {
        use std::sync::atomic::AtomicBool;
        let published = AtomicBool::new(false);
        let left = AtomicBool::new(false);
        std::thread::scope(|s| {
            s.spawn(|| {
                let h = protect(0x3000).expect("a free word");
                published.store(true, Ordering::SeqCst);
                std::thread::sleep(std::time::Duration::from_millis(50));
                left.store(true, Ordering::SeqCst);
                drop(h);
            });
            while !published.load(Ordering::SeqCst) {
                std::thread::yield_now();
            }
            wait_unused(0x3000);
            assert!(
                left.load(Ordering::SeqCst),
                "the wait returned while the reader was in"
            );
        });
    }
}
