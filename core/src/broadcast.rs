//! `BroadcastChannel`: one-to-many messaging between channels of the same name and origin.
//!
//! A process-wide registry maps (origin, name) to the open channels with that key, oldest
//! first. `post_message` picks the receivers under the registry lock — every other open channel
//! with the key, in creation order (R-BC-3, 4, 13) — and then, with no lock held, appends the
//! message to each receiver's [`Queue`] (the same queue ports and windows use), so notifiers
//! fire outside every lock. Receivers are fixed at that moment (R-BC-11); a receiver closed
//! before it takes the message discards it (R-BC-12). The registry holds `Weak` references
//! only, and a channel leaves it when closed or dropped, so nothing leaks.

use std::collections::HashMap;
use std::fmt;
use std::sync::{LazyLock, OnceLock};
use std::time::{Duration, Instant};

use crate::clone::{self, Graph};
use crate::close::{CloseNotice, CloseReason};
use crate::error::{Error, Result};
use crate::event::{MessageEvent, MessageEventType};
use crate::origin::Origin;
use crate::queue::{Notifier, Popped, Queue};
use crate::sync::{Arc, Mutex, Weak};

/// A channel name as the standard compares it: a DOMString, i.e. UTF-16 code units, matched
/// exactly with no normalization (R-BC-5); lone surrogates are kept (R-BC-2).
type Name = Vec<u16>;

type Registry = HashMap<(Origin, Name), Vec<Weak<ChannelInner>>>;

static REGISTRY: LazyLock<Mutex<Registry>> = LazyLock::new(|| Mutex::new(HashMap::new()));

/// The origin of channels created without one (see [`BroadcastChannel::new`]).
fn default_origin() -> Origin {
    static DEFAULT: OnceLock<Origin> = OnceLock::new();
    DEFAULT.get_or_init(Origin::opaque).clone()
}

/// How many broadcast channels are open and registered in this process right now. Tests use it
/// to prove that closed and dropped channels leave the registry.
pub fn live_broadcast_channels() -> usize {
    REGISTRY.lock().values().map(Vec::len).sum()
}

/// The queue's owner epoch: unlike a port's, this queue never changes owner.
const OWNER: u64 = 0;

/// One posted message, shared by all its receivers; the last one to take it gets the bytes
/// without a copy.
struct Broadcast {
    data: Vec<u8>,
    origin: String,
}

struct ChannelState {
    closed: bool,
}

struct ChannelInner {
    name: Name,
    origin: Origin,
    queue: Queue<Arc<Broadcast>, ChannelState>,
}

impl ChannelInner {
    /// Removes this channel (and any dead entries) from the registry. Must not be called with
    /// the registry locked; touches only `Weak`s, so it never runs a channel's `Drop`.
    fn unregister(&self) {
        let key = (self.origin.clone(), self.name.clone());
        let mut registry = REGISTRY.lock();
        if let Some(list) = registry.get_mut(&key) {
            list.retain(|w| !std::ptr::eq(w.as_ptr(), self) && w.strong_count() > 0);
            if list.is_empty() {
                registry.remove(&key);
            }
        }
    }

    fn is_closed(&self) -> bool {
        self.queue.with_ext(|st| st.closed)
    }
}

impl Drop for ChannelInner {
    fn drop(&mut self) {
        self.unregister();
    }
}

/// A `BroadcastChannel`: every other open channel with the same name and origin receives what
/// it posts.
///
/// Cloning gives another handle on the *same* channel; the channel closes and leaves the
/// registry when the last handle is dropped. Receiving works like a port's, except that the
/// queue is enabled from the start (R-BC-18): set a [`Notifier`] and pull with
/// [`try_recv`](Self::try_recv) or [`recv`](Self::recv). Every method takes `&self` and may be
/// called from any thread.
///
/// ```
/// use std::time::Duration;
/// use webmessaging_core::{BroadcastChannel, Origin};
///
/// let origin = Origin::parse("https://app.test")?;
/// let a = BroadcastChannel::new("jobs", Some(origin.clone()));
/// let b = BroadcastChannel::new("jobs", Some(origin));
/// a.post_message("hi")?;
/// let event = b.recv(Some(Duration::from_secs(1)))?;
/// assert_eq!((event.data.as_slice(), event.origin.as_str()), (&b"hi"[..], "https://app.test"));
/// assert!(a.try_recv()?.is_none()); // the sender does not get its own message
/// # Ok::<(), webmessaging_core::Error>(())
/// ```
#[derive(Clone)]
pub struct BroadcastChannel(Arc<ChannelInner>);

impl BroadcastChannel {
    /// `new BroadcastChannel(name)` in a context of `origin` (the standard keys channels by
    /// storage key; this library by origin).
    ///
    /// With `origin` `None`, the channel gets the process's default origin: one opaque origin
    /// made once per process. So channels created without an origin all talk to each other,
    /// and never to a channel of an explicit origin (a window's, say); it serializes as
    /// `"null"` in events. Pass [`crate::Window::origin`] to join a window's channels.
    pub fn new(name: &str, origin: Option<Origin>) -> BroadcastChannel {
        BroadcastChannel::new_utf16(&name.encode_utf16().collect::<Vec<_>>(), origin)
    }

    /// [`new`](Self::new) with the name as UTF-16 code units, for bindings whose strings may
    /// hold lone surrogates (JavaScript, Python): such names round-trip and match exactly.
    pub fn new_utf16(name: &[u16], origin: Option<Origin>) -> BroadcastChannel {
        let origin = origin.unwrap_or_else(default_origin);
        let inner = Arc::new(ChannelInner {
            name: name.to_vec(),
            origin: origin.clone(),
            queue: Queue::new(ChannelState { closed: false }, true),
        });
        // Appending under the lock makes the list order the creation order (R-BC-13).
        REGISTRY
            .lock()
            .entry((origin, name.to_vec()))
            .or_default()
            .push(Arc::downgrade(&inner));
        BroadcastChannel(inner)
    }

    /// The channel name, unchanged (R-BC-2); lone surrogates show as U+FFFD here, see
    /// [`name_utf16`](Self::name_utf16).
    pub fn name(&self) -> String {
        String::from_utf16_lossy(&self.0.name)
    }

    /// The channel name as the UTF-16 code units it was created with.
    pub fn name_utf16(&self) -> &[u16] {
        &self.0.name
    }

    /// The origin this channel belongs to.
    pub fn origin(&self) -> Origin {
        self.0.origin.clone()
    }

    /// Posts `data` (a serialized value; there is no transfer list) to every *other* open
    /// channel with the same name and origin, oldest first (R-BC-3, 4, 5, 13). Receivers are
    /// those open now (R-BC-11).
    ///
    /// Errors: [`Error::InvalidStateError`] after [`close`](Self::close) (R-BC-7).
    pub fn post_message(&self, data: impl Into<Vec<u8>>) -> Result<()> {
        if self.0.is_closed() {
            return Err(Error::invalid_state("the BroadcastChannel is closed"));
        }
        let receivers: Vec<Arc<ChannelInner>> = {
            let registry = REGISTRY.lock();
            let key = (self.0.origin.clone(), self.0.name.clone());
            registry
                .get(&key)
                .map(|list| {
                    list.iter()
                        .filter(|w| !std::ptr::eq(w.as_ptr(), &*self.0))
                        .filter_map(Weak::upgrade)
                        .collect()
                })
                .unwrap_or_default()
        };
        // The registry lock is released: pushing fires notifiers, and dropping `receivers`
        // may run a channel's `Drop`, which takes the registry lock.
        let data = data.into();
        let bytes = data.len();
        let message = Arc::new(Broadcast {
            data,
            origin: self.0.origin.ascii_serialization(),
        });
        for receiver in &receivers {
            // Rejected (closed since it was picked) means it gets nothing, which is right.
            let _ = receiver
                .queue
                .push(message.clone(), bytes, false, |st| !st.closed);
        }
        Ok(())
    }

    /// [`post_message`](Self::post_message) with a value graph, serialized by
    /// [`crate::clone::encode`]. Errors, in the standard's order: `InvalidStateError` when
    /// closed (R-BC-7), then `DataCloneError` from the serializer, e.g. for a MessagePort in the
    /// value (R-BC-10); nothing is sent on error.
    pub fn post_value(&self, graph: &Graph) -> Result<()> {
        if self.0.is_closed() {
            return Err(Error::invalid_state("the BroadcastChannel is closed"));
        }
        self.post_message(clone::encode(graph)?)
    }

    /// Closes the channel (R-BC-19): it leaves the registry, receives nothing more, and
    /// messages already queued but not taken are discarded (R-BC-12). Later posts from it fail
    /// with `InvalidStateError`. Idempotent; never fails.
    pub fn close(&self) {
        let notice = CloseNotice {
            reason: CloseReason::Closed,
            by_peer: false,
        };
        if self
            .0
            .queue
            .end(notice, |st| !std::mem::replace(&mut st.closed, true))
        {
            self.0.unregister();
            // Free the discarded messages now rather than when the handle goes (outside the
            // lock: nothing in them is user code, but they are dropped like any payload).
            drop(self.0.queue.take_items());
            // The close record has fired the notifier; dropping it now breaks any cycle
            // through a notifier that captured this channel.
            self.0.queue.set_notifier(None);
        }
    }

    /// Whether [`close`](Self::close) was called.
    pub fn is_closed(&self) -> bool {
        self.0.is_closed()
    }

    /// Takes the next message without waiting: `Ok(None)` when none is queued;
    /// [`Error::Closed`] once the channel is closed.
    pub fn try_recv(&self) -> Result<Option<MessageEvent>> {
        loop {
            match self.0.queue.try_pop(OWNER) {
                Popped::Item(message) => {
                    if let Some(event) = self.deliver(message) {
                        return Ok(Some(event));
                    }
                }
                Popped::Empty | Popped::Moved => return Ok(None),
                Popped::End(notice) => return Err(Error::Closed(notice)),
            }
        }
    }

    /// Takes the next message, waiting up to `timeout` (`None`: until one arrives or the
    /// channel is closed). Errors: [`Error::Timeout`]; [`Error::Closed`] once closed.
    pub fn recv(&self, timeout: Option<Duration>) -> Result<MessageEvent> {
        let deadline = timeout.and_then(|t| Instant::now().checked_add(t));
        loop {
            match self.0.queue.pop_until(OWNER, deadline) {
                Popped::Item(message) => {
                    if let Some(event) = self.deliver(message) {
                        return Ok(event);
                    }
                }
                Popped::Empty | Popped::Moved => return Err(Error::Timeout),
                Popped::End(notice) => return Err(Error::Closed(notice)),
            }
        }
    }

    /// Installs (or with `None` removes) the channel's [`Notifier`]. The queue is enabled from
    /// the start, so it fires at once if messages are waiting (R-BC-18). It fires once more
    /// for [`close`](Self::close), which then removes it.
    ///
    /// A notifier that captures a clone of this channel keeps the channel open and receiving
    /// after every other handle is dropped — the standard's keep-alive for a channel with a
    /// listener — until `close()` is called.
    pub fn set_notifier(&self, notifier: Option<Notifier>) {
        self.0.queue.set_notifier(notifier);
    }

    /// The delivery task (step 7): nothing if the channel was closed since the post.
    fn deliver(&self, message: Arc<Broadcast>) -> Option<MessageEvent> {
        if self.0.is_closed() {
            return None;
        }
        let (data, origin) = match Arc::try_unwrap(message) {
            Ok(Broadcast { data, origin }) => (data, origin),
            Err(shared) => (shared.data.clone(), shared.origin.clone()),
        };
        Some(MessageEvent {
            event_type: MessageEventType::Message,
            data,
            array_buffers: Vec::new(),
            origin,
            last_event_id: String::new(),
            source: None,
            ports: Vec::new(),
        })
    }
}

impl PartialEq for BroadcastChannel {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl Eq for BroadcastChannel {}

impl fmt::Debug for BroadcastChannel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BroadcastChannel")
            .field("name", &self.name())
            .field("origin", &self.0.origin)
            .field("closed", &self.is_closed())
            .finish()
    }
}
