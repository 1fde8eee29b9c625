//! `MessageEvent`: what windows and broadcast channels deliver (one event type for both).

use std::fmt;

use crate::buffer::ArrayBufferContents;
use crate::port::MessagePort;
use crate::window::WindowProxy;

/// The two event types the messaging algorithms fire (R-EV-1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MessageEventType {
    /// `message`: the data was delivered.
    Message,
    /// `messageerror`: the data could not be deserialized at the receiver; `data` is null and
    /// `ports` empty, `origin` and `source` are still set (R-WIN-16).
    MessageError,
}

impl MessageEventType {
    /// The event type's name: `"message"` or `"messageerror"`.
    pub fn as_str(self) -> &'static str {
        match self {
            MessageEventType::Message => "message",
            MessageEventType::MessageError => "messageerror",
        }
    }
}

impl fmt::Display for MessageEventType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A delivered message with the standard's `MessageEvent` fields.
///
/// `data` is the serialized value (the wire format of `crate::clone`); an empty `data` on a
/// `messageerror` stands for `null`. Fields an algorithm does not set keep the IDL defaults
/// (R-EV-2): `last_event_id` is always `""`; broadcast channels leave `source` `None` and
/// `ports` empty.
#[derive(Debug)]
pub struct MessageEvent {
    /// `message` or `messageerror`.
    pub event_type: MessageEventType,
    /// The serialized value (empty on `messageerror`).
    pub data: Vec<u8>,
    /// Contents of transferred ArrayBuffers, in transfer-list order.
    pub array_buffers: Vec<ArrayBufferContents>,
    /// The sender's origin, ASCII-serialized: `"https://a.test"`, or `"null"` when the sender's
    /// origin is opaque (R-WIN-12, R-EV-6). It comes from the sending `Window` or channel, never
    /// from a string the sender supplied; receivers should compare it with the origins they
    /// expect before trusting `data`.
    pub origin: String,
    /// Always `""` for these events (the standard's `lastEventId`).
    pub last_event_id: String,
    /// For window messages, a handle to the sending window that can be used to reply
    /// (R-WIN-13); `None` for broadcast channels.
    pub source: Option<WindowProxy>,
    /// Transferred ports, in transfer-list order, as new handles owned by the receiver (R-WIN-14).
    pub ports: Vec<MessagePort>,
}

impl MessageEvent {
    /// Whether this is a `messageerror` event.
    pub fn is_message_error(&self) -> bool {
        self.event_type == MessageEventType::MessageError
    }

    /// Turns a `message` whose data failed to deserialize into the `messageerror` the standard
    /// fires instead (window post message step 6.4): `data` null, no buffers, no ports,
    /// `origin` and `source` kept. The ports it carried are dropped here, which closes them, as
    /// the standard loses them. Receivers that decode events themselves (the bindings) call
    /// this when decoding fails; the queue is unaffected and the next event arrives as usual.
    pub fn into_message_error(self) -> MessageEvent {
        MessageEvent {
            event_type: MessageEventType::MessageError,
            data: Vec::new(),
            array_buffers: Vec::new(),
            origin: self.origin,
            last_event_id: self.last_event_id,
            source: self.source,
            ports: Vec::new(),
        }
    }
}
