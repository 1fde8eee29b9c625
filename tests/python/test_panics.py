"""A Rust panic never reaches Python as pyo3's PanicException (a BaseException that
``except Exception`` misses): every entry point raises webmessaging.InternalError instead."""

from __future__ import annotations

import pathlib
import re

import pytest

import webmessaging as wm
from webmessaging import _native

SOURCES = pathlib.Path(__file__).resolve().parents[2] / "bindings" / "python" / "src"


def test_a_panic_inside_the_module_is_an_internal_error():
    with pytest.raises(wm.InternalError, match=r"please report it\): boom 42") as info:
        _native._panic_for_testing("boom 42")
    assert isinstance(info.value, RuntimeError) and isinstance(info.value, Exception)
    # The module keeps working after it.
    assert wm.deserialize(wm.serialize({"a": [1]})) == {"a": [1]}


def test_internal_error_is_public_and_a_runtime_error():
    assert "InternalError" in wm.__all__
    assert issubclass(wm.InternalError, RuntimeError)


class _Mutating(Exception):
    """An exception whose ``.stack`` (read by the encoder) grows the dict being serialized."""

    def __init__(self, target):
        super().__init__("x")
        self.target = target

    @property
    def stack(self):
        self.target["new_key"] = 1
        return "trace"


def _mutating_dict():
    d = {}
    d.update(a=_Mutating(d), b=2)
    return d


def test_mutating_the_value_during_serialize_is_an_ordinary_exception():
    # ``pytest.raises(Exception)`` does not catch a BaseException: a PanicException fails here.
    with pytest.raises(Exception):
        wm.serialize(_mutating_dict())


def test_mutating_the_value_during_post_loses_nothing_else(channel):
    with pytest.raises(Exception):
        channel.port1.post_message(_mutating_dict())
    channel.port1.post_message("after")
    assert channel.port2.recv(timeout=5).data == "after"


def test_every_entry_point_is_guarded():
    """Each #[pymethods] block, #[pyfunction] and #[pymodule] carries #[catch_panics]."""
    unguarded = []
    for path in sorted(SOURCES.glob("**/*.rs")):
        lines = path.read_text().splitlines()
        for i, line in enumerate(lines):
            if re.match(r"\s*#\[(pymethods|pyfunction|pymodule)\b", line):
                if i == 0 or lines[i - 1].strip() != "#[catch_panics]":
                    unguarded.append(f"{path.name}:{i + 1}")
    assert unguarded == []
    assert len(list(SOURCES.glob("*.rs"))) > 0
