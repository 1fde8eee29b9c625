//! The one place the core gets its locks and atomics from.
//!
//! Normal builds use `parking_lot` (small, fast, no poisoning). Under `--cfg loom` the same names
//! come from `loom`, so the loom model in `tests/loom.rs` checks the real queue and port code, the
//! way tokio routes its `sync` primitives through a facade. `Arc`/`Weak` stay `std` in both: loom's
//! `Arc` has no `Weak`, and reference counting is not the race being modelled.

pub(crate) use std::sync::{Arc, Weak};

#[cfg(not(loom))]
mod imp {
    use std::time::Instant;

    pub(crate) use parking_lot::MutexGuard;
    pub(crate) use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};

    /// A mutex without poisoning.
    #[derive(Debug, Default)]
    pub(crate) struct Mutex<T>(parking_lot::Mutex<T>);

    impl<T> Mutex<T> {
        pub(crate) fn new(value: T) -> Self {
            Mutex(parking_lot::Mutex::new(value))
        }
        pub(crate) fn lock(&self) -> MutexGuard<'_, T> {
            self.0.lock()
        }
    }

    /// A lock for short critical sections that nobody waits on with a condition variable: its
    /// release is a plain store (no locked instruction, no wait for earlier stores to drain),
    /// where a parking mutex needs a compare-and-swap to learn whether anyone is parked. A
    /// contended acquire backs off as crossbeam's `Backoff` does, then yields, so a holder that
    /// was preempted gets its CPU back.
    #[derive(Debug, Default)]
    pub(crate) struct SpinLock<T>(spin::mutex::SpinMutex<T>);

    /// Contended checks of a [`SpinLock`] before each further one yields the CPU.
    const SPIN_LIMIT: u32 = 7;

    /// The guard of a [`SpinLock`].
    pub(crate) type SpinGuard<'a, T> = spin::mutex::SpinMutexGuard<'a, T>;

    impl<T> SpinLock<T> {
        pub(crate) fn new(value: T) -> Self {
            SpinLock(spin::mutex::SpinMutex::new(value))
        }
        #[inline]
        pub(crate) fn lock(&self) -> SpinGuard<'_, T> {
            match self.0.try_lock_weak() {
                Some(guard) => guard,
                None => self.lock_contended(),
            }
        }
        #[cold]
        fn lock_contended(&self) -> SpinGuard<'_, T> {
            let mut step = 0u32;
            loop {
                if !self.0.is_locked() {
                    if let Some(guard) = self.0.try_lock_weak() {
                        return guard;
                    }
                }
                if step < SPIN_LIMIT {
                    // Doubling pauses: a waiter that re-reads the lock word often takes its
                    // line away from the holder, which then waits for it to come back.
                    for _ in 0..1u32 << step {
                        std::hint::spin_loop();
                    }
                    step += 1;
                } else {
                    std::thread::yield_now();
                }
            }
        }
    }

    /// A condition variable paired with [`Mutex`].
    #[derive(Debug, Default)]
    pub(crate) struct Condvar(parking_lot::Condvar);

    impl Condvar {
        pub(crate) fn new() -> Self {
            Condvar(parking_lot::Condvar::new())
        }
        pub(crate) fn wait<'a, T>(&self, mut guard: MutexGuard<'a, T>) -> MutexGuard<'a, T> {
            self.0.wait(&mut guard);
            guard
        }
        /// Waits until notified or `deadline`; spurious wake-ups are possible, callers re-check.
        pub(crate) fn wait_until<'a, T>(
            &self,
            mut guard: MutexGuard<'a, T>,
            deadline: Instant,
        ) -> MutexGuard<'a, T> {
            self.0.wait_until(&mut guard, deadline);
            guard
        }
        pub(crate) fn notify_one(&self) {
            self.0.notify_one();
        }
        pub(crate) fn notify_all(&self) {
            self.0.notify_all();
        }
    }
}

#[cfg(loom)]
mod imp {
    use std::time::Instant;

    pub(crate) use loom::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
    pub(crate) use loom::sync::MutexGuard;

    // Poisoning needs a panic while locked; under loom a panic already fails the model.
    #[derive(Debug)]
    pub(crate) struct Mutex<T>(loom::sync::Mutex<T>);

    impl<T> Mutex<T> {
        pub(crate) fn new(value: T) -> Self {
            Mutex(loom::sync::Mutex::new(value))
        }
        pub(crate) fn lock(&self) -> MutexGuard<'_, T> {
            self.0.lock().unwrap()
        }
    }

    /// Under loom, a plain mutex: what is modelled is the mutual exclusion, not the spinning.
    #[derive(Debug)]
    pub(crate) struct SpinLock<T>(loom::sync::Mutex<T>);

    pub(crate) type SpinGuard<'a, T> = loom::sync::MutexGuard<'a, T>;

    impl<T> SpinLock<T> {
        pub(crate) fn new(value: T) -> Self {
            SpinLock(loom::sync::Mutex::new(value))
        }
        pub(crate) fn lock(&self) -> SpinGuard<'_, T> {
            self.0.lock().unwrap()
        }
    }

    #[derive(Debug)]
    pub(crate) struct Condvar(loom::sync::Condvar);

    impl Condvar {
        pub(crate) fn new() -> Self {
            Condvar(loom::sync::Condvar::new())
        }
        pub(crate) fn wait<'a, T>(&self, guard: MutexGuard<'a, T>) -> MutexGuard<'a, T> {
            self.0.wait(guard).unwrap()
        }
        // loom has no clock: a timed wait is modelled as a wait that may end at any point.
        pub(crate) fn wait_until<'a, T>(
            &self,
            guard: MutexGuard<'a, T>,
            _deadline: Instant,
        ) -> MutexGuard<'a, T> {
            self.0
                .wait_timeout(guard, std::time::Duration::ZERO)
                .unwrap()
                .0
        }
        pub(crate) fn notify_one(&self) {
            self.0.notify_one();
        }
        pub(crate) fn notify_all(&self) {
            self.0.notify_all();
        }
    }
}

pub(crate) use imp::*;
