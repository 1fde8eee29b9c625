"""Threads: ports used from any thread, GIL released while blocked, the dispatcher thread, and
a 4 threads x 100,000 messages stress test with ports handed between threads."""

from __future__ import annotations

import threading
import time

import pytest

from webmessaging import MessageChannel, PortClosedError

from helpers import Collector

T = 10.0


def test_blocking_recv_releases_the_gil(channel):
    counter = 0
    stop = threading.Event()

    def spin():
        nonlocal counter
        while not stop.is_set():
            counter += 1

    spinner = threading.Thread(target=spin)
    spinner.start()
    try:
        time.sleep(0.02)  # let the spinner get going
        before = counter
        with pytest.raises(TimeoutError):
            channel.port2.recv(0.3)
        during = counter - before
        # Had recv kept the GIL for its 0.3 s, the spinner could not have counted meanwhile
        # (the switch interval only lets it in between bytecodes of the waiting thread).
        assert during > 10_000
    finally:
        stop.set()
        spinner.join()


def test_recv_wakes_up_when_another_thread_posts(channel):
    def later():
        time.sleep(0.1)
        channel.port1.post_message("wake")

    threading.Thread(target=later).start()
    assert channel.port2.recv(T).data == "wake"


def test_onmessage_set_outside_a_loop_runs_on_the_dispatcher_thread(channel):
    got = Collector(2)
    channel.port2.onmessage = got
    channel.port1.post_message(1)
    channel.port1.post_message(2)
    assert got.wait(T)
    assert {t.name for t in got.threads} == {"webmessaging-dispatcher"}
    assert all(t is not threading.current_thread() for t in got.threads)


def test_handler_exception_is_reported_and_the_port_keeps_delivering(channel, unraisable):
    seen = []
    done = threading.Event()

    def handler(event):
        seen.append(event.data)
        if event.data == "bad":
            raise ValueError("handler failed")
        if event.data == "after":
            done.set()

    channel.port2.onmessage = handler
    channel.port1.post_message("bad")
    channel.port1.post_message("after")
    assert done.wait(T)
    assert seen == ["bad", "after"]
    assert unraisable.event.wait(T)
    info = unraisable.items[0]
    assert isinstance(info.exc_value, ValueError) and str(info.exc_value) == "handler failed"
    assert info.object is handler


def test_callbacks_of_one_port_never_overlap_and_keep_order(channel):
    active = 0
    overlaps = 0
    order = []
    done = threading.Event()
    lock = threading.Lock()

    def handler(event):
        nonlocal active, overlaps
        with lock:
            active += 1
            overlaps += active > 1
        time.sleep(0.0005)
        order.append(event.data)
        with lock:
            active -= 1
        if event.data == 199:
            done.set()

    channel.port2.onmessage = handler
    posters = [threading.Thread(target=lambda k=k: [channel.port1.post_message(k * 100 + i) for i in range(100)])
               for k in range(2)]
    for p in posters:
        p.start()
        p.join()  # sequential posters: a global order to check
    assert done.wait(T)
    assert overlaps == 0
    assert order == list(range(200))


def test_a_port_received_in_one_thread_is_used_in_another():
    carrier, ch = MessageChannel(), MessageChannel()
    result = []

    def worker():
        port = carrier.port2.recv(T).ports[0]
        result.append(port.recv(T).data)
        port.post_message("reply from worker")

    t = threading.Thread(target=worker)
    t.start()
    carrier.port1.post_message(None, [ch.port2])
    ch.port1.post_message("hello worker")
    assert ch.port1.recv(T).data == "reply from worker"
    t.join(T)
    assert result == ["hello worker"]


THREADS = 4
MESSAGES = 100_000


def test_stress_4_threads_100k_messages_with_ports_handed_between_threads():
    """4 producers each send 100,000 numbered messages on their own channel. 4 consumers each
    start on one channel; half-way, every consumer hands its port to the next consumer (through
    a control channel, i.e. a transfer) and continues on the port it is handed. Nothing may be
    lost, duplicated or reordered."""
    data = [MessageChannel() for _ in range(THREADS)]
    control = [MessageChannel() for _ in range(THREADS)]  # control[j]: consumer j -> consumer j+1
    half = MESSAGES // 2
    errors = []
    received = [[] for _ in range(THREADS)]  # per channel, in arrival order

    def producer(k):
        port = data[k].port1
        for i in range(MESSAGES):
            port.post_message(i)
        port.close()

    def consumer(j):
        try:
            port = data[j].port2
            channel_id = j
            for _ in range(half):
                received[channel_id].append(port.recv(T).data)
            control[j].port1.post_message(channel_id, [port])
            ev = control[(j - 1) % THREADS].port2.recv(T)
            channel_id, port = ev.data, ev.ports[0]
            while True:
                try:
                    received[channel_id].append(port.recv(T).data)
                except PortClosedError:
                    break
        except BaseException as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=producer, args=(k,)) for k in range(THREADS)]
    threads += [threading.Thread(target=consumer, args=(j,)) for j in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(300)
    assert not any(t.is_alive() for t in threads)
    assert errors == []
    for k in range(THREADS):
        assert received[k] == list(range(MESSAGES)), f"channel {k} lost, duplicated or reordered messages"


def test_blocking_recv_is_interruptible_by_signals(channel):
    import signal

    def on_alarm(signum, frame):
        raise KeyboardInterrupt

    old = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, 0.1)
    start = time.monotonic()
    try:
        with pytest.raises(KeyboardInterrupt):
            channel.port2.recv()  # no timeout: only the signal can end it
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)
    assert time.monotonic() - start < 5
    channel.port1.post_message("still works")
    assert channel.port2.recv(T).data == "still works"
