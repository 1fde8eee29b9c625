//! The leaves of the wire format: bytes, varints, strings, property keys, BigInts, buffers,
//! views, host objects and RegExps, and the budgets they charge.

use super::*;

/// A property key read from the wire, canonicalised.
pub(super) enum Key {
    Index(u32),
    Name(JsString),
}

impl Key {
    pub(super) fn into_name(self) -> JsString {
        match self {
            Key::Index(i) => JsString::from_latin1(i.to_string().into_bytes()),
            Key::Name(n) => n,
        }
    }
}

impl<'a> Reader<'a> {
    #[cold]
    pub(super) fn err(&self, kind: Kind, msg: impl Into<String>) -> Box<DecodeError> {
        Box::new(DecodeError::new(kind, self.pos, msg))
    }

    #[cold]
    pub(super) fn err_at(&self, at: usize, kind: Kind, msg: impl Into<String>) -> Box<DecodeError> {
        Box::new(DecodeError::new(kind, at, msg))
    }

    pub(super) fn remaining(&self) -> usize {
        self.input.len() - self.pos
    }

    pub(super) fn byte(&mut self) -> R<u8> {
        match self.input.get(self.pos) {
            Some(&b) => {
                self.pos += 1;
                Ok(b)
            }
            None => Err(self.err(Kind::Truncated, "input ended")),
        }
    }

    /// Skips padding and returns the next tag without consuming it.
    #[inline]
    pub(super) fn peek_tag(&mut self) -> R<u8> {
        match self.input.get(self.pos) {
            Some(&b) if b != PADDING => Ok(b),
            _ => self.peek_tag_after_padding(),
        }
    }

    fn peek_tag_after_padding(&mut self) -> R<u8> {
        while self.input.get(self.pos) == Some(&PADDING) {
            self.pos += 1;
        }
        match self.input.get(self.pos) {
            Some(&b) => Ok(b),
            None => Err(self.err(Kind::Truncated, "input ended where a tag was expected")),
        }
    }

    pub(super) fn tag(&mut self) -> R<u8> {
        let t = self.peek_tag()?;
        self.pos += 1;
        Ok(t)
    }

    /// A base-128 varint of at most 5 bytes whose value fits in 32 bits, minimally encoded.
    #[inline]
    pub(super) fn varint(&mut self) -> R<u32> {
        // Most varints (lengths, counts, small Smis) are one byte.
        if let Some(&b) = self.input.get(self.pos) {
            if b < 0x80 {
                self.pos += 1;
                return Ok(u32::from(b));
            }
        }
        self.long_varint()
    }

    fn long_varint(&mut self) -> R<u32> {
        let start = self.pos;
        let mut value: u32 = 0;
        for i in 0..5 {
            let b = self.byte()?;
            if i == 4 && b > 0x0F {
                return Err(self.err_at(start, Kind::Malformed, "varint exceeds 32 bits"));
            }
            value |= u32::from(b & 0x7F) << (7 * i);
            if b & 0x80 == 0 {
                if b == 0 && i > 0 {
                    return Err(self.err_at(
                        start,
                        Kind::Malformed,
                        "varint is not minimally encoded",
                    ));
                }
                return Ok(value);
            }
        }
        Err(self.err_at(start, Kind::Malformed, "varint exceeds 32 bits"))
    }

    /// A buffer length or offset: 32-bit before version 16, 64-bit (but < 2^32 here) from 16 on.
    pub(super) fn size_varint(&mut self) -> R<u32> {
        if self.version < 16 {
            return self.varint();
        }
        let start = self.pos;
        let mut value: u64 = 0;
        for i in 0..10 {
            let b = self.byte()?;
            if i == 9 && b > 1 {
                return Err(self.err_at(start, Kind::Malformed, "varint exceeds 64 bits"));
            }
            value |= u64::from(b & 0x7F) << (7 * i);
            if b & 0x80 == 0 {
                if b == 0 && i > 0 {
                    return Err(self.err_at(
                        start,
                        Kind::Malformed,
                        "varint is not minimally encoded",
                    ));
                }
                return u32::try_from(value).map_err(|_| {
                    self.err_at(
                        start,
                        Kind::Unsupported,
                        "a buffer length or offset of 2^32 or more",
                    )
                });
            }
        }
        Err(self.err_at(start, Kind::Malformed, "varint exceeds 64 bits"))
    }

    pub(super) fn zigzag(&mut self) -> R<i32> {
        let n = self.varint()?;
        Ok(((n >> 1) as i32) ^ -((n & 1) as i32))
    }

    pub(super) fn take(&mut self, n: usize, what: &str) -> R<&'a [u8]> {
        if n > self.remaining() {
            return Err(self.err(
                Kind::Truncated,
                format!("{what} of {n} bytes runs past the end of the input"),
            ));
        }
        let s = &self.input[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }

    pub(super) fn double(&mut self) -> R<f64> {
        let b = self.take(8, "double")?;
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        Ok(canonical(f64::from_le_bytes(a)))
    }

    pub(super) fn header(&mut self) -> R<()> {
        if self.byte()? != VERSION {
            return Err(self.err_at(
                0,
                Kind::Unsupported,
                "missing version header (0xFF); legacy data is not read",
            ));
        }
        let v = self.varint()?;
        if !(MIN_READ_VERSION..=MAX_READ_VERSION).contains(&v) {
            return Err(self.err_at(
                1,
                Kind::Unsupported,
                format!("unsupported format version {v} (13 to 16 are read)"),
            ));
        }
        self.version = v;
        Ok(())
    }

    // ---- budgets and ids ----

    pub(super) fn charge_units(&mut self, n: usize) -> R<()> {
        // Counts down: one subtraction and one test per string.
        let Some(left) = self.units_left.checked_sub(n) else {
            return Err(self.err(Kind::LimitExceeded, "string code units exceed the limit"));
        };
        self.units_left = left;
        Ok(())
    }

    pub(super) fn charge_bytes(&mut self, n: usize) -> R<()> {
        self.bytes_used = self.bytes_used.saturating_add(n);
        if self.bytes_used > self.opts.limits.max_bytes {
            return Err(self.err(Kind::LimitExceeded, "ArrayBuffer bytes exceed the limit"));
        }
        Ok(())
    }

    pub(super) fn charge_sparse(&mut self, at: usize, length: u32) -> R<()> {
        match self.sparse_left.checked_sub(length as usize) {
            Some(left) => {
                self.sparse_left = left;
                Ok(())
            }
            None => Err(self.err_at(
                at,
                Kind::LimitExceeded,
                format!(
                    "sparse array length {length} exceeds the limit for {} input bytes \
                     (Limits::sparse_length_per_byte)",
                    self.input.len()
                ),
            )),
        }
    }

    /// How many element slots a dense array may reserve up front. Each element takes at least
    /// one input byte, so all open arrays together never reserve more slots than the input has
    /// bytes (nested arrays each claiming the rest of the input cannot multiply it).
    pub(super) fn reserve_elements(&mut self, len: usize) -> usize {
        let n = len.min(self.reservable);
        self.reservable -= n;
        n
    }

    /// Adds an arena object (not referable from the wire): wire ids and arena ids part here.
    pub(super) fn alloc(&mut self, obj: Object) -> R<ObjectId> {
        self.explicit_ids();
        self.push_object(obj)
    }

    fn push_object(&mut self, obj: Object) -> R<ObjectId> {
        if self.objects.len() >= self.max_objects {
            return Err(self.err(Kind::LimitExceeded, "object count exceeds the limit"));
        }
        let id = ObjectId(self.objects.len() as u32);
        self.objects.push(obj);
        Ok(id)
    }

    /// Adds an object that takes the next wire id and is referable at once.
    pub(super) fn alloc_wire(&mut self, obj: Object) -> R<ObjectId> {
        let id = self.push_object(obj)?;
        if !self.same_ids {
            self.id_map.push(id.0);
        }
        Ok(id)
    }

    /// Ends the identity of wire and arena ids: from now on `id_map` holds every wire id.
    pub(super) fn explicit_ids(&mut self) {
        if self.same_ids {
            self.same_ids = false;
            let n = self.objects.len() as u32;
            self.id_map
                .reserve((self.input.len() / 16).min(self.opts.limits.max_objects));
            self.id_map.extend(0..n);
        }
    }

    /// The arena id of wire object `wire`: `Some(NOT_YET)` while it may not be referred to.
    pub(super) fn wire_object(&self, wire: usize) -> Option<u32> {
        if self.same_ids {
            return (wire < self.objects.len()).then_some(wire as u32);
        }
        self.id_map.get(wire).copied()
    }

    /// Puts a finished container in its slot, which holds [`OPEN`].
    pub(super) fn set(&mut self, id: ObjectId, obj: Object) {
        if let Some(slot) = self.objects.get_mut(id.index()) {
            // The stand-in owns nothing: no call to the general `Object` drop.
            let old = std::mem::replace(slot, obj);
            if matches!(old, Object::BooleanObject(_)) {
                std::mem::forget(old);
            }
        }
    }

    /// A one-byte key; a longer key is shared with its previous occurrence.
    pub(super) fn interned(&mut self, bytes: &[u8]) -> JsString {
        // Short keys are stored inline anyway; very long ones are rarely repeated.
        if bytes.len() <= 22 || bytes.len() > KEY_CACHE_MAX_LEN {
            return JsString::from_latin1_slice(bytes);
        }
        // FNV-1a: cheap for short keys; collisions just replace the slot.
        let h = bytes.iter().fold(0x811c_9dc5u32, |h, &b| {
            (h ^ u32::from(b)).wrapping_mul(0x0100_0193)
        });
        let slot = &mut self.key_cache[(h as usize) % KEY_CACHE];
        match slot {
            Some(s) if s.as_latin1() == Some(bytes) => s.clone(),
            _ => {
                let s = JsString::from_latin1_slice(bytes);
                *slot = Some(s.clone());
                s
            }
        }
    }

    // ---- leaves ----

    /// A one-byte string that starts right here (no padding) with a one-byte length of at most
    /// [`INLINE`], found in one fixed-size window of the input (its tag, length and the
    /// `INLINE` bytes after them): the bytes after the length (the string, then whatever
    /// follows it) and the string's length; not consumed. `None` also where the input ends
    /// within the window (the general path reads those).
    #[inline(always)]
    pub(super) fn short_one_byte(&self, tag: u8) -> Option<(&'a [u8; INLINE], usize)> {
        let window = self
            .input
            .get(self.pos..)?
            .first_chunk::<{ INLINE + 2 }>()?;
        let (head, bytes) = window.split_first_chunk::<2>()?;
        let len = usize::from(head[1]);
        if head[0] != tag || len > INLINE {
            return None;
        }
        Some((bytes.first_chunk::<INLINE>()?, len))
    }

    pub(super) fn string_body(&mut self, tag: u8) -> R<JsString> {
        let len = self.varint()? as usize;
        match tag {
            ONE_BYTE_STRING => {
                let b = self.take(len, "string")?;
                self.charge_units(len)?;
                Ok(JsString::from_latin1_slice(b))
            }
            TWO_BYTE_STRING => {
                if len % 2 != 0 {
                    return Err(self.err(Kind::Malformed, "two-byte string has an odd byte length"));
                }
                let b = self.take(len, "string")?;
                self.charge_units(len / 2)?;
                Ok(JsString::from_utf16(
                    b.chunks_exact(2)
                        .map(|c| u16::from_le_bytes([c[0], c[1]]))
                        .collect::<Vec<_>>(),
                ))
            }
            _ => {
                let at = self.pos;
                let b = self.take(len, "string")?;
                let s = std::str::from_utf8(b).map_err(|_| {
                    self.err_at(at, Kind::Malformed, "UTF-8 string is not valid UTF-8")
                })?;
                self.charge_units(len)?;
                Ok(JsString::from(s))
            }
        }
    }

    /// A value that must be a string (RegExp source, String object, Error message and stack).
    pub(super) fn tagged_string(&mut self, what: &str) -> R<JsString> {
        let at = self.pos;
        match self.tag()? {
            t @ (ONE_BYTE_STRING | TWO_BYTE_STRING | UTF8_STRING) => self.string_body(t),
            t => Err(self.err_at(
                at,
                Kind::Malformed,
                format!("{what} must be a string, found tag {}", show(t)),
            )),
        }
    }

    pub(super) fn bigint(&mut self) -> R<JsBigInt> {
        let at = self.pos;
        let bitfield = self.varint()?;
        let len = (bitfield >> 1) as usize;
        if len > self.opts.limits.max_bigint_bytes {
            return Err(self.err_at(
                at,
                Kind::LimitExceeded,
                format!("BigInt of {len} bytes exceeds the limit"),
            ));
        }
        let digits = self.take(len, "BigInt digits")?;
        let negative = bitfield & 1 == 1;
        let b = JsBigInt::from_sign_magnitude(negative, digits);
        if negative && b.is_zero() {
            return Err(self.err_at(at, Kind::Malformed, "BigInt -0 does not exist"));
        }
        Ok(b)
    }

    /// A property key: a number or string tag, canonicalised (`I 1` and `"1"` are one key).
    pub(super) fn key(&mut self) -> R<Key> {
        let at = self.pos;
        let tag = self.tag()?;
        let number = match tag {
            INT32 => f64::from(self.zigzag()?),
            UINT32 => f64::from(self.varint()?),
            DOUBLE => self.double()?,
            ONE_BYTE_STRING => {
                let len = self.varint()? as usize;
                let bytes = self.take(len, "string")?;
                self.charge_units(len)?;
                if let Some(i) = parse_array_index(bytes) {
                    return Ok(Key::Index(i));
                }
                return Ok(Key::Name(self.interned(bytes)));
            }
            TWO_BYTE_STRING | UTF8_STRING => {
                let s = self.string_body(tag)?;
                return Ok(match s.array_index() {
                    Some(i) => Key::Index(i),
                    None => Key::Name(s),
                });
            }
            t => {
                return Err(self.err_at(
                    at,
                    Kind::Malformed,
                    format!(
                        "a property key must be a number or string, found tag {}",
                        show(t)
                    ),
                ))
            }
        };
        if number >= 0.0 && number <= f64::from(MAX_ARRAY_INDEX) && number.fract() == 0.0 {
            return Ok(Key::Index(number as u32));
        }
        let name = number_to_string(number);
        self.charge_units(name.len())?;
        Ok(match parse_array_index(name.as_bytes()) {
            Some(i) => Key::Index(i),
            None => Key::Name(JsString::from(name)),
        })
    }

    pub(super) fn array_buffer(&mut self, resizable: bool) -> R<Value> {
        let at = self.pos;
        let len = self.size_varint()?;
        let max = if resizable {
            let max = self.size_varint()?;
            if len > max {
                return Err(self.err_at(
                    at,
                    Kind::Malformed,
                    "resizable ArrayBuffer is longer than its maxByteLength",
                ));
            }
            Some(max)
        } else {
            None
        };
        let data = self.take(len as usize, "ArrayBuffer")?;
        self.charge_bytes(data.len())?;
        let buffer = ArrayBuffer {
            data: data.to_vec(),
            max_byte_length: max,
            detached: false,
        };
        Ok(Value::Object(self.alloc_wire(Object::ArrayBuffer(buffer))?))
    }

    pub(super) fn transferred_buffer(&mut self) -> R<Value> {
        let at = self.pos;
        let i = self.varint()? as usize;
        match self.buffer_used.get_mut(i) {
            None => Err(self.err_at(
                at,
                Kind::Malformed,
                format!("transferred ArrayBuffer {i} is not in the transfer table"),
            )),
            Some(true) => Err(self.err_at(
                at,
                Kind::Malformed,
                format!(
                    "transferred ArrayBuffer {i} appears twice (the second must be a reference)"
                ),
            )),
            Some(used) => {
                *used = true;
                let id = ObjectId(i as u32);
                self.explicit_ids();
                self.id_map.push(id.0);
                Ok(Value::Object(id))
            }
        }
    }

    /// `V` after a buffer value.
    pub(super) fn view(&mut self, buffer: ObjectId) -> R<Value> {
        let at = self.pos;
        let sub = self.byte()?;
        let kind = ViewKind::from_wire_tag(sub).ok_or_else(|| {
            self.err_at(
                at,
                Kind::Malformed,
                format!("unknown view sub-tag {}", show(sub)),
            )
        })?;
        let offset = self.size_varint()?;
        let length = self.size_varint()?;
        let flags = if self.version >= 14 {
            self.varint()?
        } else {
            0
        };
        if flags & !(VIEW_LENGTH_TRACKING | VIEW_BACKED_BY_RAB) != 0 {
            return Err(self.err_at(
                at,
                Kind::Malformed,
                format!("unknown view flags {flags:#x}"),
            ));
        }
        let Some(Object::ArrayBuffer(b)) = self.objects.get(buffer.index()) else {
            return Err(self.err_at(at, Kind::Malformed, "a view must follow an ArrayBuffer"));
        };
        let buf_len = match self.buffer_lens.get(buffer.index()) {
            Some(&len) => len as u64, // a transferred buffer
            None => b.data.len() as u64,
        };
        let resizable = b.max_byte_length.is_some();
        let tracking = flags & VIEW_LENGTH_TRACKING != 0;
        if resizable != (flags & VIEW_BACKED_BY_RAB != 0) || (tracking && !resizable) {
            return Err(self.err_at(
                at,
                Kind::Malformed,
                "view flags do not match the buffer's resizability",
            ));
        }
        if tracking && length != 0 {
            return Err(self.err_at(
                at,
                Kind::Malformed,
                "a length-tracking view must have byteLength 0",
            ));
        }
        let (o, l) = (u64::from(offset), u64::from(length));
        if o > buf_len || l > buf_len - o {
            return Err(self.err_at(
                at,
                Kind::Malformed,
                format!("{} is out of its buffer's bounds", kind.name()),
            ));
        }
        let size = kind.element_size() as u64;
        if o % size != 0 || l % size != 0 {
            return Err(self.err_at(
                at,
                Kind::Malformed,
                format!(
                    "{} offset and length must be multiples of {size}",
                    kind.name()
                ),
            ));
        }
        let view = ArrayBufferView {
            kind,
            buffer,
            byte_offset: offset,
            byte_length: length,
            length_tracking: tracking,
        };
        Ok(Value::Object(self.alloc_wire(Object::View(view))?))
    }

    pub(super) fn host_object(&mut self) -> R<Value> {
        let at = self.pos;
        match self.opts.host_objects {
            HostObjects::Ports => {
                let i = self.varint()? as usize;
                let port = match self.ports.get_mut(i) {
                    None => {
                        return Err(self.err_at(
                            at,
                            Kind::Malformed,
                            format!("host object {i} is not in the port table"),
                        ))
                    }
                    Some(slot) => slot.take(),
                };
                let Some(port) = port else {
                    return Err(self.err_at(
                        at,
                        Kind::Malformed,
                        format!("port {i} appears twice (the second must be a reference)"),
                    ));
                };
                Ok(Value::Object(self.alloc_wire(port)?))
            }
            HostObjects::NodeSerialize => {
                const KINDS: [ViewKind; 13] = [
                    ViewKind::Int8,
                    ViewKind::Uint8,
                    ViewKind::Uint8Clamped,
                    ViewKind::Int16,
                    ViewKind::Uint16,
                    ViewKind::Int32,
                    ViewKind::Uint32,
                    ViewKind::Float32,
                    ViewKind::Float64,
                    ViewKind::DataView,
                    ViewKind::Uint8, // Buffer
                    ViewKind::BigInt64,
                    ViewKind::BigUint64,
                ];
                let index = self.varint()? as usize;
                let kind = *KINDS.get(index).ok_or_else(|| {
                    self.err_at(
                        at,
                        Kind::Malformed,
                        format!("unknown Node host object type {index}"),
                    )
                })?;
                let len = self.varint()?;
                if len as usize % kind.element_size() != 0 {
                    return Err(self.err_at(
                        at,
                        Kind::Malformed,
                        format!(
                            "{} byte length {len} is not a multiple of its element size",
                            kind.name()
                        ),
                    ));
                }
                let data = self.take(len as usize, "host object")?;
                self.charge_bytes(data.len())?;
                let buffer = self.alloc(Object::ArrayBuffer(ArrayBuffer::new(data.to_vec())))?;
                let view = ArrayBufferView {
                    kind,
                    buffer,
                    byte_offset: 0,
                    byte_length: len,
                    length_tracking: false,
                };
                Ok(Value::Object(self.alloc_wire(Object::View(view))?))
            }
        }
    }

    pub(super) fn regexp(&mut self) -> R<Value> {
        let source = self.tagged_string("RegExp source")?;
        let at = self.pos;
        let flags = RegExpFlags(self.varint()?);
        if !flags.is_valid() {
            return Err(self.err_at(
                at,
                Kind::Malformed,
                format!("RegExp flags {:#x} are not valid", flags.0),
            ));
        }
        Ok(Value::Object(
            self.alloc_wire(Object::RegExp(RegExp { source, flags }))?,
        ))
    }
}
