//! The native side of `Window`: a stand-in for a browsing context with an origin.

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use napi::bindgen_prelude::*;
use napi_derive::napi;
use parking_lot::Mutex;
use webmessaging_core as wm;

use crate::env::current_env;
use crate::port::{forget_port, lookup};
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

/// The live window `id` names, if it is one (the drain's look-up, see `crate::drain`).
pub(crate) fn find(id: u32) -> Option<wm::Window> {
    windows().lock().get(&id).and_then(wm::WindowProxy::window)
}

/// The id of the window `proxy` points at, if it is a live window of this process: an event's
/// `source`, as JS finds its object.
pub(crate) fn id_of(proxy: &wm::WindowProxy) -> Option<u32> {
    windows()
        .lock()
        .iter()
        .find(|(_, p)| *p == proxy)
        .map(|(id, _)| *id)
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
    wm::TargetOrigin::parse(&target_origin, &window(source)?.origin()).map_err(js_error)?;
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
