//! The event queue every receiver is built on: ports, windows and broadcast channels share it.
//!
//! A queue is a FIFO of items plus an optional *end record* (a port's close notice), which is
//! always last because nothing is admitted once it is set. It owns the delivery mechanics the
//! standard leaves to "the event loop": enabling, a coalesced edge-triggered notifier, blocking
//! waits, optional capacity, and counters. Callers keep their own extra state (`X`) under the
//! queue's lock.
//!
//! The items live in a lock-free list ([`ItemList`], crossbeam's `SegQueue`), and an unbounded
//! post ([`Queue::post`]) takes no lock: it announces itself in one atomic *post word*
//! (a closed bit, a count of posts in flight, and two bits a post must act on: a reader is
//! parked, the notifier is armed), appends, and retracts its announcement, which tells it in
//! the same instruction whether to wake anyone. Whoever sets the end record sets the closed bit
//! and waits for the posts in flight to finish first, so every post is either refused or lands
//! before the end record. A parked reader and an armed notifier are set by read-modify-writes of
//! the same word before the list is re-checked, so no wake-up or edge falls between the two.
//!
//! The *tail* lock guards the slow state: the end record, the caller's state, enabling, the
//! notifier, capacity and who is waiting. Posts that need the caller's state to decide
//! admission, or that hold a capacity reservation, take it ([`Queue::push`]). Receivers take the
//! *head* lock, which guards the owner epoch and the requeued front, so a transfer stops receive
//! calls made for the old owner; it is the consumer's own and normally uncontended. Lock order:
//! head before tail; nothing else is held while either is taken. Each side's hot words sit on
//! cache lines of their own.
use std::collections::VecDeque;
use std::time::Instant;

use crate::close::CloseNotice;
use crate::error::{Error, Result};
use crate::sync::{
    yield_now, Arc, AtomicBool, AtomicU64, AtomicUsize, Condvar, ItemList, Mutex, MutexGuard,
    Ordering,
};

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

/// The post word's bits (see the module docs); the rest counts posts in flight.
const CLOSED: usize = 1;
/// At least one receiver is parked on `readable` (or about to, holding the tail lock). The
/// first post to see it clears it and wakes every parked receiver; one that parks again sets it
/// again.
const WAITING: usize = 2;
/// The notifier should fire on the next append: enabled, installed, not yet fired since a
/// receive call found the queue empty, and no end record.
const ARMED: usize = 4;
/// One post in flight.
const POSTING: usize = 8;

/// The slow state, under the tail lock.
pub(crate) struct Tail<X> {
    end: Option<CloseNotice>,
    /// The caller's extra state, guarded by the same lock.
    ext: X,
    enabled: bool,
    notifier: Option<Notifier>,
    /// A notification fired and no receive call has found the queue empty since.
    notified: bool,
    capacity: Capacity,
    reserved_messages: usize,
    reserved_bytes: usize,
    readers_waiting: usize,
    writers_waiting: usize,
}

/// The consumers' state, under the head lock.
pub(crate) struct Head<T> {
    /// Items put back by [`Queue::push_front`]; they come before the list's.
    front: VecDeque<(T, usize)>,
    delivered: u64,
}

/// Calls the notifier (user code) if there is one; the caller has released every lock.
fn notify(notifier: Option<Notifier>) {
    if let Some(n) = notifier {
        n();
    }
}

/// What every post writes.
struct PostSide {
    /// The post word (see the module docs and the bit constants).
    word: AtomicUsize,
    /// Messages appended so far (counted before the append, so never behind `taken`).
    enqueued: AtomicU64,
    /// Payload bytes appended so far (counted before the append).
    bytes_in: AtomicUsize,
    high_water_mark: AtomicUsize,
    /// A `taken` value read lately. `taken` only grows between requeues (which reset this), so
    /// `enqueued - taken_hint` bounds the depth from above: a post reads the consumers' `taken`
    /// only when that bound passes the high-water mark.
    taken_hint: AtomicU64,
}

/// What receivers write (each field under the head lock, so a plain store counts exactly).
struct HeadSide<T> {
    state: Mutex<Head<T>>,
    /// Messages removed (delivered or discarded) minus those requeued: `enqueued - taken` is
    /// the depth.
    taken: AtomicU64,
    /// Payload bytes removed, minus those requeued.
    bytes_out: AtomicUsize,
    /// `Head::front`'s length, for lock-free checks.
    front_len: AtomicUsize,
}

/// Read-mostly words: changed rarely, read by receivers.
struct Flags {
    /// Bumped (under both locks) each time the queue changes owner; a receive call started under
    /// an older owner stops.
    epoch: AtomicU64,
    /// The end record is set and every post admitted before it has landed.
    ended: AtomicBool,
    /// Enabled with a notifier: a receive that leaves the queue empty must re-arm it.
    notify_on: AtomicBool,
    /// A capacity is set: receives wake bounded posts waiting for room.
    bounded: AtomicBool,
}

/// A FIFO with an end record, a notifier, capacity and counters. See the module docs.
///
/// `repr(C)` keeps the field order: the list's two ends are cache-padded (aligned to 128 bytes,
/// a pair of lines), so the posts' words before the list, the list's consumer and producer ends,
/// and the receivers' words after it each sit on lines of their own. The tail lock shares the
/// receivers' lines; posts touch it only to wake a parked receiver.
#[repr(C)]
pub(crate) struct Queue<T, X> {
    post: PostSide,
    items: ItemList<(T, usize)>,
    head: HeadSide<T>,
    flags: Flags,
    tail: Mutex<Tail<X>>,
    readable: Condvar,
    writable: Condvar,
}

/// Backoff before a receiver parks: spin `2^step` times for steps below `SPIN_STEPS`, then
/// yield the CPU until `BACKOFF_STEPS` (the shape of crossbeam's `Backoff`, cut short: on this
/// project's shared two-core machine, longer spins and yields made round trips slower than the
/// futex wake they save). Short spins checked often: long PAUSE loops make a hypervisor
/// deschedule the vCPU. None under loom, whose model cannot explore unbounded spinning.
const SPIN_STEPS: u32 = 5;
const BACKOFF_STEPS: u32 = if cfg!(loom) { 0 } else { 5 };

impl<T, X> Queue<T, X> {
    pub(crate) fn new(ext: X, enabled: bool) -> Self {
        Queue {
            post: PostSide {
                word: AtomicUsize::new(0),
                enqueued: AtomicU64::new(0),
                bytes_in: AtomicUsize::new(0),
                high_water_mark: AtomicUsize::new(0),
                taken_hint: AtomicU64::new(0),
            },
            items: ItemList::new(),
            head: HeadSide {
                state: Mutex::new(Head {
                    front: VecDeque::new(),
                    delivered: 0,
                }),
                taken: AtomicU64::new(0),
                bytes_out: AtomicUsize::new(0),
                front_len: AtomicUsize::new(0),
            },
            flags: Flags {
                epoch: AtomicU64::new(0),
                ended: AtomicBool::new(false),
                notify_on: AtomicBool::new(false),
                bounded: AtomicBool::new(false),
            },
            tail: Mutex::new(Tail {
                end: None,
                ext,
                enabled,
                notifier: None,
                notified: false,
                capacity: Capacity::default(),
                reserved_messages: 0,
                reserved_bytes: 0,
                readers_waiting: 0,
                writers_waiting: 0,
            }),
            readable: Condvar::new(),
            writable: Condvar::new(),
        }
    }

    /// Both locks, in order.
    fn lock_both(&self) -> (MutexGuard<'_, Head<T>>, MutexGuard<'_, Tail<X>>) {
        let head = self.head.state.lock();
        (head, self.tail.lock())
    }

    /// Messages queued now (posts in flight count once they have counted themselves).
    fn depth(&self) -> usize {
        let enqueued = self.post.enqueued.load(Ordering::Acquire);
        let taken = self.head.taken.load(Ordering::Acquire);
        usize::try_from(enqueued.saturating_sub(taken)).unwrap_or(usize::MAX)
    }

    fn queued_bytes(&self) -> usize {
        let bytes_in = self.post.bytes_in.load(Ordering::Acquire);
        bytes_in.wrapping_sub(self.head.bytes_out.load(Ordering::Acquire))
    }

    /// Whether anything is queued besides the end record, without a lock.
    fn has_items(&self) -> bool {
        self.head.front_len.load(Ordering::Acquire) > 0 || !self.items.is_empty()
    }

    /// Mirrors the tail's notifier state into the post word and `notify_on` (under the tail
    /// lock, after any change to `enabled`, `notifier`, `notified` or `end`).
    fn sync_flags(&self, st: &Tail<X>) {
        let on = st.enabled && st.notifier.is_some();
        self.flags.notify_on.store(on, Ordering::Release);
        if on && !st.notified && st.end.is_none() {
            self.post.word.fetch_or(ARMED, Ordering::AcqRel);
        } else {
            self.post.word.fetch_and(!ARMED, Ordering::AcqRel);
        }
    }

    /// The notifier to call once every lock is released, if this is an edge (under the tail
    /// lock). `head_has_items` says whether the requeued front holds anything.
    fn edge(&self, st: &mut Tail<X>, head_has_items: bool) -> Option<Notifier> {
        // Arm first, then look: a post that appends after the look sees ARMED (its own
        // read-modify-write of the post word comes after ours), one before is seen by the look.
        self.sync_flags(st);
        let has_something = head_has_items || !self.items.is_empty() || st.end.is_some();
        if st.enabled && !st.notified && has_something {
            if let Some(n) = st.notifier.clone() {
                st.notified = true;
                self.sync_flags(st);
                return Some(n);
            }
        }
        None
    }

    fn has_room(&self, st: &Tail<X>, bytes: usize) -> bool {
        let messages = self.depth() + st.reserved_messages;
        let queued = self.queued_bytes() + st.reserved_bytes;
        let messages_ok = st.capacity.max_messages.is_none_or(|m| messages < m);
        let bytes_ok = st
            .capacity
            .max_bytes
            .is_none_or(|m| queued == 0 || queued.saturating_add(bytes) <= m);
        messages_ok && bytes_ok
    }

    /// Runs `f` on the caller's extra state under the tail lock. `f` must not call user code.
    pub(crate) fn with_ext<R>(&self, f: impl FnOnce(&mut X) -> R) -> R {
        f(&mut self.tail.lock().ext)
    }

    /// The current owner epoch (see [`Popped::Moved`]).
    pub(crate) fn epoch(&self) -> u64 {
        self.flags.epoch.load(Ordering::Acquire)
    }

    /// Counts and appends one item (the caller has been admitted), and raises the high-water
    /// mark if this made a new one.
    fn append(&self, item: T, bytes: usize) {
        self.post.bytes_in.fetch_add(bytes, Ordering::AcqRel);
        let enqueued = self.post.enqueued.fetch_add(1, Ordering::AcqRel) + 1;
        self.items.push((item, bytes));
        let hint = self.post.taken_hint.load(Ordering::Relaxed);
        let mark = self.post.high_water_mark.load(Ordering::Relaxed);
        if enqueued.saturating_sub(hint) > mark as u64 {
            let taken = self.head.taken.load(Ordering::Acquire);
            self.post.taken_hint.store(taken, Ordering::Relaxed);
            let depth = usize::try_from(enqueued.saturating_sub(taken)).unwrap_or(usize::MAX);
            self.post
                .high_water_mark
                .fetch_max(depth, Ordering::Relaxed);
        }
    }

    /// Appends `item` without a lock unless the queue is ended, in which case it is handed back
    /// so the caller can drop it with no lock held (dropping a message may close the ports
    /// inside it). For callers whose admission rule is exactly "until the end record": the
    /// caller ends the queue when it stops admitting.
    pub(crate) fn post(&self, item: T, bytes: usize) -> Result<(), T> {
        let before = self.post.word.fetch_add(POSTING, Ordering::AcqRel);
        if before & CLOSED != 0 {
            // The closer waits for the count to drop; it needs no wake-up.
            self.post.word.fetch_sub(POSTING, Ordering::AcqRel);
            return Err(item);
        }
        self.append(item, bytes);
        // Release: a reader that sets WAITING or ARMED after this sees the item.
        let after = self.post.word.fetch_sub(POSTING, Ordering::AcqRel);
        if after & (WAITING | ARMED) != 0 {
            self.signal(after);
        }
        Ok(())
    }

    /// The slow part of a post: wake a parked reader, fire an armed notifier.
    #[cold]
    fn signal(&self, word: usize) {
        if word & ARMED != 0 {
            let edge = {
                let mut st = self.tail.lock();
                if st.readers_waiting > 0 {
                    self.post.word.fetch_and(!WAITING, Ordering::AcqRel);
                    self.readable.notify_all();
                }
                // The append was the edge, even if a receiver has taken the item since: that
                // receiver, or the one this wakes, will find the queue empty and re-arm.
                self.edge(&mut st, true)
            };
            notify(edge);
        } else if self.post.word.fetch_and(!WAITING, Ordering::AcqRel) & WAITING != 0 {
            // Claimed: later posts skip the lock until a reader parks again (and sets it anew).
            let _st = self.tail.lock();
            self.readable.notify_all();
        }
    }

    /// Appends `item` if `admit` accepts it (under the tail lock); otherwise hands it back so
    /// the caller can drop it after the lock is gone (dropping a message may close the ports
    /// inside it). A post holding a reservation (`reserved`) comes this way.
    pub(crate) fn push(
        &self,
        item: T,
        bytes: usize,
        reserved: bool,
        admit: impl FnOnce(&X) -> bool,
    ) -> Result<(), T> {
        let mut st = self.tail.lock();
        if st.end.is_some() || !admit(&st.ext) {
            if reserved {
                st.reserved_messages -= 1;
                st.reserved_bytes -= bytes;
                if st.writers_waiting > 0 {
                    self.writable.notify_one();
                }
            }
            return Err(item);
        }
        // Counted before the reservation goes, so a bounded post never sees room twice.
        self.append(item, bytes);
        if reserved {
            st.reserved_messages -= 1;
            st.reserved_bytes -= bytes;
        }
        if st.readers_waiting > 0 {
            self.readable.notify_one();
        }
        // The tail lock excludes a reader's WAITING and a re-arm; an ARMED bit is acted on here.
        let edge = self.edge(&mut st, self.head.front_len.load(Ordering::Acquire) > 0);
        drop(st);
        notify(edge);
        Ok(())
    }

    /// Puts `item` back at the front: a receiver took it but will not deliver it (a binding's
    /// batch whose port is being transferred). It counts as not delivered.
    pub(crate) fn push_front(&self, item: T, bytes: usize) {
        let (mut head, mut st) = self.lock_both();
        head.front.push_front((item, bytes));
        head.delivered = head.delivered.saturating_sub(1);
        self.head
            .front_len
            .store(head.front.len(), Ordering::Release);
        let taken = self.head.taken.load(Ordering::Relaxed);
        self.head
            .taken
            .store(taken.saturating_sub(1), Ordering::Release);
        let out = self.head.bytes_out.load(Ordering::Relaxed);
        self.head
            .bytes_out
            .store(out.wrapping_sub(bytes), Ordering::Release);
        // `taken` went down: posts must re-read it before trusting their bound.
        self.post.taken_hint.store(0, Ordering::Relaxed);
        self.post
            .high_water_mark
            .fetch_max(self.depth(), Ordering::Relaxed);
        if st.readers_waiting > 0 {
            self.readable.notify_one();
        }
        let edge = self.edge(&mut st, true);
        drop((st, head));
        notify(edge);
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
        let mut st = self.tail.lock();
        loop {
            if st.end.is_some() || !is_open(&st.ext) {
                return Ok(false);
            }
            if self.has_room(&st, bytes) {
                st.reserved_messages += 1;
                st.reserved_bytes += bytes;
                return Ok(true);
            }
            // A receive frees room (its counters first), then, the queue being bounded, takes
            // the tail lock to wake us: no wake-up is lost.
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
        let mut st = self.tail.lock();
        st.reserved_messages -= 1;
        st.reserved_bytes -= bytes;
        if st.writers_waiting > 0 {
            self.writable.notify_one();
        }
    }

    /// Records that `n` items of `bytes` left the queue (under the head lock: one writer).
    fn count_out(&self, n: u64, bytes: usize) {
        let taken = self.head.taken.load(Ordering::Relaxed);
        self.head.taken.store(taken + n, Ordering::Release);
        let out = self.head.bytes_out.load(Ordering::Relaxed);
        self.head
            .bytes_out
            .store(out.wrapping_add(bytes), Ordering::Release);
    }

    /// Takes the next item; the caller holds the head lock and has checked the epoch. Returns
    /// the notifier to fire once the head lock is released, if the call re-armed it and found
    /// something already there.
    fn pop_locked(&self, head: &mut Head<T>) -> (Popped<T>, Option<Notifier>) {
        let next = match head.front.pop_front() {
            Some(item) => {
                self.head
                    .front_len
                    .store(head.front.len(), Ordering::Release);
                Some(item)
            }
            None => self.items.pop(),
        };
        let next = match next {
            Some(next) => Some(next),
            // Set only after every admitted post landed: one more look finds the last of them.
            None if self.flags.ended.load(Ordering::Acquire) => match self.items.pop() {
                Some(next) => Some(next),
                None => {
                    let end = self.tail.lock().end;
                    return match end {
                        Some(end) => (Popped::End(end), None),
                        None => (Popped::Empty, None), // unreachable: `ended` follows `end`
                    };
                }
            },
            None => None,
        };
        let Some((item, bytes)) = next else {
            let edge = self.found_empty(head);
            return (Popped::Empty, edge);
        };
        head.delivered += 1;
        self.count_out(1, bytes);
        if self.flags.bounded.load(Ordering::Acquire) {
            let st = self.tail.lock();
            if st.writers_waiting > 0 {
                self.writable.notify_one();
            }
        }
        // Taking the last item counts as finding the queue empty (the notifier's contract).
        let edge = if self.flags.notify_on.load(Ordering::Acquire)
            && head.front.is_empty()
            && self.items.is_empty()
        {
            self.found_empty(head)
        } else {
            None
        };
        (Popped::Item(item), edge)
    }

    /// A receive call found the queue empty: re-arm the notifier, then look again, since a post
    /// that landed before the re-arm saw it disarmed (the re-arm's read-modify-write of the post
    /// word orders the two).
    fn found_empty(&self, head: &Head<T>) -> Option<Notifier> {
        if !self.flags.notify_on.load(Ordering::Acquire) {
            return None;
        }
        let mut st = self.tail.lock();
        if st.end.is_some() {
            return None;
        }
        st.notified = false;
        self.edge(&mut st, !head.front.is_empty())
    }

    /// Takes the next item without waiting, if the queue still belongs to owner `epoch`.
    pub(crate) fn try_pop(&self, epoch: u64) -> Popped<T> {
        let (popped, edge) = {
            let mut head = self.head.state.lock();
            if self.epoch() != epoch {
                return Popped::Moved;
            }
            self.pop_locked(&mut head)
        };
        notify(edge);
        popped
    }

    /// Takes the next item, waiting until `deadline` (forever if `None`). Returns
    /// [`Popped::Empty`] only when the deadline passed.
    pub(crate) fn pop_until(&self, epoch: u64, deadline: Option<Instant>) -> Popped<T> {
        loop {
            let (popped, edge) = {
                let mut head = self.head.state.lock();
                if self.epoch() != epoch {
                    return Popped::Moved;
                }
                self.pop_locked(&mut head)
            };
            notify(edge);
            match popped {
                Popped::Empty => {}
                other => return other,
            }
            if deadline.is_some_and(|d| Instant::now() >= d) {
                return Popped::Empty;
            }
            if self.spin_for_item(epoch) {
                continue;
            }
            let head = self.head.state.lock();
            if !head.front.is_empty() {
                continue;
            }
            let mut st = self.tail.lock();
            // The head lock may go: whoever fills the front (`push_front`) then takes the tail
            // lock, which this holds until it waits.
            drop(head);
            st.readers_waiting += 1;
            // Before the re-check: a post that appended before this sees no WAITING, but this
            // sees its item; one that appends after sees WAITING and wakes us.
            self.post.word.fetch_or(WAITING, Ordering::AcqRel);
            if self.items.is_empty() && st.end.is_none() && self.epoch() == epoch {
                st = match deadline {
                    Some(d) => self.readable.wait_until(st, d),
                    None => self.readable.wait(st),
                };
            }
            st.readers_waiting -= 1;
            if st.readers_waiting == 0 {
                self.post.word.fetch_and(!WAITING, Ordering::AcqRel);
            }
        }
    }

    /// Backs off briefly; returns whether something may have become available (or the owner
    /// changed).
    fn spin_for_item(&self, epoch: u64) -> bool {
        for step in 0..BACKOFF_STEPS {
            if step < SPIN_STEPS {
                for _ in 0..1u32 << step {
                    std::hint::spin_loop();
                }
            } else {
                yield_now();
            }
            if self.has_items() || self.flags.ended.load(Ordering::Acquire) || self.epoch() != epoch
            {
                return true;
            }
        }
        false
    }

    /// Sets the end record (at most once in a queue's life) if `decide` agrees; `decide` runs on
    /// the extra state in the same critical section. Returns whether this call set the record.
    /// Posts still in flight land first: the record is always last.
    pub(crate) fn end(&self, notice: CloseNotice, decide: impl FnOnce(&mut X) -> bool) -> bool {
        let mut st = self.tail.lock();
        let first = decide(&mut st.ext) && st.end.is_none();
        let mut edge = None;
        if first {
            self.post.word.fetch_or(CLOSED, Ordering::AcqRel);
            // Each post in flight is between two instructions with nothing blocking between.
            while self.post.word.load(Ordering::Acquire) >= POSTING {
                yield_now();
            }
            st.end = Some(notice);
            self.flags.ended.store(true, Ordering::Release);
            edge = self.edge(&mut st, false);
        }
        self.readable.notify_all();
        self.writable.notify_all();
        drop(st);
        notify(edge);
        first
    }

    /// Wakes blocked writers so they re-check whether the receiver is still open.
    pub(crate) fn wake_writers(&self) {
        let st = self.tail.lock();
        if st.writers_waiting > 0 {
            self.writable.notify_all();
        }
    }

    /// Enables notifications (a port's `start()`); never disabled again except by a move.
    pub(crate) fn enable(&self) {
        let (head, mut st) = self.lock_both();
        st.enabled = true;
        let edge = self.edge(&mut st, !head.front.is_empty());
        drop((st, head));
        notify(edge);
    }

    pub(crate) fn is_enabled(&self) -> bool {
        self.tail.lock().enabled
    }

    /// Installs or removes the notifier; fires it at once if an enabled queue already has
    /// something undelivered that nobody was told about.
    pub(crate) fn set_notifier(&self, notifier: Option<Notifier>) {
        let (head, mut st) = self.lock_both();
        let old = std::mem::replace(&mut st.notifier, notifier);
        st.notified = false;
        let edge = self.edge(&mut st, !head.front.is_empty());
        drop((st, head));
        notify(edge);
        // The old notifier is user code's closure: it may own ports whose drop locks this queue,
        // so it is dropped only now, with the locks released.
        drop(old);
    }

    /// Removes the notifier without telling anyone (for a queue nobody can receive from any
    /// more); the old one is dropped outside the lock, as in `set_notifier`.
    pub(crate) fn clear_notifier(&self) {
        let old = {
            let mut st = self.tail.lock();
            let old = st.notifier.take();
            self.sync_flags(&st);
            old
        };
        drop(old);
    }

    /// Hands the queue to a new owner: disabled again, no notifier, and receive calls made for
    /// the old owner stop with [`Popped::Moved`]. Runs `f` on the extra state in the same lock.
    /// Posts go on landing in the same list, so nothing sent while the port is in flight is lost.
    pub(crate) fn ship(&self, f: impl FnOnce(&mut X)) {
        let (head, mut st) = self.lock_both();
        st.enabled = false;
        let old = st.notifier.take();
        st.notified = false;
        self.sync_flags(&st);
        self.flags.epoch.fetch_add(1, Ordering::AcqRel);
        f(&mut st.ext);
        self.readable.notify_all();
        drop((st, head));
        drop(old); // outside the locks, as in `set_notifier`
    }

    /// Whether items may be queued besides the end record, without taking a lock. Exact once
    /// the end record is set and nobody can receive any more (nothing is appended after it).
    pub(crate) fn has_items_besides_end(&self) -> bool {
        self.has_items()
    }

    /// Removes every queued item (for a queue that is being torn down).
    pub(crate) fn take_items(&self) -> Vec<T> {
        let (mut head, st) = self.lock_both();
        let mut items: Vec<(T, usize)> = head.front.drain(..).collect();
        self.head.front_len.store(0, Ordering::Release);
        while let Some(item) = self.items.pop() {
            items.push(item);
        }
        let bytes = items.iter().map(|(_, b)| *b).sum();
        self.count_out(items.len() as u64, bytes);
        drop((st, head));
        items.into_iter().map(|(item, _)| item).collect()
    }

    pub(crate) fn set_capacity(&self, capacity: Capacity) {
        let (head, mut st) = self.lock_both();
        st.capacity = capacity;
        self.flags
            .bounded
            .store(capacity != Capacity::default(), Ordering::Release);
        self.writable.notify_all();
        drop((st, head));
    }

    pub(crate) fn capacity(&self) -> Capacity {
        self.tail.lock().capacity
    }

    pub(crate) fn metrics(&self) -> QueueMetrics {
        let (head, st) = self.lock_both();
        let metrics = QueueMetrics {
            depth: self.depth(),
            queued_bytes: self.queued_bytes(),
            high_water_mark: self.post.high_water_mark.load(Ordering::Acquire),
            enqueued: self.post.enqueued.load(Ordering::Acquire),
            delivered: head.delivered,
        };
        drop((st, head));
        metrics
    }
}
