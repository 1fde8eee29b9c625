//! The event queue every receiver is built on: ports, windows and broadcast channels share it.
//!
//! A queue is a FIFO of items plus an optional *end record* (a port's close notice), which is
//! always last because nothing is admitted once it is set. It owns the delivery mechanics the
//! standard leaves to "the event loop": enabling, a coalesced edge-triggered notifier, blocking
//! waits, optional capacity, and counters. Callers keep their own extra state (`X`) under the same
//! lock, so admission checks such as "is the sender still entangled with me" are atomic with the
//! append.

use std::collections::VecDeque;
use std::time::Instant;

use crate::close::CloseNotice;
use crate::error::{Error, Result};
use crate::sync::{Arc, AtomicU64, AtomicUsize, Condvar, Mutex, MutexGuard, Ordering};

/// Called when a receiver has something to deliver (see [`crate::MessagePort::set_notifier`]).
///
/// It is edge-triggered and coalesced: it fires once when an enabled queue goes from empty to
/// non-empty (or is enabled with a backlog, or gets its close record) and not again until a
/// receive call has found the queue empty. It is called with no lock held, on whichever thread
/// caused the edge, so it should only wake the real consumer (write to an eventfd, schedule a
/// task), not drain the queue itself.
pub type Notifier = Arc<dyn Fn() + Send + Sync>;

/// Optional limits on a receiving queue (beyond the standard, which has none).
///
/// Only [`crate::MessagePort::try_post`] and [`crate::MessagePort::post_timeout`] respect them;
/// plain `post_message` keeps the web's unbounded semantics. A single message larger than
/// `max_bytes` is still admitted into an empty queue, so it can always make progress.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Capacity {
    /// Most messages the queue holds before bounded posts wait or fail.
    pub max_messages: Option<usize>,
    /// Most payload bytes the queue holds before bounded posts wait or fail.
    pub max_bytes: Option<usize>,
}

/// Counters of one receiving queue.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct QueueMetrics {
    /// Messages waiting now.
    pub depth: usize,
    /// Payload bytes waiting now.
    pub queued_bytes: usize,
    /// The largest `depth` seen so far.
    pub high_water_mark: usize,
    /// Messages appended so far.
    pub enqueued: u64,
    /// Messages handed to a receiver so far.
    pub delivered: u64,
}

/// How a post treats a capacity limit.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Admission {
    /// Web semantics: ignore capacity.
    Unbounded,
    /// Fail with [`Error::Full`] when there is no room.
    Try,
    /// Wait for room until the deadline, then fail with [`Error::Timeout`].
    WaitUntil(Option<Instant>),
}

/// What a receive call found.
pub(crate) enum Popped<T> {
    Item(T),
    Empty,
    End(CloseNotice),
    /// The queue was handed to a new owner (a transferred port) after the caller looked it up.
    Moved,
}

pub(crate) struct State<T, X> {
    items: VecDeque<(T, usize)>,
    bytes: usize,
    end: Option<CloseNotice>,
    /// The caller's extra state, guarded by the same lock.
    pub(crate) ext: X,
    enabled: bool,
    notifier: Option<Notifier>,
    /// A notification fired and no receive call has found the queue empty since.
    notified: bool,
    capacity: Capacity,
    reserved_messages: usize,
    reserved_bytes: usize,
    high_water_mark: usize,
    enqueued: u64,
    delivered: u64,
    readers_waiting: usize,
    writers_waiting: usize,
}

impl<T, X> State<T, X> {
    fn has_something(&self) -> bool {
        !self.items.is_empty() || self.end.is_some()
    }

    /// The notifier to call once the lock is released, if this is an edge.
    fn edge(&mut self) -> Option<Notifier> {
        if self.enabled && !self.notified && self.has_something() {
            if let Some(n) = &self.notifier {
                self.notified = true;
                return Some(n.clone());
            }
        }
        None
    }

    fn has_room(&self, bytes: usize) -> bool {
        let messages = self.items.len() + self.reserved_messages;
        let queued = self.bytes + self.reserved_bytes;
        let messages_ok = self.capacity.max_messages.is_none_or(|m| messages < m);
        let bytes_ok = self
            .capacity
            .max_bytes
            .is_none_or(|m| queued == 0 || queued.saturating_add(bytes) <= m);
        messages_ok && bytes_ok
    }
}

/// Releases the queue lock, then calls the notifier if this change was an edge: the notifier is
/// user code and never runs under the lock.
fn release_and_notify<T, X>(mut st: MutexGuard<'_, State<T, X>>) {
    let notify = st.edge();
    drop(st);
    if let Some(n) = notify {
        n();
    }
}

/// A FIFO with an end record, a notifier, capacity and counters. See the module docs.
pub(crate) struct Queue<T, X> {
    state: Mutex<State<T, X>>,
    readable: Condvar,
    writable: Condvar,
    /// Bumped (under the lock) each time the queue changes owner; a receive call started under
    /// an older owner stops. Atomic so a receiver can read it without taking the queue lock.
    epoch: AtomicU64,
    /// Items plus the end record, mirrored outside the lock so a receiver can spin on it
    /// briefly before parking (a futex sleep and wake cost far more than a short spin).
    available: AtomicUsize,
}

/// Backoff before a receiver parks: spin `2^step` times for steps below `SPIN_STEPS`, then
/// yield the CPU until `BACKOFF_STEPS` (the shape of crossbeam's `Backoff`). Short spins checked
/// often: long PAUSE loops make a hypervisor deschedule the vCPU. None under loom, whose model
/// cannot explore unbounded spinning.
const SPIN_STEPS: u32 = 5;
const BACKOFF_STEPS: u32 = if cfg!(loom) { 0 } else { 5 };

impl<T, X> Queue<T, X> {
    pub(crate) fn new(ext: X, enabled: bool) -> Self {
        Queue {
            state: Mutex::new(State {
                items: VecDeque::new(),
                bytes: 0,
                end: None,
                ext,
                enabled,
                notifier: None,
                notified: false,
                capacity: Capacity::default(),
                reserved_messages: 0,
                reserved_bytes: 0,
                high_water_mark: 0,
                enqueued: 0,
                delivered: 0,
                readers_waiting: 0,
                writers_waiting: 0,
            }),
            readable: Condvar::new(),
            writable: Condvar::new(),
            epoch: AtomicU64::new(0),
            available: AtomicUsize::new(0),
        }
    }

    /// Runs `f` on the caller's extra state under the queue lock. `f` must not call user code.
    pub(crate) fn with_ext<R>(&self, f: impl FnOnce(&mut X) -> R) -> R {
        f(&mut self.state.lock().ext)
    }

    /// The current owner epoch (see [`Popped::Moved`]).
    pub(crate) fn epoch(&self) -> u64 {
        self.epoch.load(Ordering::Acquire)
    }

    /// Appends `item` if `admit` accepts it; otherwise hands it back so the caller can drop it
    /// after the lock is gone (dropping a message may close the ports inside it).
    pub(crate) fn push(
        &self,
        item: T,
        bytes: usize,
        reserved: bool,
        admit: impl FnOnce(&X) -> bool,
    ) -> Result<(), T> {
        let mut st = self.state.lock();
        if reserved {
            st.reserved_messages -= 1;
            st.reserved_bytes -= bytes;
        }
        if st.end.is_some() || !admit(&st.ext) {
            if reserved && st.writers_waiting > 0 {
                self.writable.notify_one();
            }
            return Err(item);
        }
        st.items.push_back((item, bytes));
        self.available.fetch_add(1, Ordering::Release);
        st.bytes += bytes;
        st.enqueued += 1;
        st.high_water_mark = st.high_water_mark.max(st.items.len());
        if st.readers_waiting > 0 {
            self.readable.notify_one();
        }
        release_and_notify(st);
        Ok(())
    }

    /// Puts `item` back at the front: a receiver took it but will not deliver it (a binding's
    /// batch whose port is being transferred). It counts as not delivered.
    pub(crate) fn push_front(&self, item: T, bytes: usize) {
        let mut st = self.state.lock();
        st.items.push_front((item, bytes));
        st.bytes += bytes;
        st.delivered = st.delivered.saturating_sub(1);
        st.high_water_mark = st.high_water_mark.max(st.items.len());
        self.available.fetch_add(1, Ordering::Release);
        if st.readers_waiting > 0 {
            self.readable.notify_one();
        }
        release_and_notify(st);
    }

    /// Reserves room for one message of `bytes` under `admission`. Returns whether a reservation
    /// was made (unbounded posts and receivers that `is_open` rejects make none); a reservation
    /// must be consumed by [`Queue::push`] with `reserved = true` or given back with
    /// [`Queue::release`].
    pub(crate) fn reserve(
        &self,
        bytes: usize,
        admission: Admission,
        is_open: impl Fn(&X) -> bool,
    ) -> Result<bool> {
        let deadline = match admission {
            Admission::Unbounded => return Ok(false),
            Admission::Try => None,
            Admission::WaitUntil(d) => Some(d),
        };
        let mut st = self.state.lock();
        loop {
            if st.end.is_some() || !is_open(&st.ext) {
                return Ok(false);
            }
            if st.has_room(bytes) {
                st.reserved_messages += 1;
                st.reserved_bytes += bytes;
                return Ok(true);
            }
            match deadline {
                None => return Err(Error::Full),
                Some(Some(d)) if Instant::now() >= d => return Err(Error::Timeout),
                Some(d) => {
                    st.writers_waiting += 1;
                    st = match d {
                        Some(d) => self.writable.wait_until(st, d),
                        None => self.writable.wait(st),
                    };
                    st.writers_waiting -= 1;
                }
            }
        }
    }

    /// Gives back a reservation that will not be used.
    pub(crate) fn release(&self, bytes: usize) {
        let mut st = self.state.lock();
        st.reserved_messages -= 1;
        st.reserved_bytes -= bytes;
        if st.writers_waiting > 0 {
            self.writable.notify_one();
        }
    }

    fn pop_locked(&self, st: &mut MutexGuard<'_, State<T, X>>) -> Popped<T> {
        match st.items.pop_front() {
            Some((item, bytes)) => {
                self.available.fetch_sub(1, Ordering::Relaxed);
                st.bytes -= bytes;
                st.delivered += 1;
                if st.items.is_empty() && st.end.is_none() {
                    st.notified = false;
                }
                if st.writers_waiting > 0 {
                    self.writable.notify_one();
                }
                Popped::Item(item)
            }
            None => match &st.end {
                Some(end) => Popped::End(*end),
                None => {
                    st.notified = false;
                    Popped::Empty
                }
            },
        }
    }

    /// Takes the next item without waiting, if the queue still belongs to owner `epoch`.
    pub(crate) fn try_pop(&self, epoch: u64) -> Popped<T> {
        let mut st = self.state.lock();
        if self.epoch() != epoch {
            return Popped::Moved;
        }
        self.pop_locked(&mut st)
    }

    /// Takes the next item, waiting until `deadline` (forever if `None`). Returns
    /// [`Popped::Empty`] only when the deadline passed.
    pub(crate) fn pop_until(&self, epoch: u64, deadline: Option<Instant>) -> Popped<T> {
        let mut st = self.state.lock();
        loop {
            if self.epoch() != epoch {
                return Popped::Moved;
            }
            match self.pop_locked(&mut st) {
                Popped::Empty => {}
                other => return other,
            }
            if deadline.is_some_and(|d| Instant::now() >= d) {
                return Popped::Empty;
            }
            if self.spin_for_item(st) {
                st = self.state.lock();
                continue;
            }
            st = self.state.lock();
            if self.available.load(Ordering::Acquire) > 0 || self.epoch() != epoch {
                continue;
            }
            st.readers_waiting += 1;
            st = match deadline {
                Some(d) => self.readable.wait_until(st, d),
                None => self.readable.wait(st),
            };
            st.readers_waiting -= 1;
        }
    }

    /// Releases the lock and backs off briefly; returns whether something became available.
    fn spin_for_item(&self, guard: MutexGuard<'_, State<T, X>>) -> bool {
        drop(guard);
        for step in 0..BACKOFF_STEPS {
            if step < SPIN_STEPS {
                for _ in 0..1u32 << step {
                    std::hint::spin_loop();
                }
            } else {
                std::thread::yield_now();
            }
            if self.available.load(Ordering::Acquire) > 0 {
                return true;
            }
        }
        false
    }

    /// Sets the end record (at most once in a queue's life) if `decide` agrees; `decide` runs on
    /// the extra state in the same critical section. Returns whether this call set the record.
    pub(crate) fn end(&self, notice: CloseNotice, decide: impl FnOnce(&mut X) -> bool) -> bool {
        let mut st = self.state.lock();
        let first = decide(&mut st.ext) && st.end.is_none();
        if first {
            st.end = Some(notice);
            self.available.fetch_add(1, Ordering::Release);
        }
        self.readable.notify_all();
        self.writable.notify_all();
        release_and_notify(st);
        first
    }

    /// Wakes blocked writers so they re-check whether the receiver is still open.
    pub(crate) fn wake_writers(&self) {
        let st = self.state.lock();
        if st.writers_waiting > 0 {
            self.writable.notify_all();
        }
    }

    /// Enables notifications (a port's `start()`); never disabled again except by a move.
    pub(crate) fn enable(&self) {
        let mut st = self.state.lock();
        st.enabled = true;
        release_and_notify(st);
    }

    pub(crate) fn is_enabled(&self) -> bool {
        self.state.lock().enabled
    }

    /// Installs or removes the notifier; fires it at once if an enabled queue already has
    /// something undelivered that nobody was told about.
    pub(crate) fn set_notifier(&self, notifier: Option<Notifier>) {
        let mut st = self.state.lock();
        let old = std::mem::replace(&mut st.notifier, notifier);
        st.notified = false;
        release_and_notify(st);
        // The old notifier is user code's closure: it may own ports whose drop locks this queue,
        // so it is dropped only now, with the lock released.
        drop(old);
    }

    /// Hands the queue to a new owner: disabled again, no notifier, and receive calls made for
    /// the old owner stop with [`Popped::Moved`]. Runs `f` on the extra state in the same lock.
    pub(crate) fn ship(&self, f: impl FnOnce(&mut X)) {
        let mut st = self.state.lock();
        st.enabled = false;
        let old = st.notifier.take();
        st.notified = false;
        self.epoch.fetch_add(1, Ordering::AcqRel);
        f(&mut st.ext);
        self.readable.notify_all();
        drop(st);
        drop(old); // outside the lock, as in `set_notifier`
    }

    /// Whether items may be queued besides the end record, without taking the lock. Exact once
    /// the end record is set and nobody can receive any more (nothing is appended after it).
    pub(crate) fn has_items_besides_end(&self) -> bool {
        self.available.load(Ordering::Acquire) > 1
    }

    /// Removes every queued item (for a queue that is being torn down).
    pub(crate) fn take_items(&self) -> Vec<T> {
        let mut st = self.state.lock();
        st.bytes = 0;
        self.available.fetch_sub(st.items.len(), Ordering::Relaxed);
        st.items.drain(..).map(|(item, _)| item).collect()
    }

    pub(crate) fn set_capacity(&self, capacity: Capacity) {
        let mut st = self.state.lock();
        st.capacity = capacity;
        self.writable.notify_all();
    }

    pub(crate) fn capacity(&self) -> Capacity {
        self.state.lock().capacity
    }

    pub(crate) fn metrics(&self) -> QueueMetrics {
        let st = self.state.lock();
        QueueMetrics {
            depth: st.items.len(),
            queued_bytes: st.bytes,
            high_water_mark: st.high_water_mark,
            enqueued: st.enqueued,
            delivered: st.delivered,
        }
    }
}
