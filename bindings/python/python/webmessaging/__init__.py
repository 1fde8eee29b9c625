"""webmessaging: the HTML Standard's web messaging model for Python.

``MessageChannel`` / ``MessagePort`` (post, transfer, start, close), origin-checked ``Window``
messaging, ``BroadcastChannel``, and structured clone in the V8 wire format (``serialize`` /
``deserialize``), on a Rust core. Ports work from any thread;
blocking ``recv`` releases the GIL; ``await port.recv_async()`` and ``async for`` work on asyncio.

Where ``onmessage`` runs: on the running asyncio loop when it is set inside one, otherwise on the
library's dispatcher thread. A port's handler calls never overlap and keep message order; an
exception raised by a handler goes to :func:`sys.unraisablehook` and the port keeps delivering.

Across processes (and languages): :func:`spawn` starts a child holding one end of a new channel
(the child calls :func:`parent_port`); :func:`listen` / :func:`connect` give one new port per
client of a Unix socket; :func:`export_fd` / :func:`import_fd` turn a port into a socket
descriptor and back. A port from another process is an ordinary :class:`MessagePort`: it posts
without blocking, transfers onward (to any process) and ends with :class:`PortClosedError`
(reason ``"lost"`` when the other process died). A :class:`Listener` is served like a port:
``accept()``, ``for port in listener``, ``await accept_async()``, ``async for``, an
``onconnect`` handler (``event.ports[0]``) run where ``onmessage`` would be, and ``fileno()``
for :mod:`selectors`. Everything posted is written out at exit; :func:`flush` waits for it
earlier. Errors are the built-in ``OSError`` subclasses (``FileExistsError``,
``PermissionError``, ``FileNotFoundError``, ``ConnectionRefusedError``, ``TimeoutError``,
``OSError(EMFILE)``) and :class:`ProtocolError` for a peer that is not speaking webmessaging.
"""

from __future__ import annotations

from ._errors import (
    DataCloneError,
    DecodeError,
    DOMException,
    DOMSyntaxError,
    InternalError,
    InvalidStateError,
    PortClosedError,
    ProtocolError,
    QueueFullError,
)
from ._native import (
    PORT_FD_ENV,
    BroadcastChannel,
    Listener,
    MessageChannel,
    MessageEvent,
    MessagePort,
    Window,
    deserialize,
    serialize,
    set_default,
    structured_clone,
    connect,
    export_fd,
    flush,
    import_fd,
    listen,
    parent_port,
)
from ._process import spawn
from ._types import (
    HOLE,
    INVALID_DATE,
    UNDEFINED,
    Hole,
    InvalidDate,
    JSArray,
    JSBigInt,
    JSBoxed,
    JSError,
    JSMap,
    JSRegExp,
    JSTypedArray,
    ResizableArrayBuffer,
    Undefined,
)

__all__ = [
    "MessageChannel",
    "MessagePort",
    "MessageEvent",
    "Window",
    "BroadcastChannel",
    "UNDEFINED",
    "Undefined",
    "HOLE",
    "Hole",
    "INVALID_DATE",
    "InvalidDate",
    "JSArray",
    "JSBigInt",
    "JSBoxed",
    "JSError",
    "JSMap",
    "JSRegExp",
    "JSTypedArray",
    "ResizableArrayBuffer",
    "serialize",
    "deserialize",
    "structured_clone",
    "set_default",
    "spawn",
    "parent_port",
    "listen",
    "Listener",
    "connect",
    "export_fd",
    "import_fd",
    "flush",
    "PORT_FD_ENV",
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
