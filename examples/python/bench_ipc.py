"""Python process <-> Python process: a cross-process webmessaging port vs `multiprocessing.Pipe`.

Each side gets a child process started once (a fresh interpreter: `webmessaging.spawn` for the
port, a "spawn"-context `multiprocessing.Process` for the Pipe, which gets one simplex
`multiprocessing.Pipe(duplex=False)` per direction, its faster kind). Rows:

* one-way throughput (msgs/s): the child posts n values as fast as it can, the parent receives
  them (a small dict, a nested record, 1 MiB of bytes, and a 1 MiB bytearray that ours
  transfers rather than copies: `post_message(b, [b])`);
* round trip p50 (us): the parent posts a small dict, the child echoes it, the parent receives.

Every row runs ours beside the peer in the same round, alternating which goes first; the
figures are medians over the rounds (the machine is shared and noisy: read the ratios).

    python examples/python/bench_ipc.py [--quick] [--rounds N]
"""

from __future__ import annotations

import argparse
import multiprocessing
import statistics
import sys
import time

import webmessaging as wm

# The payloads of the in-process benchmark, so the two tables measure the same values.
from bench import MIB, big, record, small  # noqa: E402  (examples/python is the script's dir)


def big_moved(i):
    # A fresh bytearray each time: ours transfers it (its bytes move, in a sealed memfd from
    # 64 KiB up, and it is left empty); the Pipe pickles it.
    return bytearray(MIB)


MAKERS = {"small": small, "record": record, "big": big, "big-moved": big_moved}


# --- the children ------------------------------------------------------------------------------


def serve(recv, send) -> None:
    """The child's loop, the same for both transports: ("produce", kind, n), ("echo", n), "exit"."""
    while True:
        cmd = recv()
        if cmd == "exit":
            return
        if cmd[0] == "produce":
            make, n = MAKERS[cmd[1]], cmd[2]
            for i in range(n):
                send(make(i))
        elif cmd[0] == "echo":
            for _ in range(cmd[1]):
                send(recv())


def port_child() -> None:
    port = wm.parent_port()
    assert port is not None, "started without a parent port"
    recv, post = port.recv, port.post_message

    def send(value):
        if type(value) is bytearray:
            post(value, [value])
        else:
            post(value)

    serve(lambda: recv().data, send)
    port.close()


def pipe_child(down, up) -> None:
    serve(down.recv, up.send)
    up.close()


# --- the parents -------------------------------------------------------------------------------


class Ours:
    name = "webmessaging port"

    def __init__(self):
        self.proc, self.port = wm.spawn([sys.executable, __file__, "--child"])
        recv = self.port.recv
        self.send = self.port.post_message
        self.recv = lambda: recv(timeout=60).data

    def close(self):
        self.send("exit")
        self.proc.wait(timeout=60)
        self.port.close()


class Pipe:
    name = "multiprocessing.Pipe"

    def __init__(self):
        # One simplex Pipe per direction (os.pipe), the faster kind (duplex is a socketpair).
        ctx = multiprocessing.get_context("spawn")
        down_r, self.down = ctx.Pipe(duplex=False)
        self.up, up_w = ctx.Pipe(duplex=False)
        self.proc = ctx.Process(target=pipe_child, args=(down_r, up_w))
        self.proc.start()
        down_r.close()
        up_w.close()
        self.send, self.recv = self.down.send, self.up.recv

    def close(self):
        self.send("exit")
        self.proc.join(60)
        self.down.close()
        self.up.close()


def one_way(side, kind: str, n: int) -> float:
    """msgs/s of n values posted by the child and received here."""
    recv = side.recv
    start = time.perf_counter()
    side.send(("produce", kind, n))
    for _ in range(n):
        recv()
    return n / (time.perf_counter() - start)


def round_trip(side, n: int) -> float:
    """p50 in microseconds of n round trips of a small dict."""
    side.send(("echo", n))
    send, recv = side.send, side.recv
    samples = []
    for i in range(n):
        v = small(i)
        start = time.perf_counter()
        send(v)
        recv()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples) * 1e6


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    if args.child:
        port_child()
        return 0
    scale = 10 if args.quick else 1
    rows = [
        ("small dict one-way (msgs/s)", lambda s: one_way(s, "small", 200_000 // scale), True),
        ("nested record one-way (msgs/s)", lambda s: one_way(s, "record", 100_000 // scale), True),
        ("1 MiB bytes one-way (msgs/s)", lambda s: one_way(s, "big", 100 // scale), True),
        ("1 MiB bytearray moved (msgs/s)", lambda s: one_way(s, "big-moved", 100 // scale), True),
        ("small dict round trip p50 (us)", lambda s: round_trip(s, 5_000 // scale), False),
    ]
    sides = [Ours(), Pipe()]
    results = {(label, side.name): [] for label, _, _ in rows for side in sides}
    try:
        for r in range(args.rounds):
            for label, measure, _ in rows:
                order = sides if (r % 2 == 0) else sides[::-1]
                for side in order:
                    results[(label, side.name)].append(measure(side))
    finally:
        for side in sides:
            side.close()
    print(f"Python process <-> Python process, medians of {args.rounds} interleaved rounds")
    print(f"{'row':34} {'webmessaging':>14} {'mp.Pipe':>14} {'ratio':>8}")
    for label, _, higher_is_better in rows:
        ours = statistics.median(results[(label, sides[0].name)])
        peer = statistics.median(results[(label, sides[1].name)])
        ratio = ours / peer if higher_is_better else peer / ours
        # ratio > 1 means ours is better (faster, or lower latency).
        print(f"{label:34} {ours:14,.1f} {peer:14,.1f} {ratio:7.2f}x")
    print("ratio: how many times better ours is (throughput ours/Pipe; latency Pipe/ours)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
