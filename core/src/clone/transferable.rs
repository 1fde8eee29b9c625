//! `Transferable`: an item of a transfer list, the one type the encoder and the transfer steps
//! both speak of (its own module, so neither imports the other for it).

use super::value::ObjectId;
use crate::MessagePort;

/// An item of a transfer list. New transferable kinds may be added: match with a wildcard arm.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Transferable {
    /// A MessagePort: it travels as host object `\` + its index among the list's ports.
    Port(MessagePort),
    /// An ArrayBuffer of the graph being serialized: it travels as `t` + its index among the
    /// list's buffers, its bytes move out of the graph (the node is left detached).
    ArrayBuffer(ObjectId),
}
