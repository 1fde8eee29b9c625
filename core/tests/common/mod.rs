//! Helpers shared by the core's integration tests.
#![allow(dead_code)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use webmessaging_core::{CloseNotice, CloseReason, Error, MessagePort, Notifier};

/// Long enough never to fire on a healthy machine; only bounds a hang.
pub const PATIENCE: Duration = Duration::from_secs(10);

/// Receives one message's bytes, failing the test on anything else.
pub fn recv_data(port: &MessagePort) -> Vec<u8> {
    match port.recv(Some(PATIENCE)) {
        Ok(m) => m.data,
        Err(e) => panic!("expected a message, got {e:?}"),
    }
}

/// Receives until the close record and returns its notice, failing on any message.
pub fn recv_close(port: &MessagePort) -> CloseNotice {
    match port.recv(Some(PATIENCE)) {
        Err(Error::Closed(n)) => n,
        Ok(m) => panic!("expected the close record, got a message {:?}", m.data),
        Err(e) => panic!("expected the close record, got {e:?}"),
    }
}

/// Everything currently queued, as strings, until empty (the close record ends it too).
pub fn drain(port: &MessagePort) -> Vec<String> {
    let mut out = Vec::new();
    while let Ok(Some(m)) = port.try_recv() {
        out.push(String::from_utf8(m.data).expect("test payloads are UTF-8"));
    }
    out
}

/// A notifier that counts its calls.
pub fn counting_notifier() -> (Notifier, Arc<AtomicUsize>) {
    let count = Arc::new(AtomicUsize::new(0));
    let c = count.clone();
    (
        Arc::new(move || {
            c.fetch_add(1, Ordering::SeqCst);
        }),
        count,
    )
}

/// The notice a port gets when its peer called `close()`.
pub const PEER_CLOSED: CloseNotice = CloseNotice {
    reason: CloseReason::Closed,
    by_peer: true,
};
/// The notice a port gets when its peer's last handle was dropped.
pub const PEER_DROPPED: CloseNotice = CloseNotice {
    reason: CloseReason::Dropped,
    by_peer: true,
};
/// The notice a port gets at the end of its own queue after its own `close()`.
pub const SELF_CLOSED: CloseNotice = CloseNotice {
    reason: CloseReason::Closed,
    by_peer: false,
};

/// Receives one message and returns the first port it carries.
pub fn recv_port(port: &MessagePort) -> MessagePort {
    match port.recv(Some(PATIENCE)) {
        Ok(mut m) if !m.ports.is_empty() => m.ports.remove(0),
        Ok(_) => panic!("expected a message carrying a port"),
        Err(e) => panic!("expected a message carrying a port, got {e:?}"),
    }
}
