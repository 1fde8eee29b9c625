//! A hostile or broken peer: whatever it writes into the socket of an imported port costs that
//! port alone — it ends `Lost`, the transport's diagnostics say why — and the process and its
//! other ports carry on. The cases run one after another in one test: the diagnostics are
//! process-wide.

mod transport_util;

use std::io::IoSlice;
use std::mem::MaybeUninit;
use std::os::fd::{AsFd, OwnedFd};

use rustix::net::{SendAncillaryBuffer, SendAncillaryMessage, SendFlags};
use transport_util::*;
use webmessaging_core::{CloseReason, MessageChannel};
use webmessaging_ipc::frame::{self, Blob, MessageFrame, PortEntry};
use webmessaging_ipc::{diagnostics, export_fd, import_fd};

fn pair() -> (OwnedFd, OwnedFd) {
    rustix::net::socketpair(
        rustix::net::AddressFamily::UNIX,
        rustix::net::SocketType::STREAM,
        rustix::net::SocketFlags::CLOEXEC,
        None,
    )
    .unwrap()
}

fn send(fd: &OwnedFd, bytes: &[u8], fds: &[&OwnedFd]) {
    let borrowed: Vec<_> = fds.iter().map(|f| f.as_fd()).collect();
    let mut space = [MaybeUninit::<u8>::uninit(); rustix::cmsg_space!(ScmRights(8))];
    let mut control = SendAncillaryBuffer::new(&mut space);
    if !borrowed.is_empty() {
        assert!(control.push(SendAncillaryMessage::ScmRights(&borrowed)));
    }
    let n = rustix::net::sendmsg(
        fd,
        &[IoSlice::new(bytes)],
        &mut control,
        SendFlags::NOSIGNAL,
    )
    .unwrap();
    assert_eq!(n, bytes.len());
}

fn hello() -> Vec<u8> {
    let mut v = Vec::new();
    frame::write_hello(&mut v);
    v
}

fn message(m: &MessageFrame<'_>) -> Vec<u8> {
    let mut v = Vec::new();
    frame::write_message(&mut v, m).unwrap();
    v
}

fn plain(data: &[u8]) -> Vec<u8> {
    message(&MessageFrame {
        data: Blob::Inline(data),
        array_buffers: vec![],
        ports: vec![],
    })
}

/// Imports one end of a fresh socket pair, lets `attack` write into the other, and returns
/// the messages delivered before the end and the reason the diagnostics give.
fn attack(name: &str, close_after: bool, attack: impl FnOnce(&OwnedFd)) -> (usize, String) {
    let before = diagnostics().protocol_errors;
    let (ours, theirs) = pair();
    let port = import_fd(ours).unwrap();
    attack(&theirs);
    if close_after {
        drop(theirs);
        let (msgs, notice) = recv_all(&port);
        assert_eq!(notice, closed_by_peer(CloseReason::Lost), "{name}");
        let d = diagnostics();
        assert_eq!(d.protocol_errors, before + 1, "{name}: {d:?}");
        return (msgs.len(), d.last_protocol_error.unwrap());
    }
    // The connection must end by itself, with the raw end still open.
    let (msgs, notice) = recv_all(&port);
    assert_eq!(notice, closed_by_peer(CloseReason::Lost), "{name}");
    let d = diagnostics();
    assert_eq!(d.protocol_errors, before + 1, "{name}: {d:?}");
    drop(theirs);
    (msgs.len(), d.last_protocol_error.unwrap())
}

fn memfd(bytes: &[u8], seal: bool) -> OwnedFd {
    use rustix::fs::{MemfdFlags, SealFlags};
    let fd =
        rustix::fs::memfd_create("t", MemfdFlags::CLOEXEC | MemfdFlags::ALLOW_SEALING).unwrap();
    rustix::io::write(&fd, bytes).unwrap();
    if seal {
        rustix::fs::fcntl_add_seals(&fd, SealFlags::SHRINK | SealFlags::GROW | SealFlags::WRITE)
            .unwrap();
    }
    fd
}

/// (name, close the raw end after writing, the writes, messages delivered first, reason text)
type Case = (
    &'static str,
    bool,
    Box<dyn FnOnce(&OwnedFd)>,
    usize,
    &'static str,
);

#[test]
fn a_hostile_peer_costs_only_its_own_port() {
    // A healthy cross-process-style port in this very process (export, then import here) that
    // must keep working throughout.
    let (keep, exported) = MessageChannel::new().into_ports();
    let healthy = import_fd(export_fd(&exported).unwrap()).unwrap();

    let cases: Vec<Case> = vec![
        (
            "garbage instead of a HELLO",
            false,
            Box::new(|s| send(s, b"GET / HTTP/1.1\r\n\r\n", &[])),
            0,
            "unknown frame kind 71",
        ),
        (
            "a frame before HELLO",
            false,
            Box::new(|s| send(s, &plain(b"x"), &[])),
            0,
            "before HELLO",
        ),
        (
            "another version",
            false,
            Box::new(|s| {
                let mut h = hello();
                h[12] = 2;
                send(s, &h, &[])
            }),
            0,
            "bad HELLO",
        ),
        (
            "a second HELLO",
            false,
            Box::new(|s| send(s, &[hello(), plain(b"a"), hello()].concat(), &[])),
            1,
            "second HELLO",
        ),
        (
            "an absurd length",
            false,
            Box::new(|s| {
                send(s, &[hello(), plain(b"a")].concat(), &[]);
                send(s, &[2, 0, 0, 0, 0xff, 0xff, 0xff, 0xff], &[])
            }),
            1,
            "frame body of 4294967295 bytes",
        ),
        (
            "an unknown kind",
            false,
            Box::new(|s| send(s, &[hello(), vec![9, 0, 0, 0, 0, 0, 0, 0]].concat(), &[])),
            0,
            "unknown frame kind 9",
        ),
        (
            "a truncated frame, then EOF",
            true,
            Box::new(|s| {
                let m = plain(b"hello there");
                send(s, &[hello(), plain(b"ok"), m[..10].to_vec()].concat(), &[])
            }),
            1,
            "ended inside a frame",
        ),
        (
            "a malformed body",
            false,
            Box::new(|s| {
                let mut m = plain(b"abc");
                m[8] = 7; // blob place
                send(s, &[hello(), m].concat(), &[])
            }),
            0,
            "blob place",
        ),
        (
            "descriptors no frame claims",
            false,
            Box::new(|s| {
                send(s, &hello(), &[]);
                let (x, _y) = pair();
                send(s, &plain(b"a"), &[&x]);
            }),
            0,
            "no frame claims",
        ),
        (
            "descriptors claimed but not sent",
            false,
            Box::new(|s| {
                let m = message(&MessageFrame {
                    data: Blob::Fd { fd: 0, len: 3 },
                    array_buffers: vec![],
                    ports: vec![],
                });
                send(s, &[hello(), m].concat(), &[])
            }),
            0,
            "claims 1 descriptors but 0 arrived",
        ),
        (
            "a pipe posing as a port's socket",
            false,
            Box::new(|s| {
                let (r, _w) = rustix::pipe::pipe().unwrap();
                let m = message(&MessageFrame {
                    data: Blob::Inline(b"p"),
                    array_buffers: vec![],
                    ports: vec![PortEntry {
                        hello_sent: false,
                        hello_received: false,
                        socket: Some(0),
                        prefix: Blob::Inline(&[]),
                        prefix_fds: 0..0,
                        pending: Blob::Inline(&[]),
                        attach: vec![],
                    }],
                });
                send(s, &hello(), &[]);
                send(s, &m, &[&r]);
            }),
            0,
            "not a Unix stream socket",
        ),
        (
            "an unsealed memfd",
            false,
            Box::new(|s| {
                let f = memfd(b"abc", false);
                let m = message(&MessageFrame {
                    data: Blob::Fd { fd: 0, len: 3 },
                    array_buffers: vec![],
                    ports: vec![],
                });
                send(s, &hello(), &[]);
                send(s, &m, &[&f]);
            }),
            0,
            "not sealed",
        ),
        (
            "a memfd of another size",
            false,
            Box::new(|s| {
                let f = memfd(b"abc", true);
                let m = message(&MessageFrame {
                    data: Blob::Inline(b""),
                    array_buffers: vec![Blob::Fd {
                        fd: 0,
                        len: 1 << 30,
                    }],
                    ports: vec![],
                });
                send(s, &hello(), &[]);
                send(s, &m, &[&f]);
            }),
            0,
            "memfd holds 3 bytes",
        ),
    ];
    for (i, (name, close_after, f, delivered, reason)) in cases.into_iter().enumerate() {
        let (n, why) = attack(name, close_after, f);
        assert_eq!(n, delivered, "{name}: messages delivered before the end");
        assert!(
            why.contains(reason),
            "{name}: reason {why:?} lacks {reason:?}"
        );
        // The healthy port still works both ways.
        keep.post_message(seq(i as u64), &[]).unwrap();
        assert_eq!(seq_of(&recv(&healthy)), i as u64);
        healthy.post_message(seq(i as u64), &[]).unwrap();
        assert_eq!(seq_of(&recv(&keep)), i as u64);
    }
    // A well-formed peer that ends without CLOSE is plain `Lost`, not a protocol error.
    let before = diagnostics().protocol_errors;
    let (ours, theirs) = pair();
    let port = import_fd(ours).unwrap();
    send(&theirs, &[hello(), plain(b"1"), plain(b"2")].concat(), &[]);
    drop(theirs);
    let (msgs, notice) = recv_all(&port);
    assert_eq!(msgs.len(), 2);
    assert_eq!(notice, closed_by_peer(CloseReason::Lost));
    assert_eq!(diagnostics().protocol_errors, before);
    // And a CLOSE frame is honoured with its reason.
    let (ours, theirs) = pair();
    let port = import_fd(ours).unwrap();
    let mut close = Vec::new();
    frame::write_close(&mut close, CloseReason::Dropped);
    send(&theirs, &[hello(), plain(b"1"), close].concat(), &[]);
    let (msgs, notice) = recv_all(&port);
    assert_eq!(msgs.len(), 1);
    assert_eq!(notice, closed_by_peer(CloseReason::Dropped));
    drop(theirs);
}

#[test]
fn import_refuses_what_is_not_a_stream_socket() {
    let (r, _w) = rustix::pipe::pipe().unwrap();
    let e = import_fd(r).unwrap_err();
    assert_eq!(e.kind(), webmessaging_ipc::ErrorKind::Protocol);
    let (keep, gone) = MessageChannel::new().into_ports();
    gone.close();
    let e = export_fd(&gone).unwrap_err();
    assert_eq!(e.kind(), webmessaging_ipc::ErrorKind::Port);
    drop(keep);
}
