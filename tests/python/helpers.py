"""Small helpers for the tests (imported by test modules)."""

from __future__ import annotations

import threading
import time


class Collector:
    """An onmessage handler that records events and the thread each ran on."""

    def __init__(self, expect: int = 1, action=None):
        self.events = []
        self.threads = []
        self.expect = expect
        self.action = action
        self.done = threading.Event()
        self._lock = threading.Lock()

    def __call__(self, event):
        with self._lock:
            self.events.append(event)
            self.threads.append(threading.current_thread())
            if len(self.events) >= self.expect:
                self.done.set()
        if self.action is not None:
            self.action(event)

    @property
    def data(self):
        return [e.data for e in self.events]

    def wait(self, timeout: float = 5.0) -> bool:
        return self.done.wait(timeout)


def settle(seconds: float = 0.05) -> None:
    """Lets the dispatcher run (for tests asserting that something did NOT happen)."""
    time.sleep(seconds)


class _ObjectKey:
    """A hashable key the value mapping does not cover; the hook below turns it into a dict."""


def unreadable_in_python() -> tuple[dict, object]:
    """A value (and the ``default`` hook to send it with) that is valid JavaScript but that no
    Python receiver can read: a Map whose key is a plain object (a ``dict`` cannot be a dict
    key). Posting it succeeds; receiving it is a ``DecodeError`` / ``messageerror``."""
    return {_ObjectKey(): 1}, (lambda o: {"k": 1})

