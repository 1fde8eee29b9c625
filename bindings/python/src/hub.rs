//! Hubs: where port notifications are turned into Python work.
//!
//! The core calls a port's notifier on whichever thread made the port readable, with no lock
//! held and with or without the interpreter attached. The notifier therefore never touches Python:
//! it appends the port to a [`Hub`]'s ready list and, on the first entry of a batch, wakes the
//! hub's consumer once — a condition variable for the library dispatcher thread, a byte on a
//! socket pair for an asyncio loop (`loop.add_reader`). The consumer then runs [`Hub::run`] with
//! the interpreter attached: it resolves `recv_async` futures and calls `onmessage` handlers,
//! draining each port in order. One wake-up per batch, never one per message.

use std::collections::VecDeque;
use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::{Condvar, Mutex};
use pyo3::prelude::*;
use webmessaging_python_macros::catch_panics;

use crate::port::PortShared;

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
    ready: VecDeque<Arc<PortShared>>,
    /// A wake-up was sent and the consumer has not taken the batch yet.
    signaled: bool,
    closed: bool,
}

pub(crate) struct HubCore {
    state: Mutex<HubState>,
    cond: Condvar,
    wake: Wake,
}

impl HubCore {
    /// Queues `port` for the consumer; called from notifiers on any thread, without Python.
    pub(crate) fn push(&self, port: Arc<PortShared>) {
        let wake = {
            let mut st = self.state.lock();
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

    fn take(&self) -> VecDeque<Arc<PortShared>> {
        let mut st = self.state.lock();
        st.signaled = false;
        std::mem::take(&mut st.ready)
    }
}

/// A place where onmessage handlers and recv_async futures run: the library dispatcher thread
/// or one asyncio event loop (private; used by `webmessaging._dispatch`).
#[pyclass(module = "webmessaging._native", frozen)]
pub(crate) struct Hub {
    pub(crate) core: Arc<HubCore>,
}

#[catch_panics]
#[pymethods]
impl Hub {
    /// `Hub(socket=False)`: a condition-variable hub for a dispatcher thread, or with
    /// `socket=True` a hub whose `fileno()` becomes readable when there is work.
    #[new]
    #[pyo3(signature = (socket = false))]
    fn new(socket: bool) -> PyResult<Self> {
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
            }),
        })
    }

    /// The file descriptor an event loop should watch (socket hubs only).
    fn fileno(&self) -> PyResult<i32> {
        use std::os::fd::AsRawFd;
        match &self.core.wake {
            Wake::Socket { reader, .. } => Ok(reader.as_raw_fd()),
            Wake::Thread => Err(pyo3::exceptions::PyValueError::new_err("not a socket hub")),
        }
    }

    /// Blocks (with the interpreter released) until there is work, the timeout passes or the
    /// hub is closed. Returns `False` once the hub is closed.
    #[pyo3(signature = (timeout = None))]
    fn wait(&self, py: Python<'_>, timeout: Option<f64>) -> bool {
        let core = self.core.clone();
        let deadline = timeout.map(|t| Instant::now() + Duration::from_secs_f64(t.max(0.0)));
        py.detach(move || {
            let mut st = core.state.lock();
            while st.ready.is_empty() && !st.closed {
                match deadline {
                    Some(d) => {
                        if core.cond.wait_until(&mut st, d).timed_out() {
                            break;
                        }
                    }
                    None => core.cond.wait(&mut st),
                }
            }
            !st.closed
        })
    }

    /// Runs one batch: every port that became ready resolves its futures on this hub and
    /// dispatches its messages to its onmessage handler. Returns how many ports were served.
    fn run(&self, py: Python<'_>) -> usize {
        if let Wake::Socket { reader, .. } = &self.core.wake {
            let mut buf = [0u8; 256];
            while matches!((&*reader).read(&mut buf), Ok(n) if n > 0) {}
        }
        let batch = self.core.take();
        let n = batch.len();
        for port in batch {
            port.serve(py, &self.core);
        }
        n
    }

    /// Stops the hub: queued work is dropped and `wait` returns `False`.
    fn close(&self) {
        let dropped = {
            let mut st = self.core.state.lock();
            st.closed = true;
            std::mem::take(&mut st.ready)
        };
        self.core.cond.notify_all();
        drop(dropped);
    }
}
