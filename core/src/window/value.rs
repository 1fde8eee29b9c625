//! Value-level conveniences over the structured-clone codec (`crate::clone`): post a value
//! graph to a window, and deserialize a received event, turning a failure into `messageerror`.
//! Bindings that map their own values to wire bytes use the byte-level API instead.

use crate::clone::{self, Graph, Serialized, Transferable};
use crate::error::Result;
use crate::event::{MessageEvent, MessageEventType};
use crate::port::Message;
use crate::window::{TargetOrigin, Window, WindowProxy};

/// The synchronous steps of posting a value: `targetOrigin` first (a `SyntaxError` leaves the
/// graph untouched), then StructuredSerializeWithTransfer (`DataCloneError`, nothing detached).
/// The byte-level post that follows detaches the ports.
fn prepare(
    graph: &mut Graph,
    target_origin: &str,
    transfer: &[Transferable],
    source: &Window,
) -> Result<(TargetOrigin, Serialized)> {
    let target_origin = TargetOrigin::parse(target_origin, &source.origin())?;
    Ok((
        target_origin,
        clone::serialize_with_transfer(graph, transfer)?,
    ))
}

impl Window {
    /// [`post_message`](Self::post_message) with a value graph: resolves `target_origin`, then
    /// serializes `graph` with `transfer` (its transferred ArrayBuffers are left detached in the
    /// graph), then posts. Errors: `SyntaxError` before serializing, `DataCloneError` from the
    /// serializer (a port in the value but not in `transfer`, a detached buffer...).
    pub fn post_value(
        &self,
        graph: &mut Graph,
        target_origin: &str,
        transfer: &[Transferable],
        source: &Window,
    ) -> Result<()> {
        self.proxy()
            .post_value(graph, target_origin, transfer, source)
    }
}

impl WindowProxy {
    /// [`Window::post_value`] through this proxy.
    pub fn post_value(
        &self,
        graph: &mut Graph,
        target_origin: &str,
        transfer: &[Transferable],
        source: &Window,
    ) -> Result<()> {
        let (to, Serialized { payload, ports }) = prepare(graph, target_origin, transfer, source)?;
        self.post_message_to(payload, &to, &ports, source)
    }
}

impl MessageEvent {
    /// StructuredDeserializeWithTransfer of this event's data (window post message step 6.4,
    /// BroadcastChannel step 7.2). On success returns the value: its port nodes are handles on
    /// the same ports as [`ports`](Self::ports), and its transferred ArrayBuffers own the
    /// buffers (moved out of [`array_buffers`](Self::array_buffers), and `data` is consumed).
    ///
    /// On failure this event becomes the `messageerror` the standard fires instead
    /// ([`into_message_error`](Self::into_message_error)) and the decoder's error is returned;
    /// nothing else is affected, the next event arrives as usual (R-WIN-16). Calling it on a
    /// `messageerror` returns an error and changes nothing.
    pub fn deserialize(&mut self) -> Result<Graph> {
        if self.event_type == MessageEventType::MessageError {
            return Err(crate::Error::invalid_state(
                "a messageerror event has no data to deserialize",
            ));
        }
        let message = Message {
            data: std::mem::take(&mut self.data),
            array_buffers: std::mem::take(&mut self.array_buffers),
            ports: self.ports.clone(),
        };
        clone::deserialize_with_transfer(message).inspect_err(|_| {
            self.event_type = MessageEventType::MessageError;
            // Dropping the handles closes the ports: the standard loses them with the message.
            self.ports.clear();
        })
    }
}
