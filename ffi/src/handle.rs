//! Generational handle tables: what a `wm_port *` (or any other handle) really is.
//!
//! A handle is not a pointer to memory. It is a 64-bit number shown to C as an opaque pointer:
//!
//! ```text
//!  63            32 31  28 27              0
//! +----------------+------+----------------+
//! |   generation   | kind |   slot + 1     |
//! +----------------+------+----------------+
//! ```
//!
//! Every call looks the number up in the table of its kind. A slot's generation is bumped each
//! time its object is freed, so a freed handle, a double free, a handle of another kind, or any
//! number the library never issued is recognised and rejected with `WM_ERR_INVALID_HANDLE`. The
//! library never dereferences a handle, so no misuse of one can touch freed memory. (A generation
//! wraps after 2^32 reuses of one slot; a handle that old could alias a new one of the same kind.)
//!
//! A slot is one atomic word (generation, live bit, count of calls using it) beside the object.
//! For kinds whose handles live long (ports, loops, windows, channels, listeners) a call
//! publishes the slot in its thread's hazard word (`crate::hazard`) and checks the word: no
//! atomic read-modify-write at all, and a free pays one process-wide fence instead. For
//! messages and values, freed about as often as they are used, a call registers in the word with
//! one compare-and-swap and leaves with one subtraction (so does a call nested in another, whose
//! thread's hazard word is taken). Either way there is no lock and no reference-count traffic.
//! Freeing retires the slot, waits for the calls inside it to leave (they are short: `with`
//! bodies never block and never run C code), then takes the object out. Calls that block or run C code
//! clone the object's `Arc` (`get`) and leave the slot first, so an object stays alive until the
//! last call using it returns even if another thread frees its handle meanwhile.

use parking_lot::Mutex;
use std::cell::{Cell, UnsafeCell};
use std::marker::PhantomData;
use std::ptr;
use std::sync::atomic::{AtomicPtr, AtomicU32, AtomicU64, Ordering};

use crate::hazard::{self, Local};
use crate::status::{Failure, Res, WM_ERR_INVALID_HANDLE};

#[cfg(not(target_pointer_width = "64"))]
compile_error!("libwebmessaging's handle encoding needs 64-bit pointers");

const SLOT_BITS: u32 = 28;
const SLOT_MASK: u64 = (1 << SLOT_BITS) - 1;
const KIND_MASK: u64 = 0xF;
/// Slots per chunk. Chunks are allocated on demand and never move or go away, so a lookup
/// needs no table-wide lock: it locks only its own slot.
const CHUNK: usize = 1024;
/// At most 2^24 live handles of one kind (16384 chunks).
const MAX_CHUNKS: usize = 1 << 14;

/// Which table a handle belongs to; part of the handle's bits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    Port = 1,
    Message = 2,
    Value = 3,
    Loop = 4,
    Window = 5,
    Broadcast = 6,
    Listener = 7,
}

impl Kind {
    /// The kind whose number (`Kind as u8`) is `n`.
    const fn numbered(n: u8) -> Option<Kind> {
        Some(match n {
            1 => Kind::Port,
            2 => Kind::Message,
            3 => Kind::Value,
            4 => Kind::Loop,
            5 => Kind::Window,
            6 => Kind::Broadcast,
            7 => Kind::Listener,
            _ => return None,
        })
    }
}

/// Bits of a slot's state word: the generation in the high 32 bits, then the live bit, then the
/// number of calls inside the slot.
const LIVE: u64 = 1 << 31;
const USERS: u64 = LIVE - 1;

/// One slot, alone on its cache line: two threads using two handles never share a line.
#[repr(align(64))]
struct Slot<T> {
    /// `generation << 32 | LIVE? | users`. The object may be read while LIVE is set and this
    /// call is counted in `users`; it is written only by the one thread that owns the slot while
    /// it is not live (after `pop_free`, or after `remove` cleared LIVE with no users).
    state: AtomicU64,
    object: UnsafeCell<Option<T>>,
    /// The next free slot + 1 (0: none) while this slot is on the free stack.
    next_free: AtomicU32,
}

// SAFETY: `object` is shared only under the protocol of `state` above: readers (`&T`) while
// counted in a live slot, the single owner (`&mut`) while not live. That needs `T: Send + Sync`.
unsafe impl<T: Send + Sync> Sync for Slot<T> {}

/// A call inside a slot; leaving (also by unwinding) uncounts it.
struct Inside<'a>(&'a AtomicU64);

impl Drop for Inside<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Release);
    }
}

/// How a call got inside a slot: both ways out (also by unwinding) undo the way in.
enum Entry<'a> {
    Hazard(hazard::Hazard),
    Counted(#[allow(dead_code, reason = "held for its drop")] Inside<'a>),
}

/// A table's shared free stack, as the per-thread stash gives slots back to it.
pub(crate) trait FreeStack: Sync {
    fn give_back(&self, index: u32);
}

impl<T: Send + Sync, const K: u8> FreeStack for Table<T, K> {
    fn give_back(&self, index: u32) {
        if let Some(slot) = self.slot(index as usize) {
            self.push_free(index, slot);
        }
    }
}

/// The slot a thread freed last, kept for its next insert: a thread that receives, reads and
/// frees message after message reuses one slot without touching the table's shared free stack
/// (two atomic read-modify-writes per message fewer). Given back when replaced or when the
/// thread exits. It lives in the thread's `hazard::Local`, beside its hazard record.
pub(crate) struct Stash(Cell<Option<(&'static dyn FreeStack, u32)>>);

impl Drop for Stash {
    fn drop(&mut self) {
        if let Some((table, index)) = self.0.take() {
            table.give_back(index);
        }
    }
}

impl Stash {
    pub(crate) const fn new() -> Self {
        Stash(Cell::new(None))
    }

    /// Takes the stashed slot if it belongs to `table`, from `local` if the caller has the
    /// thread's `Local` at hand.
    #[inline]
    fn take(table: &'static dyn FreeStack, local: Option<&Local>) -> Option<u32> {
        let take = |l: &Local| match l.stash.0.take() {
            Some((t, i)) if std::ptr::addr_eq(t, table) => Some(i),
            other => {
                l.stash.0.set(other);
                None
            }
        };
        match local {
            Some(l) => take(l),
            None => hazard::with_local(take).flatten(),
        }
    }

    /// Stashes a slot just freed from `table`; the one it replaces goes back to its table.
    #[inline]
    fn keep(table: &'static dyn FreeStack, index: u32) {
        match hazard::with_local(|l| l.stash.0.replace(Some((table, index)))) {
            Some(Some((t, i))) => t.give_back(i),
            Some(None) => {}
            // The thread is exiting and its stash is gone: straight back to the table.
            None => table.give_back(index),
        }
    }
}

/// One table per handle kind. `T` is what a slot stores: usually an `Arc` of the object, so a
/// call can use it with no lock held; messages are stored inline and used under their slot's
/// lock (`with`), which saves an allocation per message. `K` is the kind's number (`Kind as
/// u8`): a constant in the code, so a lookup compares a handle's kind bits with an immediate and
/// knows at compile time whether the table uses hazards (a field of a static table with atomics
/// in it is loaded from memory on every call).
pub(crate) struct Table<T, const K: u8> {
    chunks: [AtomicPtr<Slot<T>>; MAX_CHUNKS],
    /// Lock-free stack of free slots: low 32 bits the top slot + 1 (0: empty), high 32 bits a
    /// counter bumped on every change so a stale compare-and-swap cannot succeed (ABA).
    free: AtomicU64,
    /// Slots ever created; guarded by `grow` for creation.
    created: AtomicU32,
    grow: Mutex<()>,
    /// The table shares `T`s between threads as its slots do (see `Slot`'s `Sync`).
    _slots: PhantomData<Slot<T>>,
}

impl<T, const K: u8> Table<T, K> {
    /// Calls use hazard words (`crate::hazard`) instead of counting themselves in the slot:
    /// for kinds whose handles live long, since each free then pays a process-wide fence.
    /// Messages and values are freed about as often as they are used.
    const HAZARDS: bool = K != Kind::Message as u8 && K != Kind::Value as u8;

    /// The kind numbered `K`; naming a number that is no kind fails the build.
    const KIND: Kind = match Kind::numbered(K) {
        Some(kind) => kind,
        None => panic!("a table's K must be a Kind's number"),
    };

    /// An empty table for handles of kind `K`.
    pub(crate) const fn new() -> Self {
        let _ = Self::KIND;
        Table {
            chunks: [const { AtomicPtr::new(ptr::null_mut()) }; MAX_CHUNKS],
            free: AtomicU64::new(0),
            created: AtomicU32::new(0),
            grow: Mutex::new(()),
            _slots: PhantomData,
        }
    }

    #[inline]
    fn encode(&self, slot: u32, generation: u32) -> usize {
        (((generation as u64) << 32) | ((K as u64) << SLOT_BITS) | (slot as u64 + 1)) as usize
    }

    /// Splits a handle into (slot, generation) if it has this table's kind.
    #[inline]
    fn decode(&self, handle: usize) -> Option<(usize, u32)> {
        let h = handle as u64;
        let kind = (h >> SLOT_BITS) & KIND_MASK;
        let slot = h & SLOT_MASK;
        if kind != K as u64 || slot == 0 {
            return None;
        }
        Some(((slot - 1) as usize, (h >> 32) as u32))
    }

    #[cold]
    #[inline(never)]
    fn stale(&self) -> Failure {
        Failure::new(
            WM_ERR_INVALID_HANDLE,
            format!(
                "not a live {:?} handle (freed, never issued, or of another type)",
                Self::KIND
            ),
        )
    }

    /// The slot at `index`, if its chunk exists.
    #[inline]
    fn slot(&self, index: usize) -> Option<&Slot<T>> {
        let chunk = self.chunks.get(index / CHUNK)?.load(Ordering::Acquire);
        if chunk.is_null() {
            return None;
        }
        // SAFETY: a non-null chunk pointer was published (Release) after its CHUNK slots were
        // initialised, and chunks are never freed or moved, so the slot lives for 'static.
        Some(unsafe { &*chunk.add(index % CHUNK) })
    }

    /// Pops a free slot index, if any.
    fn pop_free(&self) -> Option<u32> {
        let mut head = self.free.load(Ordering::Acquire);
        loop {
            let top = (head & 0xFFFF_FFFF) as u32;
            if top == 0 {
                return None;
            }
            let index = top - 1;
            let next = self.slot(index as usize)?.next_free.load(Ordering::Acquire);
            let new = ((head >> 32).wrapping_add(1) << 32) | u64::from(next);
            match self
                .free
                .compare_exchange_weak(head, new, Ordering::AcqRel, Ordering::Acquire)
            {
                Ok(_) => return Some(index),
                Err(h) => head = h,
            }
        }
    }

    fn push_free(&self, index: u32, slot: &Slot<T>) {
        let mut head = self.free.load(Ordering::Acquire);
        loop {
            slot.next_free
                .store((head & 0xFFFF_FFFF) as u32, Ordering::Release);
            let new = ((head >> 32).wrapping_add(1) << 32) | u64::from(index + 1);
            match self
                .free
                .compare_exchange_weak(head, new, Ordering::AcqRel, Ordering::Acquire)
            {
                Ok(_) => return,
                Err(h) => head = h,
            }
        }
    }

    /// A never-used slot index, creating its chunk when needed.
    fn fresh(&self) -> Res<u32> {
        let _g = self.grow.lock();
        let i = self.created.load(Ordering::Relaxed) as usize;
        if i >= CHUNK * MAX_CHUNKS {
            return Err(Failure::new(
                crate::status::WM_ERR_INVALID_STATE,
                "too many live handles",
            ));
        }
        if i % CHUNK == 0 {
            let chunk: Box<[Slot<T>]> = (0..CHUNK)
                .map(|_| Slot {
                    state: AtomicU64::new(1 << 32),
                    object: UnsafeCell::new(None),
                    next_free: AtomicU32::new(0),
                })
                .collect();
            let raw = Box::into_raw(chunk) as *mut Slot<T>;
            self.chunks[i / CHUNK].store(raw, Ordering::Release);
        }
        self.created.store(i as u32 + 1, Ordering::Release);
        Ok(i as u32)
    }

    /// Stores `object` and returns its new handle.
    pub(crate) fn insert(&'static self, object: T) -> Res<usize>
    where
        T: Send + Sync + 'static,
    {
        self.insert_with(None, move || object).map_err(|(f, _)| f)
    }

    /// Stores what `make` returns, made right into its slot (no copy of it through the stack,
    /// whose reloads are slow), and returns its new handle. `local`: the thread's `Local`, if
    /// the caller has it at hand (see `with_local`). On failure `make` comes back uncalled.
    #[inline(always)]
    pub(crate) fn insert_with<F: FnOnce() -> T>(
        &'static self,
        local: Option<&Local>,
        make: F,
    ) -> Result<usize, (Failure, F)>
    where
        T: Send + Sync + 'static,
    {
        if Self::HAZARDS {
            // The one-time fence set-up belongs to making a handle, not to its first use.
            hazard::prepare();
        }
        let index = match Stash::take(self, local).or_else(|| self.pop_free()) {
            Some(i) => i,
            None => match self.fresh() {
                Ok(i) => i,
                Err(f) => return Err((f, make)),
            },
        };
        let Some(slot) = self.slot(index as usize) else {
            return Err((self.stale(), make));
        };
        // The slot came off the free stack (or is new): this thread owns it, and it is not
        // live, so no call reads `object` now.
        let state = slot.state.load(Ordering::Acquire);
        debug_assert_eq!(state & (LIVE | USERS), 0);
        // SAFETY: exclusive by the protocol of `Slot::state`. A slot off the free stack holds
        // `None` (a free or remove took its object), so writing over it drops nothing.
        unsafe { slot.object.get().write(Some(make())) };
        slot.state.store(state | LIVE, Ordering::Release);
        Ok(self.encode(index, (state >> 32) as u32))
    }

    /// Runs `f` on the live object behind `handle`, counted inside its slot: `f` must be short,
    /// must not block or run C code, and must not free this handle (a free waits for `f`).
    #[inline]
    pub(crate) fn with<R>(&self, handle: usize, f: impl FnOnce(&T) -> R) -> Res<R> {
        self.with_local(handle, |o, _| f(o))
    }

    /// `with`, also lending `f` the thread's `Local` when the call found it anyway (a hazard
    /// call): `f` can then make a new handle without looking up the thread's storage again.
    #[inline]
    pub(crate) fn with_local<R>(
        &self,
        handle: usize,
        f: impl FnOnce(&T, Option<&Local>) -> R,
    ) -> Res<R> {
        let (index, generation) = self.decode(handle).ok_or_else(|| self.stale())?;
        let slot = self.slot(index).ok_or_else(|| self.stale())?;
        let live = (u64::from(generation) << 32) | LIVE;
        // One way in, so that `f` is called (and inlined) in one place.
        let entry = match Self::HAZARDS.then(|| hazard::protect(slot as *const Slot<T> as usize)) {
            Some(Some(hazard)) => {
                // Acquire: the object was written before its slot was made live.
                if slot.state.load(Ordering::Acquire) & !USERS != live {
                    return Err(self.stale());
                }
                // Our hazard names this slot and it was live under this generation after the
                // hazard was published: a free retires the slot first, then waits for the
                // hazard to clear before it takes the object (`invalidate`).
                Entry::Hazard(hazard)
            }
            _ => Entry::Counted(self.enter_counted(slot, live)?),
        };
        let local = match &entry {
            Entry::Hazard(h) => Some(h.local()),
            Entry::Counted(_) => None,
        };
        // SAFETY: entered above (hazard or count) in a live slot of the right generation:
        // `remove` cannot take the object until this call leaves, and nothing else writes it
        // while it is live.
        match unsafe { &*slot.object.get() } {
            Some(o) => Ok(f(o, local)),
            None => Err(self.stale()),
        }
    }

    /// Counts a call inside `slot` if it is live as `live`.
    fn enter_counted<'a>(&self, slot: &'a Slot<T>, live: u64) -> Res<Inside<'a>> {
        let mut state = slot.state.load(Ordering::Relaxed);
        loop {
            if state & !USERS != live {
                return Err(self.stale());
            }
            match slot.state.compare_exchange_weak(
                state,
                state + 1,
                Ordering::Acquire,
                Ordering::Relaxed,
            ) {
                Ok(_) => return Ok(Inside(&slot.state)),
                Err(s) => state = s,
            }
        }
    }

    /// Invalidates `handle` and returns its object (the caller drops it with no lock held, since
    /// dropping may run C finalizers). Waits for calls inside the slot to leave.
    pub(crate) fn remove(&'static self, handle: usize) -> Res<T>
    where
        T: Send + Sync + 'static,
    {
        let (index, slot) = self.invalidate(handle)?;
        // SAFETY: no longer live and no call inside: this thread owns the slot.
        let object = unsafe { (*slot.object.get()).take() };
        Stash::keep(self, index as u32);
        object.ok_or_else(|| self.stale())
    }

    /// Invalidates `handle` and drops its object where it lies, without moving it out: for
    /// objects whose drop runs no C code (messages). Waits for calls inside the slot to leave.
    #[inline]
    pub(crate) fn free(&'static self, handle: usize) -> Res
    where
        T: DropInSlot + Send + Sync + 'static,
    {
        let (index, slot) = self.invalidate(handle)?;
        // SAFETY: no longer live and no call inside: this thread owns the slot. If the drop
        // panics the slot is not reused (it stays out of every free list).
        let had = T::drop_in_slot(unsafe { &mut *slot.object.get() });
        Stash::keep(self, index as u32);
        if had {
            Ok(())
        } else {
            Err(self.stale())
        }
    }

    /// Clears the live bit of `handle`'s slot and bumps its generation once no call is inside;
    /// returns the slot and its index, now owned by the calling thread. The first attempt is
    /// inline: a slot nobody else is using retires with one compare-and-swap.
    #[inline]
    fn invalidate(&self, handle: usize) -> Res<(usize, &Slot<T>)> {
        let (index, generation) = self.decode(handle).ok_or_else(|| self.stale())?;
        let slot = self.slot(index).ok_or_else(|| self.stale())?;
        let live = (u64::from(generation) << 32) | LIVE;
        // Skip generation 0 so a handle is never below 2^32.
        let next = u64::from(generation.wrapping_add(1).max(1)) << 32;
        if slot
            .state
            .compare_exchange(live, next, Ordering::AcqRel, Ordering::Relaxed)
            .is_err()
        {
            self.retire_contended(slot, live, next)?;
        }
        if Self::HAZARDS {
            // Retired: no check finds it live any more; wait out those that did.
            hazard::wait_unused(slot as *const Slot<T> as usize);
        }
        Ok((index, slot))
    }

    /// `invalidate`'s retirement when the first attempt failed: calls are inside (wait for
    /// them to leave), or the handle is stale.
    #[cold]
    #[inline(never)]
    fn retire_contended(&self, slot: &Slot<T>, live: u64, next: u64) -> Res {
        loop {
            match slot
                .state
                .compare_exchange_weak(live, next, Ordering::AcqRel, Ordering::Relaxed)
            {
                Ok(_) => return Ok(()),
                // Calls inside (or a spurious failure): wait for them to leave.
                Err(s) if s & !USERS == live => std::thread::yield_now(),
                Err(_) => return Err(self.stale()),
            }
        }
    }

    /// How many handles of this kind are live (for leak checks in tests). A scan, so that the
    /// hot paths keep no shared counter.
    pub(crate) fn live(&self) -> usize {
        let created = self.created.load(Ordering::Acquire) as usize;
        (0..created)
            .filter_map(|i| self.slot(i))
            .filter(|s| s.state.load(Ordering::Acquire) & LIVE != 0)
            .count()
    }
}

/// How `Table::free` drops a slot's object where it lies. The default drops it whole; a type
/// whose drop glue calls out of line for parts that are usually empty (a message's extras) can
/// skip those when they are.
pub(crate) trait DropInSlot: Sized {
    /// Drops the object in place and leaves `None`; whether there was one.
    #[inline]
    fn drop_in_slot(slot: &mut Option<Self>) -> bool {
        let had = slot.is_some();
        *slot = None;
        had
    }
}

impl<T: ?Sized> DropInSlot for std::sync::Arc<T> {}

impl<T: Clone, const K: u8> Table<T, K> {
    /// The live object behind `handle` (a clone of the stored `Arc`).
    pub(crate) fn get(&self, handle: usize) -> Res<T> {
        self.with(handle, T::clone)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn every_kind_is_found_by_its_own_number_and_no_other() {
        let all = [
            Kind::Port,
            Kind::Message,
            Kind::Value,
            Kind::Loop,
            Kind::Window,
            Kind::Broadcast,
            Kind::Listener,
        ];
        for kind in all {
            assert_eq!(Kind::numbered(kind as u8), Some(kind));
        }
        assert_eq!(Kind::numbered(0), None);
        assert_eq!(Kind::numbered(all.len() as u8 + 1), None);
    }

    #[test]
    fn stale_reused_and_foreign_handles_are_refused() {
        static PORTS: Table<Arc<u32>, { Kind::Port as u8 }> = Table::new();
        static VALUES: Table<Arc<u32>, { Kind::Value as u8 }> = Table::new();
        let (ports, values) = (&PORTS, &VALUES);
        let a = ports.insert(Arc::new(1)).unwrap();
        assert_eq!(*ports.get(a).unwrap(), 1);
        assert!(a as u64 >= 1 << 32, "handles are never small numbers");
        // Another kind's table refuses it, and unissued numbers are refused.
        assert!(values.get(a).is_err());
        for bogus in [0usize, 1, 0x1234, usize::MAX, a + 1] {
            assert!(ports.get(bogus).is_err(), "{bogus:#x}");
        }
        // Freed: refused, also after its slot is reused by a new object.
        assert_eq!(*ports.remove(a).unwrap(), 1);
        assert!(ports.remove(a).is_err());
        let b = ports.insert(Arc::new(2)).unwrap();
        assert_ne!(a, b);
        assert_eq!(a & 0xFFFF_FFFF, b & 0xFFFF_FFFF, "the slot was reused");
        assert!(ports.get(a).is_err());
        assert_eq!(*ports.get(b).unwrap(), 2);
        assert_eq!(ports.live(), 1);
    }

    #[test]
    fn a_free_waits_for_calls_inside_the_slot_and_later_calls_fail() {
        use std::sync::atomic::AtomicBool;
        static T: Table<Arc<u32>, { Kind::Loop as u8 }> = Table::new();
        let h = T.insert(Arc::new(7)).unwrap();
        let inside = AtomicBool::new(false);
        let freed = AtomicBool::new(false);
        std::thread::scope(|s| {
            s.spawn(|| {
                T.with(h, |v| {
                    inside.store(true, Ordering::SeqCst);
                    std::thread::sleep(std::time::Duration::from_millis(50));
                    // The free on the other thread is still waiting for this call to leave.
                    assert!(!freed.load(Ordering::SeqCst));
                    assert_eq!(**v, 7);
                })
                .unwrap();
            });
            while !inside.load(Ordering::SeqCst) {
                std::thread::yield_now();
            }
            assert_eq!(*T.remove(h).unwrap(), 7);
            freed.store(true, Ordering::SeqCst);
        });
        assert!(T.with(h, |_| ()).is_err());
        assert!(T.remove(h).is_err());
        assert_eq!(T.live(), 0);
    }

    #[test]
    fn free_drops_the_object_in_place_and_refuses_the_handle_after() {
        static T: Table<Arc<u32>, { Kind::Broadcast as u8 }> = Table::new();
        let object = Arc::new(5);
        let h = T.insert(Arc::clone(&object)).unwrap();
        assert_eq!(Arc::strong_count(&object), 2);
        T.free(h).unwrap();
        assert_eq!(Arc::strong_count(&object), 1, "dropped by the free");
        assert!(T.free(h).is_err(), "a double free is refused");
        assert!(T.with(h, |_| ()).is_err());
        // The slot is reused under a new generation; the old handle stays refused.
        let h2 = T.insert(Arc::new(6)).unwrap();
        assert_eq!(h & 0xFFFF_FFFF, h2 & 0xFFFF_FFFF);
        assert!(T.remove(h).is_err());
        assert_eq!(*T.remove(h2).unwrap(), 6);
        assert_eq!(T.live(), 0);
    }

    /// An object that knows its handle and whether the table gave it up.
    struct Tracked {
        handle: AtomicU64,
        removed: std::sync::atomic::AtomicBool,
        /// Calls that got inside.
        entered: AtomicU32,
    }

    /// Two threads use whichever handle is current while this thread frees it and reuses its
    /// slot for the next object (the generation alone tells the handles apart). A call must
    /// see its own object, still in the table, from start to end, or fail with the stale error.
    fn hammer<const K: u8>(table: &'static Table<Arc<Tracked>, K>, rounds: usize) {
        use std::sync::atomic::{AtomicBool, AtomicUsize};
        let current = AtomicUsize::new(0);
        let stop = AtomicBool::new(false);
        let (used, refused) = (AtomicUsize::new(0), AtomicUsize::new(0));
        let mut kept = Vec::new();
        std::thread::scope(|s| {
            for _ in 0..2 {
                s.spawn(|| {
                    while !stop.load(Ordering::SeqCst) {
                        let h = current.load(Ordering::SeqCst);
                        if h == 0 {
                            continue;
                        }
                        let r = table.with(h, |o| {
                            assert_eq!(o.handle.load(Ordering::SeqCst), h as u64, "not its object");
                            o.entered.fetch_add(1, Ordering::SeqCst);
                            // Stay inside a while: the free on the other thread gets its turn.
                            std::thread::yield_now();
                            for _ in 0..500 {
                                std::hint::spin_loop();
                            }
                            assert!(!o.removed.load(Ordering::SeqCst), "used after its free");
                            assert_eq!(o.handle.load(Ordering::SeqCst), h as u64, "slot reused");
                        });
                        match r {
                            Ok(()) => used.fetch_add(1, Ordering::Relaxed),
                            Err(e) => {
                                assert_eq!(e.status, WM_ERR_INVALID_HANDLE);
                                refused.fetch_add(1, Ordering::Relaxed)
                            }
                        };
                        // Room for the freeing thread on a machine with few cores.
                        std::thread::yield_now();
                    }
                });
            }
            let mut slots = std::collections::HashSet::new();
            for _ in 0..rounds {
                let o = Arc::new(Tracked {
                    handle: AtomicU64::new(0),
                    removed: AtomicBool::new(false),
                    entered: AtomicU32::new(0),
                });
                let h = table.insert(Arc::clone(&o)).unwrap();
                slots.insert(h & 0xFFFF_FFFF);
                o.handle.store(h as u64, Ordering::SeqCst);
                current.store(h, Ordering::SeqCst);
                // Free it while a call is likely inside.
                for i in 0..100_000 {
                    if o.entered.load(Ordering::SeqCst) > 0 {
                        break;
                    }
                    if i % 64 == 63 {
                        std::thread::yield_now();
                    }
                    std::hint::spin_loop();
                }
                let out = table.remove(h).unwrap();
                assert!(Arc::ptr_eq(&out, &o));
                o.removed.store(true, Ordering::SeqCst);
                // Kept alive, so a buggy late read sees the flag instead of freed memory.
                kept.push(out);
            }
            stop.store(true, Ordering::SeqCst);
            assert_eq!(slots.len(), 1, "every round reused the one slot");
        });
        assert!(used.load(Ordering::Relaxed) > 0);
        assert_eq!(table.live(), 0);
    }

    #[test]
    fn a_handle_freed_on_another_thread_is_never_used_after_its_free_hazard_kind() {
        static T: Table<Arc<Tracked>, { Kind::Listener as u8 }> = Table::new();
        const { assert!(Table::<Arc<Tracked>, { Kind::Listener as u8 }>::HAZARDS) };
        hammer(&T, 1000);
    }

    #[test]
    fn a_handle_freed_on_another_thread_is_never_used_after_its_free_counted_kind() {
        static T: Table<Arc<Tracked>, { Kind::Value as u8 }> = Table::new();
        const { assert!(!Table::<Arc<Tracked>, { Kind::Value as u8 }>::HAZARDS) };
        hammer(&T, 1000);
    }

    #[test]
    fn a_call_nested_in_another_uses_the_counted_path_and_a_free_still_waits() {
        static OUTER: Table<Arc<u32>, { Kind::Port as u8 }> = Table::new();
        static INNER: Table<Arc<u32>, { Kind::Window as u8 }> = Table::new();
        let (o, i) = (
            OUTER.insert(Arc::new(1)).unwrap(),
            INNER.insert(Arc::new(2)).unwrap(),
        );
        let inner_got = OUTER.with(o, |_| INNER.with(i, |v| **v)).unwrap().unwrap();
        assert_eq!(inner_got, 2);
        // Nothing stays counted or published: both frees return.
        assert_eq!(*OUTER.remove(o).unwrap(), 1);
        assert_eq!(*INNER.remove(i).unwrap(), 2);
    }

    #[test]
    fn a_panic_inside_a_call_leaves_the_slot() {
        static T: Table<Arc<u32>, { Kind::Window as u8 }> = Table::new();
        let h = T.insert(Arc::new(1)).unwrap();
        let r = std::panic::catch_unwind(|| T.with(h, |_| panic!("inside")));
        assert!(r.is_err());
        // Not counted inside any more: the free does not wait forever.
        assert_eq!(*T.remove(h).unwrap(), 1);
    }

    #[test]
    fn a_panic_inside_a_counted_call_leaves_the_slot() {
        static T: Table<Arc<u32>, { Kind::Value as u8 }> = Table::new();
        let h = T.insert(Arc::new(1)).unwrap();
        let r = std::panic::catch_unwind(|| T.with(h, |_| panic!("inside")));
        assert!(r.is_err());
        let (index, _) = T.decode(h).unwrap();
        let state = T.slot(index).unwrap().state.load(Ordering::SeqCst);
        assert_eq!(state & USERS, 0, "still counted inside after the panic");
        assert_eq!(*T.remove(h).unwrap(), 1);
    }

    #[test]
    fn a_panic_inside_a_hazard_call_clears_the_thread_s_hazard() {
        static T: Table<Arc<u32>, { Kind::Broadcast as u8 }> = Table::new();
        let h = T.insert(Arc::new(1)).unwrap();
        let r = std::panic::catch_unwind(|| T.with(h, |_| panic!("inside")));
        assert!(r.is_err());
        // The thread's hazard word is free again (a taken word refuses a new hazard).
        assert!(
            hazard::protect(0x5000).is_some(),
            "the hazard outlived the call"
        );
        assert_eq!(*T.remove(h).unwrap(), 1);
    }

    #[test]
    fn a_thread_that_exits_gives_its_stashed_slot_back() {
        static T: Table<Arc<u32>, { Kind::Message as u8 }> = Table::new();
        let freed = std::thread::spawn(|| {
            let h = T.insert(Arc::new(1)).unwrap();
            T.free(h).unwrap();
            // The slot now waits in this thread's stash, not on the table's free stack.
            assert!(T.pop_free().is_none());
            h
        })
        .join()
        .unwrap();
        // The thread is gone: its stashed slot went back to the table and is reused.
        let again = T.insert(Arc::new(2)).unwrap();
        assert_eq!(
            again & 0xFFFF_FFFF,
            freed & 0xFFFF_FFFF,
            "the slot was lost"
        );
        assert_eq!(T.created.load(Ordering::SeqCst), 1);
        assert_eq!(*T.remove(again).unwrap(), 2);
    }

    #[test]
    fn many_handles_span_chunks_and_threads() {
        static T: Table<Arc<usize>, { Kind::Message as u8 }> = Table::new();
        let handles: Vec<Vec<usize>> = std::thread::scope(|s| {
            let workers: Vec<_> = (0..4)
                .map(|t| {
                    s.spawn(move || {
                        (0..3000)
                            .map(|i| T.insert(Arc::new(t * 10_000 + i)).unwrap())
                            .collect()
                    })
                })
                .collect();
            workers.into_iter().map(|w| w.join().unwrap()).collect()
        });
        assert_eq!(T.live(), 12_000);
        for (t, hs) in handles.iter().enumerate() {
            for (i, h) in hs.iter().enumerate() {
                assert_eq!(*T.get(*h).unwrap(), t * 10_000 + i);
            }
        }
        std::thread::scope(|s| {
            for hs in &handles {
                s.spawn(move || hs.iter().for_each(|h| drop(T.remove(*h).unwrap())));
            }
        });
        assert_eq!(T.live(), 0);
    }
}
