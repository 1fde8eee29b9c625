//! One socket's byte streams: the outgoing buffer with its descriptor attach points, the
//! incoming buffer with its descriptor FIFO, and the system calls that move them.

use std::collections::VecDeque;
use std::io::{self, IoSlice, IoSliceMut};
use std::mem::MaybeUninit;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};

use rustix::fs::{MemfdFlags, SealFlags};
use rustix::io::Errno;
use rustix::net::{
    RecvAncillaryBuffer, RecvAncillaryMessage, RecvFlags, ReturnFlags, SendAncillaryBuffer,
    SendAncillaryMessage, SendFlags,
};

/// Descriptors sent with one `sendmsg` (the kernel takes at most 253).
pub(crate) const FDS_PER_SEND: usize = 250;
/// What one `recvmsg` asks for; a round reads at most `READ_ROUNDS` of these per socket.
const READ_CHUNK: usize = 256 << 10;
const READ_ROUNDS: usize = 4;
/// An emptied outgoing buffer larger than this is freed rather than kept.
const SHRINK_OVER: usize = 1 << 20;

/// Bytes owed to a socket, with the descriptors that go with particular bytes.
#[derive(Default)]
pub(crate) struct OutBuf {
    bytes: Vec<u8>,
    /// Bytes before this were written.
    start: usize,
    /// (offset into `bytes`, descriptors sent with the byte there), ascending.
    attach: VecDeque<(usize, Vec<OwnedFd>)>,
    /// Descriptors in `attach`.
    nfds: usize,
}

impl OutBuf {
    pub(crate) fn is_empty(&self) -> bool {
        self.start == self.bytes.len()
    }

    /// Descriptors still waiting to be sent.
    pub(crate) fn unsent_fds(&self) -> usize {
        self.nfds
    }

    /// Appends a frame; its descriptors go with its first byte (in chunks the kernel accepts,
    /// on its first bytes: every frame is longer than its descriptor chunks).
    pub(crate) fn push(&mut self, frame: &[u8], fds: Vec<OwnedFd>) {
        let at = self.bytes.len();
        self.bytes.extend_from_slice(frame);
        self.attach_at(at, fds);
    }

    /// Appends raw bytes whose descriptors are given at offsets relative to `bytes`.
    pub(crate) fn push_raw(&mut self, bytes: &[u8], attach: Vec<(usize, Vec<OwnedFd>)>) {
        let at = self.bytes.len();
        self.bytes.extend_from_slice(bytes);
        for (off, fds) in attach {
            self.nfds += fds.len();
            self.attach.push_back((at + off, fds));
        }
    }

    fn attach_at(&mut self, at: usize, mut fds: Vec<OwnedFd>) {
        let mut offset = at;
        while !fds.is_empty() {
            let rest = fds.split_off(fds.len().min(FDS_PER_SEND));
            self.nfds += fds.len();
            self.attach.push_back((offset, fds));
            fds = rest;
            offset += 1;
        }
    }

    /// Takes what is still owed: the bytes and the attach points relative to them.
    pub(crate) fn take(&mut self) -> (Vec<u8>, Vec<(usize, Vec<OwnedFd>)>) {
        let start = self.start;
        let bytes = self.bytes.split_off(start);
        let attach = self
            .attach
            .drain(..)
            .map(|(off, fds)| (off - start, fds))
            .collect();
        *self = OutBuf::default();
        (bytes, attach)
    }

    /// Drops what is owed (the peer is gone).
    pub(crate) fn clear(&mut self) {
        *self = OutBuf::default();
    }

    /// Writes as much as the socket takes. `Ok(true)` once everything is written.
    pub(crate) fn flush(&mut self, fd: BorrowedFd<'_>) -> io::Result<bool> {
        let mut space = [MaybeUninit::<u8>::uninit(); rustix::cmsg_space!(ScmRights(FDS_PER_SEND))];
        loop {
            if self.is_empty() {
                if self.bytes.capacity() > SHRINK_OVER {
                    self.bytes = Vec::new();
                } else {
                    self.bytes.clear();
                }
                self.start = 0;
                return Ok(true);
            }
            let here = self.attach.front().is_some_and(|(o, _)| *o == self.start);
            let next = self
                .attach
                .iter()
                .map(|(o, _)| *o)
                .find(|&o| o > self.start)
                .unwrap_or(self.bytes.len());
            let iov = [IoSlice::new(&self.bytes[self.start..next])];
            let flags = SendFlags::NOSIGNAL | SendFlags::DONTWAIT;
            let borrowed: Vec<BorrowedFd<'_>>;
            let mut control = SendAncillaryBuffer::new(&mut space);
            if here {
                borrowed = self.attach[0].1.iter().map(|f| f.as_fd()).collect();
                control.push(SendAncillaryMessage::ScmRights(&borrowed));
            }
            match rustix::net::sendmsg(fd, &iov, &mut control, flags) {
                Ok(n) => {
                    if here {
                        // Sent: the peer holds its own copies now.
                        if let Some((_, f)) = self.attach.pop_front() {
                            self.nfds -= f.len();
                        }
                    }
                    self.start += n;
                    if self.start > (1 << 20) && self.start * 2 > self.bytes.len() {
                        self.compact();
                    }
                }
                Err(Errno::AGAIN) => return Ok(false),
                Err(Errno::INTR) => {}
                Err(e) => return Err(e.into()),
            }
        }
    }

    fn compact(&mut self) {
        let start = self.start;
        self.bytes.drain(..start);
        for (o, _) in self.attach.iter_mut() {
            *o -= start;
        }
        self.start = 0;
    }
}

/// Bytes read from a socket (after any prefix) and the descriptors that came with them.
#[derive(Default)]
pub(crate) struct InBuf {
    /// Storage: `pos..end` is unread; the rest is room, zeroed once when it grew.
    bytes: Vec<u8>,
    pos: usize,
    end: usize,
    pub(crate) fds: VecDeque<OwnedFd>,
    /// The kernel cut descriptors off (`MSG_CTRUNC`: this process ran out of them): the frame
    /// they belonged to arrives short of its last ones.
    pub(crate) cut_off: bool,
}

/// What a read round found.
pub(crate) enum ReadEnd {
    /// The socket has no more for now.
    Again,
    /// The round's budget is spent; more may be waiting.
    Budget,
    /// End of stream (the peer closed its end, or its process is gone).
    Eof,
}

impl InBuf {
    /// A buffer that starts with `prefix` (bytes to read before the socket's) and its
    /// descriptors.
    pub(crate) fn with_prefix(prefix: Vec<u8>, fds: Vec<OwnedFd>) -> Self {
        let end = prefix.len();
        InBuf {
            bytes: prefix,
            pos: 0,
            end,
            fds: fds.into(),
            cut_off: false,
        }
    }

    pub(crate) fn unread(&self) -> &[u8] {
        &self.bytes[self.pos..self.end]
    }

    /// The unread bytes, the descriptor queue and the cut-off flag, borrowed apart.
    pub(crate) fn parts(&mut self) -> (&[u8], &mut VecDeque<OwnedFd>, &mut bool) {
        (
            &self.bytes[self.pos..self.end],
            &mut self.fds,
            &mut self.cut_off,
        )
    }

    pub(crate) fn consume(&mut self, n: usize) {
        self.pos += n;
        if self.pos == self.end {
            self.pos = 0;
            self.end = 0;
        }
    }

    /// Gives up what is unread, with its descriptors (a port moving on).
    pub(crate) fn take(&mut self) -> (Vec<u8>, Vec<OwnedFd>) {
        let bytes = self.unread().to_vec();
        let fds = self.fds.drain(..).collect();
        *self = InBuf::default();
        (bytes, fds)
    }

    /// Takes the reactor's spare read storage when this buffer holds nothing.
    pub(crate) fn lend(&mut self, spare: &mut Vec<u8>) {
        if self.pos == self.end && spare.len() > self.bytes.len() {
            self.pos = 0;
            self.end = 0;
            std::mem::swap(&mut self.bytes, spare);
        }
    }

    /// Returns read storage to the reactor once everything in it was parsed: an idle bridge
    /// keeps no buffer (10,000 of them would otherwise hold 2.5 GB).
    pub(crate) fn give_back(&mut self, spare: &mut Vec<u8>) {
        if self.pos == self.end {
            self.pos = 0;
            self.end = 0;
            if self.bytes.len() > spare.len() {
                std::mem::swap(&mut self.bytes, spare);
            }
            self.bytes = Vec::new();
        }
    }

    fn room(&mut self) {
        if self.bytes.len() - self.end >= READ_CHUNK {
            return;
        }
        if self.pos > 0 {
            self.bytes.copy_within(self.pos..self.end, 0);
            self.end -= self.pos;
            self.pos = 0;
        }
        if self.bytes.len() - self.end < READ_CHUNK {
            self.bytes.resize(self.end + READ_CHUNK, 0);
        }
    }

    /// Reads a batch from the socket. Descriptors cut off in transit set `cut_off`.
    pub(crate) fn read(&mut self, fd: BorrowedFd<'_>) -> io::Result<ReadEnd> {
        let mut space =
            [MaybeUninit::<u8>::uninit(); rustix::cmsg_space!(ScmRights(FDS_PER_SEND + 3))];
        for _ in 0..READ_ROUNDS {
            self.room();
            let mut control = RecvAncillaryBuffer::new(&mut space);
            let res = {
                let mut iov = [IoSliceMut::new(&mut self.bytes[self.end..])];
                rustix::net::recvmsg(
                    fd,
                    &mut iov,
                    &mut control,
                    RecvFlags::CMSG_CLOEXEC | RecvFlags::DONTWAIT,
                )
            };
            let mut got_fds = false;
            for msg in control.drain() {
                if let RecvAncillaryMessage::ScmRights(fds) = msg {
                    for f in fds {
                        got_fds = true;
                        self.fds.push_back(f);
                    }
                }
            }
            match res {
                Ok(r) => {
                    self.end += r.bytes;
                    if r.flags.contains(ReturnFlags::CTRUNC) {
                        self.cut_off = true;
                        return Ok(ReadEnd::Budget);
                    }
                    if r.bytes == 0 && !got_fds {
                        return Ok(ReadEnd::Eof);
                    }
                    if got_fds || r.bytes < READ_CHUNK {
                        // Descriptors: parse before reading on, so the descriptor queue stays
                        // short. A short read: the socket is most likely empty now.
                        return Ok(ReadEnd::Budget);
                    }
                }
                Err(Errno::AGAIN) => return Ok(ReadEnd::Again),
                Err(Errno::INTR) => {}
                Err(e) => return Err(e.into()),
            }
        }
        Ok(ReadEnd::Budget)
    }
}

/// Blobs from this size up travel as sealed memfds instead of inside the frame.
pub(crate) const MEMFD_MIN: usize = 64 << 10;

/// A sealed memfd holding `bytes`.
pub(crate) fn memfd_with(bytes: &[u8]) -> io::Result<OwnedFd> {
    let fd = rustix::fs::memfd_create(
        "webmessaging-buffer",
        MemfdFlags::CLOEXEC | MemfdFlags::ALLOW_SEALING,
    )?;
    let mut at = 0;
    while at < bytes.len() {
        match rustix::io::write(&fd, &bytes[at..]) {
            Ok(0) => return Err(io::Error::other("memfd write returned 0")),
            Ok(n) => at += n,
            Err(Errno::INTR) => {}
            Err(e) => return Err(e.into()),
        }
    }
    rustix::fs::fcntl_add_seals(
        &fd,
        SealFlags::SHRINK | SealFlags::GROW | SealFlags::WRITE | SealFlags::SEAL,
    )?;
    Ok(fd)
}

/// The contents of a memfd the peer sent: it must be sealed against every change and exactly
/// `len` bytes long. Errors say what was wrong (a protocol violation by the peer).
pub(crate) fn memfd_read(fd: &OwnedFd, len: u64) -> Result<Vec<u8>, String> {
    let seals = rustix::fs::fcntl_get_seals(fd).map_err(|e| format!("not a memfd ({e})"))?;
    if !seals.contains(SealFlags::SHRINK | SealFlags::GROW | SealFlags::WRITE) {
        return Err("memfd is not sealed".into());
    }
    let st = rustix::fs::fstat(fd).map_err(|e| format!("fstat on a memfd: {e}"))?;
    if st.st_size as u64 != len {
        return Err(format!(
            "memfd holds {} bytes, frame says {len}",
            st.st_size
        ));
    }
    let n = usize::try_from(len).map_err(|_| "memfd too large".to_string())?;
    let mut out: Vec<u8> = Vec::new();
    out.try_reserve_exact(n)
        .map_err(|_| format!("cannot allocate {n} bytes for a memfd"))?;
    while out.len() < n {
        let at = out.len();
        match rustix::io::pread(fd, rustix::buffer::spare_capacity(&mut out), at as u64) {
            Ok(0) => return Err("memfd shorter than its size".into()),
            Ok(_) => {}
            Err(Errno::INTR) => {}
            Err(e) => return Err(format!("reading a memfd: {e}")),
        }
    }
    Ok(out)
}

/// Whether `fd` is a Unix stream socket (the only descriptor a port entry may carry).
pub(crate) fn is_unix_stream(fd: &OwnedFd) -> bool {
    rustix::net::sockopt::socket_type(fd).is_ok_and(|t| t == rustix::net::SocketType::STREAM)
        && rustix::net::sockopt::socket_domain(fd)
            .is_ok_and(|d| d == rustix::net::AddressFamily::UNIX)
}

/// A new connected pair of Unix stream sockets, close-on-exec.
pub(crate) fn socketpair() -> io::Result<(OwnedFd, OwnedFd)> {
    Ok(rustix::net::socketpair(
        rustix::net::AddressFamily::UNIX,
        rustix::net::SocketType::STREAM,
        rustix::net::SocketFlags::CLOEXEC,
        None,
    )?)
}
