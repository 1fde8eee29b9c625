//! The native side of `BroadcastChannel`: the core's process-wide channels, woken through the
//! env's ready list like ports and drained by `crate::drain` like them.

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Weak};

use napi::bindgen_prelude::*;
use napi_derive::napi;
use parking_lot::Mutex;
use webmessaging_core as wm;

use crate::env::current_env;
use crate::{js_error, NEXT_PORT_ID};

/// A broadcast channel handle, shared with the env's registry (which holds it weakly).
pub(crate) struct BroadcastCell {
    pub(crate) channel: wm::BroadcastChannel,
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

/// The open channel `id` names, if it is one (the drain's look-up, see `crate::drain`).
pub(crate) fn lookup(id: u32) -> Option<Arc<BroadcastCell>> {
    broadcasts().lock().get(&id).and_then(Weak::upgrade)
}

/// Posts the first `len` bytes of `data` to every other open channel of the same name.
#[napi]
pub fn broadcast_post(id: u32, data: &[u8], len: u32) -> Result<()> {
    let Some(cell) = lookup(id) else {
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
    if let Some(cell) = lookup(id) {
        cell.channel.close();
    }
}
