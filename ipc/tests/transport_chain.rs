//! Crash in a three-process chain (issue 10, "Close and crash"): SIGKILL of each process of
//! the chain at random moments, repeated.
//!
//! The chain, in each round (T is this test process; S, R and C are children):
//!
//! ```text
//!   S (streamer) --d2 · d1--> R (relay) <==l1 · l2==> C (collector)
//! ```
//!
//! S posts the numbers `0..N` on `d2` (every 1000th with a 64 KiB ArrayBuffer, a memfd). The
//! data port `d1` starts in R and keeps moving between R and C over the link `l1`/`l2` while S
//! streams: its holder reads a random number of
//! messages (R a few, often none; C up to a few thousand), reports them to T, and passes `d1`
//! on. The holder that reads `N - 1` closes `d1`. Every child reports to T over its own control
//! port, and a report that must be known before the next step (a batch before `d1` moves, S's
//! progress) is followed by `flush()`, so once the next step happened the report was in the
//! kernel. T SIGKILLs one of the three at a random moment (once S has flushed, or the holders
//! have received, a random number of messages, or the port has made a random number of hops;
//! then after a random delay) and checks every survivor:
//!
//! - what the holders received, in hop order, is a gap-free, duplicate-free, in-order prefix of
//!   `0..N`; if S was killed, it holds at least every message S had flushed;
//! - everything the killed process flushed before the kill reached T (every hop that arrived
//!   somewhere was announced by its sender; a link closed by the victim was announced too);
//! - the ports end as they must (the table is in [`check_round`]), and T's control port to the
//!   victim ends with `Lost` after all its reports;
//! - nothing hangs: every wait is bounded and a round must finish within [`ROUND_LIMIT`].
//!
//! `WM_IPC_CHAIN_SEED` replays a run (the seed is printed), `WM_IPC_CHAIN_ROUNDS` sets the
//! number of rounds and `WM_IPC_CHAIN_N` the stream length.

mod transport_util;

use std::time::{Duration, Instant};

use transport_util::{child_port, env_usize, fd_count, seq, seq_of, spawn_peer, Peer};
use webmessaging_core::{CloseNotice, CloseReason, Error, MessageChannel, MessagePort, Payload};

/// A child's single waits (a message, a flush) are bounded by this.
const STEP: Duration = Duration::from_secs(20);
/// A whole round (spawning three children included) must finish within this.
const ROUND_LIMIT: Duration = Duration::from_secs(40);

/// splitmix64: small, seedable, good enough to pick moments and counts.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (`n > 0`).
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn reason_of(name: &str) -> CloseReason {
    match name {
        "closed" => CloseReason::Closed,
        "dropped" => CloseReason::Dropped,
        "doomed" => CloseReason::Doomed,
        "lost" => CloseReason::Lost,
        other => panic!("unknown close reason {other:?}"),
    }
}

fn notice_text(n: CloseNotice) -> String {
    format!("{} {}", n.reason.name(), n.by_peer)
}

/// A message: text, then `\n`, then binary (sequence numbers).
fn cmd(text: &str, bin: &[u8]) -> Vec<u8> {
    let mut v = text.as_bytes().to_vec();
    v.push(b'\n');
    v.extend_from_slice(bin);
    v
}

fn split(data: &[u8]) -> (String, &[u8]) {
    let nl = data.iter().position(|&b| b == b'\n').unwrap_or(data.len());
    (
        String::from_utf8_lossy(&data[..nl]).into_owned(),
        data.get(nl + 1..).unwrap_or(&[]),
    )
}

// ---------------------------------------------------------------------------------------------
// The children.

/// Every 1000th message of the stream also transfers a 64 KiB ArrayBuffer, which crosses as a
/// sealed memfd: descriptors then ride in the backlog that moves with the port.
fn big(s: u64) -> Option<Vec<u8>> {
    (s % 1000 == 999).then(|| (0..64u32 << 10).map(|i| (s as u32 ^ i) as u8).collect())
}

/// A child's line to T.
struct Ctl(MessagePort);

impl Ctl {
    fn say(&self, text: &str, bin: &[u8]) {
        if let Err(e) = self.0.post_message(cmd(text, bin), &[]) {
            eprintln!("chain child: report {text:?} failed: {e:?}");
            std::process::exit(3);
        }
    }

    /// Makes sure everything said so far is in the kernel before the caller's next step.
    fn sync(&self) {
        if !webmessaging_ipc::flush(Some(STEP)) {
            self.fail("flush timed out");
        }
    }

    fn fail(&self, why: &str) -> ! {
        eprintln!("chain child: {why}");
        let _ = self.0.post_message(cmd(&format!("error {why}"), &[]), &[]);
        webmessaging_ipc::flush(Some(STEP));
        std::process::exit(2);
    }
}

/// Runs a chain role when this binary was started as a child (see `transport_util`).
#[test]
fn child_main() {
    let Some((_role, port)) = child_port() else {
        return;
    };
    let ctl = Ctl(port);
    let m = match ctl.0.recv(Some(STEP)) {
        Ok(m) => m,
        Err(e) => ctl.fail(&format!("no command: {e:?}")),
    };
    let (text, _) = split(&m.data);
    let w: Vec<&str> = text.split(' ').collect();
    let num = |i: usize| -> u64 { w.get(i).and_then(|s| s.parse().ok()).unwrap_or(0) };
    match w[0] {
        "stream" => streamer(&ctl, num(1), Rng(num(2)), m.ports),
        "hop" => holder(&ctl, num(1), num(2), num(3), Rng(num(4)), m.ports),
        other => ctl.fail(&format!("unknown command {other:?}")),
    }
    ctl.say("done", &[]);
    ctl.sync();
    match ctl.0.recv(Some(ROUND_LIMIT)) {
        Ok(m) if m.data == b"exit" => {}
        other => ctl.fail(&format!("expected exit, got {other:?}")),
    }
    ctl.0.close();
    // The transport flushes the close at exit.
    std::process::exit(0);
}

/// S: posts `0..n` on `d` in random batches; after each batch flushes and tells T how far it
/// got (`flushed i`). Stops early if `d` ends (its holder died). Reports how `d` ended:
/// `dend <reason> <by_peer> <posted>`.
fn streamer(ctl: &Ctl, n: u64, mut rng: Rng, ports: Vec<MessagePort>) {
    let Some(d) = ports.into_iter().next() else {
        ctl.fail("stream: no port")
    };
    let mut i = 0;
    let mut end = None;
    while i < n && end.is_none() {
        let stop = (i + 1 + rng.below(256)).min(n);
        for s in i..stop {
            let payload = Payload {
                data: seq(s),
                array_buffers: big(s).into_iter().map(Into::into).collect(),
            };
            if let Err(e) = d.post_message(payload, &[]) {
                ctl.fail(&format!("post {s}: {e:?}"));
            }
        }
        i = stop;
        ctl.sync();
        ctl.say(&format!("flushed {i}"), &[]);
        match d.try_recv() {
            Ok(None) => {}
            Err(Error::Closed(notice)) => end = Some(notice),
            other => ctl.fail(&format!("stream: unexpected {other:?}")),
        }
    }
    let notice = match end {
        Some(notice) => notice,
        // Everything posted: wait for the holder to close (or to be lost).
        None => match d.recv(Some(STEP)) {
            Err(Error::Closed(notice)) => notice,
            other => ctl.fail(&format!("stream: waiting for the end: {other:?}")),
        },
    };
    ctl.say(&format!("dend {} {i}", notice_text(notice)), &[]);
}

/// R or C: holds the data port `d1` in turns with the other over the link `l`.
///
/// `ports` is `[l]` or `[l, d1]` (the first holder). Reports: `got h` (hop `h` arrived),
/// `batch h` + numbers, `pass h` (flushed before `d1` is posted as hop `h`), `complete`
/// (after `d1` was closed and that close flushed), `dend ...` (`d1` ended, S was lost), `fin`
/// (the other finished; flushed before closing `l`), `lend ...` (how `l` ended).
fn holder(ctl: &Ctl, n: u64, kmin: u64, kmax: u64, mut rng: Rng, ports: Vec<MessagePort>) {
    let mut ports = ports.into_iter();
    let Some(l) = ports.next() else {
        ctl.fail("hop: no link")
    };
    let mut hold: Option<(u64, MessagePort)> = ports.next().map(|d| (0, d));
    let mut link_gone = false;
    loop {
        let (h, d) = match hold.take() {
            Some(held) => held,
            None => match l.recv(Some(STEP)) {
                Ok(mut m) => {
                    let (text, _) = split(&m.data);
                    if text == "fin" {
                        ctl.say("fin", &[]);
                        ctl.sync();
                        l.close();
                        return;
                    }
                    let h: u64 = match text.strip_prefix("take ").map(str::parse) {
                        Some(Ok(h)) if m.ports.len() == 1 => h,
                        _ => ctl.fail(&format!("hop: unexpected on the link: {text:?}")),
                    };
                    ctl.say(&format!("got {h}"), &[]);
                    (h, m.ports.remove(0))
                }
                Err(Error::Closed(notice)) => {
                    ctl.say(&format!("lend {}", notice_text(notice)), &[]);
                    return;
                }
                Err(e) => ctl.fail(&format!("hop: waiting on the link: {e:?}")),
            },
        };
        let k = kmin + rng.below(kmax - kmin + 1);
        let (mut batch, mut taken) = (Vec::new(), 0);
        let (mut complete, mut end) = (false, None);
        while taken < k {
            match d.recv(Some(STEP)) {
                Ok(m) => {
                    let s = seq_of(&m);
                    if m.array_buffers != big(s).into_iter().collect::<Vec<_>>() {
                        ctl.fail(&format!("hop {h}: message {s} has the wrong buffers"));
                    }
                    batch.extend_from_slice(&s.to_le_bytes());
                    taken += 1;
                    if s == n - 1 {
                        complete = true;
                        break;
                    }
                }
                Err(Error::Closed(notice)) => {
                    end = Some(notice);
                    break;
                }
                Err(e) => ctl.fail(&format!("hop {h}: receiving: {e:?}")),
            }
        }
        if !batch.is_empty() {
            ctl.say(&format!("batch {h}"), &batch);
        }
        ctl.sync();
        if complete {
            d.close();
            ctl.sync();
            ctl.say("complete", &[]);
            ctl.sync();
        } else if let Some(notice) = end {
            ctl.say(&format!("dend {} {h}", notice_text(notice)), &[]);
            ctl.sync();
        }
        if complete || end.is_some() {
            if !link_gone {
                // Tell the other, and learn how the link ends (closed by it, or lost).
                let _ = l.post_message(cmd("fin", &[]), &[]);
                match l.recv(Some(STEP)) {
                    Err(Error::Closed(notice)) => {
                        ctl.say(&format!("lend {}", notice_text(notice)), &[])
                    }
                    other => ctl.fail(&format!("hop: waiting for the link's end: {other:?}")),
                }
            }
            return;
        }
        if !link_gone {
            match l.try_recv() {
                Ok(None) => {}
                Err(Error::Closed(notice)) => {
                    link_gone = true;
                    ctl.say(&format!("lend {}", notice_text(notice)), &[]);
                }
                other => ctl.fail(&format!("hop: unexpected on the link: {other:?}")),
            }
        }
        if link_gone {
            // The other is gone: keep the port and read on to the end.
            hold = Some((h, d));
            continue;
        }
        ctl.say(&format!("pass {}", h + 1), &[]);
        ctl.sync();
        if let Err(e) = l.post_message(cmd(&format!("take {}", h + 1), &[]), &[d]) {
            ctl.fail(&format!("hop: passing the port: {e:?}"));
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The test process.

/// What a child reported.
#[derive(Clone, Debug, PartialEq)]
enum Event {
    Flushed(u64),
    DEnd(CloseNotice, u64),
    Got(u64),
    Pass(u64),
    Batch(u64, Vec<u64>),
    Complete,
    Fin,
    LEnd(CloseNotice),
    Done,
}

fn parse_notice(w: &[&str]) -> CloseNotice {
    CloseNotice {
        reason: reason_of(w[0]),
        by_peer: w[1] == "true",
    }
}

fn parse(data: &[u8]) -> Result<Event, String> {
    let (text, bin) = split(data);
    let w: Vec<&str> = text.split(' ').collect();
    let num = |i: usize| -> u64 { w[i].parse().expect("a number in a report") };
    Ok(match w[0] {
        "flushed" => Event::Flushed(num(1)),
        "dend" => Event::DEnd(parse_notice(&w[1..3]), num(3)),
        "got" => Event::Got(num(1)),
        "pass" => Event::Pass(num(1)),
        "batch" => Event::Batch(
            num(1),
            bin.chunks_exact(8)
                .map(|c| u64::from_le_bytes(c.try_into().unwrap()))
                .collect(),
        ),
        "complete" => Event::Complete,
        "fin" => Event::Fin,
        "lend" => Event::LEnd(parse_notice(&w[1..3])),
        "done" => Event::Done,
        _ => return Err(text),
    })
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Who {
    S,
    R,
    C,
}

const ALL: [Who; 3] = [Who::S, Who::R, Who::C];

/// One child as T sees it.
struct Proc {
    who: Who,
    peer: Peer,
    events: Vec<Event>,
    /// How T's control port to it ended, if it did.
    ended: Option<CloseNotice>,
}

impl Proc {
    fn done(&self) -> bool {
        self.events.last() == Some(&Event::Done)
    }

    /// Takes every report waiting; returns whether there was any.
    fn poll(&mut self, round: usize) -> bool {
        let mut any = false;
        while self.ended.is_none() {
            match self.peer.port.try_recv() {
                Ok(Some(m)) => {
                    any = true;
                    match parse(&m.data) {
                        Ok(e) => self.events.push(e),
                        Err(text) => panic!("round {round}: {:?} reported {text:?}", self.who),
                    }
                }
                Ok(None) => break,
                Err(Error::Closed(n)) => {
                    any = true;
                    self.ended = Some(n);
                }
                Err(e) => panic!("round {round}: {:?}'s control port: {e:?}", self.who),
            }
        }
        any
    }

    fn has(&self, e: &Event) -> bool {
        self.events.contains(e)
    }

    fn dend(&self) -> Option<(CloseNotice, u64)> {
        self.events.iter().find_map(|e| match e {
            Event::DEnd(n, i) => Some((*n, *i)),
            _ => None,
        })
    }

    fn lends(&self) -> Vec<CloseNotice> {
        self.events
            .iter()
            .filter_map(|e| match e {
                Event::LEnd(n) => Some(*n),
                _ => None,
            })
            .collect()
    }
}

const LOST: CloseNotice = CloseNotice {
    reason: CloseReason::Lost,
    by_peer: true,
};
const CLOSED: CloseNotice = CloseNotice {
    reason: CloseReason::Closed,
    by_peer: true,
};

/// Everything the holders received, in hop order (each hop has one holder).
fn received(r: &Proc, c: &Proc) -> Vec<u64> {
    let mut batches: Vec<(u64, Who, usize, &[u64])> = Vec::new();
    for p in [r, c] {
        for (i, e) in p.events.iter().enumerate() {
            if let Event::Batch(h, seqs) = e {
                batches.push((*h, p.who, i, seqs));
            }
        }
    }
    batches.sort_by_key(|&(h, _, i, _)| (h, i));
    for pair in batches.windows(2) {
        assert!(
            pair[0].0 != pair[1].0 || pair[0].1 == pair[1].1,
            "hop {} was held by both R and C",
            pair[0].0
        );
    }
    batches.iter().flat_map(|b| b.3.iter().copied()).collect()
}

/// The checks of one round, once every survivor reported `done` and T's control port to the
/// victim ended. Expected outcomes:
///
/// - T's control port to the victim: all its reports, then `Lost`.
/// - The numbers received, in hop order: exactly `0..len` (no gap, duplicate or reordering).
/// - Every hop `h` some holder received was announced (`pass h`) by the one that sent it.
/// - S killed: the last holder (R or C) either read all `N` (S had finished) and closed `d1`,
///   or saw `d1` end with `Lost` after at least every message S had flushed; R and C stay
///   linked: the holder's link ends `Closed` by the other, which saw `fin`.
/// - R or C killed (the other is U): S sees `d2` end by its peer, with
///   - `Closed` only when all `N` were received, and always when a holder said `complete`
///     (the victim may have reported the last batch and died before closing `d1`: then
///     `Lost`); U never sees `d1` end (S never closes it), it reads on to `complete`;
///   - `Lost` when `d1` died with the victim: it was held there or on its way there;
///   - `Dropped` only when U's last step was passing `d1` to the victim as hop `h` and the
///     victim never said it got hop `h`: the message carrying `d1` was dropped in U, with `d1`
///     in it, because U's link had already ended when U posted it or ended before U's
///     transport wrote it (the victim never held a live end of the data channel). Had the
///     transport already written it, `d1`'s socket died in the victim's queue: `Lost`.
///
///   U's link ends `Lost`, or `Closed` only if the victim had said `fin` (it closed the link
///   after U finished), or U saw `fin` itself (the victim finished first).
fn check_round(n: u64, victim: Who, procs: &[Proc; 3]) {
    let [s, r, c] = procs;
    let by = |w: Who| &procs[ALL.iter().position(|&x| x == w).unwrap()];
    let v = by(victim);
    assert_eq!(v.ended, Some(LOST), "the victim's control port ends Lost");
    let got = received(r, c);
    let len = got.len() as u64;
    if let Some(i) = (0..got.len()).find(|&i| got[i] != i as u64) {
        panic!(
            "the data received is not a gap-free, in-order prefix: at {i}, {:?}",
            &got[i.saturating_sub(3)..(i + 3).min(got.len())]
        );
    }
    for (p, other) in [(r, c), (c, r)] {
        for e in &p.events {
            if let Event::Got(h) = e {
                assert!(
                    other.has(&Event::Pass(*h)),
                    "{:?} got hop {h} that {:?} never announced",
                    p.who,
                    other.who
                );
            }
        }
    }
    let completed = r.has(&Event::Complete) || c.has(&Event::Complete);
    if completed {
        assert_eq!(len, n, "complete means all {n} received");
    }
    match victim {
        Who::S => {
            let flushed = s
                .events
                .iter()
                .filter_map(|e| match e {
                    Event::Flushed(i) => Some(*i),
                    _ => None,
                })
                .max()
                .unwrap_or(0);
            assert!(
                len >= flushed,
                "S had flushed {flushed} messages, only {len} arrived"
            );
            if let Some((notice, _)) = s.dend() {
                // S saw the end before it was killed: the data had reached its end.
                assert_eq!(notice, CLOSED);
                assert!(completed);
            }
            let ends: Vec<_> = [r, c].into_iter().filter_map(|p| p.dend()).collect();
            if completed {
                assert!(ends.is_empty(), "{ends:?}");
            } else {
                assert_eq!(ends.len(), 1, "exactly one holder sees d1 end");
                assert_eq!(ends[0].0, LOST, "d1 ends Lost with S");
                assert!(len < n);
            }
            let (holder, waiter) = if r.has(&Event::Fin) { (c, r) } else { (r, c) };
            assert!(waiter.has(&Event::Fin), "the waiter saw fin");
            assert_eq!(
                holder.lends(),
                vec![CLOSED],
                "the holder's link ends Closed"
            );
            assert!(waiter.lends().is_empty());
        }
        Who::R | Who::C => {
            let u = by(if victim == Who::R { Who::C } else { Who::R });
            let (notice, posted) = s.dend().expect("S saw d2 end");
            assert!(notice.by_peer);
            assert!(u.dend().is_none(), "S never closes d2");
            match notice.reason {
                CloseReason::Closed => {
                    assert_eq!(len, n, "d2 ends Closed only after all was received");
                    assert_eq!(posted, n);
                }
                CloseReason::Lost => assert!(!completed, "complete, yet d2 ends Lost"),
                CloseReason::Dropped => {
                    let last = u
                        .events
                        .iter()
                        .rev()
                        .find(|e| matches!(e, Event::Got(_) | Event::Pass(_)));
                    let Some(Event::Pass(h)) = last else {
                        panic!("d2 ends Dropped, yet {:?} did not pass d1 last", u.who)
                    };
                    assert!(
                        !v.has(&Event::Got(*h)),
                        "d2 ends Dropped, yet the victim got hop {h}"
                    );
                }
                other => panic!("d2 ends {other:?}"),
            }
            if completed {
                assert_eq!(notice.reason, CloseReason::Closed);
            }
            if u.has(&Event::Fin) {
                assert!(v.has(&Event::Complete), "U saw fin, the victim completed");
                assert!(u.lends().is_empty());
            } else {
                let lends = u.lends();
                assert_eq!(lends.len(), 1, "U learned how its link ended");
                assert!(
                    lends[0] == LOST || (lends[0] == CLOSED && v.has(&Event::Fin)),
                    "U's link ends {:?}",
                    lends[0]
                );
            }
        }
    }
}

fn run_round(round: usize, n: u64, seed: u64, victim: Who) {
    let started = Instant::now();
    let deadline = started + ROUND_LIMIT;
    let mut rng = Rng(seed);
    let mut procs: [Proc; 3] = ALL.map(|who| Proc {
        who,
        peer: spawn_peer("chain", &[]),
        events: Vec::new(),
        ended: None,
    });
    let (d1, d2) = MessageChannel::new().into_ports();
    let (l1, l2) = MessageChannel::new().into_ports();
    let [s, r, c] = &procs;
    let post = |p: &Proc, text: String, ports: &[MessagePort]| {
        p.peer.port.post_message(cmd(&text, &[]), ports).unwrap();
    };
    post(r, format!("hop {n} 0 4 {}", rng.next()), &[l1, d1]);
    post(c, format!("hop {n} 1 {} {}", n / 8, rng.next()), &[l2]);
    post(s, format!("stream {n} {}", rng.next()), &[d2]);
    // The moment: once S has flushed a random number of messages, or the holders have passed
    // the port a random number of times, or received a random number of messages (or all
    // three are done, the victim then dies idle); after a further random delay.
    let trigger = match rng.below(3) {
        0 => Trigger::Flushed(rng.below(n)),
        1 => Trigger::Hops(rng.below(32)),
        _ => Trigger::Received(rng.below(n)),
    };
    let delay = Duration::from_micros(rng.below(3_000));
    let mut killed = false;
    loop {
        let mut any = false;
        for p in procs.iter_mut() {
            any |= p.poll(round);
        }
        if !killed && (trigger.reached(&procs) || procs.iter().all(Proc::done)) {
            std::thread::sleep(delay);
            let v = &mut procs[victim as usize];
            v.peer.child.kill().unwrap();
            killed = true;
        }
        let finished = killed
            && procs.iter().all(|p| {
                if p.who == victim {
                    p.ended.is_some()
                } else {
                    p.done()
                }
            });
        if finished {
            break;
        }
        for p in &procs {
            assert!(
                p.who == victim || p.ended.is_none(),
                "round {round}: {:?}'s control port ended {:?} before it was done; reports: {:?}",
                p.who,
                p.ended,
                brief(&p.events)
            );
        }
        assert!(
            Instant::now() < deadline,
            "round {round} hung: victim {victim:?}, killed {killed}; \
             S {:?} R {:?} C {:?}",
            brief(&procs[0].events),
            brief(&procs[1].events),
            brief(&procs[2].events)
        );
        if !any {
            std::thread::sleep(Duration::from_micros(200));
        }
    }
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        check_round(n, victim, &procs)
    }));
    if let Err(e) = outcome {
        eprintln!(
            "round {round} failed (replay: the run's seed, printed first): victim {victim:?} \
             at {trigger:?} + {delay:?}\n  S {:?}\n  R {:?}\n  C {:?}",
            brief(&procs[0].events),
            brief(&procs[1].events),
            brief(&procs[2].events)
        );
        std::panic::resume_unwind(e);
    }
    // Survivors close their control port and exit cleanly.
    for p in procs.iter_mut().filter(|p| p.who != victim) {
        p.peer.port.post_message("exit", &[]).unwrap();
    }
    for p in procs.iter_mut() {
        if p.who == victim {
            continue;
        }
        match p
            .peer
            .port
            .recv(Some(deadline.saturating_duration_since(Instant::now())))
        {
            Err(Error::Closed(notice)) => assert_eq!(
                notice, CLOSED,
                "round {round}: {:?} closed its control port",
                p.who
            ),
            other => panic!("round {round}: {:?} after exit: {other:?}", p.who),
        }
        loop {
            if let Some(st) = p.peer.child.try_wait().unwrap() {
                assert!(st.success(), "round {round}: {:?} exited with {st}", p.who);
                break;
            }
            assert!(
                Instant::now() < deadline,
                "round {round}: {:?} did not exit",
                p.who
            );
            std::thread::sleep(Duration::from_millis(2));
        }
    }
    let got = received(&procs[1], &procs[2]).len();
    let s_end = procs[0].dend().map(|(n, _)| n.reason.name());
    eprintln!(
        "round {round}: killed {victim:?} at {trigger:?} + {delay:?}; {got}/{n} received, \
         S's d2 end {s_end:?}, {} hops, {:?}",
        procs[1..]
            .iter()
            .flat_map(|p| &p.events)
            .filter(|e| matches!(e, Event::Pass(_)))
            .count(),
        started.elapsed()
    );
}

/// When T kills the victim.
#[derive(Clone, Copy, Debug)]
enum Trigger {
    /// S reported this many messages flushed.
    Flushed(u64),
    /// R and C passed the data port this many times.
    Hops(u64),
    /// R and C reported this many messages received.
    Received(u64),
}

impl Trigger {
    fn reached(self, procs: &[Proc; 3]) -> bool {
        let events = || procs.iter().flat_map(|p| &p.events);
        match self {
            Trigger::Flushed(x) => events().any(|e| matches!(e, Event::Flushed(i) if *i >= x)),
            Trigger::Hops(x) => {
                events().filter(|e| matches!(e, Event::Pass(_))).count() as u64 >= x
            }
            Trigger::Received(x) => {
                events()
                    .map(|e| match e {
                        Event::Batch(_, s) => s.len() as u64,
                        _ => 0,
                    })
                    .sum::<u64>()
                    >= x
            }
        }
    }
}

/// Events with batches shortened, for failure messages.
fn brief(events: &[Event]) -> Vec<String> {
    events
        .iter()
        .map(|e| match e {
            Event::Batch(h, s) => format!(
                "Batch({h}, {}..={} x{})",
                s.first().unwrap_or(&0),
                s.last().unwrap_or(&0),
                s.len()
            ),
            other => format!("{other:?}"),
        })
        .collect()
}

#[test]
fn sigkill_of_each_process_of_a_three_process_chain_at_random_moments() {
    let seed = std::env::var("WM_IPC_CHAIN_SEED")
        .ok()
        .and_then(|s| {
            let s = s.trim();
            match s.strip_prefix("0x") {
                Some(hex) => u64::from_str_radix(hex, 16).ok(),
                None => s.parse().ok(),
            }
        })
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos() as u64)
                .unwrap_or(1)
        });
    let rounds = env_usize("WM_IPC_CHAIN_ROUNDS", 24);
    let n = env_usize("WM_IPC_CHAIN_N", 20_000) as u64;
    assert!(n >= 2);
    eprintln!("chain: seed {seed:#x} (replay with WM_IPC_CHAIN_SEED={seed:#x}), {rounds} rounds");
    let mut rng = Rng(seed);
    let mut order = Vec::new();
    let mut fds_after_first = None;
    for round in 0..rounds {
        // Each run of three rounds kills S, R and C once each, in a random order.
        if order.is_empty() {
            order = ALL.to_vec();
            for i in (1..3).rev() {
                order.swap(i, rng.below(i as u64 + 1) as usize);
            }
        }
        let victim = order.pop().unwrap();
        run_round(round, n, rng.next(), victim);
        // Every port of the round ended here: no bridge and no descriptor stays behind.
        let deadline = Instant::now() + STEP;
        while webmessaging_ipc::diagnostics().live_bridges > 0 {
            assert!(
                Instant::now() < deadline,
                "round {round}: bridges left behind: {:?}",
                webmessaging_ipc::diagnostics()
            );
            std::thread::sleep(Duration::from_millis(1));
        }
        let fds = fd_count();
        let base = *fds_after_first.get_or_insert(fds);
        assert!(
            fds <= base,
            "round {round}: {fds} descriptors open, {base} after round 0"
        );
    }
}
