"""Exceptions raised by webmessaging (the native module raises these very classes).

Each also derives from the built-in exception a Python programmer would reach for first:

* :class:`DataCloneError` is a :class:`TypeError`, what ``json.dumps`` and ``pickle.dumps`` raise
  for an object they cannot encode.
* :class:`PortClosedError` is an :class:`EOFError`: it means "nothing more will arrive", the
  orderly end of a stream, which is what ``multiprocessing.Connection.recv()`` raises when the
  other end closed. It is not a :class:`ConnectionError`: that is an :class:`OSError` (errno,
  sockets), and posting to a closed port is not an error at all (the message is dropped, as on
  the web), so only receiving ever raises it.
* :class:`ProtocolError` is a :class:`ConnectionError`: the other end of a cross-process
  connection is not speaking webmessaging's protocol (``errno`` is ``EPROTO``).
* :class:`DOMSyntaxError` is a :class:`SyntaxError`, :class:`DecodeError` a :class:`ValueError`,
  :class:`InternalError` a :class:`RuntimeError`.
"""

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
    "ProtocolError",
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


class DataCloneError(DOMException, TypeError):
    """A value or transfer list cannot be cloned or transferred. Also a :class:`TypeError`."""

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


class PortClosedError(EOFError):
    """The receiver reached its end: nothing more will arrive. Also an :class:`EOFError`.

    The end of a port, in one place. Messages posted before the close come first, in order.
    Then the close record: ``recv()`` and ``try_recv()`` raise ``PortClosedError`` on reaching
    it and on every call after (``try_recv()`` returns ``None`` only while the queue is merely
    empty); ``await recv_async()`` raises it too; ``for`` and ``async for`` end; ``onmessage``
    is simply not called again. The same holds for a closed :class:`BroadcastChannel`. A port
    transferred away raises :class:`InvalidStateError` instead (its messages go to the new
    owner), and a ``Window`` never ends.

    ``reason`` is ``"closed"`` (``close()`` was called), ``"dropped"`` (the port was garbage
    collected without ``close()``), ``"doomed"`` (it was posted through its own channel) or
    ``"lost"`` (the other end's process exited or was killed without closing it);
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


class ProtocolError(ConnectionError):
    """The other side of a cross-process connection broke the protocol (a bad handshake, a
    malformed frame): it is not a webmessaging endpoint, or it is broken. Only that connection
    is lost. Also a :class:`ConnectionError` (an :class:`OSError`, ``errno`` ``EPROTO``)."""
