//! The `transfer` argument of `post_message`: the ports and `bytearray`s that move with a
//! message, read once and shared by the encoder and the post.

use std::sync::Arc;

use pyo3::prelude::*;
use pyo3::types::PyByteArray;
use webmessaging_core as core;

use crate::errors;
use crate::port::MessagePort;
use crate::receiver::Receiver;

/// One item of a `transfer` argument.
pub(crate) enum TransferItem<'py> {
    /// A port: it moves to the receiver.
    Port(core::MessagePort, Arc<Receiver>),
    /// A `bytearray`, Python's stand-in for a transferable ArrayBuffer: its bytes move to the
    /// receiver and it is left empty (detached).
    Buffer(Bound<'py, PyByteArray>),
}

/// A `transfer` argument, in order.
#[derive(Default)]
pub(crate) struct Transfer<'py> {
    pub(crate) items: Vec<TransferItem<'py>>,
}

impl Transfer<'_> {
    pub(crate) fn ports(&self) -> Vec<core::MessagePort> {
        self.items
            .iter()
            .filter_map(|i| match i {
                TransferItem::Port(p, _) => Some(p.clone()),
                TransferItem::Buffer(_) => None,
            })
            .collect()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.items.is_empty()
    }
}

/// Reads a `transfer` argument: an iterable of `MessagePort`s and `bytearray`s (`None`: empty).
pub(crate) fn transfer_list<'py>(
    py: Python<'py>,
    transfer: Option<&Bound<'py, PyAny>>,
) -> PyResult<Transfer<'py>> {
    let mut out = Transfer::default();
    let Some(transfer) = transfer.filter(|t| !t.is_none()) else {
        return Ok(out);
    };
    for item in transfer.try_iter()? {
        let item = item?;
        if let Ok(p) = item.cast::<MessagePort>() {
            out.items.push(TransferItem::Port(
                p.get().port.clone(),
                p.get().shared.clone(),
            ));
        } else if let Ok(b) = item.cast::<PyByteArray>() {
            out.items.push(TransferItem::Buffer(b.clone()));
        } else {
            let name = item.get_type().qualname()?;
            return Err(errors::data_clone(
                py,
                format!("an object of type {name} cannot be transferred (MessagePort and bytearray can)"),
            ));
        }
    }
    Ok(out)
}

/// After a successful post: the transferred ports' handlers stay behind.
pub(crate) fn after_transfer(transfer: &Transfer<'_>) {
    for item in &transfer.items {
        if let TransferItem::Port(_, shared) = item {
            shared.forget_listeners();
        }
    }
}
