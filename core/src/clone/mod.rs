//! Structured clone: a graph of JavaScript values and a strict, bounded codec for the V8
//! ValueSerializer wire format, version 15 — the bytes of Node's `new v8.Serializer()`.
//!
//! * [`Graph`] holds a value: primitives inline ([`Value`]), objects in an arena ([`Object`])
//!   addressed by [`ObjectId`], so shared references and cycles survive.
//! * [`encode`] writes the canonical subset of V8 v15, byte-identical to Node's
//!   `new v8.Serializer()` (`writeHeader()` + `writeValue()`) for the same value.
//! * [`decode`] reads versions 13–15 (and 16 when lengths fit in 32 bits) under [`Limits`]:
//!   malformed or hostile input is a [`DecodeError`], never a panic or an unbounded allocation.
//!   [`DecodeOptions`] picks strict or lenient trailing-byte handling and the host-object dialect
//!   (our MessagePort table, or Node `v8.serialize()` typed arrays).
//! * [`serialize_with_transfer`], [`deserialize_with_transfer`], [`post_value`] and
//!   [`structured_clone`] tie the codec to [`MessagePort`](crate::MessagePort): ports travel as
//!   host objects `\` + index, transferred ArrayBuffers as `t` + index, and their bytes move
//!   without a copy.
//!
//! ```
//! use webmessaging_core::clone::{self, Graph, Object, Value};
//!
//! let mut g = Graph::new();
//! let o = g.add(Object::object([("a", Value::from(1))]));
//! g.root = o.into();
//! let bytes = clone::encode(&g)?;
//! assert_eq!(bytes, b"\xff\x0f\x6f\x22\x01a\x49\x02\x7b\x01");
//! assert_eq!(clone::decode(&bytes)?, g);
//! # Ok::<(), webmessaging_core::Error>(())
//! ```
//!
//! Posting a value with a transferred buffer:
//!
//! ```
//! use webmessaging_core::{MessageChannel, clone::{self, ArrayBuffer, Graph, Object, Transferable, Value}};
//!
//! let (a, b) = MessageChannel::new().into_ports();
//! let mut g = Graph::new();
//! let bytes = g.add(Object::ArrayBuffer(ArrayBuffer::new(vec![1, 2, 3])));
//! let tags = g.add(Object::array([1, 2, 3]));
//! g.root = g.add(Object::object([("id", Value::from(7)), ("tags", tags.into()), ("bytes", bytes.into())])).into();
//! let sent = g.clone();
//! clone::post_value(&a, &mut g, &[Transferable::ArrayBuffer(bytes)])?; // moves the buffer
//! let got = clone::deserialize_with_transfer(b.recv(None)?)?;
//! assert!(got.equivalent(&sent, false));
//! # Ok::<(), webmessaging_core::Error>(())
//! ```

mod bigint;
mod decode;
mod encode;
mod equal;
mod error;
mod number;
mod string;
mod transfer;
mod transferable;
mod value;
pub mod wire;

pub use bigint::{JsBigInt, ParseBigIntError};
pub use decode::{
    decode, decode_transfer, decode_with, validate, DecodeOptions, HostObjects, Limits,
};
pub use encode::{encode, encode_with, EncodeOptions};
pub use error::{DecodeError, DecodeErrorKind};
pub use string::JsString;
pub use transfer::{
    deserialize_message, deserialize_with_transfer, post_value, serialize_with_transfer,
    structured_clone, Received, Serialized,
};
pub use transferable::Transferable;
pub use value::{
    Array, ArrayBuffer, ArrayBufferView, Elements, ErrorName, ErrorObject, Graph, Object, ObjectId,
    Properties, RegExp, RegExpFlags, Value, ViewKind,
};
