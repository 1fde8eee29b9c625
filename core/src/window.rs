//! `Window`: a stand-in for a browsing context with an origin, and `window.postMessage`.
//!
//! A window owns one always-enabled event queue (the crate's [`Queue`], shared with ports and
//! broadcast channels). `post_message` does everything the standard does synchronously —
//! resolve `targetOrigin`, check and detach the transfer list — and queues the message with
//! its resolved target origin. The origin check runs when the message is *taken* from the
//! queue, against the window's origin at that moment (R-WIN-8), so a window that navigates to
//! another origin after the post does not get it. Messages that fail the check are dropped
//! silently, their ports dropped (closed) with no lock held.
//!
//! Ownership: [`Window`] handles are strong; the host that created the window decides its
//! lifetime. Everything that merely *refers* to a window — the `source` of an event, a message
//! waiting in a queue — holds a [`WindowProxy`], which is weak. So a window posting to itself,
//! or two windows posting to each other, never forms an `Arc` cycle, and a window whose host
//! dropped it behaves like a closed browsing context: posting to its proxy still validates and
//! detaches, then drops the message silently.

mod delivery;
mod target;
mod value;

use std::fmt;

use crate::error::Result;
use crate::origin::Origin;
use crate::port::{check_transfer_list, detach_for_transfer, Envelope, MessagePort, Payload};
use crate::queue::{Notifier, Queue, QueueMetrics};
use crate::sync::{Arc, Weak};

pub use target::TargetOrigin;

/// The queue's owner epoch: unlike a port's, this queue never changes owner.
const OWNER: u64 = 0;

/// A window's state besides its queue, under the queue's lock.
struct WindowState {
    /// The origin of the window's current document; changed by [`Window::navigate`].
    origin: Origin,
    /// Messages dropped at delivery because the origin did not match.
    origin_mismatches: u64,
}

/// A message waiting in a window's queue.
struct Posted {
    envelope: Envelope,
    target_origin: TargetOrigin,
    source: Weak<WindowInner>,
    /// The source's serialized origin when it posted (the incumbent's origin, step 6.2).
    source_origin: String,
}

struct WindowInner {
    queue: Queue<Posted, WindowState>,
}

/// A browsing context stand-in: an origin, an event queue and a notifier.
///
/// Cloning gives another strong handle on the *same* window; the window goes away when the
/// last one is dropped (messages still queued are dropped with it, closing their ports).
/// Every method takes `&self` and may be called from any thread.
///
/// ```
/// use std::time::Duration;
/// use webmessaging_core::{Origin, Window};
///
/// let parent = Window::new(Origin::parse("https://app.test")?);
/// let child = Window::new(Origin::parse("https://widget.test")?);
/// child.post_message("hi", "https://widget.test", &[], &parent)?;
/// let event = child.recv(Some(Duration::from_secs(1)))?;
/// assert_eq!(event.origin, "https://app.test");
/// // Reply through the event's source.
/// if let Some(source) = &event.source {
///     source.post_message("hello back", &event.origin, &[], &child)?;
/// }
/// assert_eq!(parent.recv(Some(Duration::from_secs(1)))?.data, b"hello back");
/// # Ok::<(), webmessaging_core::Error>(())
/// ```
#[derive(Clone)]
pub struct Window(Arc<WindowInner>);

/// A weak handle to a [`Window`]: the standard's `WindowProxy` as seen in an event's `source`.
///
/// It can post to the window while the window exists; once its host dropped the window,
/// posting still validates `targetOrigin` and detaches transferred ports, then drops the message
/// silently, as posting to a closed browsing context does.
#[derive(Clone)]
pub struct WindowProxy(Weak<WindowInner>);

/// The options dictionary of `postMessage(message, options)` (R-WIN-1, R-WIN-2).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WindowPostMessageOptions {
    /// `targetOrigin`; defaults to `"/"` (the sender's own origin).
    pub target_origin: String,
    /// Ports to transfer, in order.
    pub transfer: Vec<MessagePort>,
}

impl Default for WindowPostMessageOptions {
    fn default() -> Self {
        WindowPostMessageOptions {
            target_origin: "/".to_owned(),
            transfer: Vec::new(),
        }
    }
}

/// Counters of one window's queue (beyond the standard).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct WindowMetrics {
    /// The queue's counters; `delivered` counts messages taken, delivered or dropped.
    pub queue: QueueMetrics,
    /// Messages dropped at delivery because the window's origin did not match.
    pub origin_mismatches: u64,
}

impl Window {
    /// Creates a window whose document has `origin`. Its queue is always enabled: a notifier
    /// fires as soon as one is set and something is queued.
    pub fn new(origin: Origin) -> Window {
        let state = WindowState {
            origin,
            origin_mismatches: 0,
        };
        Window(Arc::new(WindowInner {
            queue: Queue::new(state, true),
        }))
    }

    /// The origin of the window's current document.
    pub fn origin(&self) -> Origin {
        self.0.queue.with_ext(|st| st.origin.clone())
    }

    /// Navigates the window to a document of `origin`. Messages already queued are checked
    /// against the new origin when they are delivered (R-WIN-8).
    pub fn navigate(&self, origin: Origin) {
        self.0.queue.with_ext(|st| st.origin = origin);
    }

    /// A weak handle to this window (what events carry as `source`).
    pub fn proxy(&self) -> WindowProxy {
        WindowProxy(Arc::downgrade(&self.0))
    }

    /// `postMessage(message, targetOrigin, transfer)` on this window, sent by `source` (the
    /// caller's own window, whose origin the event will carry).
    ///
    /// Steps, in the standard's order: `target_origin` is resolved ([`TargetOrigin::parse`]:
    /// `SyntaxError` on failure, R-WIN-5); the transfer list is checked (`DataCloneError` for a
    /// port listed twice or one that is closed or already transferred, R-WIN-10) and its ports
    /// detached — even if the message will be dropped later (R-WIN-11); the message is queued.
    /// Delivery happens later, when the receiver takes it (R-WIN-17).
    ///
    /// `payload` is already serialized; a binding that serializes lazily should call
    /// [`TargetOrigin::parse`] first and then [`post_message_to`](Self::post_message_to), so a
    /// bad target origin fails before any getter runs.
    pub fn post_message(
        &self,
        payload: impl Into<Payload>,
        target_origin: &str,
        transfer: &[MessagePort],
        source: &Window,
    ) -> Result<()> {
        self.proxy()
            .post_message(payload, target_origin, transfer, source)
    }

    /// `postMessage(message, options)`; identical to [`post_message`](Self::post_message) with
    /// the options' `targetOrigin` (default `"/"`) and transfer list (R-WIN-1, R-WIN-2).
    pub fn post_message_with_options(
        &self,
        payload: impl Into<Payload>,
        options: &WindowPostMessageOptions,
        source: &Window,
    ) -> Result<()> {
        self.post_message(payload, &options.target_origin, &options.transfer, source)
    }

    /// Posts with an already resolved [`TargetOrigin`] (see [`post_message`](Self::post_message)).
    pub fn post_message_to(
        &self,
        payload: impl Into<Payload>,
        target_origin: &TargetOrigin,
        transfer: &[MessagePort],
        source: &Window,
    ) -> Result<()> {
        self.proxy()
            .post_message_to(payload, target_origin, transfer, source)
    }

    /// Installs (or with `None` removes) the window's [`Notifier`]. The queue is always
    /// enabled, so it fires at once if events are waiting. A notifier that needs the window
    /// should capture [`proxy`](Self::proxy), not a `Window`: the window owns its notifier, so
    /// a captured `Window` would keep the window alive forever.
    pub fn set_notifier(&self, notifier: Option<Notifier>) {
        self.0.queue.set_notifier(notifier);
    }

    /// Counters of this window's queue.
    pub fn metrics(&self) -> WindowMetrics {
        WindowMetrics {
            queue: self.0.queue.metrics(),
            origin_mismatches: self.0.queue.with_ext(|st| st.origin_mismatches),
        }
    }
}

/// The window post message steps up to queuing; `target` is `None` when the window is gone.
fn post(
    target: Option<&Arc<WindowInner>>,
    payload: Payload,
    target_origin: TargetOrigin,
    transfer: &[MessagePort],
    source: &Window,
) -> Result<()> {
    check_transfer_list(None, transfer)?;
    let source_origin = source.origin().ascii_serialization();
    let ports = detach_for_transfer(transfer)?;
    let envelope = Envelope::new(payload, ports);
    let Some(target) = target else {
        // A closed browsing context: the transfer happened, the message goes nowhere.
        drop(envelope);
        return Ok(());
    };
    let bytes = envelope.byte_len();
    let posted = Posted {
        envelope,
        target_origin,
        source: Arc::downgrade(&source.0),
        source_origin,
    };
    // A window's queue has no end record, so this is always admitted; if it ever were not, the
    // message is dropped here, after the queue lock is released.
    drop(target.queue.push(posted, bytes, false, |_| true));
    Ok(())
}

impl WindowProxy {
    /// The window, if its host has not dropped it. The returned handle is strong: holding it
    /// keeps the window alive.
    pub fn window(&self) -> Option<Window> {
        self.0.upgrade().map(Window)
    }

    /// Whether the window is gone (its host dropped every [`Window`] handle).
    pub fn is_closed(&self) -> bool {
        self.0.strong_count() == 0
    }

    /// [`Window::post_message`] through this proxy (how a receiver replies to `event.source`).
    pub fn post_message(
        &self,
        payload: impl Into<Payload>,
        target_origin: &str,
        transfer: &[MessagePort],
        source: &Window,
    ) -> Result<()> {
        let target_origin = TargetOrigin::parse(target_origin, &source.origin())?;
        self.post_message_to(payload, &target_origin, transfer, source)
    }

    /// [`Window::post_message_with_options`] through this proxy.
    pub fn post_message_with_options(
        &self,
        payload: impl Into<Payload>,
        options: &WindowPostMessageOptions,
        source: &Window,
    ) -> Result<()> {
        self.post_message(payload, &options.target_origin, &options.transfer, source)
    }

    /// [`Window::post_message_to`] through this proxy.
    pub fn post_message_to(
        &self,
        payload: impl Into<Payload>,
        target_origin: &TargetOrigin,
        transfer: &[MessagePort],
        source: &Window,
    ) -> Result<()> {
        post(
            self.0.upgrade().as_ref(),
            payload.into(),
            target_origin.clone(),
            transfer,
            source,
        )
    }
}

impl PartialEq for Window {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl Eq for Window {}

impl PartialEq for WindowProxy {
    fn eq(&self, other: &Self) -> bool {
        Weak::ptr_eq(&self.0, &other.0)
    }
}

impl Eq for WindowProxy {}

impl PartialEq<Window> for WindowProxy {
    fn eq(&self, other: &Window) -> bool {
        std::ptr::eq(self.0.as_ptr(), Arc::as_ptr(&other.0))
    }
}

impl PartialEq<WindowProxy> for Window {
    fn eq(&self, other: &WindowProxy) -> bool {
        other == self
    }
}

impl fmt::Debug for Window {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Window")
            .field("origin", &self.origin())
            .finish()
    }
}

impl fmt::Debug for WindowProxy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.window() {
            Some(w) => f.debug_tuple("WindowProxy").field(&w).finish(),
            None => f.write_str("WindowProxy(closed)"),
        }
    }
}
