"""Shared fixtures. The suite runs against the *installed* package (make test-python installs
the wheel into build/python-venv); importing it from the source tree is refused."""

from __future__ import annotations

import gc
import pathlib
import sys
import threading

import pytest

import webmessaging

REPO = pathlib.Path(__file__).resolve().parents[2]
VECTORS = REPO / "tests" / "vectors" / "v8-vectors.json"


def pytest_configure(config):
    source = REPO / "bindings" / "python"
    location = pathlib.Path(webmessaging.__file__).resolve()
    if source in location.parents:
        raise pytest.UsageError(f"webmessaging imported from the source tree ({location}); install the wheel")


TIMEOUT = 5.0


@pytest.fixture
def channel():
    ch = webmessaging.MessageChannel()
    yield ch
    ch.port1.close()
    ch.port2.close()


class Unraisable:
    """Collects what reaches sys.unraisablehook (how handler exceptions are reported)."""

    def __init__(self):
        self.items = []
        self.event = threading.Event()

    def __call__(self, info):
        self.items.append(info)
        self.event.set()


@pytest.fixture
def unraisable(monkeypatch):
    hook = Unraisable()
    monkeypatch.setattr(sys, "unraisablehook", hook)
    yield hook


@pytest.fixture
def collect():
    def run():
        for _ in range(3):
            gc.collect()

    return run
