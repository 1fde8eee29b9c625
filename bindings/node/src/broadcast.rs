//! The native side of `BroadcastChannel`: the core's process-wide channels, woken through the
//! env's ready list like ports.

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Weak};

use napi::bindgen_prelude::*;
use napi_derive::napi;
use parking_lot::Mutex;
use webmessaging_core as wm;

use crate::batch::{batch_buffer, batch_bytes};
use crate::env::current_env;
use crate::{js_error, NEXT_PORT_ID};

/// A broadcast channel handle, shared with the env's registry (which holds it weakly).
struct BroadcastCell {
    channel: wm::BroadcastChannel,
}

/// Broadcast channels of this thread by id (ids share the port id space, so one ready list
/// serves both).
fn broadcasts() -> &'static Mutex<HashMap<u32, Weak<BroadcastCell>>> {
    static MAP: std::sync::OnceLock<Mutex<HashMap<u32, Weak<BroadcastCell>>>> =
        std::sync::OnceLock::new();
    MAP.get_or_init(|| Mutex::new(HashMap::new()))
}

/// The native side of one `BroadcastChannel`: owns the core channel (closed when collected).
#[napi]
pub struct NativeBroadcast {
    id: u32,
    cell: Arc<BroadcastCell>,
}

#[napi]
impl NativeBroadcast {
    /// Id for the `broadcast*` functions and the env's ready list.
    #[napi(getter)]
    pub fn id(&self) -> u32 {
        self.id
    }
}

impl Drop for NativeBroadcast {
    fn drop(&mut self) {
        broadcasts().lock().remove(&self.id);
        self.cell.channel.close();
    }
}

/// Opens a broadcast channel named `name` (all channels of this process share one origin);
/// its notifier wakes this env.
#[napi]
pub fn broadcast_open(name: String) -> Result<NativeBroadcast> {
    let env = current_env()?;
    let id = NEXT_PORT_ID.fetch_add(1, Ordering::Relaxed);
    let channel = wm::BroadcastChannel::new(&name, None);
    let weak = Arc::downgrade(&env);
    channel.set_notifier(Some(Arc::new(move || {
        if let Some(env) = weak.upgrade() {
            env.notify(id);
        }
    })));
    let cell = Arc::new(BroadcastCell { channel });
    broadcasts().lock().insert(id, Arc::downgrade(&cell));
    Ok(NativeBroadcast { id, cell })
}

fn broadcast(id: u32) -> Option<Arc<BroadcastCell>> {
    broadcasts().lock().get(&id).and_then(Weak::upgrade)
}

/// Posts the first `len` bytes of `data` to every other open channel of the same name.
#[napi]
pub fn broadcast_post(id: u32, data: &[u8], len: u32) -> Result<()> {
    let Some(cell) = broadcast(id) else {
        return Err(js_error(wm::Error::InvalidStateError(
            "BroadcastChannel is closed.".into(),
        )));
    };
    let len = (len as usize).min(data.len());
    cell.channel
        .post_message(data[..len].to_vec())
        .map_err(js_error)
}

/// Closes the channel (idempotent).
#[napi]
pub fn broadcast_close(id: u32) {
    if let Some(cell) = broadcast(id) {
        cell.channel.close();
    }
}

/// Takes up to `max` messages, in the batch format of `port_drain` (never with extras).
#[napi]
pub fn broadcast_drain(env: &Env, id: u32, max: u32) -> Result<Option<BufferSlice<'_>>> {
    let Some(cell) = broadcast(id) else {
        return Ok(None);
    };
    let mut messages: Vec<Vec<u8>> = Vec::new();
    let mut end = 0u32;
    for _ in 0..max {
        match cell.channel.try_recv() {
            Ok(Some(event)) => messages.push(event.data),
            Ok(None) => break,
            Err(wm::Error::Closed(_)) => {
                end = 1;
                break;
            }
            Err(e) => return Err(js_error(e)),
        }
    }
    if messages.is_empty() && end == 0 {
        return Ok(None);
    }
    let out = batch_bytes(end, messages.iter().map(Vec::as_slice));
    Ok(Some(batch_buffer(env, out)?))
}
