//! A thread's spare list, kept between calls, so that a path run per message that fills and
//! empties a list each time (the wake-up's ready ids, a drain's messages) reuses its memory
//! instead of allocating and freeing it.

use std::cell::Cell;
use std::ops::{Deref, DerefMut};
use std::thread::LocalKey;

/// Where a thread keeps one spare list.
pub(crate) type SpareKey<T> = LocalKey<Cell<Vec<T>>>;

/// A list with room for more items than this is freed, not kept (JS drains 1024 at most).
const SPARE_MAX: usize = 1024;

/// The thread's spare list in `key` (empty), or a new one.
pub(crate) fn take<T: 'static>(key: &'static SpareKey<T>) -> Vec<T> {
    key.try_with(Cell::take).unwrap_or_default()
}

/// Keeps `list`, emptied, as the thread's spare in `key`, unless it grew large.
pub(crate) fn keep<T: 'static>(key: &'static SpareKey<T>, mut list: Vec<T>) {
    if list.capacity() <= SPARE_MAX {
        list.clear();
        let _ = key.try_with(|spare| spare.set(list));
    }
}

/// A list [`take`]n from `key` that [`keep`]s itself when dropped, on every way out.
pub(crate) struct Spare<T: 'static> {
    key: &'static SpareKey<T>,
    list: Vec<T>,
}

impl<T: 'static> Spare<T> {
    pub(crate) fn take(key: &'static SpareKey<T>) -> Self {
        Spare {
            key,
            list: take(key),
        }
    }
}

impl<T> Deref for Spare<T> {
    type Target = Vec<T>;
    fn deref(&self) -> &Vec<T> {
        &self.list
    }
}

impl<T> DerefMut for Spare<T> {
    fn deref_mut(&mut self) -> &mut Vec<T> {
        &mut self.list
    }
}

impl<T: 'static> Drop for Spare<T> {
    fn drop(&mut self) {
        keep(self.key, std::mem::take(&mut self.list));
    }
}
