//! The one receive path: every kind of receiver (port, window, broadcast channel, listener) is
//! the core's [`MessageEventTarget`], and its events become `wm_message`s here, for the
//! `wm_*_try_recv` / `wm_*_recv` exports and for `wm_loop_dispatch` alike.

use std::sync::Arc;
use std::time::Duration;

use webmessaging_core::{CloseNotice, Error as CoreError, MessageEventTarget};

use crate::handle::Table;
use crate::hazard::Local;
use crate::message::{insert_message, timeout_arg, wm_message, MessageObj};
use crate::status::*;

/// What the library keeps behind a handle of a receiving kind: at least the core receiver.
pub(crate) trait Receiver: Send + Sync + 'static {
    /// The core receiver behind the handle.
    fn target(&self) -> &dyn MessageEventTarget;

    /// Takes the next event without waiting, as a message. A receiver whose events carry
    /// nothing but a core message (a port) builds it without the event in between.
    fn try_take(&self) -> Result<Option<MessageObj>, CoreError> {
        Ok(self.target().try_next_event()?.map(MessageObj::from_event))
    }

    /// Takes the next event without waiting as a new message handle (`None`: nothing queued).
    /// `local`: the thread's `Local`, if the caller has it at hand.
    fn try_take_handle(&self, local: Option<&Local>) -> Res<Option<*mut wm_message>> {
        let _ = local;
        match self.try_take()? {
            Some(m) => Ok(Some(insert_message(m)?)),
            None => Ok(None),
        }
    }

    /// Takes the next event, waiting up to `timeout` (`None`: without limit), as a message.
    fn take(&self, timeout: Option<Duration>) -> Result<MessageObj, CoreError> {
        Ok(MessageObj::from_event(self.target().next_event(timeout)?))
    }
}

/// What one look at a receiver found.
pub(crate) enum Next {
    Item(MessageObj),
    Empty,
    /// The stream ended (with its close notice), or `None`: the receiver can never receive
    /// again (a port transferred away).
    End(Option<CloseNotice>),
}

/// Takes the next event without waiting, as the loop's drain does.
pub(crate) fn next<R: Receiver + ?Sized>(receiver: &R) -> Next {
    match receiver.try_take() {
        Ok(Some(m)) => Next::Item(m),
        Ok(None) => Next::Empty,
        Err(CoreError::Closed(notice)) => Next::End(Some(notice)),
        Err(_) => Next::End(None),
    }
}

/// How a receive export waits when nothing is queued.
#[derive(Clone, Copy)]
pub(crate) enum Wait {
    /// `wm_*_try_recv`: `WM_ERR_EMPTY` with this text.
    No(&'static str),
    /// `wm_*_recv`: the C timeout in milliseconds (< 0: without limit).
    Ms(i64),
}

/// The body of every `wm_*_try_recv` and `wm_*_recv` export: clears `*out`, then under the
/// panic guard (labelled by `here`, the export's `here!()`) resolves `handle` in `table`
/// (NULL: `WM_ERR_NULL_ARG` naming `name`), checks `out`, and takes the next event into `*out`
/// as a new message handle. An event already queued is taken inside the handle's slot, with no
/// reference-count traffic; only a receive that must wait takes a reference (in the same visit
/// to the slot) and blocks, outside it.
///
/// # Safety
/// `out` is NULL or valid for writes.
pub(crate) unsafe fn recv<O: Receiver, F: Fn(), const K: u8>(
    here: F,
    table: &Table<Arc<O>, K>,
    handle: usize,
    name: &str,
    wait: Wait,
    out: *mut *mut wm_message,
) -> wm_status {
    // SAFETY: the caller passes NULL or a writable pointer.
    unsafe { write_out(out, std::ptr::null_mut()) };
    guard(here, || {
        if handle == 0 {
            return Err(Failure::null(name));
        }
        // `out` is checked inside the slot, after the handle and before anything is taken. A
        // queued event becomes a message handle right there (only a word leaves the slot); a
        // receive that must wait takes its reference to the object in the same visit.
        let got = table.with_local(handle, |o, local| take_in_slot(o, local, out, wait))??;
        let h = match (got, wait) {
            (Ok(h), _) => h,
            (Err(o), Wait::Ms(ms)) => insert_message(o.take(timeout_arg(ms))?)?,
            (Err(_), Wait::No(empty)) => return Err(Failure::new(WM_ERR_EMPTY, empty)),
        };
        // SAFETY: checked non-null above; the caller promises it is writable.
        unsafe { *out = h };
        Ok(())
    })
}

/// `recv`'s visit to the receiver's slot: a queued event as a new message handle, or (for a
/// receive that must wait) a reference to the receiver. Inlined, so that the receiver's slot
/// and the new message's slot are found with one look-up of the thread's storage.
#[inline(always)]
fn take_in_slot<O: Receiver>(
    o: &Arc<O>,
    local: Option<&Local>,
    out: *mut *mut wm_message,
    wait: Wait,
) -> Res<Result<*mut wm_message, Arc<O>>> {
    if out.is_null() {
        return Err(Failure::null("out"));
    }
    match (o.try_take_handle(local)?, wait) {
        (Some(h), _) => Ok(Ok(h)),
        (None, Wait::No(empty)) => Err(Failure::new(WM_ERR_EMPTY, empty)),
        (None, Wait::Ms(_)) => Ok(Err(Arc::clone(o))),
    }
}
