"""Type stubs for the compiled module ``webmessaging._native`` (re-exported by ``webmessaging``)."""

import os
import pathlib
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Sequence
from types import TracebackType
from typing import Any, Literal, final

from typing_extensions import Self, TypeAlias

__all__ = [
    "MessageChannel",
    "MessagePort",
    "MessageEvent",
    "Window",
    "BroadcastChannel",
    "Hub",
    "Listener",
    "listen",
    "connect",
    "parent_port",
    "export_fd",
    "import_fd",
    "flush",
    "PORT_FD_ENV",
    "serialize",
    "deserialize",
    "structured_clone",
    "set_default",
    "_live_mailboxes",
    "_panic_for_testing",
    "_after_fork_in_child",
]

_Handler: TypeAlias = Callable[[MessageEvent], object] | None

@final
class MessageEvent:
    """A delivered message (also the argument of ``onmessage`` / ``onmessageerror``)."""

    def __new__(
        cls,
        type: str = "message",
        *,
        data: Any = None,
        origin: str = "",
        last_event_id: str = "",
        source: Window | None = None,
        ports: Iterable[MessagePort] | None = None,
    ) -> Self: ...
    @property
    def type(self) -> str:
        """``"message"``, ``"messageerror"`` for a message that could not be deserialized, or
        ``"connect"`` for a :class:`Listener`'s new client (its port is ``ports[0]``)."""
    @property
    def data(self) -> Any:
        """The structured clone of the posted value (``None`` for ``messageerror``)."""
    @property
    def ports(self) -> tuple[MessagePort, ...]:
        """The transferred ports, in transfer-list order."""
    @property
    def origin(self) -> str:
        """The sender's serialized origin (windows, broadcast channels); ``""`` for ports."""
    @property
    def source(self) -> Window | None:
        """The sending ``Window`` for window messages, else ``None``."""
    @property
    def last_event_id(self) -> str:
        """Always ``""``."""

@final
class MessagePort:
    """One end of a :class:`MessageChannel`. Usable from any thread; transferable."""

    def post_message(
        self,
        data: Any,
        transfer: Iterable[MessagePort | bytearray] | None = None,
        *,
        default: Callable[[Any], Any] | None = None,
    ) -> None:
        """Posts a structured clone of ``data`` to the entangled port, transferring ``transfer``
        (ports move; a ``bytearray`` moves its bytes and is left empty, like a transferred
        ArrayBuffer). ``default``: the conversion hook (see :func:`set_default`).

        Raises :class:`DataCloneError` for uncloneable values, a transfer list holding this port,
        a port twice, or a closed or already transferred port."""
    def start(self) -> None:
        """Enables delivery to ``onmessage`` / ``recv_async`` (pull calls work without it)."""
    def close(self) -> None:
        """Closes the port: the peer receives everything sent before, then the close notice."""
    def recv(self, timeout: float | None = None) -> MessageEvent:
        """Blocks (GIL released) for the next message. Raises the built-in ``TimeoutError``,
        or :class:`PortClosedError` at the close record and after (see there)."""
    def try_recv(self) -> MessageEvent | None:
        """The next message; ``None`` while none is waiting; :class:`PortClosedError` at the
        close record and on every call after (see there)."""
    async def recv_async(self, timeout: float | None = None) -> MessageEvent:
        """Awaits the next message on the running loop (starts the port; cancellable)."""
    onmessage: _Handler
    """Handler called with each :class:`MessageEvent`. Setting it starts the port. It runs on
    the running asyncio loop if set inside one, else on the library's dispatcher thread."""
    onmessageerror: _Handler
    """Handler for messages that could not be deserialized (does not start the port)."""
    @property
    def detached(self) -> bool: ...
    @property
    def entangled(self) -> bool: ...
    @property
    def started(self) -> bool: ...
    def metrics(self) -> dict[str, int]: ...
    def __iter__(self) -> Iterator[MessageEvent]: ...
    def __next__(self) -> MessageEvent: ...
    def __aiter__(self) -> AsyncIterator[MessageEvent]: ...
    async def __anext__(self) -> MessageEvent: ...
    def __enter__(self) -> Self: ...
    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> Literal[False]: ...

@final
class MessageChannel:
    """Two entangled ports."""

    def __new__(cls) -> Self: ...
    @property
    def port1(self) -> MessagePort: ...
    @property
    def port2(self) -> MessagePort: ...

@final
class Window:
    """A browsing-context stand-in with an origin (``None``: opaque) and an event queue."""

    def __new__(cls, origin: str | None = None) -> Self: ...
    @property
    def origin(self) -> str: ...
    def navigate(self, origin: str | None = None) -> None: ...
    def post_message(
        self,
        data: Any,
        target_origin: str = "/",
        transfer: Iterable[MessagePort | bytearray] | None = None,
        *,
        source: Window,
        default: Callable[[Any], Any] | None = None,
    ) -> None:
        """``window.postMessage`` from ``source``: ``"/"`` (the source's origin), ``"*"`` or a
        URL. Raises :class:`DOMSyntaxError` for an unparseable target origin."""
    def recv(self, timeout: float | None = None) -> MessageEvent: ...
    def try_recv(self) -> MessageEvent | None: ...
    async def recv_async(self, timeout: float | None = None) -> MessageEvent: ...
    onmessage: _Handler
    onmessageerror: _Handler
    def __aiter__(self) -> AsyncIterator[MessageEvent]: ...
    async def __anext__(self) -> MessageEvent: ...

@final
class BroadcastChannel:
    """Every other open channel with the same name and origin receives each message."""

    def __new__(cls, name: object, origin: str | Window | None = None) -> Self: ...
    @property
    def name(self) -> str: ...
    @property
    def origin(self) -> str: ...
    @property
    def closed(self) -> bool: ...
    def post_message(self, data: Any, *, default: Callable[[Any], Any] | None = None) -> None:
        """Raises :class:`InvalidStateError` after :meth:`close`."""
    def close(self) -> None: ...
    def recv(self, timeout: float | None = None) -> MessageEvent: ...
    def try_recv(self) -> MessageEvent | None: ...
    async def recv_async(self, timeout: float | None = None) -> MessageEvent: ...
    onmessage: _Handler
    onmessageerror: _Handler
    def __iter__(self) -> Iterator[MessageEvent]: ...
    def __next__(self) -> MessageEvent: ...
    def __aiter__(self) -> AsyncIterator[MessageEvent]: ...
    async def __anext__(self) -> MessageEvent: ...
    def __enter__(self) -> Self: ...
    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> Literal[False]: ...

def serialize(
    value: Any, transfer: Iterable[MessagePort] | None = None, *, default: Callable[[Any], Any] | None = None
) -> bytes:
    """The wire bytes of ``value`` (V8 ValueSerializer v15, readable by Node's ``v8.Deserializer``).
    ``transfer`` must be empty (ports cannot travel in bare bytes): :class:`DataCloneError`."""

def deserialize(data: bytes | bytearray | memoryview, *, node: bool = False) -> Any:
    """Reads wire bytes (``node=True``: Node's ``v8.serialize()`` dialect). Raises :class:`DecodeError`."""

def structured_clone(
    value: Any,
    transfer: Iterable[MessagePort | bytearray] | None = None,
    *,
    default: Callable[[Any], Any] | None = None,
) -> Any:
    """A structured clone of ``value``; shared references and cycles are kept."""

def set_default(default: Callable[[Any], Any] | None, /) -> Callable[[Any], Any] | None:
    """Sets the process-wide conversion hook (``None`` removes it) and returns the previous one.
    ``default(obj)`` is called with each object the value mapping does not cover (and each Enum
    member) and returns a value to send instead, or raises, as ``json.dumps(default=...)``;
    a ``default=`` passed to a call takes precedence."""

@final
class Hub:
    """Private: a place where handlers and ``recv_async`` futures run (the dispatcher thread or
    one asyncio loop); created by the module itself."""

    def _serve(self) -> None: ...
    def run(self) -> None: ...
    def close(self) -> None: ...

_StrPath: TypeAlias = str | os.PathLike[str]

PORT_FD_ENV: str
"""``"WEBMESSAGING_PORT_FD"``: the variable naming a child's inherited port descriptor."""

@final
class Listener:
    """A Unix socket that receives one new port per client, as a ``SharedWorker`` receives one
    per ``connect`` event. Made by :func:`listen`; a context manager (``close()`` on exit)."""

    def accept(self, timeout: float | None = None) -> MessagePort:
        """The next client's port, waiting up to ``timeout`` seconds (GIL released). Raises the
        built-in ``TimeoutError``, or :class:`PortClosedError` once the listener is closed."""
    def try_accept(self) -> MessagePort | None:
        """The next client's port if one is waiting, else ``None``."""
    async def accept_async(self, timeout: float | None = None) -> MessagePort:
        """Awaits the next client's port on the running loop (cancellable)."""
    onconnect: _Handler
    """Handler called with a ``connect`` :class:`MessageEvent` per client (``event.ports[0]``).
    It runs on the running asyncio loop if set inside one, else on the dispatcher thread."""
    def close(self) -> None:
        """Stops listening and removes the socket path. Accepted ports live on; clients not yet
        accepted see their ports closed. Idempotent."""
    def fileno(self) -> int:
        """A descriptor for :mod:`selectors`: readable while a client waits to be accepted (and
        for good once closed). Never read or close it; call :meth:`try_accept` until ``None``."""
    @property
    def closed(self) -> bool: ...
    @property
    def path(self) -> pathlib.Path:
        """The socket path."""
    def __iter__(self) -> Iterator[MessagePort]: ...
    def __next__(self) -> MessagePort: ...
    def __aiter__(self) -> AsyncIterator[MessagePort]: ...
    async def __anext__(self) -> MessagePort: ...
    def __enter__(self) -> Self: ...
    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> Literal[False]: ...

def listen(
    path: _StrPath,
    *,
    mode: int = 0o600,
    allow_uids: Sequence[int] | None = None,
    allow_any_uid: bool = False,
    pending: int = 64,
) -> Listener:
    """Listens on a new Unix socket at ``path`` (file mode ``mode``, owner-only by default).
    Clients running as another user id are refused (``ConnectionRefusedError`` on their side)
    unless listed in ``allow_uids`` or ``allow_any_uid`` is set. At most ``pending`` clients are
    answered before being accepted. Raises ``FileExistsError`` if the path exists (it is left
    untouched), ``PermissionError`` if it cannot be created there."""

def connect(path: _StrPath, timeout: float | None = None) -> MessagePort:
    """This client's port from the :class:`Listener` at ``path`` (GIL released while waiting).
    Raises ``FileNotFoundError``, ``ConnectionRefusedError``, ``TimeoutError`` or
    :class:`ProtocolError`."""

def parent_port() -> MessagePort | None:
    """The port the parent gave this process (``spawn``), once; ``None`` if it gave none."""

def export_fd(port: MessagePort) -> int:
    """The port as a socket descriptor the caller owns (the port is detached, as by a transfer).
    Raises :class:`DataCloneError` for a closed or transferred port."""

def import_fd(fd: int) -> MessagePort:
    """A port from a descriptor made by ``export_fd`` (anywhere); the descriptor is taken over."""

def flush(timeout: float | None = None) -> bool:
    """Waits (GIL released) until everything posted to cross-process ports so far was written
    to the sockets (or the peers are gone); ``False`` if ``timeout`` ran out. Done at exit on its
    own (up to 5 s); call it before a step that may end the process abruptly."""

def _live_mailboxes() -> int: ...
def _after_fork_in_child() -> None: ...
def _panic_for_testing(message: str) -> None:
    """Testing only: panics inside the native module, which must raise :class:`InternalError`."""
