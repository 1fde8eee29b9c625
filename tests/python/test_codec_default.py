"""The `default` conversion hook (json.dumps / orjson convention): per call, process-wide, and
what common standard-library types do without it (the README's table)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import decimal
import enum
import pathlib
import sys
import uuid

import pytest

import webmessaging as wm
from webmessaging import DataCloneError


@dataclasses.dataclass
class Point:
    x: int
    y: int


class Color(enum.IntEnum):
    RED = 1


class Flag(enum.Enum):
    ON = "on"


WITHOUT_HOOK = {
    "dataclass": Point(1, 2),
    "Decimal": decimal.Decimal("1.5"),
    "UUID": uuid.UUID(int=5),
    "date": dt.date(2020, 1, 2),
    "time": dt.time(1, 2),
    "timedelta": dt.timedelta(seconds=3),
    "Path": pathlib.PurePosixPath("/tmp/x"),
    "IntEnum": Color.RED,
    "Enum": Flag.ON,
    "object": object(),
}
if sys.version_info >= (3, 11):

    class Name(enum.StrEnum):
        A = "a"

    WITHOUT_HOOK["StrEnum"] = Name.A


@pytest.fixture(autouse=True)
def no_process_default():
    old = wm.set_default(None)
    yield
    wm.set_default(old)


@pytest.mark.parametrize("value", WITHOUT_HOOK.values(), ids=WITHOUT_HOOK.keys())
def test_unmapped_stdlib_types_raise_data_clone_error_without_a_hook(value):
    with pytest.raises(DataCloneError, match=type(value).__qualname__):
        wm.serialize({"v": value})
    ch = wm.MessageChannel()
    with pytest.raises(DataCloneError):
        ch.port1.post_message([value])


def test_an_int_enum_is_not_silently_an_int():
    with pytest.raises(DataCloneError, match="o.value"):
        wm.serialize(Color.RED)
    assert wm.deserialize(wm.serialize(Color.RED, default=lambda o: o.value)) == 1


def convert(obj):
    if dataclasses.is_dataclass(obj):
        return dataclasses.asdict(obj)
    if isinstance(obj, (decimal.Decimal, uuid.UUID, pathlib.PurePath)):
        return str(obj)
    if isinstance(obj, (dt.date, dt.time)):
        return obj.isoformat()
    if isinstance(obj, enum.Enum):
        return obj.value
    raise TypeError(f"no conversion for {type(obj).__name__}")


VALUE = {
    "p": Point(1, 2),
    "d": [decimal.Decimal("1.5"), uuid.UUID(int=5)],
    "when": dt.date(2020, 1, 2),
    "c": Color.RED,
    "path": pathlib.PurePosixPath("/tmp/x"),
}
EXPECTED = {
    "p": {"x": 1, "y": 2},
    "d": ["1.5", "00000000-0000-0000-0000-000000000005"],
    "when": "2020-01-02",
    "c": 1,
    "path": "/tmp/x",
}


def test_per_call_hook_on_every_entry_point():
    assert wm.deserialize(wm.serialize(VALUE, default=convert)) == EXPECTED
    assert wm.structured_clone(VALUE, default=convert) == EXPECTED
    ch = wm.MessageChannel()
    ch.port1.post_message(VALUE, default=convert)
    assert ch.port2.recv(5).data == EXPECTED
    a, b = wm.Window("https://a.test"), wm.Window("https://a.test")
    b.post_message(VALUE, "*", source=a, default=convert)
    assert b.recv(5).data == EXPECTED
    name = f"default-{id(VALUE)}"
    tx, rx = wm.BroadcastChannel(name), wm.BroadcastChannel(name)
    try:
        tx.post_message(VALUE, default=convert)
        assert rx.recv(5).data == EXPECTED
    finally:
        tx.close()
        rx.close()


def test_process_wide_hook_and_per_call_precedence():
    assert wm.set_default(convert) is None
    assert wm.deserialize(wm.serialize(decimal.Decimal("2"))) == "2"
    ch = wm.MessageChannel()
    ch.port1.post_message(Point(3, 4))
    assert ch.port2.recv(5).data == {"x": 3, "y": 4}
    assert wm.deserialize(wm.serialize(decimal.Decimal("2"), default=float)) == 2
    assert wm.set_default(None) is convert
    with pytest.raises(DataCloneError):
        wm.serialize(decimal.Decimal("2"))


def test_set_default_refuses_a_non_callable():
    with pytest.raises(TypeError):
        wm.set_default(42)


def test_the_hooks_errors_propagate_and_the_port_stays_usable():
    ch = wm.MessageChannel()
    with pytest.raises(TypeError, match="no conversion for object"):
        ch.port1.post_message({"x": object()}, default=convert)
    ch.port1.post_message("after")
    assert ch.port2.recv(5).data == "after"


def test_a_hook_that_returns_its_argument_or_never_converges_is_refused():
    with pytest.raises(DataCloneError, match="unchanged"):
        wm.serialize(object(), default=lambda o: o)
    with pytest.raises(DataCloneError, match="nested deeper"):
        wm.serialize(object(), default=lambda o: object())


def test_the_hook_is_called_for_each_occurrence_and_its_results_keep_structure():
    calls = []

    def hook(o):
        calls.append(o)
        return [o.x]

    p = Point(1, 2)
    got = wm.deserialize(wm.serialize([p, p], default=hook))
    assert got == [[1], [1]] and len(calls) == 2
