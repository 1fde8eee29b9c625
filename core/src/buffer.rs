//! The contents of a transferred ArrayBuffer as they travel in a message.
//!
//! Transfer moves a buffer's memory to the receiver (R-TR-10). Usually that memory is a Rust
//! `Vec<u8>`; a binding whose runtime owns its buffers (V8 backing stores in Node) can instead
//! hand over the runtime's own allocation as a [`ForeignBuffer`], so that a transfer between
//! two places of that runtime never copies. Anyone else sees plain bytes.
use std::any::{Any, TypeId};
use std::fmt;
use std::ops::{Deref, DerefMut};

/// Memory owned by a binding's runtime, lent to a message for as long as it lives.
///
/// Dropping it gives the memory back to its runtime, on whichever thread drops it.
pub trait ForeignBuffer: Any + Send + Sync {
    /// The buffer's bytes.
    fn bytes(&self) -> &[u8];
    /// The buffer's bytes, writable (an ArrayBuffer's receiver may write to it).
    fn bytes_mut(&mut self) -> &mut [u8];
}

/// The bytes of one transferred ArrayBuffer: owned by Rust, or by a binding's runtime.
///
/// It dereferences to the bytes either way; [`into_vec`](Self::into_vec) gives a `Vec<u8>`
/// without copying when Rust owns them.
pub struct ArrayBufferContents(Repr);

enum Repr {
    Owned(Vec<u8>),
    Foreign(Box<dyn ForeignBuffer>),
}

impl ArrayBufferContents {
    /// Wraps a runtime's own allocation.
    pub fn foreign(buffer: Box<dyn ForeignBuffer>) -> Self {
        ArrayBufferContents(Repr::Foreign(buffer))
    }

    /// The bytes as a `Vec<u8>`: moved when Rust owns them, copied from a runtime's buffer.
    pub fn into_vec(self) -> Vec<u8> {
        match self.0 {
            Repr::Owned(v) => v,
            Repr::Foreign(f) => f.bytes().to_vec(),
        }
    }

    /// The runtime's buffer back, if it is a `T`; otherwise `self` unchanged.
    pub fn into_foreign<T: ForeignBuffer>(self) -> Result<Box<T>, Self> {
        match self.0 {
            Repr::Foreign(f) if (*f).type_id() == TypeId::of::<T>() => {
                let any: Box<dyn Any + Send + Sync> = f;
                match any.downcast::<T>() {
                    Ok(buffer) => Ok(buffer),
                    Err(_) => unreachable!("the type id was checked above"),
                }
            }
            repr => Err(ArrayBufferContents(repr)),
        }
    }
}

impl From<Vec<u8>> for ArrayBufferContents {
    fn from(bytes: Vec<u8>) -> Self {
        ArrayBufferContents(Repr::Owned(bytes))
    }
}

impl Deref for ArrayBufferContents {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        match &self.0 {
            Repr::Owned(v) => v,
            Repr::Foreign(f) => f.bytes(),
        }
    }
}

impl DerefMut for ArrayBufferContents {
    fn deref_mut(&mut self) -> &mut [u8] {
        match &mut self.0 {
            Repr::Owned(v) => v,
            Repr::Foreign(f) => f.bytes_mut(),
        }
    }
}

/// A clone is Rust-owned: a runtime's buffer cannot be shared by two messages.
impl Clone for ArrayBufferContents {
    fn clone(&self) -> Self {
        self.to_vec().into()
    }
}

impl PartialEq for ArrayBufferContents {
    fn eq(&self, other: &Self) -> bool {
        **self == **other
    }
}

impl Eq for ArrayBufferContents {}

impl PartialEq<[u8]> for ArrayBufferContents {
    fn eq(&self, other: &[u8]) -> bool {
        **self == *other
    }
}

impl PartialEq<Vec<u8>> for ArrayBufferContents {
    fn eq(&self, other: &Vec<u8>) -> bool {
        **self == **other
    }
}

impl fmt::Debug for ArrayBufferContents {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let owner = match self.0 {
            Repr::Owned(_) => "owned",
            Repr::Foreign(_) => "foreign",
        };
        write!(f, "ArrayBufferContents({owner}, {} bytes)", self.len())
    }
}
