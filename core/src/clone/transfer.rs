//! The transfer glue between the codec and [`MessagePort`]: StructuredSerializeWithTransfer and
//! StructuredDeserializeWithTransfer (the HTML Standard's transfer steps, R-TR).

use std::collections::HashSet;

use super::decode::{decode_transfer, DecodeOptions};
use super::encode::{encode_with, EncodeOptions};
use super::transferable::Transferable;
use super::value::{Graph, Object, ObjectId};
use crate::port::{check_transfer_list, detach_for_transfer, Envelope};
use crate::{Error, Message, MessagePort, Payload, Result};

/// The result of [`serialize_with_transfer`]: what [`MessagePort::post_message`] takes.
#[derive(Debug)]
pub struct Serialized {
    /// The bytes plus the transferred buffers' contents, in transfer-list order.
    pub payload: Payload,
    /// The transferred ports, in transfer-list order (not yet detached: posting detaches them).
    pub ports: Vec<MessagePort>,
}

/// The pre-checks of StructuredSerializeWithTransfer (R-TR-3, R-TR-4): every item transferable,
/// none twice. Returns the ports and buffers in list order.
// A port hashes by identity (its handle's address), not by its mutable state.
#[allow(clippy::mutable_key_type)]
fn split_transfer_list(
    graph: &Graph,
    transfer: &[Transferable],
) -> Result<(Vec<MessagePort>, Vec<ObjectId>)> {
    let mut ports = Vec::new();
    let mut buffers = Vec::new();
    let mut seen = HashSet::new();
    let mut seen_ports = HashSet::new();
    for (i, item) in transfer.iter().enumerate() {
        match item {
            Transferable::Port(p) => {
                if !seen_ports.insert(p) {
                    return Err(Error::data_clone(format!(
                        "transfer list item {i}: the port is listed twice"
                    )));
                }
                ports.push(p.clone());
            }
            Transferable::ArrayBuffer(id) => {
                match graph.get(*id) {
                    Some(Object::ArrayBuffer(_)) => {}
                    Some(other) => {
                        return Err(Error::data_clone(format!(
                            "transfer list item {i}: a {} is not transferable",
                            other.kind_name()
                        )))
                    }
                    None => {
                        return Err(Error::data_clone(format!(
                            "transfer list item {i}: no object {}",
                            id.0
                        )))
                    }
                }
                if !seen.insert(*id) {
                    return Err(Error::data_clone(format!(
                        "transfer list item {i}: the ArrayBuffer is listed twice"
                    )));
                }
                buffers.push(*id);
            }
        }
    }
    Ok((ports, buffers))
}

/// StructuredSerializeWithTransfer: serializes `graph` with `transfer`, then moves every
/// transferred ArrayBuffer's bytes out of the graph (leaving it detached).
///
/// Errors (`DataCloneError`), in the standard's order: an item that is not transferable or is
/// listed twice (before serializing, R-TR-3/4); a port inside the value that is not in the list
/// (R-CH-15); anything the value cannot hold; then a detached buffer or port of the list (only
/// after the whole value serialized, R-TR-6). Nothing is detached when an error is returned.
pub fn serialize_with_transfer(graph: &mut Graph, transfer: &[Transferable]) -> Result<Serialized> {
    let (ports, buffers) = split_transfer_list(graph, transfer)?;
    let data = encode_with(graph, &EncodeOptions::default(), transfer)?;
    for (i, id) in buffers.iter().enumerate() {
        if matches!(graph.get(*id), Some(Object::ArrayBuffer(b)) if b.detached) {
            return Err(Error::data_clone(format!(
                "transferred ArrayBuffer {i} is detached"
            )));
        }
    }
    if let Some(i) = ports.iter().position(MessagePort::is_detached) {
        return Err(Error::data_clone(format!(
            "transferred port {i} is detached (closed or already transferred)"
        )));
    }
    let array_buffers = buffers
        .iter()
        .filter_map(|id| match graph.objects_mut().get_mut(id.index()) {
            Some(Object::ArrayBuffer(b)) => {
                b.detached = true;
                Some(std::mem::take(&mut b.data).into())
            }
            _ => None,
        })
        .collect();
    Ok(Serialized {
        payload: Payload {
            data,
            array_buffers,
        },
        ports,
    })
}

/// A deserialized message: the value plus every transferred port.
#[derive(Debug)]
pub struct Received {
    /// The value. Its [`Object::MessagePort`] nodes hold handles on the ports below.
    pub graph: Graph,
    /// All transferred ports in transfer-list order (`event.ports`), including ports the value
    /// itself does not mention (R-TR-10, R-TR-11).
    pub ports: Vec<MessagePort>,
}

/// StructuredDeserializeWithTransfer for a received [`Message`]: the graph's port nodes are
/// handles on the message's (working) ports and its transferred ArrayBuffers own the message's
/// buffers, moved, not copied (they are the graph's first objects, in transfer order). Uses the
/// default (strict) [`DecodeOptions`]. Ports the value does not mention are dropped with the
/// message; use [`deserialize_message`] to keep them.
pub fn deserialize_with_transfer(message: Message) -> Result<Graph> {
    Ok(deserialize_message(message, &DecodeOptions::default())?.graph)
}

/// [`deserialize_with_transfer`] with explicit reader options, returning every transferred port
/// too (`event.ports`).
pub fn deserialize_message(message: Message, options: &DecodeOptions) -> Result<Received> {
    let Message {
        data,
        array_buffers,
        ports,
    } = message;
    let graph = decode_transfer(&data, options, &ports, array_buffers)?;
    Ok(Received { graph, ports })
}

/// Serializes `graph` with `transfer` and posts it on `port` (the message port post message
/// steps with a structured value). The port checks run first: the list must not hold `port`
/// itself (R-CH-13) or a port twice.
pub fn post_value(port: &MessagePort, graph: &mut Graph, transfer: &[Transferable]) -> Result<()> {
    let listed: Vec<MessagePort> = transfer
        .iter()
        .filter_map(|t| match t {
            Transferable::Port(p) => Some(p.clone()),
            Transferable::ArrayBuffer(_) => None,
        })
        .collect();
    check_transfer_list(Some(port), &listed)?;
    let Serialized { payload, ports } = serialize_with_transfer(graph, transfer)?;
    port.post_message(payload, &ports)
}

/// `structuredClone(value, { transfer })` (R-TR-15): serializes and deserializes at once.
/// Transferred buffers move into the clone; transferred ports come back as new handles on the
/// same, still entangled ports, and the originals are detached.
pub fn structured_clone(graph: &mut Graph, transfer: &[Transferable]) -> Result<Graph> {
    let Serialized { payload, ports } = serialize_with_transfer(graph, transfer)?;
    check_transfer_list(None, &ports)?;
    let owned = detach_for_transfer(&ports)?;
    let message = Envelope::new(payload, owned).into_message();
    deserialize_with_transfer(message)
}
