"""The direct codec (Python objects <-> wire bytes, no value graph) against the exact bytes V8
writes and the core reader's strictness. Values outside its subset take the full mapping; both
must agree byte for byte and error for error."""

from __future__ import annotations

import datetime as dt
import math

import pytest

import webmessaging as wm
from webmessaging import DecodeError

H = b"\xff\x0f"

EXACT = [
    ({"a": 1}, H + b"\x6f\x22\x01a\x49\x02\x7b\x01"),
    ([1, 2, 3], H + b"\x41\x03\x49\x02\x49\x04\x49\x06\x24\x00\x03"),
    ((1,), H + b"\x41\x01\x49\x02\x24\x00\x01"),
    ("é", H + b"\x22\x01\xe9"),
    ("€", H + b"\x63\x02\xac\x20"),
    ({"ab": "😀"}, H + b"\x6f\x22\x02ab\x00\x63\x04\x3d\xd8\x00\xde\x7b\x01"),
    (-0.0, H + b"\x4e" + b"\x00" * 7 + b"\x80"),
    (2**31, H + b"\x4e\x00\x00\x00\x00\x00\x00\xe0\x41"),
    (2**30, H + b"\x49\x80\x80\x80\x80\x08"),
    (2**60, H + b"\x5a\x10" + (2**60).to_bytes(8, "little")),
    (-(2**60), H + b"\x5a\x11" + (2**60).to_bytes(8, "little")),
    (math.nan, H + b"\x4e\x00\x00\x00\x00\x00\x00\xf8\x7f"),
    (None, H + b"\x30"),
    (True, H + b"\x54"),
    (b"\x07\x08\x09", H + b"\x42\x03\x07\x08\x09"),
    ({}, H + b"\x6f\x7b\x00"),
    # Index-like keys come first, as numbers (the full mapping orders them).
    ({"b": 2, "1": "x"}, H + b"\x6f\x49\x02\x22\x01x\x22\x01b\x49\x04\x7b\x02"),
]


@pytest.mark.parametrize("value,data", EXACT, ids=[repr(v)[:30] for v, _ in EXACT])
def test_writes_the_bytes_v8_writes(value, data):
    assert wm.serialize(value) == data


def test_shared_references_and_cycles():
    inner = [1]
    outer = {"x": inner, "y": inner}
    outer["self"] = outer
    data = wm.serialize(outer)
    # The second `inner` and the cycle are references: ^1 and ^0.
    assert b"\x5e\x01" in data and b"\x5e\x00" in data
    got = wm.deserialize(data)
    assert got["x"] is got["y"] and got["self"] is got
    via_port = _post(outer)
    assert via_port["x"] is via_port["y"] and via_port["self"] is via_port


def test_tuples_take_ids_but_are_copied():
    t = (1,)
    shared = [2]
    # Two copies of t take ids 1 and 2, so the second `shared` is ^3.
    data = wm.serialize([t, t, shared, shared])
    assert data.endswith(b"\x5e\x03\x24\x00\x04")
    assert wm.deserialize(data) == [[1], [1], [2], [2]]


def test_values_outside_the_subset_mix_with_those_inside():
    when = dt.datetime(2020, 1, 2, tzinfo=dt.timezone.utc)
    value = {"a": [1, {"b": when}], "c": {1, 2}, "d": 2**100}
    got = wm.deserialize(wm.serialize(value))
    assert got == value
    assert _post(value) == value


def test_large_bytes_travel_beside_the_message():
    big = bytes(range(256)) * 1024
    value = {"a": big, "b": big}
    got = _post(value)
    assert got == value and got["a"] is got["b"]


def test_large_bytes_inline_in_bare_bytes():
    big = bytes(range(256)) * 1024 + b"end"
    data = wm.serialize([big, big])
    assert data[:6] == H + b"\x41\x02\x42\x83"  # A 2, B <varint 262147 ...>
    got = wm.deserialize(data)
    assert got == [big, big] and got[0] is got[1]


def _post(value):
    ch = wm.MessageChannel()
    try:
        ch.port1.post_message(value)
        return ch.port2.recv(5).data
    finally:
        ch.port1.close()


STRICT = {
    "duplicate key": H + b"\x6f\x22\x01a\x49\x02\x22\x01a\x49\x04\x7b\x02",
    "object count": H + b"\x6f\x22\x01a\x49\x02\x7b\x02",
    "array end length": H + b"\x41\x01\x49\x02\x24\x00\x02",
    "array end properties": H + b"\x41\x01\x49\x02\x24\x01\x01",
    "non-minimal varint": H + b"\x22\x81\x00a",
    "trailing bytes": H + b"\x30\x30",
    "dangling reference": H + b"\x41\x01\x5e\x01\x24\x00\x01",
    "odd two-byte length": H + b"\x63\x03abc",
    "negative zero BigInt": H + b"\x5a\x01",
    "short string": H + b"\x22\x05ab",
    "short double": H + b"\x4e\x00\x00",
    "hole outside an array": H + b"\x2d",
    "version 12": b"\xff\x0c\x30",
    "no header": b"\x49\x02",
    "unterminated object": H + b"\x6f\x22\x01a\x49\x02",
}


@pytest.mark.parametrize("data", STRICT.values(), ids=STRICT.keys())
def test_refuses_what_the_core_reader_refuses(data):
    with pytest.raises(DecodeError):
        wm.deserialize(data)


def test_reads_what_only_the_full_mapping_maps():
    # A number key, a hole, a lone surrogate, padding before a tag, version 13.
    assert wm.deserialize(H + b"\x6f\x49\x02\x22\x01x\x7b\x01") == {"1": "x"}
    got = wm.deserialize(H + b"\x41\x02\x2d\x49\x02\x24\x00\x02")
    assert isinstance(got, wm.JSArray) and got[0] is wm.HOLE and got[1] == 1
    assert wm.deserialize(H + b"\x63\x02\x00\xd8") == "\ud800"
    assert wm.deserialize(H + b"\x00\x00\x30") is None
    assert wm.deserialize(b"\xff\x0d\x6f\x7b\x00") == {}


def test_index_keys_come_first_as_in_javascript():
    # Written name first, index second (not V8's order): a JavaScript reader sees "1" first.
    got = wm.deserialize(H + b"\x6f\x22\x01b\x49\x02\x22\x011\x49\x04\x7b\x02")
    assert list(got) == ["1", "b"]
    got = wm.deserialize(H + b"\x6f\x22\x01b\x49\x02\x63\x02\x31\x00\x49\x04\x7b\x02")
    assert list(got) == ["1", "b"]
