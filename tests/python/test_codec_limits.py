"""Bounds and failure modes of the Python value path: mutation during serialization, expansion
of copied tuples and sparse arrays, the reader's limits enforced at the sender, and ints of any
size converted without the decimal-string path."""

from __future__ import annotations

import datetime as dt
import sys
import threading

import pytest

import webmessaging as wm
from webmessaging import DataCloneError, DecodeError


def _varint(n: int) -> bytes:
    out = bytearray()
    while n >= 0x80:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def _post_and_recv(value):
    ch = wm.MessageChannel()
    try:
        ch.port1.post_message(value)
        return ch.port2.recv(5).data
    finally:
        ch.port1.close()


# ---- mutation during serialization (issue 15, item 4) ------------------------------------------


def _mutating_dict():
    d = {}

    class Boom(Exception):
        @property
        def stack(self):
            d["new_key"] = 1  # the dict grows while the encoder walks it
            return "trace"

    d.update(a=Boom("x"), b=2)
    return d


@pytest.mark.parametrize("how", ["serialize", "post_message", "structured_clone"])
def test_dict_growing_during_serialization_is_a_runtime_error(how):
    d = _mutating_dict()
    with pytest.raises(RuntimeError, match="changed size during serialization"):
        if how == "serialize":
            wm.serialize(d)
        elif how == "post_message":
            _post_and_recv(d)
        else:
            wm.structured_clone(d)


def test_dict_shrinking_during_serialization_is_a_runtime_error():
    d = {}

    class Shrink(Exception):
        @property
        def stack(self):
            d.clear()
            return "trace"

    d.update(a=Shrink("x"), b=2, c=3)
    with pytest.raises(RuntimeError):
        wm.serialize(d)


def test_map_and_jsarray_properties_mutated_during_serialization():
    m = {1: None}

    class Grow(Exception):
        @property
        def stack(self):
            m[len(m) + 10] = 0
            return "s"

    m[2] = Grow("g")
    m[3] = 3
    with pytest.raises(RuntimeError):
        wm.serialize(m)


def test_another_thread_mutating_the_dict_never_panics():
    # Dates call back into Python, where the interpreter may switch to the mutating thread.
    d = {f"k{i}": dt.datetime(2020, 1, 1) for i in range(200)}
    stop = threading.Event()

    def mutate():
        # Every step changes the dict's size (growing by 1,000 keys, then shrinking back).
        i = 0
        while not stop.is_set():
            if i % 2000 < 1000:
                d[f"x{i % 1000}"] = i
            else:
                del d[f"x{i % 1000}"]
            i += 1

    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    t = threading.Thread(target=mutate)
    t.start()
    outcomes = set()
    try:
        for _ in range(300):
            try:
                wm.serialize(d)
                outcomes.add("ok")
            except RuntimeError:
                outcomes.add("RuntimeError")
    finally:
        stop.set()
        t.join()
        sys.setswitchinterval(old)
    assert outcomes <= {"ok", "RuntimeError"}


# ---- copied tuples (issue 15, item 3) ----------------------------------------------------------


@pytest.mark.parametrize("kind", [tuple, frozenset])
def test_shared_immutables_cannot_expand_exponentially(kind):
    value = kind([1])
    for level in range(30):
        # frozenset members must differ to keep two of them; tuples may repeat.
        value = (value, value) if kind is tuple else frozenset([value, kind([level, value])])
    with pytest.raises(DataCloneError, match="copied objects"):
        wm.serialize(value)


def test_a_tuple_repeated_a_few_times_is_still_copied():
    t = (1, 2)
    assert wm.deserialize(wm.serialize([t, t, t])) == [[1, 2]] * 3


# ---- the reader's limits at the sender (issue 15, item 5) --------------------------------------


def test_int_larger_than_the_readers_bigint_limit_is_refused_at_the_sender():
    with pytest.raises(DataCloneError, match="larger than a reader accepts"):
        wm.serialize(1 << (8 * (1 << 20) + 1))
    ch = wm.MessageChannel()
    with pytest.raises(DataCloneError):
        ch.port1.post_message([1 << (8 * (1 << 20) + 1)])
    ch.port1.post_message("still open")
    assert ch.port2.recv(5).data == "still open"


@pytest.mark.parametrize(
    "n",
    [10**5000, -(10**5000), 7 ** 20000, -(2**100_000) + 1, (1 << (8 * (1 << 20))) - 1],
    ids=["10**5000", "-10**5000", "7**20000", "-2**100000+1", "largest"],
)
def test_ints_beyond_int_max_str_digits_convert_both_ways(n):
    assert wm.deserialize(wm.serialize(n)) == n
    assert _post_and_recv([n]) == [n]


# ---- sparse arrays (issue 15, item 6) ----------------------------------------------------------


def _empty_sparse(length: int) -> bytes:
    return b"\xff\x0f\x61" + _varint(length) + b"\x40\x00" + _varint(length)


def test_a_few_bytes_cannot_become_a_list_of_millions():
    data = _empty_sparse(16_000_000)
    assert len(data) == 13
    with pytest.raises(DecodeError, match="sparse"):
        wm.deserialize(data)


def test_sparse_arrays_within_the_budget_still_read():
    got = wm.deserialize(_empty_sparse(1000))
    assert isinstance(got, wm.JSArray) and len(got) == 1000 and got[0] is wm.HOLE


def test_the_hole_budget_is_per_message():
    # Many small sparse arrays add up: 2,000 arrays of 1,000 holes is 2,000,000 > 2^20 + 17 x size.
    one = b"\x61" + _varint(1000) + b"\x40\x00" + _varint(1000)
    data = b"\xff\x0f\x41" + _varint(2000) + one * 2000 + b"\x24\x00" + _varint(2000)
    assert 2_000_000 > (1 << 20) + 17 * len(data)
    with pytest.raises(DecodeError, match="sparse"):
        wm.deserialize(data)


# ---- dates (issue 15, item 7) ------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        dt.datetime.min.replace(tzinfo=dt.timezone(dt.timedelta(hours=23))),
        dt.datetime.max.replace(tzinfo=dt.timezone(dt.timedelta(hours=-23))),
    ],
    ids=["min+23:00", "max-23:00"],
)
def test_dates_a_receiver_cannot_read_are_refused_at_the_sender(value):
    with pytest.raises(DataCloneError, match="outside datetime's range"):
        wm.serialize(value)
    ch = wm.MessageChannel()
    with pytest.raises(DataCloneError):
        ch.port1.post_message({"when": value})


def test_the_extreme_dates_that_fit_still_round_trip():
    utc = dt.timezone.utc
    lo = dt.datetime.min.replace(tzinfo=utc)
    hi = dt.datetime.max.replace(tzinfo=utc, microsecond=999000)
    assert wm.deserialize(wm.serialize([lo, hi])) == [lo, hi]


def test_large_buffers_posted_while_another_thread_replaces_them():
    # Large bytes are copied with the GIL released: only after the walk, from held references,
    # so another thread dropping them meanwhile cannot free what is being copied.
    big = [bytes([i]) * (256 * 1024) for i in range(4)]
    d = {f"k{i}": big[i] for i in range(4)}
    stop = threading.Event()

    def churn():
        i = 0
        while not stop.is_set():
            d[f"k{i % 4}"] = bytes([i % 256]) * (256 * 1024)
            i += 1

    ch = wm.MessageChannel()
    t = threading.Thread(target=churn)
    t.start()
    try:
        for _ in range(100):
            try:
                ch.port1.post_message(d)
            except RuntimeError:
                continue
            got = ch.port2.recv(5).data
            assert all(len(v) == 256 * 1024 and v == v[:1] * len(v) for v in got.values())
    finally:
        stop.set()
        t.join()
        ch.port1.close()
