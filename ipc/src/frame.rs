//! The frames on a cross-process port's socket, and their reader: a pure function from bytes
//! (plus how many descriptors have arrived) to frames, so it can be fuzzed and tested alone.
//!
//! Every frame is an 8-byte header and a body (all integers little-endian):
//!
//! | bytes | field |
//! |---|---|
//! | 0 | kind: 1 HELLO, 2 MESSAGE, 3 CLOSE |
//! | 1 | reserved, 0 |
//! | 2..4 | `u16` how many descriptors this frame consumes |
//! | 4..8 | `u32` body length |
//!
//! - HELLO (8-byte body, no descriptors): `b"WMPT"`, `u16` version (1), `u16` 0.
//! - CLOSE (1-byte body, no descriptors): the close reason, 0 `Closed`, 1 `Dropped`,
//!   2 `Doomed`, 3 `Lost`.
//! - MESSAGE: a blob for the serialized data; `u32` n and n blobs for the ArrayBuffers; `u32` m
//!   and m port entries. A *blob* is a `u8` place (0 inline, 1 descriptor) and a `u64` length;
//!   inline, the bytes follow at once; otherwise the next descriptor is a sealed memfd of exactly
//!   that length. A *port entry* is a `u8` flags (bit 0: this end already sent its HELLO, bit 1:
//!   the peer's HELLO was already read, bit 2: *lost*, the sender could not pass this port on:
//!   no socket and nothing else follows but empty fields), the socket (next descriptor), a
//!   *prefix* blob (bytes
//!   to read before the socket: the port's backlog as frames), a `u32` count of descriptors the
//!   prefix's frames consume (next descriptors), a *pending* blob (bytes this end still owes the
//!   socket) and a `u32` count of attach points, each `u64` offset into the pending bytes and
//!   `u32` descriptors (next descriptors) that go with the byte at that offset.
//!
//! Descriptors are consumed in the order the body names them; the header's count must equal
//! the body's. Descriptors travel with the first byte of their frame (see docs/cross-process.md).

use std::fmt;
use std::ops::Range;

use webmessaging_core::CloseReason;

/// Bytes in a frame header.
pub const HEADER_LEN: usize = 8;
/// The largest body a reader accepts; larger data goes in memfds, not inline.
pub const MAX_BODY: usize = 32 << 20;
/// The most descriptors one frame may consume.
pub const MAX_FDS: usize = 4096;
/// The largest blob a memfd may carry (a reader allocates this much to copy it out).
pub const MAX_BLOB: u64 = 1 << 32;
/// The protocol version this crate speaks.
pub const VERSION: u16 = 1;
/// The HELLO frame's magic bytes.
pub const MAGIC: [u8; 4] = *b"WMPT";

/// Frame kinds (byte 0 of the header).
pub mod kind {
    /// Version and magic, the first frame each end writes on a new connection.
    pub const HELLO: u8 = 1;
    /// A message: data, ArrayBuffers, ports.
    pub const MESSAGE: u8 = 2;
    /// The port was closed with a reason; the last frame on a connection.
    pub const CLOSE: u8 = 3;
}

const BLOB_INLINE: u8 = 0;
const BLOB_FD: u8 = 1;
const FLAG_HELLO_SENT: u8 = 1;
const FLAG_HELLO_RECEIVED: u8 = 2;
const FLAG_LOST: u8 = 4;

/// Why a byte stream is not a valid frame sequence. Any of these ends the connection.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FrameError {
    /// The kind byte names no frame kind.
    UnknownKind(u8),
    /// A reserved byte is not zero.
    Reserved,
    /// The body length is over [`MAX_BODY`].
    TooLong(u64),
    /// The descriptor count is over [`MAX_FDS`].
    TooManyDescriptors(usize),
    /// A frame claims descriptors that did not arrive with it.
    MissingDescriptors {
        /// Descriptors the frame needs.
        needed: usize,
        /// Descriptors that arrived.
        arrived: usize,
    },
    /// Descriptors arrived that no frame claims.
    UnexpectedDescriptors(usize),
    /// The body does not match its kind's layout (the text says where).
    Malformed(&'static str),
    /// A HELLO with other magic bytes or another version.
    BadHello,
}

impl fmt::Display for FrameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FrameError::UnknownKind(k) => write!(f, "unknown frame kind {k}"),
            FrameError::Reserved => write!(f, "a reserved header byte is not zero"),
            FrameError::TooLong(n) => write!(f, "frame body of {n} bytes (limit {MAX_BODY})"),
            FrameError::TooManyDescriptors(n) => {
                write!(f, "frame claims {n} descriptors (limit {MAX_FDS})")
            }
            FrameError::MissingDescriptors { needed, arrived } => write!(
                f,
                "frame claims {needed} descriptors but {arrived} arrived with it"
            ),
            FrameError::UnexpectedDescriptors(n) => {
                write!(f, "{n} descriptors arrived that no frame claims")
            }
            FrameError::Malformed(what) => write!(f, "malformed frame: {what}"),
            FrameError::BadHello => write!(f, "not a webmessaging port (bad HELLO)"),
        }
    }
}

impl std::error::Error for FrameError {}

/// A length of bytes, inline or in a descriptor.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Blob<'a> {
    /// The bytes, inside the frame.
    Inline(&'a [u8]),
    /// A sealed memfd of `len` bytes: the frame's descriptor number `fd` (0-based).
    Fd {
        /// Index among the frame's descriptors.
        fd: usize,
        /// Length in bytes.
        len: u64,
    },
}

/// A transferred port inside a MESSAGE frame.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PortEntry<'a> {
    /// This end of the socket already wrote its HELLO.
    pub hello_sent: bool,
    /// The peer's HELLO was already read from the socket.
    pub hello_received: bool,
    /// Index of the socket among the frame's descriptors; `None` for a port the sender could
    /// not pass on (it arrives already ended with `Lost`; flag bit 2, no descriptors).
    pub socket: Option<usize>,
    /// Frames to read before the socket (the port's backlog).
    pub prefix: Blob<'a>,
    /// The descriptors those frames consume (indices among the frame's descriptors).
    pub prefix_fds: Range<usize>,
    /// Bytes this end still owes the socket, to write before anything else.
    pub pending: Blob<'a>,
    /// Offsets into `pending` and the descriptors sent with the byte at each.
    pub attach: Vec<(u64, Range<usize>)>,
}

/// A MESSAGE frame's body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MessageFrame<'a> {
    /// The serialized value.
    pub data: Blob<'a>,
    /// The transferred ArrayBuffers, in order.
    pub array_buffers: Vec<Blob<'a>>,
    /// The transferred ports, in order.
    pub ports: Vec<PortEntry<'a>>,
}

/// One decoded frame.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Frame<'a> {
    /// The peer's HELLO (magic and version already checked).
    Hello,
    /// A message.
    Message(MessageFrame<'a>),
    /// The peer port was closed with this reason.
    Close(CloseReason),
}

/// A decoded frame and what it used up.
#[derive(Debug)]
pub struct Parsed<'a> {
    /// The frame.
    pub frame: Frame<'a>,
    /// Bytes it took from the front of the buffer.
    pub bytes: usize,
    /// Descriptors it took from the front of the descriptor queue.
    pub fds: usize,
}

/// The header at the front of `buf`, once all 8 bytes are there: (kind, descriptors, body length).
fn header(buf: &[u8]) -> Result<Option<(u8, usize, usize)>, FrameError> {
    let Some(h) = buf.get(..HEADER_LEN) else {
        return Ok(None);
    };
    let kind = h[0];
    if !(kind::HELLO..=kind::CLOSE).contains(&kind) {
        return Err(FrameError::UnknownKind(kind));
    }
    if h[1] != 0 {
        return Err(FrameError::Reserved);
    }
    let fds = u16::from_le_bytes([h[2], h[3]]) as usize;
    let len = u32::from_le_bytes([h[4], h[5], h[6], h[7]]) as usize;
    if len > MAX_BODY {
        return Err(FrameError::TooLong(len as u64));
    }
    if fds > MAX_FDS {
        return Err(FrameError::TooManyDescriptors(fds));
    }
    Ok(Some((kind, fds, len)))
}

/// Decodes the frame at the front of `buf` when it is complete; `fds` is how many received
/// descriptors are waiting. `Ok(None)`: more bytes are needed. Never allocates more than the
/// frame's own (bounded) size.
pub fn parse(buf: &[u8], fds: usize) -> Result<Option<Parsed<'_>>, FrameError> {
    let Some((kind, nfds, len)) = header(buf)? else {
        return Ok(None);
    };
    let Some(body) = buf.get(HEADER_LEN..HEADER_LEN + len) else {
        return Ok(None);
    };
    if nfds > fds {
        return Err(FrameError::MissingDescriptors {
            needed: nfds,
            arrived: fds,
        });
    }
    let frame = match kind {
        kind::HELLO => {
            if nfds != 0 || body.len() != 8 || body[..4] != MAGIC || body[4..] != [1, 0, 0, 0] {
                return Err(FrameError::BadHello);
            }
            Frame::Hello
        }
        kind::CLOSE => {
            if nfds != 0 || body.len() != 1 {
                return Err(FrameError::Malformed("CLOSE body"));
            }
            Frame::Close(match body[0] {
                0 => CloseReason::Closed,
                1 => CloseReason::Dropped,
                2 => CloseReason::Doomed,
                3 => CloseReason::Lost,
                _ => return Err(FrameError::Malformed("unknown close reason")),
            })
        }
        _ => Frame::Message(parse_message(body, nfds)?),
    };
    Ok(Some(Parsed {
        frame,
        bytes: HEADER_LEN + len,
        fds: nfds,
    }))
}

/// Checks what is left once every complete frame was taken: descriptors may only belong to the
/// frame that has started arriving (they come with its first byte).
pub fn check_leftover(buf: &[u8], fds: usize) -> Result<(), FrameError> {
    if fds == 0 {
        return Ok(());
    }
    if buf.is_empty() || fds > MAX_FDS {
        return Err(FrameError::UnexpectedDescriptors(fds));
    }
    match header(buf)? {
        Some((_, nfds, _)) if fds > nfds => Err(FrameError::UnexpectedDescriptors(fds - nfds)),
        _ => Ok(()),
    }
}

struct Cursor<'a> {
    body: &'a [u8],
    at: usize,
    fds: usize,
    nfds: usize,
}

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize, what: &'static str) -> Result<&'a [u8], FrameError> {
        let end = self.at.checked_add(n).ok_or(FrameError::Malformed(what))?;
        let s = self
            .body
            .get(self.at..end)
            .ok_or(FrameError::Malformed(what))?;
        self.at = end;
        Ok(s)
    }
    fn u8(&mut self, what: &'static str) -> Result<u8, FrameError> {
        Ok(self.take(1, what)?[0])
    }
    fn u32(&mut self, what: &'static str) -> Result<u32, FrameError> {
        let b = self.take(4, what)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }
    fn u64(&mut self, what: &'static str) -> Result<u64, FrameError> {
        let b = self.take(8, what)?;
        let mut a = [0; 8];
        a.copy_from_slice(b);
        Ok(u64::from_le_bytes(a))
    }
    fn fds(&mut self, n: usize, what: &'static str) -> Result<Range<usize>, FrameError> {
        let end = self.fds.checked_add(n).ok_or(FrameError::Malformed(what))?;
        if end > self.nfds {
            return Err(FrameError::Malformed(what));
        }
        let r = self.fds..end;
        self.fds = end;
        Ok(r)
    }
    fn remaining(&self) -> usize {
        self.body.len() - self.at
    }
    fn blob(&mut self) -> Result<Blob<'a>, FrameError> {
        let place = self.u8("blob place")?;
        let len = self.u64("blob length")?;
        match place {
            BLOB_INLINE => {
                let n = usize::try_from(len).map_err(|_| FrameError::Malformed("blob length"))?;
                Ok(Blob::Inline(self.take(n, "inline blob")?))
            }
            BLOB_FD if len <= MAX_BLOB => Ok(Blob::Fd {
                fd: self.fds(1, "blob descriptor")?.start,
                len,
            }),
            BLOB_FD => Err(FrameError::Malformed("memfd blob over the size limit")),
            _ => Err(FrameError::Malformed("blob place")),
        }
    }
    /// A count of items of at least `min` bytes each: never more than the body could hold.
    fn count(&mut self, min: usize, what: &'static str) -> Result<usize, FrameError> {
        let n = self.u32(what)? as usize;
        if n.saturating_mul(min) > self.remaining() {
            return Err(FrameError::Malformed(what));
        }
        Ok(n)
    }
}

const MIN_BLOB: usize = 9;
const MIN_PORT: usize = 1 + MIN_BLOB + 4 + MIN_BLOB + 4;

fn parse_message(body: &[u8], nfds: usize) -> Result<MessageFrame<'_>, FrameError> {
    let mut c = Cursor {
        body,
        at: 0,
        fds: 0,
        nfds,
    };
    let data = c.blob()?;
    let n = c.count(MIN_BLOB, "ArrayBuffer count")?;
    let mut array_buffers = Vec::with_capacity(n);
    for _ in 0..n {
        array_buffers.push(c.blob()?);
    }
    let m = c.count(MIN_PORT, "port count")?;
    let mut ports = Vec::with_capacity(m);
    for _ in 0..m {
        let flags = c.u8("port flags")?;
        if flags & !(FLAG_HELLO_SENT | FLAG_HELLO_RECEIVED | FLAG_LOST) != 0 {
            return Err(FrameError::Malformed("port flags"));
        }
        let socket = if flags & FLAG_LOST != 0 {
            None
        } else {
            Some(c.fds(1, "port socket")?.start)
        };
        let prefix = c.blob()?;
        let prefix_n = c.u32("prefix descriptor count")? as usize;
        let prefix_fds = c.fds(prefix_n, "prefix descriptors")?;
        let pending = c.blob()?;
        let pending_len = match &pending {
            Blob::Inline(b) => b.len() as u64,
            Blob::Fd { len, .. } => *len,
        };
        let k = c.count(12, "attach count")?;
        let mut attach = Vec::with_capacity(k);
        let mut last = None;
        for _ in 0..k {
            let offset = c.u64("attach offset")?;
            let n = c.u32("attach descriptors")? as usize;
            if offset >= pending_len || n == 0 || last.is_some_and(|l| offset <= l) {
                return Err(FrameError::Malformed("attach point"));
            }
            last = Some(offset);
            attach.push((offset, c.fds(n, "attach descriptors")?));
        }
        if socket.is_none()
            && (prefix != Blob::Inline(&[])
                || !prefix_fds.is_empty()
                || pending != Blob::Inline(&[]))
        {
            return Err(FrameError::Malformed("a lost port with a backlog"));
        }
        ports.push(PortEntry {
            hello_sent: flags & FLAG_HELLO_SENT != 0,
            hello_received: flags & FLAG_HELLO_RECEIVED != 0,
            socket,
            prefix,
            prefix_fds,
            pending,
            attach,
        });
    }
    if c.at != body.len() {
        return Err(FrameError::Malformed("trailing bytes in MESSAGE"));
    }
    if c.fds != nfds {
        return Err(FrameError::Malformed(
            "descriptor count differs from the body's",
        ));
    }
    Ok(MessageFrame {
        data,
        array_buffers,
        ports,
    })
}

fn header_bytes(out: &mut Vec<u8>, kind: u8, fds: usize, len: usize) {
    out.push(kind);
    out.push(0);
    out.extend_from_slice(&(fds as u16).to_le_bytes());
    out.extend_from_slice(&(len as u32).to_le_bytes());
}

/// Appends `f` (the inverse of [`parse`]). Returns how many descriptors it consumes, or `None`
/// (nothing appended) for a message [`write_message`] refuses.
pub fn write(out: &mut Vec<u8>, f: &Frame<'_>) -> Option<usize> {
    match f {
        Frame::Hello => write_hello(out),
        Frame::Close(r) => write_close(out, *r),
        Frame::Message(m) => return write_message(out, m),
    }
    Some(0)
}

/// Appends a HELLO frame.
pub fn write_hello(out: &mut Vec<u8>) {
    header_bytes(out, kind::HELLO, 0, 8);
    out.extend_from_slice(&MAGIC);
    out.extend_from_slice(&VERSION.to_le_bytes());
    out.extend_from_slice(&[0, 0]);
}

/// Appends a CLOSE frame.
pub fn write_close(out: &mut Vec<u8>, reason: CloseReason) {
    header_bytes(out, kind::CLOSE, 0, 1);
    out.push(match reason {
        CloseReason::Closed => 0,
        CloseReason::Dropped => 1,
        CloseReason::Doomed => 2,
        // A reason newer than this protocol travels as the closest one it has.
        CloseReason::Lost | _ => 3,
    });
}

fn write_blob(out: &mut Vec<u8>, blob: &Blob<'_>, fds: &mut usize) {
    match blob {
        Blob::Inline(b) => {
            out.push(BLOB_INLINE);
            out.extend_from_slice(&(b.len() as u64).to_le_bytes());
            out.extend_from_slice(b);
        }
        Blob::Fd { len, .. } => {
            out.push(BLOB_FD);
            out.extend_from_slice(&len.to_le_bytes());
            *fds += 1;
        }
    }
}

/// Appends a MESSAGE frame. The descriptor indices in `m` are ignored: the frame consumes its
/// descriptors in the order the body names them, which the caller must follow when sending.
/// Returns how many descriptors the frame consumes, or `None` (nothing appended) if the body
/// would be over [`MAX_BODY`] or need over [`MAX_FDS`] descriptors.
pub fn write_message(out: &mut Vec<u8>, m: &MessageFrame<'_>) -> Option<usize> {
    let start = out.len();
    header_bytes(out, kind::MESSAGE, 0, 0);
    let mut fds = 0;
    write_blob(out, &m.data, &mut fds);
    out.extend_from_slice(&(m.array_buffers.len() as u32).to_le_bytes());
    for b in &m.array_buffers {
        write_blob(out, b, &mut fds);
    }
    out.extend_from_slice(&(m.ports.len() as u32).to_le_bytes());
    for p in &m.ports {
        let flags = (if p.hello_sent { FLAG_HELLO_SENT } else { 0 })
            | (if p.hello_received {
                FLAG_HELLO_RECEIVED
            } else {
                0
            })
            | (if p.socket.is_none() { FLAG_LOST } else { 0 });
        out.push(flags);
        if p.socket.is_some() {
            fds += 1;
        }
        write_blob(out, &p.prefix, &mut fds);
        out.extend_from_slice(&(p.prefix_fds.len() as u32).to_le_bytes());
        fds += p.prefix_fds.len();
        write_blob(out, &p.pending, &mut fds);
        out.extend_from_slice(&(p.attach.len() as u32).to_le_bytes());
        for (offset, r) in &p.attach {
            out.extend_from_slice(&offset.to_le_bytes());
            out.extend_from_slice(&(r.len() as u32).to_le_bytes());
            fds += r.len();
        }
    }
    let len = out.len() - start - HEADER_LEN;
    if len > MAX_BODY || fds > MAX_FDS {
        out.truncate(start);
        return None;
    }
    out[start + 2..start + 4].copy_from_slice(&(fds as u16).to_le_bytes());
    out[start + 4..start + 8].copy_from_slice(&(len as u32).to_le_bytes());
    Some(fds)
}
