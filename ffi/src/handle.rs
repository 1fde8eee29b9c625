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
//! Lookups clone the object's `Arc` under a read lock and release the lock before doing any work,
//! so a call never holds the table lock while it blocks or while C code runs, and an object stays
//! alive until the last call using it returns even if another thread frees its handle meanwhile.

use std::sync::Arc;

use parking_lot::RwLock;

use crate::status::{Failure, Res, WM_ERR_INVALID_HANDLE};

#[cfg(not(target_pointer_width = "64"))]
compile_error!("libwebmessaging's handle encoding needs 64-bit pointers");

const SLOT_BITS: u32 = 28;
const SLOT_MASK: u64 = (1 << SLOT_BITS) - 1;
const KIND_MASK: u64 = 0xF;

/// Which table a handle belongs to; part of the handle's bits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    Port = 1,
    Message = 2,
    Value = 3,
    Loop = 4,
}

struct Slot<T> {
    generation: u32,
    object: Option<Arc<T>>,
}

struct Slots<T> {
    slots: Vec<Slot<T>>,
    free: Vec<u32>,
}

/// One table per handle kind.
pub(crate) struct Table<T> {
    kind: Kind,
    inner: RwLock<Slots<T>>,
}

impl<T> Table<T> {
    pub(crate) const fn new(kind: Kind) -> Self {
        Table {
            kind,
            inner: RwLock::new(Slots {
                slots: Vec::new(),
                free: Vec::new(),
            }),
        }
    }

    fn encode(&self, slot: u32, generation: u32) -> usize {
        (((generation as u64) << 32) | ((self.kind as u64) << SLOT_BITS) | (slot as u64 + 1))
            as usize
    }

    /// Splits a handle into (slot, generation) if it has this table's kind.
    fn decode(&self, handle: usize) -> Option<(usize, u32)> {
        let h = handle as u64;
        let kind = (h >> SLOT_BITS) & KIND_MASK;
        let slot = h & SLOT_MASK;
        if kind != self.kind as u64 || slot == 0 {
            return None;
        }
        Some(((slot - 1) as usize, (h >> 32) as u32))
    }

    fn stale(&self) -> Failure {
        Failure::new(
            WM_ERR_INVALID_HANDLE,
            format!(
                "not a live {:?} handle (freed, never issued, or of another type)",
                self.kind
            ),
        )
    }

    /// Stores `object` and returns its new handle.
    pub(crate) fn insert(&self, object: Arc<T>) -> Res<usize> {
        let mut inner = self.inner.write();
        let index = match inner.free.pop() {
            Some(i) => i,
            None => {
                let i = inner.slots.len() as u64;
                if i >= SLOT_MASK {
                    return Err(Failure::new(
                        crate::status::WM_ERR_INVALID_STATE,
                        "too many live handles",
                    ));
                }
                inner.slots.push(Slot {
                    generation: 1,
                    object: None,
                });
                i as u32
            }
        };
        let slot = &mut inner.slots[index as usize];
        slot.object = Some(object);
        Ok(self.encode(index, slot.generation))
    }

    /// The live object behind `handle`.
    pub(crate) fn get(&self, handle: usize) -> Res<Arc<T>> {
        let (index, generation) = self.decode(handle).ok_or_else(|| self.stale())?;
        let inner = self.inner.read();
        match inner.slots.get(index) {
            Some(Slot {
                generation: g,
                object: Some(o),
            }) if *g == generation => Ok(o.clone()),
            _ => Err(self.stale()),
        }
    }

    /// Invalidates `handle` and returns its object (the caller drops it with no lock held, since
    /// dropping may run C finalizers).
    pub(crate) fn remove(&self, handle: usize) -> Res<Arc<T>> {
        let (index, generation) = self.decode(handle).ok_or_else(|| self.stale())?;
        let mut inner = self.inner.write();
        let object = match inner.slots.get_mut(index) {
            Some(slot) if slot.generation == generation && slot.object.is_some() => {
                // Skip generation 0 so a handle is never below 2^32.
                slot.generation = slot.generation.wrapping_add(1).max(1);
                slot.object.take()
            }
            _ => None,
        };
        match object {
            Some(o) => {
                inner.free.push(index as u32);
                Ok(o)
            }
            None => Err(self.stale()),
        }
    }

    /// How many handles of this kind are live (for leak checks in tests).
    pub(crate) fn live(&self) -> usize {
        let inner = self.inner.read();
        inner.slots.len() - inner.free.len()
    }
}
