"""Python thread -> Python thread throughput: a webmessaging port vs queue.SimpleQueue carrying
pickle.dumps output vs multiprocessing.Pipe, measured in the same run; then the round-trip
latency of a small dict (post, the other thread echoes it back), and serialize + deserialize
against pickle.dumps + pickle.loads.

Workloads: a small dict {"id": i, "name": "x", "tags": [1, 2, 3]}, a nested record (a dict
holding a dict, a list of 5 dicts and a bool) and 1 MiB of bytes. Each figure is the median of
several interleaved runs (the machines are shared and noisy: read the ratios).

    python examples/python/bench.py [--quick]
"""

from __future__ import annotations

import multiprocessing
import pickle
import queue
import statistics
import sys
import threading
import time

import webmessaging


def run_pair(produce, consume, n):
    """Runs producer and consumer threads; returns elapsed seconds until the consumer is done."""
    ready = threading.Barrier(3)

    def producer():
        ready.wait()
        produce(n)

    def consumer():
        ready.wait()
        consume(n)

    threads = [threading.Thread(target=producer), threading.Thread(target=consumer)]
    for t in threads:
        t.start()
    ready.wait()
    start = time.perf_counter()
    threads[1].join()
    elapsed = time.perf_counter() - start
    threads[0].join()
    return elapsed


def ours(make):
    ch = webmessaging.MessageChannel()
    tx, rx = ch.port1, ch.port2

    def produce(n):
        post = tx.post_message
        for i in range(n):
            post(make(i))

    def consume(n):
        recv = rx.recv
        for _ in range(n):
            recv().data

    return produce, consume


def simple_queue_pickle(make):
    q = queue.SimpleQueue()

    def produce(n):
        put, dumps = q.put, pickle.dumps
        for i in range(n):
            put(dumps(make(i), pickle.HIGHEST_PROTOCOL))

    def consume(n):
        get, loads = q.get, pickle.loads
        for _ in range(n):
            loads(get())

    return produce, consume


def mp_pipe(make):
    recv_end, send_end = multiprocessing.Pipe(duplex=False)

    def produce(n):
        send = send_end.send
        for i in range(n):
            send(make(i))

    def consume(n):
        recv = recv_end.recv
        for _ in range(n):
            recv()

    return produce, consume


def small(i):
    return {"id": i, "name": "x", "tags": [1, 2, 3]}


def record(i):
    return {
        "id": i,
        "user": {"name": "alice", "email": "alice@example.com", "age": 37},
        "items": [{"sku": f"sku-{k}", "qty": k, "price": 9.5 + k} for k in range(5)],
        "paid": True,
    }


MIB = b"\x5a" * (1 << 20)


def big(i):
    return MIB


def round_trips(kind, n):
    """p50 of n round trips (seconds): post, the other thread echoes, receive."""
    if kind == "webmessaging port":
        ch2 = webmessaging.MessageChannel()
        a, a_peer = ch2.port1, ch2.port2
        send, recv = a.post_message, (lambda: a.recv().data)
        peer_recv, peer_send = (lambda: a_peer.recv().data), a_peer.post_message
    else:
        q1, q2 = queue.SimpleQueue(), queue.SimpleQueue()
        send = lambda v: q1.put(pickle.dumps(v, pickle.HIGHEST_PROTOCOL))  # noqa: E731
        recv = lambda: pickle.loads(q2.get())  # noqa: E731
        peer_recv = lambda: pickle.loads(q1.get())  # noqa: E731
        peer_send = lambda v: q2.put(pickle.dumps(v, pickle.HIGHEST_PROTOCOL))  # noqa: E731

    def echo():
        for _ in range(n):
            peer_send(peer_recv())

    t = threading.Thread(target=echo)
    t.start()
    samples = []
    for i in range(n):
        v = small(i)
        start = time.perf_counter()
        send(v)
        recv()
        samples.append(time.perf_counter() - start)
    t.join()
    return statistics.median(samples)


def codec_rate(kind, n):
    """serialize + deserialize (or pickle.dumps + loads) of the nested record, per second."""
    value = record(1)
    if kind == "webmessaging":
        ser, de = webmessaging.serialize, webmessaging.deserialize
    else:
        ser, de = (lambda v: pickle.dumps(v, pickle.HIGHEST_PROTOCOL)), pickle.loads
    start = time.perf_counter()
    for _ in range(n):
        de(ser(value))
    return n / (time.perf_counter() - start)


def main():
    quick = "--quick" in sys.argv
    runs = 3 if quick else 7
    workloads = [
        ("small dict", small, 20_000 if quick else 100_000),
        ("nested record", record, 10_000 if quick else 50_000),
        ("1 MiB bytes", big, 200 if quick else 1_000),
    ]
    kinds = [("webmessaging port", ours), ("queue.SimpleQueue+pickle", simple_queue_pickle),
             ("multiprocessing.Pipe", mp_pipe)]
    print(f"webmessaging, Python {sys.version.split()[0]}: Python thread -> Python thread, "
          f"median of {runs} interleaved runs")
    print(f"{'workload':<13} {'ours msg/s':>12}  {'peer':<26} {'peer msg/s':>12} {'ours/peer':>10}")
    for name, make, n in workloads:
        # Interleave the contenders run by run, so load changes on a shared machine hit all alike.
        times = {label: [] for label, _ in kinds}
        for _ in range(runs):
            for label, kind in kinds:
                produce, consume = kind(make)
                times[label].append(run_pair(produce, consume, n))
        rate = {label: n / statistics.median(t) for label, t in times.items()}
        ours_rate = rate["webmessaging port"]
        for label, _ in kinds[1:]:
            print(f"{name:<13} {ours_rate:>12,.0f}  {label:<26} {rate[label]:>12,.0f} {ours_rate / rate[label]:>9.2f}x")

    n = 2_000 if quick else 10_000
    p50 = {"webmessaging port": [], "queue.SimpleQueue+pickle": []}
    for _ in range(runs):
        for label in p50:
            p50[label].append(round_trips(label, n))
    mine, peer = (statistics.median(p50[k]) for k in p50)
    print(f"round trip p50, small dict: ours {mine * 1e6:.1f} us, SimpleQueue+pickle "
          f"{peer * 1e6:.1f} us, ours/peer speed {peer / mine:.2f}x")

    n = 20_000 if quick else 100_000
    rates = {"webmessaging": [], "pickle": []}
    for _ in range(runs):
        for label in rates:
            rates[label].append(codec_rate(label, n))
    mine, peer = (statistics.median(rates[k]) for k in rates)
    print(f"serialize+deserialize, nested record: ours {mine:,.0f}/s, pickle.dumps+loads "
          f"{peer:,.0f}/s, ratio {mine / peer:.2f}x")


if __name__ == "__main__":
    main()
