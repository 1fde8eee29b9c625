"""Interop with Node (V8): golden vectors written by Node are read with ``deserialize``, and
bytes from ``serialize`` are read by Node's ``v8.Deserializer``."""

from __future__ import annotations

import array
import datetime as dt
import json
import math
import re
import shutil
import subprocess
from pathlib import Path

import pytest

import webmessaging as wm
from webmessaging import HOLE, INVALID_DATE, UNDEFINED, DecodeError, JSArray, JSBigInt, JSBoxed, JSError, JSMap, JSRegExp

from conftest import VECTORS

ALL = json.loads(VECTORS.read_text())["vectors"]
# Vectors that need a transfer table (ports, transferred buffers) only exist inside messages.
STANDALONE = [v for v in ALL if not v.get("ports") and not v.get("transfer_buffers")]
WITH_TABLE = [v for v in ALL if v.get("ports") or v.get("transfer_buffers")]

# Documented limits of the Python mapping (the README's Python section, "Not mapped").
DECODE_FAILS = {
    "array max length sparse": "sparse array length",
    "array last index": "sparse array length",
    "array sparse index > Smi": "sparse array length",
    "shared map key in array": "cannot be a dict key",
    "map object keys": "cannot be a dict key",
    "set self": "cannot be in a Python set",
    "set mixed": "one of them would be lost",  # 1 and 1n are one member of a Python set
    "date max": "outside datetime's range",
    "date min": "outside datetime's range",
}
# Values that come back equal but are re-written differently.
NOT_BYTE_IDENTICAL = {
    "array packed double": "1 written as a double by V8 comes back as int 1",
    "map NaN key": "integral doubles come back as int",
}


COPIED_VIEWS = {
    "view Int8Array subarray", "view Uint8Array subarray", "view Uint8ClampedArray subarray",
    "view Int16Array subarray", "view Uint16Array subarray", "view Int32Array subarray",
    "view Uint32Array subarray", "view Float32Array subarray", "view Float64Array subarray",
    "view BigInt64Array subarray", "view BigUint64Array subarray", "view DataView offset",
    "view DataView offset+length", "view Uint8Array subarray(1,3)", "view two views share a buffer",
    "view buffer then view", "view view then buffer", "view length-tracking on resizable",
    "view fixed on resizable",
}


def _reason(v):
    name = v["name"]
    if v["mode"] == "node" and name != "node plain object":
        return "Node's v8.serialize() typed-array dialect is read, never written"
    if name in COPIED_VIEWS:
        return "typed arrays come back as copies of their own bytes (buffer sharing and offsets are not kept)"
    return NOT_BYTE_IDENTICAL.get(name)


@pytest.mark.parametrize("vector", STANDALONE, ids=[v["name"] for v in STANDALONE])
def test_node_golden_vector_reads_and_rewrites(vector):
    data = bytes.fromhex(vector["hex"])
    node = vector["mode"] == "node"
    if vector["name"] in DECODE_FAILS:
        with pytest.raises(DecodeError, match=re.escape(DECODE_FAILS[vector["name"]])):
            wm.deserialize(data, node=node)
        return
    value = wm.deserialize(data, node=node)
    again = wm.serialize(value)
    reason = _reason(vector)
    if reason is None:
        assert again == data, "wire -> Python -> wire must keep the JavaScript structure"
    else:
        # Same value, different bytes: reading ours back gives an equal Python value.
        assert again != data, f"expected a documented difference ({reason}); update the list"
        back = wm.deserialize(again)
        if not (isinstance(value, float) and math.isnan(value)):
            assert type(back) is type(value)


@pytest.mark.parametrize("vector", WITH_TABLE, ids=[v["name"] for v in WITH_TABLE])
def test_vectors_with_transfer_tables_need_a_message(vector):
    with pytest.raises(DecodeError):
        wm.deserialize(bytes.fromhex(vector["hex"]))


def by_name(name):
    (v,) = [v for v in ALL if v["name"] == name]
    return wm.deserialize(bytes.fromhex(v["hex"]), node=v["mode"] == "node")


# The wire -> Python column of the mapping table, row by row, on values Node wrote.
WIRE_TO_PYTHON = [
    ("null", lambda x: x is None),
    ("undefined", lambda x: x is UNDEFINED),
    ("true", lambda x: x is True),
    ("number 1", lambda x: type(x) is int and x == 1),
    ("number 2**31", lambda x: type(x) is int and x == 2**31),
    ("number 1.5", lambda x: type(x) is float and x == 1.5),
    ("number -0", lambda x: type(x) is float and math.copysign(1, x) == -1),
    ("number NaN", lambda x: type(x) is float and math.isnan(x)),
    ("bigint 1n", lambda x: type(x) is JSBigInt and x == 1),
    ("bigint 2n**64n", lambda x: type(x) is int and x == 2**64),
    ("string lone high surrogate", lambda x: x == "\ud800"),
    ("string emoji pair", lambda x: x == "😀"),
    ("ArrayBuffer [7,8,9]", lambda x: type(x) is bytes and x == b"\x07\x08\x09"),
    ("array [1,2]", lambda x: type(x) is list and x == [1, 2]),
    ("array holey [1,,3]", lambda x: type(x) is JSArray and list(x) == [1, HOLE, 3]),
    ("array with property", lambda x: type(x) is JSArray and x.properties == {"p": "q"}),
    ("object {a:1}", lambda x: type(x) is dict and x == {"a": 1}),
    ("object numeric key", lambda x: x == {"1": "x", "b": 2}),
    ("object cyclic", lambda x: x["a"] is x),
    ("map [[1,2]]", lambda x: type(x) is dict and x == {1: 2}),
    ("map self value", lambda x: any(v is x for v in x.values())),
    ("set [1]", lambda x: type(x) is set and x == {1}),
    ("date 0", lambda x: x == dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)),
    ("date NaN", lambda x: x is INVALID_DATE),
    ("regexp /a+/gi", lambda x: x == JSRegExp("a+", "gi")),
    ("Boolean true", lambda x: x == JSBoxed(True)),
    ("Number 1.5", lambda x: x == JSBoxed(1.5)),
    ("String ab", lambda x: x == JSBoxed("ab")),
    ("BigInt object 1n", lambda x: x == JSBoxed(JSBigInt(1))),
    ("view Uint8Array", lambda x: type(x) is array.array and x.typecode == "B"),
    ("view Float64Array", lambda x: type(x) is array.array and x.typecode == "d"),
    ("view BigInt64Array", lambda x: type(x) is array.array and x.typecode == "q"),
    ("node Buffer", lambda x: x == array.array("B", b"abc")),
    ("error TypeError", lambda x: type(x) is TypeError),
    ("error RangeError", lambda x: type(x) is JSError and x.name == "RangeError"),
    ("error stack string", lambda x: isinstance(x, BaseException) and isinstance(x.stack, str)),
    ("error cause error", lambda x: isinstance(x.__cause__, BaseException)),
]


@pytest.mark.parametrize("name,check", WIRE_TO_PYTHON, ids=[n for n, _ in WIRE_TO_PYTHON])
def test_wire_to_python_rows(name, check):
    assert check(by_name(name))


def test_regexp_without_js_only_flags_is_a_python_pattern():
    value = wm.deserialize(wm.serialize(re.compile("x", re.I)))
    assert isinstance(value, re.Pattern) and value.flags & re.I


# --- Node reads our bytes -------------------------------------------------------------------

lst = [1]
lst.append(lst)
shared = {"s": 1}

NODE_CASES = [
    (None, "v => v === null"),
    (UNDEFINED, "v => v === undefined"),
    (True, "v => v === true"),
    (42, "v => v === 42"),
    (1.5, "v => v === 1.5"),
    (-0.0, "v => Object.is(v, -0)"),
    (float("nan"), "v => Number.isNaN(v)"),
    (2**60, "v => v === 2n ** 60n"),
    (-(2**100), "v => v === -(2n ** 100n)"),
    (JSBigInt(5), "v => v === 5n"),
    ("😀\ud800é", "v => v === '\\u{1F600}\\uD800\\u00e9'"),
    (b"\x01\x02", "v => v instanceof ArrayBuffer && new Uint8Array(v)[1] === 2"),
    ([1, [2, "x"]], "v => Array.isArray(v) && v[1][1] === 'x'"),
    ((1, 2), "v => Array.isArray(v) && v.length === 2"),
    ({"a": {"b": None}}, "v => Object.getPrototypeOf(v) === Object.prototype && v.a.b === null"),
    ({1: "x", "k": 2}, "v => v instanceof Map && v.get(1) === 'x' && v.get('k') === 2"),
    ({(1, 2): "t"}, "v => v instanceof Map && Array.isArray([...v.keys()][0])"),
    (JSMap({"a": 1}), "v => v instanceof Map && v.get('a') === 1"),
    ({1, "a"}, "v => v instanceof Set && v.has(1) && v.has('a')"),
    (dt.datetime(2023, 11, 14, 22, 13, 20, 123000, tzinfo=dt.timezone.utc), "v => v instanceof Date && v.getTime() === 1700000000123"),
    (INVALID_DATE, "v => v instanceof Date && Number.isNaN(v.getTime())"),
    (re.compile("a+b", re.I | re.M), "v => v instanceof RegExp && v.source === 'a+b' && v.flags === 'im'"),
    (JSRegExp("x", "gy"), "v => v instanceof RegExp && v.flags === 'gy'"),
    (TypeError("bad"), "v => v instanceof TypeError && v.message === 'bad'"),
    (ValueError("v"), "v => v instanceof Error && v.constructor === Error && v.message === 'v'"),
    (JSError("r", "RangeError"), "v => v instanceof RangeError"),
    (array.array("d", [1.5, 2]), "v => v instanceof Float64Array && v[0] === 1.5 && v[1] === 2"),
    (array.array("q", [-1]), "v => v instanceof BigInt64Array && v[0] === -1n"),
    (array.array("B", [255]), "v => v instanceof Uint8Array && v[0] === 255"),
    (wm.JSTypedArray("DataView", b"\x01\x02"), "v => v instanceof DataView && v.getUint8(1) === 2"),
    (JSArray([1, HOLE, 3], {"extra": "p"}), "v => v.length === 3 && !(1 in v) && v.extra === 'p'"),
    (JSBoxed(1.5), "v => v instanceof Number && v.valueOf() === 1.5"),
    (JSBoxed("s"), "v => v instanceof String && v.valueOf() === 's'"),
    (lst, "v => v[1] === v"),
    ([shared, shared], "v => v[0] === v[1]"),
    ({"id": 7, "name": "x", "tags": [1, 2, 3]}, "v => v.id === 7 && v.tags[2] === 3"),
]


@pytest.fixture(scope="module")
def node():
    exe = shutil.which("node")
    if exe is None:
        pytest.skip("node is not installed: cannot check Node reads our bytes")
    return exe


def test_node_v8_deserializer_reads_our_bytes(node):
    script = Path(__file__).with_name("node_check.mjs")
    cases = [(wm.serialize(value), check) for value, check in NODE_CASES]
    stdin = "\n".join(json.dumps({"hex": data.hex(), "check": check}) for data, check in cases)
    proc = subprocess.run([node, str(script)], input=stdin, capture_output=True, text=True, timeout=60, check=True)
    results = [json.loads(line) for line in proc.stdout.splitlines()]
    assert len(results) == len(cases)
    for (data, check), (value, _), out in zip(cases, NODE_CASES, results):
        assert out["ok"], (value, out.get("error"))
        assert out["check"], (value, check)
        # And what V8 writes back from it, we read again.
        wm.deserialize(bytes.fromhex(out["hex"]))
