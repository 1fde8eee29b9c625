//! The receiver shape: what every kind of receiver offers, so that a binding has one drain.
//!
//! A [`MessagePort`], a [`Window`] and a [`BroadcastChannel`] each queue events in their own
//! way, but a receiver sees the same thing from all three: a stream of [`MessageEvent`]s that
//! may end, a [`Notifier`] that fires when the stream has something, and (for a port) a switch
//! that enables delivery. [`MessageEventTarget`] is that contract. Other crates add receivers
//! of their own behind it (the cross-process transport's listener delivers one event per
//! connecting client, its port in `ports[0]`).

use std::time::Duration;

use crate::broadcast::BroadcastChannel;
use crate::error::Result;
use crate::event::{MessageEvent, MessageEventType};
use crate::port::{Message, MessagePort};
use crate::queue::Notifier;
use crate::window::Window;

/// Something `message` events are fired at (after the standard's `MessageEventTarget`): one
/// receive, notify and drain contract for every kind of receiver.
///
/// The contract, for every implementation:
/// - [`try_next_event`](MessageEventTarget::try_next_event) never blocks. `Ok(None)` means
///   "nothing now"; the notifier fires (outside every lock) when that changes.
/// - The stream ends with `Err(Error::Closed(notice))`, returned on that call and every later
///   one: a port's close record, a closed broadcast channel. A window never ends.
/// - `Err(Error::InvalidStateError(_))` means the receiver is gone from this handle (a port
///   transferred away); nothing more will come through it.
/// - An event that fails to decode in the binding becomes a `messageerror` by
///   [`MessageEvent::into_message_error`]; the stream goes on.
pub trait MessageEventTarget: Send + Sync {
    /// Takes the next event without waiting: `Ok(None)` when none is queued.
    fn try_next_event(&self) -> Result<Option<MessageEvent>>;

    /// Takes the next event, waiting up to `timeout` (`None`: until one arrives or the stream
    /// ends). Errors as [`try_next_event`](Self::try_next_event), plus
    /// [`Error::Timeout`](crate::Error::Timeout).
    fn next_event(&self, timeout: Option<Duration>) -> Result<MessageEvent>;

    /// Installs (or with `None` removes) the notifier: it fires, outside every lock, when the
    /// receiver has something to take while delivery is enabled.
    fn set_notifier(&self, notifier: Option<Notifier>);

    /// Enables delivery: a port's `start()`. Other receivers deliver from the start.
    fn start(&self) {}
}

impl From<Message> for MessageEvent {
    /// A port's message as the event the standard fires at the port: `origin` and
    /// `last_event_id` empty, no `source`.
    #[inline]
    fn from(m: Message) -> Self {
        MessageEvent {
            event_type: MessageEventType::Message,
            data: m.data,
            array_buffers: m.array_buffers,
            origin: String::new(),
            last_event_id: String::new(),
            source: None,
            ports: m.ports,
        }
    }
}

impl MessageEventTarget for MessagePort {
    #[inline]
    fn try_next_event(&self) -> Result<Option<MessageEvent>> {
        Ok(self.try_recv()?.map(MessageEvent::from))
    }

    #[inline]
    fn next_event(&self, timeout: Option<Duration>) -> Result<MessageEvent> {
        self.recv(timeout).map(MessageEvent::from)
    }

    #[inline]
    fn set_notifier(&self, notifier: Option<Notifier>) {
        MessagePort::set_notifier(self, notifier)
    }

    #[inline]
    fn start(&self) {
        MessagePort::start(self)
    }
}

impl MessageEventTarget for Window {
    #[inline]
    fn try_next_event(&self) -> Result<Option<MessageEvent>> {
        Ok(self.try_recv())
    }

    #[inline]
    fn next_event(&self, timeout: Option<Duration>) -> Result<MessageEvent> {
        self.recv(timeout)
    }

    #[inline]
    fn set_notifier(&self, notifier: Option<Notifier>) {
        Window::set_notifier(self, notifier)
    }
}

impl MessageEventTarget for BroadcastChannel {
    #[inline]
    fn try_next_event(&self) -> Result<Option<MessageEvent>> {
        self.try_recv()
    }

    #[inline]
    fn next_event(&self, timeout: Option<Duration>) -> Result<MessageEvent> {
        self.recv(timeout)
    }

    #[inline]
    fn set_notifier(&self, notifier: Option<Notifier>) {
        BroadcastChannel::set_notifier(self, notifier)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Error, MessageChannel, Origin};
    use std::sync::Arc;

    /// What a binding's drain does: take until nothing is queued or the stream ends.
    fn take_all(target: &dyn MessageEventTarget) -> (Vec<Vec<u8>>, Option<Error>) {
        let mut got = Vec::new();
        loop {
            match target.try_next_event() {
                Ok(Some(e)) => got.push(e.data),
                Ok(None) => return (got, None),
                Err(e) => return (got, Some(e)),
            }
        }
    }

    #[test]
    fn a_port_delivers_every_message_then_its_close_record() {
        let (a, b) = MessageChannel::new().into_ports();
        for m in ["1", "2", "3"] {
            a.post_message(m, &[]).unwrap();
        }
        a.close();
        let (got, end) = take_all(&b);
        assert_eq!(got, [b"1", b"2", b"3"]);
        assert!(matches!(end, Some(Error::Closed(_))));
        assert!(matches!(b.try_next_event(), Err(Error::Closed(_))));
    }

    #[test]
    fn a_port_event_has_the_standard_defaults() {
        let (a, b) = MessageChannel::new().into_ports();
        a.post_message("x", &[]).unwrap();
        let e = b.next_event(None).unwrap();
        assert_eq!(e.event_type, MessageEventType::Message);
        assert_eq!((e.origin.as_str(), e.last_event_id.as_str()), ("", ""));
        assert!(e.source.is_none());
    }

    #[test]
    fn the_notifier_fires_through_the_shape_once_started() {
        let (a, b) = MessageChannel::new().into_ports();
        let fired = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let f = fired.clone();
        let target: &dyn MessageEventTarget = &b;
        target.set_notifier(Some(Arc::new(move || {
            f.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        })));
        a.post_message("x", &[]).unwrap();
        assert_eq!(fired.load(std::sync::atomic::Ordering::SeqCst), 0);
        target.start();
        assert!(fired.load(std::sync::atomic::Ordering::SeqCst) >= 1);
    }

    #[test]
    fn windows_and_broadcast_channels_share_the_shape() {
        let origin = Origin::parse("https://a.test").unwrap();
        let w = Window::new(origin.clone());
        w.post_message("w", "/", &[], &w).unwrap();
        let (got, end) = take_all(&w);
        assert_eq!((got, end), (vec![b"w".to_vec()], None));

        let tx = BroadcastChannel::new("c", Some(origin.clone()));
        let rx = BroadcastChannel::new("c", Some(origin));
        tx.post_message("b").unwrap();
        rx.close();
        let (got, end) = take_all(&rx);
        assert!(got.is_empty());
        assert!(matches!(end, Some(Error::Closed(_))));
    }
}
