//! Values to and from the wire: serializing a value (with its transfer list) for a post, and
//! decoding a received message into a value.

use std::sync::Arc;

use webmessaging_core::clone::{self, DecodeOptions, Graph, Object, Transferable, Value};
use webmessaging_core::Payload;

use super::graph::{resolve, with_graph, with_two, Doc, DocState};
use super::{insert, value_arg, wm_value, ValueObj};
use crate::message::MessageObj;
use crate::port::PortObj;
use crate::status::*;

/// Serializes the value at `value` (NULL: undefined) with `ports` as the transfer list.
pub(crate) fn serialize(value: *const wm_value, ports: &[Arc<PortObj>]) -> Res<Payload> {
    let transfer: Vec<Transferable> = ports
        .iter()
        .map(|p| Transferable::Port(p.port.clone()))
        .collect();
    let data = if value.is_null() {
        clone::encode_with(&Graph::new(), &Default::default(), &transfer)?
    } else {
        let v = value_arg(value, "value")?;
        with_graph(&v, |g, root| {
            let saved = std::mem::replace(&mut g.root, root.clone());
            let r = clone::encode_with(g, &Default::default(), &transfer);
            g.root = saved;
            r
        })?
    };
    Ok(Payload::from(data))
}

/// Serializes `value` with ports and ArrayBuffers transferred: the buffers' bytes move out of
/// the value graph (the buffers are left detached, as in JavaScript).
pub(crate) fn serialize_with_buffers(
    value: &ValueObj,
    ports: &[Arc<PortObj>],
    buffers: &[Arc<ValueObj>],
) -> Res<Payload> {
    // Bring every buffer into the value's graph first (transferring a buffer of another graph
    // merges the graphs, like referencing it would).
    for b in buffers {
        with_two(value, b, |_, _, _| ());
    }
    loop {
        let (doc, root) = resolve(&value.doc, &value.value);
        let mut ids = Vec::with_capacity(buffers.len());
        for (i, b) in buffers.iter().enumerate() {
            let (bdoc, bv) = resolve(&b.doc, &b.value);
            match bv {
                Value::Object(id) if Arc::ptr_eq(&bdoc, &doc) => ids.push(id),
                Value::Object(_) => break,
                _ => {
                    return Err(Failure::new(
                        WM_ERR_DATA_CLONE,
                        format!("DataCloneError: buffers[{i}] is not an ArrayBuffer"),
                    ))
                }
            }
        }
        if ids.len() != buffers.len() {
            // A concurrent merge moved the graph meanwhile: merge again and retry.
            for b in buffers {
                with_two(value, b, |_, _, _| ());
            }
            continue;
        }
        let mut st = doc.0.lock();
        let DocState::Live(g) = &mut *st else {
            continue;
        };
        // Said here, before serializing: the core would first trip over a view of the buffer,
        // whose bytes are gone, and call it out of bounds.
        if let Some(i) = ids
            .iter()
            .position(|id| matches!(g.get(*id), Some(Object::ArrayBuffer(b)) if b.detached))
        {
            return Err(Failure::new(
                WM_ERR_DATA_CLONE,
                format!("DataCloneError: buffers[{i}] is detached (it was transferred before)"),
            ));
        }
        let transfer: Vec<Transferable> = ports
            .iter()
            .map(|p| Transferable::Port(p.port.clone()))
            .chain(ids.into_iter().map(Transferable::ArrayBuffer))
            .collect();
        let saved = std::mem::replace(&mut g.root, root);
        let r = clone::serialize_with_transfer(g, &transfer);
        g.root = saved;
        return Ok(r?.payload);
    }
}

/// Serializes the value at `value` (NULL: undefined) with `ports` as the transfer list and posts.
pub(crate) fn post_value(
    port: &PortObj,
    value: *const wm_value,
    ports: &[Arc<PortObj>],
    mode: crate::port::Mode,
) -> Res {
    crate::port::check_source_not_listed(port, ports)?;
    let payload = serialize(value, ports)?;
    crate::port::post(port, payload, ports, mode)
}

/// Serializes a graph built from JSON (no ports inside it) with `ports` transferred alongside.
pub(crate) fn encode_graph(graph: &Graph, ports: &[Arc<PortObj>]) -> Res<Payload> {
    let transfer: Vec<Transferable> = ports
        .iter()
        .map(|p| Transferable::Port(p.port.clone()))
        .collect();
    Ok(Payload::from(clone::encode_with(
        graph,
        &Default::default(),
        &transfer,
    )?))
}

/// Decodes a message into a graph; its port nodes are the message's ports. The reader's
/// default `Limits` bound it, sparse arrays included (2^20 + 16 per message byte in all).
pub(crate) fn decode_message(m: &MessageObj) -> Res<Graph> {
    clone::decode_transfer(
        &m.data,
        &DecodeOptions::default(),
        &m.port_clones(),
        m.array_buffers().to_vec(),
    )
    .map_err(|e| Failure::new(WM_ERR_DECODE, format!("DecodeError: {e}")))
}

pub(crate) fn value_from_message(m: &MessageObj) -> Res<*mut wm_value> {
    let mut g = decode_message(m)?;
    let root = std::mem::take(&mut g.root);
    insert(Doc::new(g), root)
}
