//! Delivery: a receiver's `onmessage` / `onmessageerror` handlers and `recv_async` waiters,
//! and how events reach them. The core notifier (any thread, never Python) puts the receiver
//! on the hubs that serve it; a hub's consumer then takes events through the one drain
//! ([`Receiver::take`]) and resolves futures or calls the handler, a bounded batch at a time.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use pyo3::prelude::*;
use webmessaging_core::Error;

use super::{Kind, Receiver, Step};
use crate::aio::{self, Mode};
use crate::event::MessageEvent;
use crate::hub::HubCore;

/// How many messages one receiver may dispatch per hub round before yielding to the others.
const DISPATCH_BUDGET: usize = 512;

/// What a receiver delivers to: Python objects, so only touched with the lock held for plain
/// field updates (the objects themselves are called and dropped after it is released).
#[derive(Default)]
pub(super) struct PyState {
    /// The `onmessage` (a listener's `onconnect`) handler.
    onmessage: Option<Py<PyAny>>,
    /// The `onmessageerror` handler.
    onmessageerror: Option<Py<PyAny>>,
    /// Where `onmessage` runs (set with it).
    hub: Option<Arc<HubCore>>,
    /// `recv_async` futures waiting for this receiver, with the hub of their loop.
    waiters: Vec<(Arc<HubCore>, Py<PyAny>, Mode)>,
    /// A port (or broadcast channel, or listener) with an `onmessage` handler stays alive while
    /// its stream goes on even when the program drops every handle (R-CH-33); cleared at the
    /// end of the stream, on transfer and when the handler is removed.
    keepalive: Option<Arc<Receiver>>,
}

impl Receiver {
    /// The `onmessage` handler, if any.
    pub(crate) fn get_onmessage(&self, py: Python<'_>) -> Option<Py<PyAny>> {
        self.state
            .lock()
            .onmessage
            .as_ref()
            .map(|h| h.clone_ref(py))
    }

    /// The `onmessageerror` handler, if any.
    pub(crate) fn get_onmessageerror(&self, py: Python<'_>) -> Option<Py<PyAny>> {
        self.state
            .lock()
            .onmessageerror
            .as_ref()
            .map(|h| h.clone_ref(py))
    }

    /// Sets (or with `None` removes) the `onmessageerror` handler.
    pub(crate) fn set_onmessageerror(&self, py: Python<'_>, handler: Option<Py<PyAny>>) {
        let handler = handler.filter(|h| !h.is_none(py));
        let old = std::mem::replace(&mut self.state.lock().onmessageerror, handler);
        drop(old);
    }

    /// Registers a `recv_async` future to be resolved on `hub` (see [`crate::aio`]); installs
    /// the notifier and starts the port.
    pub(crate) fn add_waiter(&self, hub: &Arc<HubCore>, future: Py<PyAny>, mode: Mode) {
        self.state.lock().waiters.push((hub.clone(), future, mode));
        self.ensure_notifier();
        self.start();
    }

    /// Forgets a `recv_async` future (it was resolved elsewhere, cancelled or timed out).
    pub(crate) fn remove_waiter(&self, py: Python<'_>, future: &Bound<'_, PyAny>) {
        let removed: Vec<_> = {
            let mut st = self.state.lock();
            let (gone, keep): (Vec<_>, Vec<_>) = std::mem::take(&mut st.waiters)
                .into_iter()
                .partition(|(_, f, _)| f.bind(py).is(future));
            st.waiters = keep;
            gone
        };
        drop(removed);
    }

    /// Fires the notifier body by hand (a listener closed from Python: its end must be seen).
    pub(crate) fn wake(&self) {
        if let Some(me) = self.me.upgrade() {
            me.notify();
        }
    }

    /// In a forked child, where no thread is dispatching: forgets the parent's in-progress mark.
    pub(crate) fn after_fork(&self) {
        self.dispatching.store(false, Ordering::Release);
        self.again.store(false, Ordering::Release);
    }

    /// The notifier body: runs on any thread, never touches Python.
    pub(super) fn notify(self: Arc<Self>) {
        let mut hubs: Vec<Arc<HubCore>> = Vec::new();
        {
            let st = self.state.lock();
            if st.onmessage.is_some() {
                hubs.extend(st.hub.iter().cloned());
            }
            for (hub, _, _) in &st.waiters {
                if !hubs.iter().any(|h| Arc::ptr_eq(h, hub)) {
                    hubs.push(hub.clone());
                }
            }
        }
        for hub in hubs {
            hub.push(self.clone());
        }
    }

    /// Called by a hub's consumer with the interpreter attached: wakes this hub's futures and
    /// dispatches to `onmessage` if it runs on this hub.
    pub(crate) fn serve(self: Arc<Self>, py: Python<'_>, hub: &Arc<HubCore>) {
        let mine: Vec<(Arc<HubCore>, Py<PyAny>, Mode)> = {
            let mut st = self.state.lock();
            let (mine, others) = std::mem::take(&mut st.waiters)
                .into_iter()
                .partition(|(h, _, _)| Arc::ptr_eq(h, hub));
            st.waiters = others;
            mine
        };
        // One message per waiting future, in registration order; cancelled or timed-out
        // futures are skipped (their messages stay queued). Waiters left once the queue is
        // empty go back to the list, ahead of any registered meanwhile.
        let mut pending = Vec::new();
        let mut empty = false;
        for (h, fut, mode) in mine {
            let future = fut.bind(py);
            let done = future
                .call_method0("done")
                .and_then(|d| d.is_truthy())
                .unwrap_or(true);
            if done {
                continue;
            }
            if !empty {
                match aio::resolve(py, &self, future, mode) {
                    Ok(true) => continue,
                    Ok(false) => empty = true,
                    Err(e) => {
                        e.write_unraisable(py, Some(future));
                        continue;
                    }
                }
            }
            pending.push((h, fut, mode));
        }
        if !pending.is_empty() {
            let mut st = self.state.lock();
            let later = std::mem::replace(&mut st.waiters, pending);
            st.waiters.extend(later);
        }
        self.dispatch(py, hub);
    }

    /// Runs one batch for the handler, unless another consumer is running one (then that one
    /// hands the rest on when done, so handler calls never overlap and keep their order).
    fn dispatch(self: &Arc<Self>, py: Python<'_>, hub: &Arc<HubCore>) {
        if self.dispatching.swap(true, Ordering::AcqRel) {
            // Another consumer is dispatching this port (its handler moved to another hub
            // mid-batch). It notifies again when done, so order and non-concurrency are kept.
            self.again.store(true, Ordering::Release);
            return;
        }
        let exhausted = self.dispatch_batch(py, hub);
        if exhausted {
            hub.push(self.clone());
        }
        self.dispatching.store(false, Ordering::Release);
        if self.again.swap(false, Ordering::AcqRel) {
            // Hand the rest to wherever the handler runs now.
            self.clone().notify();
        }
    }

    /// Delivers up to [`DISPATCH_BUDGET`] messages; returns whether the budget ran out.
    fn dispatch_batch(&self, py: Python<'_>, hub: &Arc<HubCore>) -> bool {
        for _ in 0..DISPATCH_BUDGET {
            let callback = {
                let st = self.state.lock();
                match (&st.onmessage, &st.hub) {
                    (Some(cb), Some(h)) if Arc::ptr_eq(h, hub) => cb.clone_ref(py),
                    _ => return false,
                }
            };
            match self.take(py) {
                Step::Event(event) => {
                    if let Err(e) = callback.call1(py, (event,)) {
                        e.write_unraisable(py, Some(callback.bind(py)));
                    }
                }
                Step::Bad(err, event) => self.message_error(py, err, event),
                Step::Empty => return false,
                Step::End(Error::Closed(_)) => {
                    self.on_closed();
                    return false;
                }
                // Transferred away (its new owner dispatches now).
                Step::End(_) => return false,
                // That client is lost (the error was its queue entry); the next may be ready.
                Step::Fail(e) => e.write_unraisable(py, Some(callback.bind(py))),
            }
        }
        true
    }

    /// A message that could not be deserialized: `onmessageerror` gets a `messageerror` event
    /// with `data=None`; without a handler the error is reported as unraisable.
    fn message_error(&self, py: Python<'_>, err: PyErr, event: Py<MessageEvent>) {
        match self.get_onmessageerror(py) {
            Some(handler) => {
                if let Err(e) = handler.call1(py, (event,)) {
                    e.write_unraisable(py, Some(handler.bind(py)));
                }
            }
            None => err.write_unraisable(py, None),
        }
    }

    /// The end of the stream was reached: nothing more will come, so stop keeping it alive.
    pub(crate) fn on_closed(&self) {
        let keepalive = self.state.lock().keepalive.take();
        drop(keepalive);
    }

    /// After this port was transferred: its handlers and futures no longer apply here.
    pub(crate) fn forget_listeners(&self) {
        let taken = {
            let mut st = self.state.lock();
            (st.onmessage.take(), st.hub.take(), st.keepalive.take())
        };
        drop(taken);
        // Waiters are woken so their recv_async sees InvalidStateError.
        if let Some(me) = self.me.upgrade() {
            me.notify();
        }
    }

    /// Sets (or with `None` removes) the `onmessage` handler: it runs on the hub of the caller's
    /// running asyncio loop, else on the dispatcher thread, and setting it starts delivery.
    pub(crate) fn set_onmessage(&self, py: Python<'_>, handler: Option<Py<PyAny>>) -> PyResult<()> {
        let handler = handler.filter(|h| !h.is_none(py));
        let hub = match &handler {
            Some(_) => Some(crate::dispatch::current_hub(py)?),
            None => None,
        };
        let start = handler.is_some();
        if let (Some(hub), Some(me)) = (&hub, self.me.upgrade()) {
            hub.add_listener(&me);
        }
        let old = {
            let mut st = self.state.lock();
            // Windows live as long as their host keeps them; ports and broadcast channels with
            // a handler stay alive until closed (R-CH-33, R-BC-20).
            let keepalive = match (&self.kind, start) {
                (Kind::Window, _) | (_, false) => None,
                _ => self.me.upgrade(),
            };
            (
                std::mem::replace(&mut st.onmessage, handler),
                std::mem::replace(&mut st.hub, hub),
                std::mem::replace(&mut st.keepalive, keepalive),
            )
        };
        drop(old);
        if start {
            self.ensure_notifier();
            // Starting fires the notifier if messages are already waiting.
            self.start();
            // A handler replaced on a started port: make sure a pending batch reaches the new hub.
            if let Some(me) = self.me.upgrade() {
                me.notify();
            }
        }
        Ok(())
    }
}
