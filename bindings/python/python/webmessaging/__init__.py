"""webmessaging: the HTML Standard's web messaging model for Python.

``MessageChannel`` / ``MessagePort`` (post, transfer, start, close), origin-checked ``Window``
messaging, ``BroadcastChannel``, and structured clone in the V8 wire format (``serialize`` /
``deserialize``), on a Rust core. Ports work from any thread;
blocking ``recv`` releases the GIL; ``await port.recv_async()`` and ``async for`` work on asyncio.

Where ``onmessage`` runs: on the running asyncio loop when it is set inside one, otherwise on the
library's dispatcher thread. A port's handler calls never overlap and keep message order; an
exception raised by a handler goes to :func:`sys.unraisablehook` and the port keeps delivering.
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
    QueueFullError,
)
from ._native import (
    BroadcastChannel,
    MessageChannel,
    MessageEvent,
    MessagePort,
    Window,
    deserialize,
    serialize,
    set_default,
    structured_clone,
)
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
    "DOMException",
    "DataCloneError",
    "InvalidStateError",
    "DOMSyntaxError",
    "PortClosedError",
    "QueueFullError",
    "DecodeError",
    "InternalError",
]
