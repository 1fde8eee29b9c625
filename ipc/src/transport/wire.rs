//! Messages to frames and back: ArrayBuffers inline or as sealed memfds, ports as sockets
//! (handed over when the port's peer is one of this process's bridges, else a new pair).

use std::os::fd::OwnedFd;

use webmessaging_core::{CloseReason, Error as CoreError, Message, MessagePort, Payload};

use super::conn::{self, InBuf, OutBuf, MEMFD_MIN};
use super::reactor::{NewBridge, Reactor, TakenBridge};
use crate::frame::{self, Blob, MessageFrame, PortEntry};

/// Inline bytes one frame may carry before further blobs go to memfds, whatever their size.
const INLINE_CAP: usize = 8 << 20;

/// Bytes leaving in a frame: inside it, or in a memfd beside it.
enum OutBlob {
    Inline(Vec<u8>),
    Fd(u64, OwnedFd),
}

impl OutBlob {
    fn new(bytes: Vec<u8>, budget: &mut usize) -> Result<Self, String> {
        if bytes.len() < MEMFD_MIN && bytes.len() <= *budget {
            *budget -= bytes.len();
            return Ok(OutBlob::Inline(bytes));
        }
        match conn::memfd_with(&bytes) {
            Ok(fd) => Ok(OutBlob::Fd(bytes.len() as u64, fd)),
            Err(e) if bytes.len() <= *budget => {
                // No memfd (out of descriptors or memory): inline still works for this one.
                let _ = e;
                *budget -= bytes.len();
                Ok(OutBlob::Inline(bytes))
            }
            Err(e) => Err(format!(
                "cannot make a memfd for {} bytes: {e}",
                bytes.len()
            )),
        }
    }

    fn blob(&self) -> Blob<'_> {
        match self {
            OutBlob::Inline(b) => Blob::Inline(b),
            OutBlob::Fd(len, _) => Blob::Fd { fd: 0, len: *len },
        }
    }

    fn take_fd(self, fds: &mut Vec<OwnedFd>) {
        if let OutBlob::Fd(_, fd) = self {
            fds.push(fd);
        }
    }
}

/// A port leaving in a frame.
struct PortOut {
    hello_sent: bool,
    hello_received: bool,
    /// `None`: the port could not be passed on (no descriptors); it arrives ended (`Lost`).
    socket: Option<OwnedFd>,
    prefix: OutBlob,
    prefix_fds: Vec<OwnedFd>,
    pending: OutBlob,
    attach: Vec<(usize, Vec<OwnedFd>)>,
}

impl PortOut {
    fn lost() -> Self {
        PortOut {
            hello_sent: false,
            hello_received: false,
            socket: None,
            prefix: OutBlob::Inline(Vec::new()),
            prefix_fds: Vec::new(),
            pending: OutBlob::Inline(Vec::new()),
            attach: Vec::new(),
        }
    }
}

/// Whether `m` can be written without the reactor: no ports, and small enough to go inline.
pub(crate) fn is_plain(m: &Message) -> bool {
    m.ports.is_empty()
        && m.array_buffers.len() < 64
        && m.data.len() + m.array_buffers.iter().map(|b| b.len()).sum::<usize>() < MEMFD_MIN
}

/// Encodes a message that [`is_plain`] accepted (inline blobs only: it cannot fail).
pub(crate) fn send_plain(out: &mut OutBuf, m: Message) {
    let frame = MessageFrame {
        data: Blob::Inline(&m.data),
        array_buffers: m.array_buffers.iter().map(|b| Blob::Inline(b)).collect(),
        ports: Vec::new(),
    };
    let mut bytes = Vec::with_capacity(64 + m.data.len());
    if frame::write_message(&mut bytes, &frame).is_some() {
        out.push(&bytes, Vec::new());
    }
}

/// Encodes `m` as a MESSAGE frame at the end of `out`. Errors: the message cannot be sent at
/// all (no descriptors left for its ports, or over the frame limits); the caller ends the
/// connection with that reason.
pub(crate) fn send(r: &mut Reactor, out: &mut OutBuf, m: Message) -> Result<(), String> {
    let Message {
        data,
        array_buffers,
        ports,
    } = m;
    let mut budget = INLINE_CAP;
    let data = OutBlob::new(data, &mut budget)?;
    let buffers = array_buffers
        .into_iter()
        .map(|b| OutBlob::new(b.into_vec(), &mut budget))
        .collect::<Result<Vec<_>, _>>()?;
    let mut outs = Vec::with_capacity(ports.len());
    for p in ports {
        outs.push(port_out(r, p, &mut budget)?);
    }
    let frame = MessageFrame {
        data: data.blob(),
        array_buffers: buffers.iter().map(OutBlob::blob).collect(),
        ports: outs
            .iter()
            .map(|p| PortEntry {
                hello_sent: p.hello_sent,
                hello_received: p.hello_received,
                socket: p.socket.as_ref().map(|_| 0),
                prefix: p.prefix.blob(),
                prefix_fds: 0..p.prefix_fds.len(),
                pending: p.pending.blob(),
                attach: p
                    .attach
                    .iter()
                    .map(|(off, fds)| (*off as u64, 0..fds.len()))
                    .collect(),
            })
            .collect(),
    };
    let mut bytes = Vec::new();
    if frame::write_message(&mut bytes, &frame).is_none() {
        return Err("a message too large for one frame (too many ports or descriptors)".into());
    }
    drop(frame);
    // Descriptors in the order the body names them (see `frame`).
    let mut fds = Vec::new();
    data.take_fd(&mut fds);
    for b in buffers {
        b.take_fd(&mut fds);
    }
    for p in outs {
        fds.extend(p.socket);
        p.prefix.take_fd(&mut fds);
        fds.extend(p.prefix_fds);
        p.pending.take_fd(&mut fds);
        for (_, f) in p.attach {
            fds.extend(f);
        }
    }
    out.push(&bytes, fds);
    Ok(())
}

/// How port `t` leaves: its peer's own socket if the peer is one of our bridges, else a new
/// socket pair whose near end bridges `t` itself.
fn port_out(r: &mut Reactor, t: MessagePort, budget: &mut usize) -> Result<PortOut, String> {
    if let Some(peer) = t.peer_mailbox_id() {
        if let Some(tb) = r.take_bridge_of(peer) {
            return hand_over(r, t, tb, budget);
        }
    }
    let (near, far) = match conn::socketpair() {
        Ok(pair) => pair,
        Err(e) => {
            // Out of descriptors: this port alone is lost, on both sides; the message goes.
            r.note(format!("cannot make a socket pair for a port: {e}"));
            t.close_with(CloseReason::Lost);
            return Ok(PortOut::lost());
        }
    };
    r.adopt(NewBridge {
        port: t,
        fd: near,
        hello_sent: false,
        hello_received: false,
        prefix: InBuf::default(),
        pending: OutBuf::default(),
    });
    Ok(PortOut {
        hello_sent: false,
        hello_received: false,
        socket: Some(far),
        prefix: OutBlob::Inline(Vec::new()),
        prefix_fds: Vec::new(),
        pending: OutBlob::Inline(Vec::new()),
        attach: Vec::new(),
    })
}

/// Moves bridge `tb`'s socket along with `t`, the local port it serves: what `t` posted is owed
/// to the socket, what `t` received (and what was read but not parsed) is the new owner's
/// prefix. Both local ports are retired without a CLOSE.
fn hand_over(
    r: &mut Reactor,
    t: MessagePort,
    tb: TakenBridge,
    budget: &mut usize,
) -> Result<PortOut, String> {
    let TakenBridge {
        port: bridge,
        fd,
        mut out,
        writing,
        mut inbuf,
        hello_received,
    } = tb;
    if writing {
        while let Ok(Some(m)) = bridge.try_recv() {
            send(r, &mut out, m)?;
        }
    }
    let mut prefix = OutBuf::default();
    loop {
        match t.try_recv() {
            Ok(Some(m)) => send(r, &mut prefix, m)?,
            Err(CoreError::Closed(n)) if n.by_peer => {
                let mut f = Vec::new();
                frame::write_close(&mut f, n.reason);
                prefix.push(&f, Vec::new());
                break;
            }
            _ => break,
        }
    }
    let (mut prefix_bytes, attach) = prefix.take();
    let mut prefix_fds: Vec<OwnedFd> = attach.into_iter().flat_map(|(_, f)| f).collect();
    let (unread, unread_fds) = inbuf.take();
    prefix_bytes.extend_from_slice(&unread);
    prefix_fds.extend(unread_fds);
    let (pending, attach) = if writing {
        out.take()
    } else {
        (Vec::new(), Vec::new())
    };
    // Entangled only with each other and out of every program's reach: retired in silence.
    drop(t);
    drop(bridge);
    Ok(PortOut {
        hello_sent: true,
        hello_received,
        socket: Some(fd),
        prefix: OutBlob::new(prefix_bytes, budget)?,
        prefix_fds,
        pending: OutBlob::new(pending, budget)?,
        attach,
    })
}

fn blob_in(blob: &Blob<'_>, fds: &mut [Option<OwnedFd>]) -> Result<Vec<u8>, String> {
    match blob {
        Blob::Inline(b) => Ok(b.to_vec()),
        Blob::Fd { fd, len } => conn::memfd_read(&take(fds, *fd)?, *len),
    }
}

/// Like `blob_in`, but `Ok(None)` when its memfd could not be received.
fn blob_in_opt(blob: &Blob<'_>, fds: &mut [Option<OwnedFd>]) -> Result<Option<Vec<u8>>, String> {
    match blob {
        Blob::Inline(b) => Ok(Some(b.to_vec())),
        Blob::Fd { fd, len } => match fds.get_mut(*fd).and_then(Option::take) {
            Some(f) => conn::memfd_read(&f, *len).map(Some),
            None => Ok(None),
        },
    }
}

fn take(fds: &mut [Option<OwnedFd>], i: usize) -> Result<OwnedFd, String> {
    fds.get_mut(i)
        .and_then(Option::take)
        .ok_or_else(|| format!("descriptor {i} of a frame is missing"))
}

/// Turns a received MESSAGE frame into a payload and new local ports (each the program's end
/// of a fresh bridge). Errors name the peer's protocol violation.
pub(crate) fn receive(
    r: &mut Reactor,
    m: &MessageFrame<'_>,
    mut fds: Vec<Option<OwnedFd>>,
) -> Result<(Payload, Vec<MessagePort>), String> {
    let data = blob_in(&m.data, &mut fds)?;
    let array_buffers = m
        .array_buffers
        .iter()
        .map(|b| blob_in(b, &mut fds).map(Into::into))
        .collect::<Result<Vec<_>, _>>()?;
    let mut ports = Vec::with_capacity(m.ports.len());
    for e in &m.ports {
        let Some(socket) = e.socket else {
            // The sender could not pass this one on: it arrives ended.
            let (user, bridge) = Reactor::channel();
            bridge.close_with(CloseReason::Lost);
            ports.push(user);
            continue;
        };
        // A descriptor of this port that could not be received (this process ran out of
        // them) costs this port alone: it arrives ended with `Lost`.
        let socket = fds.get_mut(socket).and_then(Option::take);
        if let Some(s) = &socket {
            if !conn::is_unix_stream(s) {
                return Err(
                    "a port arrived with a descriptor that is not a Unix stream socket".into(),
                );
            }
        }
        let prefix = blob_in_opt(&e.prefix, &mut fds)?;
        let prefix_fds: Vec<Option<OwnedFd>> = e
            .prefix_fds
            .clone()
            .map(|i| fds.get_mut(i).and_then(Option::take))
            .collect();
        let pending_bytes = blob_in_opt(&e.pending, &mut fds)?;
        let mut attach = Vec::with_capacity(e.attach.len());
        let mut complete = true;
        for (off, range) in &e.attach {
            let f: Vec<Option<OwnedFd>> = range
                .clone()
                .map(|i| fds.get_mut(i).and_then(Option::take))
                .collect();
            complete &= f.iter().all(Option::is_some);
            attach.push((*off as usize, f.into_iter().flatten().collect()));
        }
        complete &= prefix_fds.iter().all(Option::is_some);
        let (Some(socket), Some(prefix), Some(pending_bytes), true) =
            (socket, prefix, pending_bytes, complete)
        else {
            r.note("a port's descriptors could not be received (out of descriptors)".into());
            let (user, bridge) = Reactor::channel();
            bridge.close_with(CloseReason::Lost);
            ports.push(user);
            continue;
        };
        let prefix_fds: Vec<OwnedFd> = prefix_fds.into_iter().flatten().collect();
        let mut pending = OutBuf::default();
        pending.push_raw(&pending_bytes, attach);
        let (user, bridge) = Reactor::channel();
        r.adopt(NewBridge {
            port: bridge,
            fd: socket,
            hello_sent: e.hello_sent,
            hello_received: e.hello_received,
            prefix: InBuf::with_prefix(prefix, prefix_fds),
            pending,
        });
        ports.push(user);
    }
    Ok((
        Payload {
            data,
            array_buffers,
        },
        ports,
    ))
}
