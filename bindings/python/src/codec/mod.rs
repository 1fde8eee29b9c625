//! The direct codec: Python objects to wire bytes and wire bytes to Python objects with no
//! value graph in between, for the values messages are usually made of. Whatever it does not
//! cover it hands back ([`encode::Bail`]) to the full mapping in `crate::convert`, which goes
//! through the core's graph (`to_graph`, `from_graph`); both write the same bytes and read
//! with the same strictness.

pub(crate) mod decode;
pub(crate) mod encode;
pub(crate) mod from_graph;
pub(crate) mod to_graph;
pub(crate) mod wire;
