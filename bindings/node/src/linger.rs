//! Lingering: when a wake-up's deliveries are done and the event loop has nothing else to do,
//! the env's thread keeps watching its ready list and its loop for a short window (yielding its
//! CPU between two looks) before it lets the loop sleep. A message that comes inside the window
//! is delivered at once, without the sleep and the wake-up through the kernel (most of a round
//! trip between two threads), and its sender skips the wake-up's system call, since the thread
//! is watching. The thread stops lingering the moment anything else is pending for its loop
//! (any I/O, Node's own ports, an immediate, a timer that is due), so no other callback waits
//! on it longer than one look; it goes back to the loop after 1 ms (`BUDGET`) of deliveries caught
//! this way; and it stops lingering altogether after three (`MISSES`) windows in a row that caught
//! nothing, until messages come close together again: a thread that gets a message now and
//! then pays nothing.

use std::cell::Cell;
use std::ffi::c_void;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::{Duration, Instant};

use crate::env::{uv, EnvShared, Uv};

/// The window when neither `setLinger` nor `WEBMESSAGING_LINGER_US` says otherwise: long
/// enough for a message to reach another thread and its reply to come back (two hand-offs of
/// about 10 µs each on a small VM), short enough that a miss costs little.
const DEFAULT_US: u64 = 50;

/// The longest window `setLinger` accepts (a millisecond: lingering is for replies that come
/// at once, not a substitute for sleeping).
pub const MAX_US: u64 = 1000;

/// Windows in a row that caught nothing before the thread stops lingering.
const MISSES: u32 = 3;

/// How long one wake-up may go on delivering what lingering catches before the event loop gets
/// its turn (its timers are only checked between two turns).
const BUDGET: Duration = Duration::from_millis(1);

/// The window in nanoseconds, for every env of the process (`u64::MAX`: not read yet).
static WINDOW_NS: AtomicU64 = AtomicU64::new(u64::MAX);

/// The window: `WEBMESSAGING_LINGER_US` if set (a whole number of microseconds up to
/// [`MAX_US`]), else [`DEFAULT_US`], or 0 on a machine with one CPU (there the thread that would
/// answer cannot run while this one looks).
fn window_ns() -> u64 {
    let ns = WINDOW_NS.load(Relaxed);
    if ns != u64::MAX {
        return ns;
    }
    let us = std::env::var("WEBMESSAGING_LINGER_US")
        .ok()
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(|us| us.min(MAX_US))
        .unwrap_or_else(|| {
            let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
            if cpus > 1 {
                DEFAULT_US
            } else {
                0
            }
        });
    // A `set` that raced with this first read wins.
    let _ = WINDOW_NS.compare_exchange(u64::MAX, us * 1000, Relaxed, Relaxed);
    WINDOW_NS.load(Relaxed)
}

/// One env's lingering state (on its thread only).
#[derive(Default)]
pub(crate) struct Linger {
    /// Windows in a row that caught nothing.
    misses: Cell<u32>,
    /// When the last wake-up ended.
    ended: Cell<Option<Instant>>,
}

thread_local! {
    /// Windows that caught something, and windows that did not, on this thread (for tests).
    static COUNTS: Cell<(u64, u64)> = const { Cell::new((0, 0)) };
}

impl Linger {
    /// At the start of a wake-up; returns when it began. One that came within a window of the
    /// last one's end is what lingering catches, so a thread that had stopped lingering starts
    /// again.
    pub(crate) fn woke(&self) -> Instant {
        let now = Instant::now();
        if let Some(ended) = self.ended.get() {
            if (now.duration_since(ended).as_nanos() as u64) < window_ns() {
                self.misses.set(0);
            }
        }
        now
    }

    /// After a wake-up's deliveries (it began at `woke`), on `event_loop`'s thread, inside its
    /// callback: watches `env`'s ready list and the loop for up to a window while the loop has
    /// nothing else to do. Returns true when something became ready for the env: the caller
    /// delivers it now.
    pub(crate) fn linger(&self, env: &EnvShared, event_loop: *const c_void, woke: Instant) -> bool {
        let window = window_ns();
        let mut seen = None;
        let mut watched = false;
        if window > 0 && self.misses.get() < MISSES && woke.elapsed() < BUDGET {
            if let Ok(uv) = uv() {
                env.set_lingering(true);
                watched = true;
                // SAFETY: the loop is this thread's own, alive while its callback runs.
                seen = unsafe { watch(uv, env, event_loop, Duration::from_nanos(window)) };
                env.set_lingering(false);
                if let Some(seen) = seen {
                    let caught = seen != Seen::Nothing;
                    COUNTS.with(|c| {
                        let (hits, misses) = c.get();
                        c.set(if caught {
                            (hits + 1, misses)
                        } else {
                            (hits, misses + 1)
                        });
                    });
                    self.misses
                        .set(if caught { 0 } else { self.misses.get() + 1 });
                }
            }
        }
        self.ended.set(Some(Instant::now()));
        if seen == Some(Seen::Ours) {
            return true;
        }
        // A post that came as the thread stopped lingering skipped its wake-up: send it.
        if watched && env.has_ready() {
            env.wake_up();
        }
        false
    }
}

/// What a lingering thread saw.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Seen {
    /// Something ready for the env.
    Ours,
    /// Something else pending for the loop.
    Other,
    /// Nothing, for the whole window.
    Nothing,
}

/// Looks at `env`'s ready list and the loop until something is pending or `window` has passed.
/// Returns None at once when the loop would not sleep anyway (an immediate, an idle handle or a
/// due timer), or when it cannot be looked at.
///
/// # Safety
/// `event_loop` is the calling thread's running loop.
unsafe fn watch(
    uv: &Uv,
    env: &EnvShared,
    event_loop: *const c_void,
    window: Duration,
) -> Option<Seen> {
    // SAFETY: plain libuv queries on the thread's own loop.
    let (fd, timeout) = unsafe {
        (
            (uv.backend_fd)(event_loop),
            (uv.backend_timeout)(event_loop),
        )
    };
    if fd < 0 || timeout == 0 {
        return None;
    }
    let deadline = Instant::now() + window;
    loop {
        if env.has_ready() {
            return Some(Seen::Ours);
        }
        let mut pfd = libc::pollfd {
            fd,
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: one valid pollfd, no wait. The loop's backend (an epoll descriptor) is
        // readable when any descriptor the loop watches has an event, its own wake-up included.
        match unsafe { libc::poll(&mut pfd, 1, 0) } {
            0 => {}
            1 => return Some(Seen::Other),
            _ => return None, // interrupted, or no longer a descriptor: let the loop run
        }
        if Instant::now() >= deadline {
            return Some(Seen::Nothing);
        }
        // Lets a thread waiting for this CPU (often the one about to answer) run meanwhile.
        std::thread::yield_now();
    }
}

/// Sets the window, in microseconds, for every thread of the process (0 turns lingering off;
/// at most [`MAX_US`]) and returns the previous one. (JS: `setLinger`, which checks the
/// argument; see lib/linger.js.)
#[napi_derive::napi(js_name = "setLinger")]
pub fn set_linger(microseconds: u32) -> u32 {
    let previous = window_ns();
    WINDOW_NS.store(u64::from(microseconds).min(MAX_US) * 1000, Relaxed);
    (previous / 1000) as u32
}

/// This thread's counts of lingering windows that caught something and that did not (for the
/// tests).
#[napi_derive::napi(js_name = "lingerCounts")]
pub fn linger_counts() -> Vec<f64> {
    let (hits, misses) = COUNTS.with(Cell::get);
    vec![hits as f64, misses as f64]
}
