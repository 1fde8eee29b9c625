//! Taking a window's messages: the delivery steps of window post message (6.1–6.6), run when a
//! message is taken from the queue, so the origin check sees the window's origin at that moment
//! (R-WIN-8). Posting lives in the parent module; this side turns what was posted into the
//! `MessageEvent` the standard fires.

use std::time::{Duration, Instant};

use super::{Posted, Window, WindowProxy, OWNER};
use crate::error::{Error, Result};
use crate::event::{MessageEvent, MessageEventType};
use crate::queue::Popped;

impl Window {
    /// Takes the next deliverable event without waiting, or `None` when there is none.
    /// Messages whose target origin does not match the window's current origin are dropped on
    /// the way, silently (R-WIN-9).
    pub fn try_recv(&self) -> Option<MessageEvent> {
        loop {
            match self.0.queue.try_pop(OWNER) {
                Popped::Item(posted) => {
                    if let Some(event) = self.deliver(posted) {
                        return Some(event);
                    }
                }
                Popped::Empty | Popped::End(_) | Popped::Moved => return None,
            }
        }
    }

    /// Takes the next deliverable event, waiting up to `timeout` (`None`: forever).
    /// Errors: [`Error::Timeout`].
    pub fn recv(&self, timeout: Option<Duration>) -> Result<MessageEvent> {
        let deadline = timeout.and_then(|t| Instant::now().checked_add(t));
        loop {
            match self.0.queue.pop_until(OWNER, deadline) {
                Popped::Item(posted) => {
                    if let Some(event) = self.deliver(posted) {
                        return Ok(event);
                    }
                }
                // A window's queue never ends and never moves: only the deadline stops the wait.
                Popped::Empty | Popped::End(_) | Popped::Moved => return Err(Error::Timeout),
            }
        }
    }

    /// The delivery step (6.1–6.6) for one message taken from the queue: `None` if the origin
    /// check drops it. Runs with no lock held, so dropping the message's ports is safe here.
    fn deliver(&self, posted: Posted) -> Option<MessageEvent> {
        let Posted {
            envelope,
            target_origin,
            source,
            source_origin,
        } = posted;
        let admitted = self.0.queue.with_ext(|st| {
            let ok = target_origin.matches(&st.origin);
            if !ok {
                st.origin_mismatches += 1;
            }
            ok
        });
        if !admitted {
            // Dropping the envelope closes the ports it carries (the transferred objects are lost).
            drop(envelope);
            return None;
        }
        let message = envelope.into_message();
        Some(MessageEvent {
            event_type: MessageEventType::Message,
            data: message.data,
            array_buffers: message.array_buffers,
            origin: source_origin,
            last_event_id: String::new(),
            source: Some(WindowProxy(source)),
            ports: message.ports,
        })
    }
}
