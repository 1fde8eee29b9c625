"""Exceptions raised by webmessaging (the native module raises these very classes)."""

from __future__ import annotations

import builtins

__all__ = [
    "DOMException",
    "DataCloneError",
    "InvalidStateError",
    "DOMSyntaxError",
    "PortClosedError",
    "QueueFullError",
    "DecodeError",
    "InternalError",
]


class DOMException(Exception):
    """An error named after a DOMException of the standard; ``.name`` is that name."""

    name: str

    def __init__(self, message: str = "", name: str = "Error") -> None:
        super().__init__(message)
        self.message = message
        self.name = name

    def __reduce__(self):  # keep name and message through pickle
        return (_rebuild_dom_exception, (type(self), self.message, self.name))


def _rebuild_dom_exception(cls, message, name):
    if cls is DOMException:
        return cls(message, name)
    return cls(message)


class DataCloneError(DOMException):
    """A value or transfer list cannot be cloned or transferred."""

    def __init__(self, message: str = "") -> None:
        super().__init__(message, "DataCloneError")


class InvalidStateError(DOMException):
    """The object is in the wrong state for the call (e.g. a closed BroadcastChannel, a port
    that was transferred away)."""

    def __init__(self, message: str = "") -> None:
        super().__init__(message, "InvalidStateError")


class DOMSyntaxError(DOMException, builtins.SyntaxError):
    """The ``SyntaxError`` DOMException (``.name == "SyntaxError"``), e.g. an unparseable
    ``target_origin``. It is also a built-in :class:`SyntaxError`."""

    def __init__(self, message: str = "") -> None:
        DOMException.__init__(self, message, "SyntaxError")

    def __str__(self) -> str:
        return self.message


class PortClosedError(Exception):
    """The port's queue reached its close record: nothing more will arrive.

    ``reason`` is ``"closed"`` (``close()`` was called), ``"dropped"`` (the port was garbage
    collected without ``close()``) or ``"doomed"`` (it was posted through its own channel);
    ``by_peer`` tells whether the other end caused it.
    """

    def __init__(self, message: str = "", reason: str = "closed", by_peer: bool = True) -> None:
        super().__init__(message)
        self.reason = reason
        self.by_peer = by_peer

    def __reduce__(self):
        return (type(self), (str(self), self.reason, self.by_peer))


class QueueFullError(Exception):
    """A bounded post found the receiving queue at its capacity."""


class DecodeError(ValueError):
    """Bytes given to :func:`deserialize` are not a valid message."""


class InternalError(RuntimeError):
    """A bug inside webmessaging, not in the caller's program: a Rust panic caught at the
    binding's boundary (the message says where; please report it). Being a ``RuntimeError``, it
    is caught by ``except Exception``, unlike pyo3's default ``PanicException``; the process
    and other ports go on, but treat the objects that call used as suspect."""
