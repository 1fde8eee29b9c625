//! `MessagePort`: a handle on a mailbox, entangled with a peer mailbox.
//!
//! A port *is* a mailbox (docs/architecture.md): a sender appends to its peer's mailbox, never to
//! "whoever owns the peer now", so transferring a port is moving its mailbox, and the backlog plus
//! anything sent while it is in flight arrive at the new owner in order.
//!
//! Ownership: exactly one [`OwnedMailbox`] exists per mailbox. It lives in a port handle, or in a
//! message in flight while the port is being transferred. Dropping it closes the port with
//! [`CloseReason::Dropped`] — the library's stand-in for garbage collection (R-CH-35). Peers point
//! at each other with `Weak`, so no `Arc` cycle can outlive a close or a drop.
//!
//! Lock order: a handle's lock may be held while taking a queue lock, never the reverse, and no
//! code holds the locks of two queues at once (a queue's own two locks go head, then tail).
//! User code (notifiers) runs with no lock held.
//!
//! The post path takes one lock, the tail lock of the peer's queue, and no reference count: a
//! handle keeps its mailbox and its peer's for life and a flag says whether it still owns its
//! own (cleared once, by transfer), and the sender's count of accepted posts changes only under
//! that same lock. Whether the two are still entangled is decided under the peer queue's tail
//! lock, atomically with the append, so close and transfer order exactly as before. Receivers
//! take the head lock, and meet posters at the tail lock only once per batch (see `queue`).

use std::cell::RefCell;
use std::fmt;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::atomic::{AtomicU64 as StdAtomicU64, AtomicUsize as StdAtomicUsize};
use std::time::{Duration, Instant};

use crate::buffer::ArrayBufferContents;
use crate::close::{CloseNotice, CloseReason};
use crate::error::{Error, Result};
use crate::queue::{Admission, Capacity, Notifier, Popped, Queue, QueueMetrics};
use crate::sync::{Arc, AtomicBool, Mutex, Ordering, Weak};

// Plain std atomics: these are process-wide diagnostics, not part of any modelled race.
static LIVE_MAILBOXES: StdAtomicUsize = StdAtomicUsize::new(0);
static NEXT_MAILBOX_ID: StdAtomicU64 = StdAtomicU64::new(1);

/// How many port mailboxes exist in this process right now (handles, in-flight ports and closed
/// ports that still have a handle, or whose peer still has one, all count). Tests use it to
/// prove that closing and dropping leave no reference cycle behind.
pub fn live_mailboxes() -> usize {
    LIVE_MAILBOXES.load(Ordering::SeqCst)
}

/// What a port posts: the serialized value plus the ArrayBuffers it transfers.
///
/// The bytes are opaque to the port; the `clone` module defines what they mean. Transferred
/// buffers are moved, never copied, and come out as [`Message::array_buffers`] in the same order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Payload {
    /// The serialized value (the wire format of `crate::clone`).
    pub data: Vec<u8>,
    /// Contents of transferred ArrayBuffers, in transfer-list order.
    pub array_buffers: Vec<ArrayBufferContents>,
}

impl Payload {
    fn byte_len(&self) -> usize {
        byte_len(&self.data, &self.array_buffers)
    }
}

/// Payload bytes as capacity counts them: the serialized value plus its transferred buffers.
fn byte_len(data: &[u8], array_buffers: &[ArrayBufferContents]) -> usize {
    data.len() + array_buffers.iter().map(|b| b.len()).sum::<usize>()
}

impl From<Vec<u8>> for Payload {
    fn from(data: Vec<u8>) -> Self {
        Payload {
            data,
            array_buffers: Vec::new(),
        }
    }
}

impl From<&[u8]> for Payload {
    fn from(data: &[u8]) -> Self {
        data.to_vec().into()
    }
}

impl From<&str> for Payload {
    fn from(data: &str) -> Self {
        data.as_bytes().into()
    }
}

/// A received message.
#[derive(Debug)]
pub struct Message {
    /// The serialized value.
    pub data: Vec<u8>,
    /// Contents of transferred ArrayBuffers, in transfer-list order.
    pub array_buffers: Vec<ArrayBufferContents>,
    /// Transferred ports, in transfer-list order, as new handles owned by the receiver. They
    /// start disabled (R-CH-28) and stay entangled with their old peers (R-CH-25).
    pub ports: Vec<MessagePort>,
}

/// Counters of one port (beyond the standard): its receiving queue plus what it sent.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PortMetrics {
    /// Messages waiting in this port's queue.
    pub depth: usize,
    /// Payload bytes waiting in this port's queue.
    pub queued_bytes: usize,
    /// The largest depth this port's queue has reached.
    pub high_water_mark: usize,
    /// Messages that arrived in this port's queue.
    pub enqueued: u64,
    /// Messages this port's receivers took out of the queue.
    pub delivered: u64,
    /// Messages posted from this port (delivered or not).
    pub posted: u64,
    /// Posts from this port that went nowhere: the port was closed, unentangled or doomed.
    pub dropped: u64,
}

/// A message in a queue: the payload with the transferred ports' mailboxes riding along.
///
/// Transferred buffers and ports sit behind one box, allocated only when there are some: most
/// messages have neither, and every byte of an envelope crosses between cores with it (32
/// bytes instead of three vectors' 72).
pub(crate) struct Envelope {
    data: Vec<u8>,
    extras: Option<Box<Extras>>,
}

/// What an [`Envelope`] transfers, when it transfers anything.
struct Extras {
    array_buffers: Vec<ArrayBufferContents>,
    ports: Vec<OwnedMailbox>,
}

impl Envelope {
    #[inline(always)]
    pub(crate) fn new(payload: Payload, ports: Vec<OwnedMailbox>) -> Self {
        let Payload {
            data,
            array_buffers,
        } = payload;
        if array_buffers.is_empty() && ports.is_empty() {
            return Envelope { data, extras: None };
        }
        let extras = Some(Box::new(Extras {
            array_buffers,
            ports,
        }));
        Envelope { data, extras }
    }

    /// The transferred ports' mailboxes.
    pub(crate) fn ports(&self) -> &[OwnedMailbox] {
        self.extras.as_deref().map_or(&[], |x| &x.ports)
    }

    /// The received form: the transferred mailboxes become new port handles.
    #[inline]
    pub(crate) fn into_message(self) -> Message {
        match self.extras {
            None => Message {
                data: self.data,
                array_buffers: Vec::new(),
                ports: Vec::new(),
            },
            Some(x) => (*x).into_message(self.data),
        }
    }

    /// Payload bytes, for capacity accounting.
    pub(crate) fn byte_len(&self) -> usize {
        let buffers = self.extras.as_deref().map_or(&[][..], |x| &x.array_buffers);
        byte_len(&self.data, buffers)
    }
}

impl Extras {
    /// The received form of a message that transfers something (out of line: the common
    /// message transfers nothing).
    #[inline(never)]
    fn into_message(self, data: Vec<u8>) -> Message {
        let Extras {
            array_buffers,
            ports,
        } = self;
        Message {
            data,
            array_buffers,
            ports: ports.into_iter().map(MessagePort::from_owned).collect(),
        }
    }
}

/// A mailbox's state besides its queue, guarded by the queue's lock.
pub(crate) struct Link {
    /// The entangled peer; `None` once disentangled. Posts are admitted only while it names
    /// the sender.
    peer: Option<Weak<Mailbox>>,
    /// While the port is in flight: the mailbox whose queue carries it.
    carrier: Option<Weak<Mailbox>>,
}

impl Link {
    fn is_peer(&self, mailbox: &Mailbox) -> bool {
        self.peer
            .as_ref()
            .is_some_and(|p| std::ptr::eq(p.as_ptr(), mailbox))
    }
}

pub(crate) struct Mailbox {
    id: u64,
    queue: Queue<Envelope, Link>,
    /// The peer this mailbox was entangled with at birth, for the post path to reach without
    /// a lock; `Link::peer` says whether it still is.
    born_peer: Weak<Mailbox>,
    /// Posts from this mailbox that its peer's queue accepted. Only ever changed under that
    /// queue's lock (a mailbox posts to no other), so a plain load and store count exactly
    /// without a locked instruction on the post path.
    accepted: StdAtomicU64,
    /// Other posts from this mailbox, and those that went nowhere (plain counters: metrics only).
    posted_otherwise: StdAtomicU64,
    dropped: StdAtomicU64,
}

impl Mailbox {
    fn new(peer: Weak<Mailbox>) -> Self {
        LIVE_MAILBOXES.fetch_add(1, Ordering::SeqCst);
        Mailbox {
            id: NEXT_MAILBOX_ID.fetch_add(1, Ordering::Relaxed),
            queue: Queue::new(
                Link {
                    peer: Some(peer.clone()),
                    carrier: None,
                },
                false,
            ),
            born_peer: peer,
            accepted: StdAtomicU64::new(0),
            posted_otherwise: StdAtomicU64::new(0),
            dropped: StdAtomicU64::new(0),
        }
    }

    /// Whether the queue whose state is `link` takes a post from this mailbox (it still names
    /// us as its peer), counting it as accepted if so. Runs under that queue's lock.
    #[inline]
    fn admit_post(&self, link: &Link) -> bool {
        let ok = link.is_peer(self);
        if ok {
            self.accepted
                .store(self.accepted.load(Relaxed) + 1, Relaxed);
        }
        ok
    }

    /// Drops every queued message, one at a time (see `Drop for Mailbox`).
    fn discard_items(&self) {
        let items = self.queue.take_items();
        if items.is_empty() {
            return;
        }
        let nested = TEARDOWN.with(|t| match t.borrow_mut().as_mut() {
            Some(pending) => {
                pending.extend(items);
                None
            }
            None => Some(items),
        });
        let Some(items) = nested else { return };
        TEARDOWN.with(|t| *t.borrow_mut() = Some(items));
        // Dropped outside the borrow: dropping one may add more to the list.
        while let Some(envelope) = TEARDOWN.with(|t| t.borrow_mut().as_mut().and_then(Vec::pop)) {
            drop(envelope);
        }
        TEARDOWN.with(|t| *t.borrow_mut() = None);
    }

    /// Disentangles and ends both queues: this one with `by_peer: false`, the peer's with
    /// `by_peer: true`. Each queue gets at most one close record in its life. Never fails.
    fn close(self: &Arc<Self>, reason: CloseReason) {
        let mut peer = None;
        self.queue.end(
            CloseNotice {
                reason,
                by_peer: false,
            },
            |link| {
                peer = link.peer.take();
                true
            },
        );
        if let Some(peer) = peer.and_then(|p| p.upgrade()) {
            peer.queue.end(
                CloseNotice {
                    reason,
                    by_peer: true,
                },
                |link| {
                    let mine = link.is_peer(self);
                    if mine {
                        link.peer = None;
                    }
                    mine
                },
            );
            // A bounded post waiting for room at our queue must give up now.
            self.queue.wake_writers();
        }
    }
}

/// Whether appending `ports` to `target`'s queue would make them own their own carrier: `target`
/// is itself in flight, carried (perhaps through several hops) by one of `ports`. Such a loop is
/// unreachable from any handle — garbage a browser would collect — so the post is delivered into
/// garbage (dropped) instead of leaking an `Arc` cycle. Each post records its carriers before
/// checking, so of two racing posts that close a loop at least one sees it.
fn closes_carrier_loop(target: &Arc<Mailbox>, ports: &[OwnedMailbox]) -> bool {
    if ports.is_empty() {
        return false;
    }
    for port in ports {
        port.0
            .queue
            .with_ext(|link| link.carrier = Some(Arc::downgrade(target)));
    }
    let mut current = target.clone();
    loop {
        if ports.iter().any(|p| Arc::ptr_eq(&p.0, &current)) {
            return true;
        }
        match current
            .queue
            .with_ext(|link| link.carrier.as_ref().and_then(Weak::upgrade))
        {
            Some(next) => current = next,
            None => return false,
        }
    }
}

thread_local! {
    /// Messages of mailboxes being torn down on this thread, while a teardown is under way.
    static TEARDOWN: RefCell<Option<Vec<Envelope>>> = const { RefCell::new(None) };
}

impl Drop for Mailbox {
    /// A queue can hold in-flight ports whose queues hold more ports, to any depth. Dropping them
    /// recursively would overflow the stack on a long chain, so the outermost teardown on a thread
    /// collects the messages of every mailbox that dies under it and drops them one at a time.
    fn drop(&mut self) {
        LIVE_MAILBOXES.fetch_sub(1, Ordering::SeqCst);
        self.discard_items();
    }
}

/// The single owner of a mailbox; dropping it closes the port (see the module docs).
pub(crate) struct OwnedMailbox(Arc<Mailbox>);

impl Drop for OwnedMailbox {
    fn drop(&mut self) {
        self.0.close(CloseReason::Dropped);
        // Nobody can receive from this mailbox any more, so nobody needs telling; dropping the
        // notifier also frees whatever it holds (handles whose `peer` may be this mailbox).
        self.0.queue.clear_notifier();
        // Nobody can receive them now; a handle the port was transferred away from may keep
        // the mailbox's memory a while, but not the ports riding in its messages.
        if self.0.queue.has_items_besides_end() {
            self.0.discard_items();
        }
    }
}

struct HandleState {
    owned: Option<OwnedMailbox>,
    /// The standard's [[Detached]]: set by `close()` and by transfer.
    detached: bool,
}

struct PortHandle {
    state: Mutex<HandleState>,
    /// The mailbox this handle was made for; it never changes. Whether the handle still owns it
    /// is `here`.
    mailbox: Arc<Mailbox>,
    /// Cleared (once, under `state`'s lock, before the mailbox's epoch moves) when the port is
    /// transferred away, so posting and receiving need no handle lock.
    here: AtomicBool,
    /// The mailbox's peer (from birth), held so that a post takes no reference count. It keeps
    /// only the peer's memory, for as long as this handle lives: whether the two are still
    /// entangled is the peer queue's call, and a peer whose port is gone is closed and emptied
    /// (see `Drop for OwnedMailbox`, which also drops its notifier, so a notifier holding this
    /// handle makes no cycle).
    peer: Option<Arc<Mailbox>>,
}

/// One end of a [`crate::MessageChannel`].
///
/// Cloning gives another handle on the *same* port (like another JS reference to one object):
/// closing or transferring through one clone detaches them all, and the port is dropped
/// (closing its channel) when the last clone goes. Every method takes `&self` and may be called
/// from any thread.
///
/// Receiving: enable delivery with [`start`](Self::start) (or [`set_onmessage`](Self::set_onmessage)),
/// get told with a [`Notifier`], and pull with [`try_recv`](Self::try_recv) or
/// [`recv`](Self::recv). Pull calls read a port whether or not it was started, like Node's
/// `receiveMessageOnPort`.
#[derive(Clone)]
pub struct MessagePort(Arc<PortHandle>);

impl PartialEq for MessagePort {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl Eq for MessagePort {}

impl std::hash::Hash for MessagePort {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        Arc::as_ptr(&self.0).hash(state);
    }
}

impl fmt::Debug for MessagePort {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let st = self.0.state.lock();
        let mut d = f.debug_struct("MessagePort");
        match &st.owned {
            Some(m) => d.field("mailbox", &m.0.id),
            None => d.field("mailbox", &"transferred"),
        };
        d.field("detached", &st.detached).finish()
    }
}

impl MessagePort {
    fn from_owned(owned: OwnedMailbox) -> Self {
        owned.0.queue.with_ext(|link| link.carrier = None);
        MessagePort(Arc::new(PortHandle {
            peer: owned.0.born_peer.upgrade(),
            mailbox: owned.0.clone(),
            state: Mutex::new(HandleState {
                owned: Some(owned),
                detached: false,
            }),
            here: AtomicBool::new(true),
        }))
    }

    /// Creates two ports entangled with each other (the work of `new MessageChannel()`).
    pub(crate) fn entangled_pair() -> (MessagePort, MessagePort) {
        let mut b = None;
        let a = Arc::new_cyclic(|a| {
            let b_box = Arc::new(Mailbox::new(a.clone()));
            let a_box = Mailbox::new(Arc::downgrade(&b_box));
            b = Some(b_box);
            a_box
        });
        let b = b.unwrap_or_else(|| Arc::new(Mailbox::new(Arc::downgrade(&a))));
        (
            MessagePort::from_owned(OwnedMailbox(a)),
            MessagePort::from_owned(OwnedMailbox(b)),
        )
    }

    /// This handle's mailbox, unless the port was transferred away.
    fn mailbox(&self) -> Option<Arc<Mailbox>> {
        self.0.state.lock().owned.as_ref().map(|m| m.0.clone())
    }

    /// This handle's mailbox without a lock or a reference count, unless the port was
    /// transferred away. A transfer racing with the caller is ordered after it.
    #[inline]
    fn own_mailbox(&self) -> Option<&Mailbox> {
        self.0
            .here
            .load(Ordering::Acquire)
            .then_some(&*self.0.mailbox)
    }

    /// The mailbox and its owner epoch. The epoch is read first: a transfer clears `here` before
    /// it bumps the epoch, so either this sees `here` cleared or the queue sees the epoch move.
    #[inline]
    fn mailbox_for_recv(&self) -> Result<(&Mailbox, u64)> {
        let epoch = self.0.mailbox.queue.epoch();
        match self.own_mailbox() {
            Some(m) => Ok((m, epoch)),
            None => Err(transferred()),
        }
    }

    /// Posts `payload` to the entangled peer, transferring `transfer` (the message port post
    /// message steps, R-CH-13..24). Unbounded, like the web: ignores any capacity.
    ///
    /// Errors, checked before anything is detached: `transfer` holds this port
    /// (`DataCloneError`, R-CH-13), holds a port twice, or holds a closed or already transferred
    /// port (`DataCloneError`, R-CH-22/24). If `transfer` holds the peer, the peer is detached, the
    /// message dropped and the channel lost, without error (R-CH-14). Posting from a closed,
    /// transferred or unentangled port detaches the transferred ports and drops the message,
    /// without error (R-CH-17).
    pub fn post_message(
        &self,
        payload: impl Into<Payload>,
        transfer: &[MessagePort],
    ) -> Result<()> {
        self.post_with(payload.into(), transfer, Admission::Unbounded)
    }

    /// Like [`post_message`](Self::post_message) but respects the receiver's [`Capacity`]:
    /// returns [`Error::Full`] at once when there is no room, with nothing detached or sent.
    pub fn try_post(&self, payload: impl Into<Payload>, transfer: &[MessagePort]) -> Result<()> {
        self.post_with(payload.into(), transfer, Admission::Try)
    }

    /// Like [`try_post`](Self::try_post) but waits up to `timeout` for room, then returns
    /// [`Error::Timeout`] with nothing detached or sent.
    pub fn post_timeout(
        &self,
        payload: impl Into<Payload>,
        transfer: &[MessagePort],
        timeout: Duration,
    ) -> Result<()> {
        let deadline = Instant::now().checked_add(timeout);
        self.post_with(payload.into(), transfer, Admission::WaitUntil(deadline))
    }

    fn post_with(
        &self,
        payload: Payload,
        transfer: &[MessagePort],
        admission: Admission,
    ) -> Result<()> {
        if transfer.is_empty() {
            self.post_without_ports(payload, admission)
        } else {
            self.post_with_ports(payload, transfer, admission)
        }
    }

    /// The post path of a message that transfers no port (most of them): no transfer list to
    /// check, nothing to detach or to doom, no carrier loop to look for. The same steps as
    /// [`post_with_ports`](Self::post_with_ports) otherwise.
    #[inline]
    fn post_without_ports(&self, payload: Payload, admission: Admission) -> Result<()> {
        let source = self.own_mailbox();
        let envelope = Envelope::new(payload, Vec::new());
        let rejected = match (source, self.0.peer.as_ref()) {
            (Some(s), Some(t)) => {
                let bytes = envelope.byte_len();
                let reserved = match admission {
                    Admission::Unbounded => false,
                    _ => t.queue.reserve(bytes, admission, |link| link.is_peer(s))?,
                };
                t.queue
                    .push(envelope, bytes, reserved, |link| s.admit_post(link))
                    .err()
            }
            _ => Some(envelope),
        };
        if let Some(envelope) = rejected {
            if let Some(s) = source {
                s.posted_otherwise.fetch_add(1, Relaxed);
                s.dropped.fetch_add(1, Relaxed);
            }
            drop(envelope); // no ports inside: dropping it closes nothing
        }
        Ok(())
    }

    #[inline(never)]
    fn post_with_ports(
        &self,
        payload: Payload,
        transfer: &[MessagePort],
        admission: Admission,
    ) -> Result<()> {
        check_transfer_list(Some(self), transfer)?;
        let source = self.own_mailbox();
        // No lock and no reference count: whether the peer still listens to us is the queue's
        // call.
        let target = source.and(self.0.peer.as_ref());
        let doomed = target.is_some_and(|t| {
            transfer
                .iter()
                .any(|p| p.mailbox().is_some_and(|m| Arc::ptr_eq(&m, t)))
        });
        let bytes = payload.byte_len();
        let is_from_source = |link: &Link| source.is_some_and(|s| link.is_peer(s));
        // Runs under the target queue's lock; `true` means the message is appended.
        let admit = |link: &Link| source.is_some_and(|s| s.admit_post(link));

        let reserved = match (&target, doomed) {
            (Some(t), false) => t.queue.reserve(bytes, admission, is_from_source)?,
            _ => false,
        };
        // Counted once past the capacity check (a bounded post refused for room posted
        // nothing): as `accepted` when the queue takes it, here otherwise.
        let count_posted = || {
            if let Some(s) = source {
                s.posted_otherwise.fetch_add(1, Relaxed);
            }
        };
        let ports = match detach_for_transfer(transfer) {
            Ok(ports) => ports,
            Err(e) => {
                count_posted();
                if let (Some(t), true) = (&target, reserved) {
                    t.queue.release(bytes);
                }
                return Err(e);
            }
        };
        let envelope = Envelope::new(payload, ports);
        let rejected = match &target {
            Some(t) if !doomed && !closes_carrier_loop(t, envelope.ports()) => {
                t.queue.push(envelope, bytes, reserved, admit).err()
            }
            Some(t) => {
                if reserved {
                    t.queue.release(bytes);
                }
                Some(envelope)
            }
            None => Some(envelope),
        };
        if let Some(envelope) = rejected {
            count_posted();
            if let (Some(t), true) = (&target, doomed) {
                if let Some(peer) = envelope.ports().iter().find(|p| Arc::ptr_eq(&p.0, t)) {
                    peer.0.close(CloseReason::Doomed);
                }
            }
            if let Some(s) = source {
                s.dropped.fetch_add(1, Relaxed);
            }
            // Dropped here, with no lock held: it may close the ports it carries.
            drop(envelope);
        }
        Ok(())
    }

    /// Puts a message this port received but did not deliver back at the front of its queue,
    /// so it stays with the port — for a binding that takes messages in batches and must hand
    /// the rest of a batch back before the port is transferred. Requeue the last one first.
    /// The message's ports are taken back into the queue, all or nothing.
    ///
    /// Errors, with nothing changed: [`Error::InvalidStateError`] if this port was transferred
    /// away; [`Error::DataCloneError`] if the message's ports repeat or one is detached.
    pub fn requeue_front(&self, message: Message) -> Result<()> {
        let mailbox = self.mailbox().ok_or_else(transferred)?;
        let Message {
            data,
            array_buffers,
            ports,
        } = message;
        check_transfer_list(None, &ports)?;
        let ports = detach_for_transfer(&ports)?;
        let envelope = Envelope::new(
            Payload {
                data,
                array_buffers,
            },
            ports,
        );
        if closes_carrier_loop(&mailbox, envelope.ports()) {
            drop(envelope); // unreachable garbage, as in `post_message`
            return Ok(());
        }
        let bytes = envelope.byte_len();
        mailbox.queue.push_front(envelope, bytes);
        Ok(())
    }

    /// Enables the port's queue (R-CH-4): the notifier starts firing and queued messages become
    /// deliverable to event-driven receivers. Idempotent; never fails, even on a closed or
    /// transferred port (R-CH-8).
    pub fn start(&self) {
        if let Some(m) = self.mailbox() {
            m.queue.enable();
        }
    }

    /// Whether [`start`](Self::start) (or `set_onmessage`) has enabled this port's queue.
    pub fn is_started(&self) -> bool {
        self.mailbox().is_some_and(|m| m.queue.is_enabled())
    }

    /// Closes the port (R-CH-18..23): detaches it, disentangles it at once (later posts from
    /// either side go nowhere) and appends a close record after everything already sent, so the
    /// peer receives every earlier message and then one close notice. Messages already queued
    /// here can still be received (R-CH-21), followed by this port's own close notice.
    /// Idempotent; never fails.
    pub fn close(&self) {
        let mailbox = {
            let mut st = self.0.state.lock();
            st.detached = true;
            st.owned.as_ref().map(|m| m.0.clone())
        };
        if let Some(m) = mailbox {
            m.close(CloseReason::Closed);
        }
    }

    /// Closes the port as [`close`](Self::close) does, with `reason` in both close notices
    /// instead of [`CloseReason::Closed`]. For transports: a bridge port that learns its remote
    /// peer closed (or that the peer's process was lost) ends the local channel with the remote
    /// reason, so the local peer sees `{ reason, by_peer: true }`. Idempotent; never fails.
    pub fn close_with(&self, reason: CloseReason) {
        let mailbox = {
            let mut st = self.0.state.lock();
            st.detached = true;
            st.owned.as_ref().map(|m| m.0.clone())
        };
        if let Some(m) = mailbox {
            m.close(reason);
        }
    }

    /// Detaches this port as transferring it in a message would, and returns a new handle that
    /// owns its mailbox (with its backlog, its peer, not started) — as if the message had
    /// arrived. For transports that take a port out of a program's hands (exporting it as a
    /// descriptor). Errors: [`Error::DataCloneError`] if the port is closed or already
    /// transferred.
    pub fn take_transfer(&self) -> Result<MessagePort> {
        let mut owned = detach_for_transfer(std::slice::from_ref(self))?;
        match owned.pop() {
            Some(m) => Ok(MessagePort::from_owned(m)),
            None => Err(Error::data_clone("the port is detached")),
        }
    }

    /// A process-unique number naming this port's mailbox, or `None` once the port was
    /// transferred away from this handle. For transports that must recognize their own ports
    /// (see [`peer_mailbox_id`](Self::peer_mailbox_id)).
    pub fn mailbox_id(&self) -> Option<u64> {
        self.own_mailbox().map(|m| m.id)
    }

    /// The [`mailbox_id`](Self::mailbox_id) of the port this one is entangled with right now,
    /// or `None` if it is not entangled (closed, or its peer is gone) or was transferred away.
    pub fn peer_mailbox_id(&self) -> Option<u64> {
        self.own_mailbox().and_then(|m| {
            m.queue
                .with_ext(|link| link.peer.as_ref().and_then(Weak::upgrade))
                .map(|p| p.id)
        })
    }

    /// Takes the next message without waiting. `Ok(None)` when the queue is empty;
    /// [`Error::Closed`] once the close record is reached (and on every call after);
    /// [`Error::InvalidStateError`] if this port was transferred away.
    pub fn try_recv(&self) -> Result<Option<Message>> {
        let (m, epoch) = self.mailbox_for_recv()?;
        match m.queue.try_pop(epoch) {
            Popped::Item(envelope) => Ok(Some(envelope.into_message())),
            Popped::Empty => Ok(None),
            other => Err(recv_error(other)),
        }
    }

    /// Takes the next message, blocking up to `timeout` (`None`: until one arrives or the
    /// channel closes). Errors: [`Error::Timeout`]; [`Error::Closed`] once the close record is
    /// reached; [`Error::InvalidStateError`] if the port is or gets transferred away.
    pub fn recv(&self, timeout: Option<Duration>) -> Result<Message> {
        let deadline = timeout.and_then(|t| Instant::now().checked_add(t));
        let (m, epoch) = self.mailbox_for_recv()?;
        match m.queue.pop_until(epoch, deadline) {
            Popped::Item(envelope) => Ok(envelope.into_message()),
            Popped::Empty => Err(Error::Timeout),
            other => Err(recv_error(other)),
        }
    }

    /// Installs (or with `None` removes) the port's [`Notifier`], without starting the port
    /// (like `addEventListener("message")`, R-CH-6). It fires only while the port is started.
    pub fn set_notifier(&self, notifier: Option<Notifier>) {
        if let Some(m) = self.mailbox() {
            m.queue.set_notifier(notifier);
        }
    }

    /// Installs the notifier and, when it is `Some`, starts the port — the `onmessage` setter's
    /// implicit `start()` (R-CH-5).
    pub fn set_onmessage(&self, notifier: Option<Notifier>) {
        let start = notifier.is_some();
        self.set_notifier(notifier);
        if start {
            self.start();
        }
    }

    /// Limits this port's receiving queue (beyond the standard). Bounded posts from the peer
    /// ([`try_post`](Self::try_post), [`post_timeout`](Self::post_timeout)) respect it; the limit
    /// travels with the port when it is transferred.
    pub fn set_capacity(&self, capacity: Capacity) {
        if let Some(m) = self.mailbox() {
            m.queue.set_capacity(capacity);
        }
    }

    /// This port's receiving-queue limits (the default is unbounded).
    pub fn capacity(&self) -> Capacity {
        self.mailbox()
            .map(|m| m.queue.capacity())
            .unwrap_or_default()
    }

    /// Counters of this port (all zero once it was transferred away: they travel with it).
    pub fn metrics(&self) -> PortMetrics {
        let Some(m) = self.mailbox() else {
            return PortMetrics::default();
        };
        let QueueMetrics {
            depth,
            queued_bytes,
            high_water_mark,
            enqueued,
            delivered,
        } = m.queue.metrics();
        let posted = m.accepted.load(Relaxed) + m.posted_otherwise.load(Relaxed);
        let dropped = m.dropped.load(Relaxed);
        PortMetrics {
            depth,
            queued_bytes,
            high_water_mark,
            enqueued,
            delivered,
            posted,
            dropped,
        }
    }

    /// Whether the port is detached: closed, or transferred away.
    pub fn is_detached(&self) -> bool {
        self.0.state.lock().detached
    }

    /// Whether the port is still entangled with a peer.
    pub fn is_entangled(&self) -> bool {
        self.mailbox().is_some_and(|m| {
            m.queue
                .with_ext(|link| link.peer.as_ref().is_some_and(|p| p.strong_count() > 0))
        })
    }
}

fn transferred() -> Error {
    Error::invalid_state("the port was transferred; use the port received at the other end")
}

/// The error a receive call ends with when it got no message (and no `Empty`).
#[cold]
fn recv_error(popped: Popped<Envelope>) -> Error {
    match popped {
        Popped::End(notice) => Error::Closed(notice),
        Popped::Moved => transferred(),
        Popped::Item(_) | Popped::Empty => {
            Error::invalid_state("a receive call ended without an end") // unreachable
        }
    }
}

/// The checks the standard makes before serializing (R-CH-13, R-TR-4). `source` is the posting
/// port, if a port is posting.
pub(crate) fn check_transfer_list(
    source: Option<&MessagePort>,
    transfer: &[MessagePort],
) -> Result<()> {
    if source.is_some_and(|s| transfer.contains(s)) {
        return Err(Error::data_clone(
            "the transfer list contains the source port",
        ));
    }
    for (i, port) in transfer.iter().enumerate() {
        if transfer[..i].contains(port) {
            return Err(Error::data_clone(format!(
                "the transfer list contains port {i} twice"
            )));
        }
    }
    Ok(())
}

/// Detaches every port in `transfer` and takes its mailbox, all or nothing: handles are locked
/// in address order (no deadlock between concurrent posts), all are checked, then all taken.
pub(crate) fn detach_for_transfer(transfer: &[MessagePort]) -> Result<Vec<OwnedMailbox>> {
    if transfer.is_empty() {
        return Ok(Vec::new());
    }
    let mut order: Vec<usize> = (0..transfer.len()).collect();
    order.sort_by_key(|&i| Arc::as_ptr(&transfer[i].0) as usize);
    let mut guards: Vec<_> = order
        .iter()
        .map(|&i| (i, transfer[i].0.state.lock()))
        .collect();
    if let Some((i, _)) = guards
        .iter()
        .find(|(_, st)| st.detached || st.owned.is_none())
    {
        return Err(Error::data_clone(format!(
            "port {i} of the transfer list is detached (closed or already transferred)"
        )));
    }
    guards.sort_by_key(|(i, _)| *i);
    Ok(guards
        .into_iter()
        .filter_map(|(i, mut st)| {
            st.detached = true;
            let owned = st.owned.take();
            if let Some(m) = &owned {
                // Under the handle lock, `here` first: a receive call racing with this sees
                // either the flag or the epoch move (see `mailbox_for_recv`).
                transfer[i].0.here.store(false, Ordering::SeqCst);
                m.0.queue.ship(|_| ());
            }
            owned
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A handle holds its peer's mailbox for the post path; a notifier on that peer holding the
    /// handle would be a cycle, unless dropping the peer's port drops its notifier.
    #[test]
    fn a_notifier_holding_the_peer_handle_makes_no_cycle() {
        let (a, b) = MessagePort::entangled_pair();
        let (a_box, b_box) = (Arc::downgrade(&a.0.mailbox), Arc::downgrade(&b.0.mailbox));
        let a2 = a.clone();
        b.set_onmessage(Some(Arc::new(move || {
            let _ = a2.post_message("reply", &[]);
        })));
        a.post_message("x", &[]).unwrap();
        drop((a, b));
        assert!(a_box.upgrade().is_none(), "port a's mailbox leaked");
        assert!(b_box.upgrade().is_none(), "port b's mailbox leaked");
    }
}
