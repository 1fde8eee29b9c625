"""The value mapping table (the README's Python section), Python -> wire -> Python for every row.

The other direction (wire -> Python -> wire, including values Python cannot write itself) is
in test_vectors.py, over Node's golden vectors.
"""

from __future__ import annotations

import array
import ctypes
import datetime as dt
import math
import re

import pytest

import webmessaging as wm
from webmessaging import (
    HOLE,
    INVALID_DATE,
    UNDEFINED,
    DataCloneError,
    JSArray,
    JSBigInt,
    JSBoxed,
    JSError,
    JSMap,
    JSRegExp,
    JSTypedArray,
    ResizableArrayBuffer,
)

UTC = dt.timezone.utc


def roundtrip(value):
    """Both paths: through the bytes, and through a real channel."""
    via_bytes = wm.deserialize(wm.serialize(value))
    ch = wm.MessageChannel()
    ch.port1.post_message(value)
    via_port = ch.port2.recv(5).data
    ch.port1.close()
    return via_bytes, via_port


SAME_TYPE_ROWS = [
    # (id, value)
    ("None-null", None),
    ("bool-true", True),
    ("bool-false", False),
    ("int-zero", 0),
    ("int-small", -12345),
    ("int-2**53", 2**53),
    ("int--2**53", -(2**53)),
    ("int-bigint", 2**53 + 1),
    ("int-huge-negative", -(2**200)),
    ("float", 1.5),
    ("float-inf", math.inf),
    ("float-negative-zero", -0.0),
    ("float-huge", 1e300),
    ("str-ascii", "abc"),
    ("str-latin1", "é\xff"),
    ("str-bmp", "€ uro"),
    ("str-astral", "😀"),
    ("str-lone-surrogate", "a\ud800b"),
    ("str-empty", ""),
    ("bytes", b"\x00\x01\xff"),
    ("list", [1, "two", [3.5, None]]),
    ("dict-str-keys", {"a": 1, "b": {"c": [True]}}),
    ("dict-empty", {}),
    ("dict-int-keys-Map", {1: "one", 2: "two"}),
    ("dict-mixed-keys-Map", {"a": 1, 2: "b", None: 3}),
    ("dict-tuple-keys-Map", {(1, 2): "pair"}),
    ("set", {1, "a", (2, 3)}),
    ("set-of-frozensets", {frozenset({1, 2})}),
    ("datetime-aware-utc", dt.datetime(2024, 2, 29, 12, 30, 45, 123000, tzinfo=UTC)),
    ("re-pattern", re.compile(r"a+b?", re.IGNORECASE | re.MULTILINE | re.DOTALL)),
    ("re-pattern-plain", re.compile(r"^x$")),
    ("array-b", array.array("b", [-1, 2])),
    ("array-B", array.array("B", [1, 255])),
    ("array-h", array.array("h", [-300, 7])),
    ("array-H", array.array("H", [65535])),
    ("array-i", array.array("i", [-(2**31)])),
    ("array-I", array.array("I", [2**32 - 1])),
    ("array-q", array.array("q", [-(2**63)])),
    ("array-Q", array.array("Q", [2**64 - 1])),
    ("array-f", array.array("f", [1.5])),
    ("array-d", array.array("d", [math.pi])),
    ("UNDEFINED", UNDEFINED),
    ("JSBigInt", JSBigInt(5)),
    ("JSMap", JSMap({"k": "v"})),
    ("JSArray-holes-props", JSArray([1, HOLE, 3], {"extra": "p"})),
    ("JSBoxed-number", JSBoxed(1.5)),
    ("JSBoxed-string", JSBoxed("s")),
    ("JSBoxed-bool", JSBoxed(True)),
    ("JSBoxed-bigint", JSBoxed(JSBigInt(7))),
    ("JSRegExp", JSRegExp("x+", "gy")),
    ("JSTypedArray-clamped", JSTypedArray("Uint8ClampedArray", b"\x00\xff")),
    ("JSTypedArray-float16", JSTypedArray("Float16Array", b"\x00\x3c")),
    ("JSTypedArray-dataview", JSTypedArray("DataView", b"\x01\x02\x03")),
    ("INVALID_DATE", INVALID_DATE),
    ("ResizableArrayBuffer", ResizableArrayBuffer(b"ab", 8)),
]


def same(a, b) -> bool:
    if isinstance(a, float) and math.isnan(a):
        return isinstance(b, float) and math.isnan(b)
    if isinstance(a, float) and a == 0.0:
        return isinstance(b, float) and math.copysign(1, a) == math.copysign(1, b)
    return a == b


@pytest.mark.parametrize("value", [v for _, v in SAME_TYPE_ROWS], ids=[i for i, _ in SAME_TYPE_ROWS])
def test_python_to_wire_to_python_same_type_and_value(value):
    for back in roundtrip(value):
        assert type(back) is type(value)
        assert same(value, back), (value, back)
        if isinstance(value, array.array):
            assert back.typecode == value.typecode
        if isinstance(value, ResizableArrayBuffer):
            assert back.max_byte_length == value.max_byte_length


def test_nan_round_trips():
    for back in roundtrip(float("nan")):
        assert isinstance(back, float) and math.isnan(back)


@pytest.mark.parametrize(
    "value,expected",
    [
        (2.0, 2),  # an integral float comes back as int (the wire has one Number type)
        (-7.0, -7),
        (bytearray(b"ab"), b"ab"),
        (memoryview(b"cd"), b"cd"),
        ((1, (2, 3)), [1, [2, 3]]),
        (frozenset({1}), {1}),
        (array.array("l", [1, -2]), array.array("q", [1, -2])),
        (array.array("L", [3]), array.array("Q", [3])),
        (dt.datetime(2020, 1, 1, 0, 0, 0, 999), dt.datetime(2020, 1, 1, tzinfo=UTC)),  # naive = UTC, ms
        (dt.datetime(2020, 1, 1, 5, tzinfo=dt.timezone(dt.timedelta(hours=5))), dt.datetime(2020, 1, 1, tzinfo=UTC)),
    ],
    ids=["float-integral", "float-integral-negative", "bytearray", "memoryview", "tuple", "frozenset",
         "array-l", "array-L", "datetime-naive", "datetime-offset"],
)
def test_documented_conversions(value, expected):
    for back in roundtrip(value):
        assert type(back) is type(expected)
        assert back == expected
        if isinstance(expected, dt.datetime):
            assert back.tzinfo is not None and back.utcoffset() == dt.timedelta(0)


def test_buffer_protocol_typed_data_becomes_a_typed_array():
    data = (ctypes.c_int32 * 3)(1, -2, 3)
    for back in roundtrip(data):
        assert back == array.array("i", [1, -2, 3])


@pytest.mark.parametrize(
    "exc,expected_type",
    [(TypeError("t"), TypeError), (SyntaxError("s"), SyntaxError), (ReferenceError("r"), ReferenceError),
     (ValueError("v"), JSError), (KeyError("k"), JSError), (JSError("m", "RangeError"), JSError)],
)
def test_exceptions_become_errors(exc, expected_type):
    for back in roundtrip(exc):
        assert type(back) is expected_type
        assert str(back) == (exc.args[0] if type(exc) is KeyError else str(exc))  # unquoted key
    if isinstance(exc, JSError):
        assert roundtrip(exc)[0].name == "RangeError"


def test_exception_cause_and_stack_survive():
    err = TypeError("outer")
    err.__cause__ = ValueError("inner")
    err.stack = "TypeError: outer\n    at here"
    back = wm.structured_clone(err)
    assert type(back) is TypeError and str(back) == "outer"
    assert back.stack == "TypeError: outer\n    at here"
    assert isinstance(back.__cause__, JSError) and back.__cause__.message == "inner"


def test_shared_references_survive():
    shared = {"x": 1}
    back = wm.structured_clone([shared, shared, {"again": shared}])
    assert back[0] is back[1] is back[2]["again"]


def test_cycles_survive():
    lst = [1]
    lst.append(lst)
    back = wm.structured_clone(lst)
    assert back[1] is back
    d = {"name": "d"}
    d["self"] = d
    back = wm.structured_clone(d)
    assert back["self"] is back
    m = JSMap()
    m["me"] = m
    back = wm.structured_clone(m)
    assert back["me"] is back
    err = JSError("e")
    err.cause = err
    back = wm.structured_clone(err)
    assert back.__cause__ is back  # an exception cause becomes __cause__


def test_cycles_survive_through_a_port():
    lst = []
    lst.append(lst)
    ch = wm.MessageChannel()
    ch.port1.post_message(lst)
    back = ch.port2.recv(5).data
    assert back[0] is back


class Custom:
    pass


def _gen():
    yield 1


@pytest.mark.parametrize(
    "value,name",
    [(object(), "object"), (lambda: 1, "function"), (Custom(), "Custom"), (_gen(), "generator"),
     ({"nested": [Custom()]}, "Custom"), (re.compile(b"x"), "Pattern"), ((ctypes.c_bool * 2)(), "c_bool_Array_2"),
     (1 + 2j, "complex")],
    ids=["object", "lambda", "instance", "generator", "nested", "bytes-pattern", "buffer-of-bools", "complex"],
)
def test_anything_else_is_a_data_clone_error_naming_the_type(value, name):
    with pytest.raises(DataCloneError, match=name) as info:
        wm.serialize(value)
    assert info.value.name == "DataCloneError"
    ch = wm.MessageChannel()
    with pytest.raises(DataCloneError, match=name):
        ch.port1.post_message(value)


def test_too_deep_is_an_error_not_a_crash():
    deep = []
    for _ in range(5000):
        deep = [deep]
    with pytest.raises(DataCloneError, match="nested"):
        wm.serialize(deep)


def test_dict_with_str_subclass_keys_is_an_object():
    class S(str):
        pass

    assert wm.serialize({S("a"): 1}) == wm.serialize({"a": 1})


def test_structured_clone_transfers_ports():
    ch = wm.MessageChannel()
    clone = wm.structured_clone({"p": ch.port2}, transfer=[ch.port2])
    assert ch.port2.detached
    ch.port1.post_message("via clone")
    assert clone["p"].recv(5).data == "via clone"


def test_large_buffers_in_messages_keep_value_and_sharing():
    big = bytes(range(256)) * 1024  # 256 KiB: moved beside the wire bytes, not through them
    ch = wm.MessageChannel()
    ch.port1.post_message({"a": big, "b": big, "small": b"x", "ba": bytearray(big)})
    back = ch.port2.recv(5).data
    assert back["a"] == big and back["a"] is back["b"]
    assert back["small"] == b"x" and back["ba"] == big and type(back["ba"]) is bytes
    assert wm.deserialize(wm.serialize(big)) == big


def test_immutable_containers_are_copied_not_shared():
    empty = ()
    back = wm.structured_clone([empty, empty, frozenset(), frozenset()])
    assert back == [[], [], set(), set()]
    assert back[0] is not back[1] and back[2] is not back[3]
    # A cycle through a tuple still terminates (at the list).
    lst = []
    lst.append((lst,))
    back = wm.structured_clone(lst)
    assert back[0][0] is back


@pytest.mark.parametrize(
    "hex_bytes",
    [
        "ff0f3b4902220161542201623a04",  # Map {1 => "a", true => "b"}
        "ff0f3b5a10010000000000000022016149022201623a04",  # Map {1n => "a", 1 => "b"}
        "ff0f2749025a1001000000000000002c02",  # Set {1, 1n}
        "ff0f275449022c02",  # Set {true, 1}
    ],
)
def test_keys_python_cannot_tell_apart_are_refused_not_merged(hex_bytes):
    """1 and 1n, or 1 and true, are two keys in JavaScript but one in a dict or set: reading
    them must fail loudly rather than keep one and lose the other."""
    with pytest.raises(wm.DecodeError, match="one of them would be lost"):
        wm.deserialize(bytes.fromhex(hex_bytes))
