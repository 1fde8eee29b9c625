//! The native side of `Window`: a stand-in for a browsing context with an origin.

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use napi::bindgen_prelude::*;
use napi_derive::napi;
use parking_lot::Mutex;
use webmessaging_core as wm;

use crate::env::current_env;
use crate::port::{forget_port, lookup, NativePort};
use crate::{js_error, NEXT_PORT_ID};

/// Every live window of the process by id (weak: the NativeWindow objects own them), so an
/// event's `source` can be mapped back to the JS object of that window.
fn windows() -> &'static Mutex<HashMap<u32, wm::WindowProxy>> {
    static MAP: std::sync::OnceLock<Mutex<HashMap<u32, wm::WindowProxy>>> =
        std::sync::OnceLock::new();
    MAP.get_or_init(|| Mutex::new(HashMap::new()))
}

/// The native side of one `Window` (a stand-in for a browsing context with an origin).
#[napi]
pub struct NativeWindow {
    id: u32,
    _window: wm::Window,
}

#[napi]
impl NativeWindow {
    /// Id for the `window*` functions and the env's ready list.
    #[napi(getter)]
    pub fn id(&self) -> u32 {
        self.id
    }
}

impl Drop for NativeWindow {
    fn drop(&mut self) {
        windows().lock().remove(&self.id);
    }
}

fn window(id: u32) -> Result<wm::Window> {
    windows()
        .lock()
        .get(&id)
        .and_then(wm::WindowProxy::window)
        .ok_or_else(|| js_error(wm::Error::InvalidStateError("the window is gone".into())))
}

/// Opens a window whose document has the origin of `url` (an opaque origin when null); its
/// notifier wakes this env.
#[napi]
pub fn window_open(url: Option<String>) -> Result<NativeWindow> {
    let env = current_env()?;
    let origin = match url {
        Some(u) => wm::Origin::parse(&u).map_err(js_error)?,
        None => wm::Origin::opaque(),
    };
    let id = NEXT_PORT_ID.fetch_add(1, Ordering::Relaxed);
    let w = wm::Window::new(origin);
    let weak = Arc::downgrade(&env);
    w.set_notifier(Some(Arc::new(move || {
        if let Some(env) = weak.upgrade() {
            env.notify(id);
        }
    })));
    windows().lock().insert(id, w.proxy());
    Ok(NativeWindow { id, _window: w })
}

/// The window's origin, ASCII-serialized (`"null"` when opaque).
#[napi]
pub fn window_origin(id: u32) -> Result<String> {
    Ok(window(id)?.origin().ascii_serialization())
}

/// Navigates the window to a document with the origin of `url`.
#[napi]
pub fn window_navigate(id: u32, url: String) -> Result<()> {
    let origin = wm::Origin::parse(&url).map_err(js_error)?;
    window(id)?.navigate(origin);
    Ok(())
}

/// Checks a target origin (`"*"`, `"/"` or a URL) before anything is serialized.
#[napi]
pub fn window_check_target(source: u32, target_origin: String) -> Result<()> {
    wm::TargetOrigin::parse(&target_origin, &window(source)?).map_err(js_error)?;
    Ok(())
}

/// `target.postMessage(bytes, targetOrigin, transfer)` sent by window `source`.
#[napi]
pub fn window_post(
    target: u32,
    data: &[u8],
    len: u32,
    target_origin: String,
    source: u32,
    ports: Option<Vec<u32>>,
) -> Result<()> {
    let handles = match ports {
        None => Vec::new(),
        Some(ids) => ids.into_iter().map(lookup).collect::<Result<Vec<_>>>()?,
    };
    let mut transfer = Vec::with_capacity(handles.len());
    for (i, h) in handles.iter().enumerate() {
        match h.port() {
            Some(p) => transfer.push(p),
            None => {
                return Err(js_error(wm::Error::DataCloneError(format!(
                    "port {i} of the transfer list is detached"
                ))))
            }
        }
    }
    let len = (len as usize).min(data.len());
    window(target)?
        .post_message(
            data[..len].to_vec(),
            &target_origin,
            &transfer,
            &window(source)?,
        )
        .map_err(js_error)?;
    for h in handles {
        h.cell.port.lock().take();
        forget_port(h.id);
    }
    Ok(())
}

/// Takes up to `max` deliverable events: `[data Buffer, origin, source id | null, ports | null]`
/// each (events whose target origin no longer matches were dropped by the core, silently).
#[napi]
pub fn window_drain(env: &Env, id: u32, max: u32) -> Result<Array<'_>> {
    let w = window(id)?;
    let mut out = env.create_array(0)?;
    for _ in 0..max {
        let Some(event) = w.try_recv() else { break };
        let mut entry = env.create_array(4)?;
        entry.set(0, BufferSlice::copy_from(env, &event.data)?)?;
        entry.set(1, event.origin.as_str())?;
        let source = event.source.as_ref().and_then(|s| {
            windows()
                .lock()
                .iter()
                .find(|(_, p)| *p == s)
                .map(|(id, _)| *id)
        });
        match source {
            Some(s) => entry.set(2, s)?,
            None => entry.set(2, Null)?,
        }
        if event.ports.is_empty() {
            entry.set(3, Null)?;
        } else {
            let env_shared = current_env()?;
            let ports: Vec<NativePort> = event
                .ports
                .into_iter()
                .map(|p| NativePort::adopt(p, &env_shared))
                .collect();
            entry.set(3, ports)?;
        }
        out.insert(entry)?;
    }
    Ok(out)
}
