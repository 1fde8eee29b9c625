//! The frame reader alone: valid frames round-trip byte for byte, and 100,000 mutated streams
//! fed in random pieces never panic, never claim more than they were given, and whatever they
//! accept re-encodes to exactly the bytes it was read from. (`make fuzz-ipc` runs the same
//! property under libFuzzer.)

use webmessaging_core::CloseReason;
use webmessaging_ipc::frame::{self, Blob, Frame, FrameError, MessageFrame, PortEntry};

/// xorshift64*: deterministic, no dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

fn sample_frames() -> Vec<(Vec<u8>, usize)> {
    let mut out = Vec::new();
    let mut v = Vec::new();
    frame::write_hello(&mut v);
    out.push((v, 0));
    let bytes = vec![7u8; 300];
    let m = MessageFrame {
        data: Blob::Inline(b"\xff\x0fo\"\x01ab{\x01"),
        array_buffers: vec![
            Blob::Inline(&bytes),
            Blob::Fd {
                fd: 0,
                len: 1 << 20,
            },
        ],
        ports: vec![
            PortEntry {
                hello_sent: true,
                hello_received: false,
                socket: Some(1),
                prefix: Blob::Inline(&bytes[..40]),
                prefix_fds: 2..4,
                pending: Blob::Inline(&bytes[..100]),
                attach: vec![(0, 4..5), (17, 5..7)],
            },
            PortEntry {
                hello_sent: false,
                hello_received: false,
                socket: None,
                prefix: Blob::Inline(&[]),
                prefix_fds: 7..7,
                pending: Blob::Inline(&[]),
                attach: vec![],
            },
            PortEntry {
                hello_sent: true,
                hello_received: true,
                socket: Some(7),
                prefix: Blob::Fd { fd: 8, len: 99 },
                prefix_fds: 9..9,
                pending: Blob::Fd { fd: 9, len: 5 },
                attach: vec![],
            },
        ],
    };
    let mut v = Vec::new();
    let fds = frame::write_message(&mut v, &m).unwrap();
    assert_eq!(fds, 10);
    out.push((v, fds));
    let mut v = Vec::new();
    frame::write_message(
        &mut v,
        &MessageFrame {
            data: Blob::Inline(b"small"),
            array_buffers: vec![],
            ports: vec![],
        },
    )
    .unwrap();
    out.push((v, 0));
    for r in [CloseReason::Closed, CloseReason::Lost] {
        let mut v = Vec::new();
        frame::write_close(&mut v, r);
        out.push((v, 0));
    }
    out
}

/// Re-encodes a parsed frame.
fn encode(f: &Frame<'_>) -> Vec<u8> {
    let mut v = Vec::new();
    frame::write(&mut v, f).unwrap();
    v
}

/// Reads `stream` the way the transport does, `pieces` bytes at a time, with `fds` descriptors
/// arriving with the first piece. Returns the frames' byte lengths, or the error.
fn read_stream(stream: &[u8], fds: usize, rng: &mut Rng) -> Result<Vec<usize>, FrameError> {
    let mut buf: Vec<u8> = Vec::new();
    let mut fds_waiting = fds;
    let mut fed = 0;
    let mut lens = Vec::new();
    while fed < stream.len() {
        let n = 1 + rng.below(64.min(stream.len() - fed));
        buf.extend_from_slice(&stream[fed..fed + n]);
        fed += n;
        loop {
            match frame::parse(&buf, fds_waiting)? {
                None => break,
                Some(p) => {
                    assert!(p.bytes <= buf.len() && p.fds <= fds_waiting);
                    assert_eq!(encode(&p.frame), buf[..p.bytes], "re-encoding differs");
                    lens.push(p.bytes);
                    fds_waiting -= p.fds;
                    let b = p.bytes;
                    buf.drain(..b);
                }
            }
        }
        frame::check_leftover(&buf, fds_waiting)?;
    }
    Ok(lens)
}

#[test]
fn valid_frames_round_trip() {
    let mut rng = Rng(7);
    for (bytes, fds) in sample_frames() {
        let p = frame::parse(&bytes, fds).unwrap().unwrap();
        assert_eq!((p.bytes, p.fds), (bytes.len(), fds));
        assert_eq!(encode(&p.frame), bytes);
        // One byte short is "need more", never an error or a frame.
        assert!(frame::parse(&bytes[..bytes.len() - 1], fds)
            .unwrap()
            .is_none());
        // Too few descriptors is an error once the frame is complete.
        if fds > 0 {
            assert!(matches!(
                frame::parse(&bytes, fds - 1),
                Err(FrameError::MissingDescriptors { .. })
            ));
        }
        assert_eq!(
            read_stream(&bytes, fds, &mut rng).unwrap(),
            vec![bytes.len()]
        );
    }
}

#[test]
fn a_frame_over_the_limits_is_not_written() {
    let ports: Vec<PortEntry<'_>> = (0..frame::MAX_FDS + 1)
        .map(|i| PortEntry {
            hello_sent: false,
            hello_received: false,
            socket: Some(i),
            prefix: Blob::Inline(&[]),
            prefix_fds: 0..0,
            pending: Blob::Inline(&[]),
            attach: vec![],
        })
        .collect();
    let mut v = b"keep".to_vec();
    let m = MessageFrame {
        data: Blob::Inline(&[]),
        array_buffers: vec![],
        ports,
    };
    assert_eq!(frame::write_message(&mut v, &m), None);
    assert_eq!(v, b"keep");
}

#[test]
fn mutated_streams_never_panic_and_accept_only_exact_frames() {
    let iterations = std::env::var("WM_IPC_FRAME_MUTATIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let samples = sample_frames();
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let (mut accepted, mut refused) = (0u64, 0u64);
    for _ in 0..iterations {
        // A stream of a few valid frames...
        let mut stream = Vec::new();
        let mut fds = 0;
        for _ in 0..1 + rng.below(4) {
            let (b, f) = &samples[rng.below(samples.len())];
            stream.extend_from_slice(b);
            fds += f;
        }
        // ...then mutated.
        for _ in 0..rng.below(4) {
            match rng.below(6) {
                0 | 1 => {
                    let i = rng.below(stream.len());
                    stream[i] ^= 1 << rng.below(8);
                }
                2 => {
                    let i = rng.below(stream.len());
                    stream[i] = [0, 0xff, 0x7f, 0x80, 1, 2][rng.below(6)];
                }
                3 => {
                    let i = rng.below(stream.len());
                    stream.truncate(i.max(1));
                }
                4 => {
                    let i = rng.below(stream.len());
                    let n = rng.below(16);
                    let junk: Vec<u8> = (0..n).map(|_| rng.next() as u8).collect();
                    stream.splice(i..i, junk);
                }
                _ => fds = rng.below(fds + 3),
            }
        }
        match read_stream(&stream, fds, &mut rng) {
            Ok(_) => accepted += 1,
            Err(_) => refused += 1,
        }
    }
    // Both outcomes must occur, or the mutations test nothing.
    assert!(
        accepted > 0 && refused > 0,
        "{accepted} accepted, {refused} refused"
    );
}
