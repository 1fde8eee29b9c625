//! The one drain: a port, a broadcast channel and a window are each a core
//! [`wm::MessageEventTarget`], and [`drain`] takes any of them, by id, into one batch for JS
//! (the layout of [`crate::batch`]). What differs by kind is only which receiver an id names
//! ([`Target::of`]) and whether an event's `origin`/`source` mean something (a window's).

use std::sync::{Arc, Weak};

use napi::bindgen_prelude::*;
use napi::{sys, JsError};
use webmessaging_core as wm;
use wm::MessageEventTarget;

use crate::batch::{batch_buffer, batch_len, close_code, lone_buffer, write_batch, LONE_MIN, MORE};
use crate::broadcast::{self, BroadcastCell};
use crate::env::{current_env, EnvShared, RECV_SCRATCH};
use crate::js_error;
use crate::port::{NativePort, PORTS};
use crate::spare::Spare;
use crate::window;

/// The `end` code of a batch whose receiver is gone from this env (a port transferred or
/// exported away, a channel or window collected).
const GONE: u32 = 3;

/// The receiver an id names in this env.
enum Target {
    Port(wm::MessagePort),
    Broadcast(Arc<BroadcastCell>),
    Window(wm::Window),
    Gone,
}

impl Target {
    /// Ports first: theirs is the hot path (one look-up in this thread's map).
    fn of(id: u32) -> Target {
        if let Some(cell) = PORTS.with(|m| m.borrow().get(&id).and_then(Weak::upgrade)) {
            return cell.port.lock().clone().map_or(Target::Gone, Target::Port);
        }
        if let Some(cell) = broadcast::lookup(id) {
            return Target::Broadcast(cell);
        }
        match window::find(id) {
            Some(w) => Target::Window(w),
            None => Target::Gone,
        }
    }

    fn receiver(&self) -> Option<&dyn MessageEventTarget> {
        match self {
            Target::Port(p) => Some(p),
            Target::Broadcast(cell) => Some(&cell.channel),
            Target::Window(w) => Some(w),
            Target::Gone => None,
        }
    }

    /// Whether JS needs each event's `origin` and `source`: a window's events carry the
    /// sender's; a port's have none, and a broadcast channel's origin is the process's own
    /// (Node's BroadcastChannel events carry none either).
    fn reports_origin(&self) -> bool {
        matches!(self, Target::Window(_))
    }
}

/// One item taken from a receiver: a port's message, or another receiver's event.
enum Taken {
    Message(wm::Message),
    Event(wm::MessageEvent),
}

impl Taken {
    fn data(&mut self) -> &mut Vec<u8> {
        match self {
            Taken::Message(m) => &mut m.data,
            Taken::Event(e) => &mut e.data,
        }
    }

    /// Whether it carries nothing but bytes (no ports, no ArrayBuffers).
    fn bare(&self) -> bool {
        match self {
            Taken::Message(m) => m.ports.is_empty() && m.array_buffers.is_empty(),
            Taken::Event(e) => e.ports.is_empty() && e.array_buffers.is_empty(),
        }
    }

    fn into_event(self) -> wm::MessageEvent {
        match self {
            Taken::Message(m) => m.into(),
            Taken::Event(e) => e,
        }
    }
}

/// Takes up to `max` events from receiver `id` in one crossing. Returns null when there is
/// nothing; else a Buffer, or `[Buffer, extras]` when some event carries more than bytes. The
/// Buffer holds a little-endian u32 `end` (0; or 1 closed here / 2 closed by the peer, with the
/// close reason in bits 8..16, when the stream ended after the events; or 3 when the receiver is
/// gone from this env), a u32 `count`, `count` u32 end offsets, then every event's bytes back to
/// back (event `i` spans `ends[i-1]..ends[i]` of that data). `extras` lists, for the events
/// that carry something besides bytes, `[i, ports[] | null, ArrayBuffer[] | null]`, followed by
/// `origin, sourceId | null` for a window's events. One Buffer per batch, because every JS object
/// made here costs more than the messages themselves. A large event (at least `LONE_MIN` bytes)
/// ends its batch (`end` then has the `MORE` bit), and when it comes first and carries nothing
/// else it is returned as `[Buffer]`: its own bytes, moved, not copied. A batch of one event
/// with nothing else is written to this env's receive scratch and its length returned.
/// (JS: `drain(id, max)`, registered by hand: see [`raw_drain`].)
pub fn drain(env: &Env, id: u32, max: u32) -> Result<Option<Either3<Unknown<'_>, Array<'_>, u32>>> {
    let target = Target::of(id);
    let with_origin = target.reports_origin();
    let mut messages = Spare::take(&SPARE_MESSAGES);
    let mut extras: Option<Array<'_>> = None;
    let mut owner: Option<Arc<EnvShared>> = None;
    let mut end = 0u32;
    let mut lone = None;
    match target.receiver() {
        None => end = GONE,
        Some(rx) => {
            for _ in 0..max {
                let next = match &target {
                    // A port's message as it is (the hot path): no event built around it.
                    Target::Port(p) => p.try_recv().map(|m| m.map(Taken::Message)),
                    _ => rx.try_next_event().map(|e| e.map(Taken::Event)),
                };
                match next {
                    Ok(Some(mut taken)) => {
                        let i = messages.len() as u32;
                        let large = taken.data().len() >= LONE_MIN;
                        let bare = !with_origin && taken.bare();
                        if large && i == 0 && bare {
                            // Alone, in its own bytes: no batch copy (see `lone_buffer`).
                            lone = Some(std::mem::take(taken.data()));
                            break;
                        }
                        messages.push(std::mem::take(taken.data()));
                        if !bare {
                            let list = match &mut extras {
                                Some(l) => l,
                                None => extras.insert(env.create_array(0)?),
                            };
                            let owner = match &owner {
                                Some(o) => o,
                                None => owner.insert(current_env()?),
                            };
                            list.insert(extra(env, owner, i, taken.into_event(), with_origin)?)?;
                        }
                        if large {
                            // A large event ends the batch, so the next comes alone.
                            end = MORE;
                            break;
                        }
                    }
                    Ok(None) => break,
                    Err(wm::Error::Closed(n)) => {
                        end = close_code(n);
                        break;
                    }
                    Err(wm::Error::InvalidStateError(_)) => {
                        end = GONE;
                        break;
                    }
                    Err(e) => return Err(js_error(e)),
                }
            }
        }
    }
    if let Some(data) = lone {
        // `[Buffer]`: one event, its bytes alone (no batch header); more may follow.
        let buf = lone_buffer(env, data)?;
        let mut single = env.create_array(1)?;
        // SAFETY: `buf` is a live value of this env.
        single.set(0, unsafe { Unknown::from_raw_unchecked(env.raw(), buf) })?;
        return Ok(Some(Either3::B(single)));
    }
    if messages.is_empty() && end == 0 {
        return Ok(None);
    }
    if messages.len() <= 1 && extras.is_none() {
        // A lone event (the latency-bound case): hand it over in this env's receive scratch,
        // skipping the Buffer allocation. JS decodes it before anything else runs.
        let (base, size) = RECV_SCRATCH.with(|s| s.get());
        let len = batch_len(&messages);
        if base != 0 && len <= size {
            // SAFETY: `set_recv_scratch` registered this memory and keeps its Buffer alive for
            // the env's lifetime; it is private to the package; we are inside a synchronous
            // call on the env's thread, so no JS touches it while we write.
            let out = unsafe { std::slice::from_raw_parts_mut(base as *mut u8, len) };
            write_batch(out, end, &messages);
            return Ok(Some(Either3::C(len as u32)));
        }
    }
    let raw = batch_buffer(env, end, &messages)?;
    messages.clear();
    // SAFETY: `raw` is a live value of this env.
    let buf = unsafe { Unknown::from_raw_unchecked(env.raw(), raw) };
    Ok(Some(match extras {
        None => Either3::A(buf),
        Some(x) => {
            let mut pair = env.create_array(2)?;
            pair.set(0, buf)?;
            pair.set(1, x)?;
            Either3::B(pair)
        }
    }))
}

thread_local! {
    /// The list [`drain`] collected its last batch's messages in, emptied, kept for the next
    /// drain (one per delivered event in a round trip: its allocation showed in the profile).
    static SPARE_MESSAGES: std::cell::Cell<Vec<Vec<u8>>> = const { std::cell::Cell::new(Vec::new()) };
}

/// [`drain`] as a hand-written Node-API callback: it runs once per delivered event, and the
/// generated wrapper's argument and borrow bookkeeping cost more instructions than the drain
/// itself (measured with callgrind: ~1,500 of ~2,600 per call).
///
/// # Safety
/// Called by Node on the env's thread with a valid `env` and `info`.
pub(crate) unsafe extern "C" fn raw_drain(
    env: sys::napi_env,
    info: sys::napi_callback_info,
) -> sys::napi_value {
    // SAFETY: Node calls this on the env's thread with its valid `env` and `info`.
    let args = unsafe { crate::raw::two_u32_args(env, info) };
    let js_env = Env::from_raw(env);
    let result = if let Some((id, max)) = args {
        drain(&js_env, id, max).and_then(|r| {
            // SAFETY: a value made in this env, converted on its thread.
            unsafe { ToNapiValue::to_napi_value(env, r) }
        })
    } else {
        Err(Error::new(
            Status::InvalidArg,
            "drain(id, max) takes two numbers",
        ))
    };
    match result {
        Ok(v) => v,
        Err(e) => {
            // SAFETY: a plain Node-API call on the env's thread.
            unsafe { JsError::from(e).throw_into(env) };
            std::ptr::null_mut()
        }
    }
}

/// The extras entry of event `i`: its ports (adopted by this env), its ArrayBuffers, and for a
/// window's event the sender's origin and window id.
fn extra<'e>(
    env: &'e Env,
    owner: &Arc<EnvShared>,
    i: u32,
    event: wm::MessageEvent,
    with_origin: bool,
) -> Result<Array<'e>> {
    let mut entry = env.create_array(if with_origin { 5 } else { 3 })?;
    entry.set(0, i)?;
    if event.ports.is_empty() {
        entry.set(1, Null)?;
    } else {
        let ports: Vec<NativePort> = event
            .ports
            .into_iter()
            .map(|p| NativePort::adopt(p, owner))
            .collect();
        entry.set(1, ports)?;
    }
    if event.array_buffers.is_empty() {
        entry.set(2, Null)?;
    } else {
        let mut abs = env.create_array(0)?;
        for b in event.array_buffers {
            let ab = crate::backing::into_js(env, b)?;
            // SAFETY: `ab` is a live value of this env.
            abs.insert(unsafe { Unknown::from_raw_unchecked(env.raw(), ab) })?;
        }
        entry.set(2, abs)?;
    }
    if with_origin {
        entry.set(3, event.origin.as_str())?;
        match event.source.as_ref().and_then(window::id_of) {
            Some(s) => entry.set(4, s)?,
            None => entry.set(4, Null)?,
        }
    }
    Ok(entry)
}
