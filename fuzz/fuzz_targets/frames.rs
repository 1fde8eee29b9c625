//! Frame-reader fuzzing: the first input byte says how many descriptors "arrived", the next
//! says how the rest is cut into reads; the reader must never panic, never take more bytes or
//! descriptors than it has, never allocate beyond a frame's bounded size, and every frame it
//! accepts must re-encode to exactly the bytes it was read from.
#![no_main]

use libfuzzer_sys::fuzz_target;
use webmessaging_ipc::frame::{self, Frame};

fn encode(f: &Frame<'_>) -> Vec<u8> {
    let mut v = Vec::new();
    frame::write(&mut v, f).expect("an accepted frame re-encodes");
    v
}

fuzz_target!(|data: &[u8]| {
    let (Some(&fds), Some(&piece), rest) = (data.first(), data.get(1), data.get(2..).unwrap_or(&[])) else {
        return;
    };
    let piece = 1 + piece as usize;
    let mut fds = fds as usize * 4;
    let mut buf = Vec::new();
    for chunk in rest.chunks(piece) {
        buf.extend_from_slice(chunk);
        loop {
            match frame::parse(&buf, fds) {
                Ok(None) => break,
                Ok(Some(p)) => {
                    assert!(p.bytes <= buf.len() && p.fds <= fds);
                    assert_eq!(encode(&p.frame), buf[..p.bytes]);
                    fds -= p.fds;
                    let n = p.bytes;
                    buf.drain(..n);
                }
                Err(_) => return,
            }
        }
        if frame::check_leftover(&buf, fds).is_err() {
            return;
        }
    }
});
