//! Hubs: where port notifications are turned into Python work.
//!
//! The core calls a port's notifier on whichever thread made the port readable, with no lock
//! held and with or without the interpreter attached. The notifier therefore never touches Python:
//! it appends the port to a [`Hub`]'s ready list and, on the first entry of a batch, wakes the
//! hub's consumer once — a condition variable for the library dispatcher thread, a byte on a
//! socket pair for an asyncio loop (`loop.add_reader`). The consumer then runs [`Hub::run`] with
//! the interpreter attached: it resolves `recv_async` futures and calls `onmessage` handlers,
//! draining each port in order. One wake-up per batch, never one per message.
//!
//! The hub's lock and condition variable are `std`'s (futex-based) rather than `parking_lot`'s:
//! after `fork()`, parking_lot's user-space queue of waiters would still list the parent's dead
//! dispatcher thread, and the child's first wake-up would go to it and be lost. The kernel's
//! futex queue only holds live threads, so the child's new dispatcher thread (started by
//! [`crate::dispatch`] after a fork) is woken.

use std::collections::VecDeque;
use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError, Weak};

use pyo3::prelude::*;
use webmessaging_python_macros::catch_panics;

use crate::receiver::Receiver;

/// How a hub wakes its consumer.
enum Wake {
    /// The library dispatcher thread waits on the hub's condition variable.
    Thread,
    /// An asyncio loop watches the read end with `add_reader`; the notifier writes one byte.
    Socket {
        reader: UnixStream,
        writer: UnixStream,
    },
}

#[derive(Default)]
struct HubState {
    ready: VecDeque<Arc<Receiver>>,
    /// A wake-up was sent and the consumer has not taken the batch yet.
    signaled: bool,
    closed: bool,
}

pub(crate) struct HubCore {
    state: Mutex<HubState>,
    cond: Condvar,
    wake: Wake,
    /// Ports whose `onmessage` was set to run here (weak; dead entries are pruned as the list
    /// grows): after a fork, the child's new consumer re-serves them all.
    listeners: Mutex<Vec<Weak<Receiver>>>,
}

fn unpoisoned<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl HubCore {
    /// The hub state; a panic elsewhere never poisons it for good (the fields stay consistent:
    /// each critical section is a plain field update).
    fn lock(&self) -> MutexGuard<'_, HubState> {
        unpoisoned(&self.state)
    }

    /// Records that `port`'s `onmessage` runs on this hub (see [`Hub::after_fork_in_child`]).
    pub(crate) fn add_listener(&self, port: &Arc<Receiver>) {
        let mut list = unpoisoned(&self.listeners);
        if list.len() == list.capacity() {
            // Amortized O(1): prune the dead and the duplicates only when the list would grow.
            list.retain(|w| w.strong_count() > 0);
            list.sort_by_key(|w| w.as_ptr());
            list.dedup_by(|a, b| a.ptr_eq(b));
        }
        list.push(Arc::downgrade(port));
    }

    /// Queues `port` for the consumer; called from notifiers on any thread, without Python.
    pub(crate) fn push(&self, port: Arc<Receiver>) {
        let wake = {
            let mut st = self.lock();
            if st.closed {
                return;
            }
            st.ready.push_back(port);
            !std::mem::replace(&mut st.signaled, true)
        };
        if wake {
            match &self.wake {
                Wake::Thread => {
                    self.cond.notify_one();
                }
                // A full socket buffer already means "wake up": ignore WouldBlock.
                Wake::Socket { writer, .. } => {
                    let _ = (&*writer).write(&[1]).ok();
                }
            }
        }
    }

    fn take(&self) -> VecDeque<Arc<Receiver>> {
        let mut st = self.lock();
        st.signaled = false;
        std::mem::take(&mut st.ready)
    }
}

/// A place where onmessage handlers and recv_async futures run: the library dispatcher thread
/// or one asyncio event loop (private; chosen by [`crate::dispatch`]).
#[pyclass(module = "webmessaging._native", frozen)]
pub(crate) struct Hub {
    pub(crate) core: Arc<HubCore>,
}

impl Hub {
    /// A condition-variable hub for a dispatcher thread, or with `socket` a hub whose
    /// [`Hub::fileno`] becomes readable when there is work.
    pub(crate) fn new(socket: bool) -> std::io::Result<Self> {
        let wake = if socket {
            let (reader, writer) = UnixStream::pair()?;
            reader.set_nonblocking(true)?;
            writer.set_nonblocking(true)?;
            Wake::Socket { reader, writer }
        } else {
            Wake::Thread
        };
        Ok(Hub {
            core: Arc::new(HubCore {
                state: Mutex::new(HubState::default()),
                cond: Condvar::new(),
                wake,
                listeners: Mutex::new(Vec::new()),
            }),
        })
    }

    /// The file descriptor an event loop should watch (socket hubs only).
    pub(crate) fn fileno(&self) -> Option<i32> {
        use std::os::fd::AsRawFd;
        match &self.core.wake {
            Wake::Socket { reader, .. } => Some(reader.as_raw_fd()),
            Wake::Thread => None,
        }
    }

    /// Blocks (with the interpreter released) until there is work or the hub is closed.
    /// Returns `false` once the hub is closed.
    fn wait(&self, py: Python<'_>) -> bool {
        let core = self.core.clone();
        py.detach(move || {
            let mut st = core.lock();
            while st.ready.is_empty() && !st.closed {
                st = core.cond.wait(st).unwrap_or_else(PoisonError::into_inner);
            }
            !st.closed
        })
    }

    /// Runs one batch: every port that became ready resolves its futures on this hub and
    /// dispatches its messages to its onmessage handler.
    fn run_batch(&self, py: Python<'_>) {
        if let Wake::Socket { reader, .. } = &self.core.wake {
            let mut buf = [0u8; 256];
            while matches!((&*reader).read(&mut buf), Ok(n) if n > 0) {}
        }
        for port in self.core.take() {
            port.serve(py, &self.core);
        }
    }

    /// In a forked child, before its new dispatcher thread starts (the child's only thread):
    /// the parent's dispatcher may have been inside a batch when the process forked, leaving
    /// ports marked as being dispatched or taken from the ready list but never served. Clears
    /// those marks and queues every listening port once (a port with nothing waiting is a no-op).
    pub(crate) fn after_fork_in_child(&self) {
        let ports: Vec<Arc<Receiver>> = unpoisoned(&self.core.listeners)
            .iter()
            .filter_map(Weak::upgrade)
            .collect();
        for port in ports {
            port.after_fork();
            self.core.push(port);
        }
    }
}

#[catch_panics]
#[pymethods]
impl Hub {
    /// The body of the dispatcher thread (its `threading.Thread` target): serves batches until
    /// the hub is closed. A failure of one batch is reported and the thread goes on.
    fn _serve(slf: &Bound<'_, Self>) {
        let py = slf.py();
        let hub = slf.get();
        while hub.wait(py) {
            let batch = crate::panics::guard(|| {
                hub.run_batch(py);
                Ok(())
            });
            if let Err(e) = batch {
                e.write_unraisable(py, Some(slf.as_any()));
            }
        }
    }

    /// Runs one batch (an asyncio loop's `add_reader` callback).
    fn run(&self, py: Python<'_>) {
        self.run_batch(py);
    }

    /// Stops the hub: queued work is dropped and `wait` returns `False`.
    fn close(&self) {
        let dropped = {
            let mut st = self.core.lock();
            st.closed = true;
            std::mem::take(&mut st.ready)
        };
        self.core.cond.notify_all();
        drop(dropped);
    }
}
