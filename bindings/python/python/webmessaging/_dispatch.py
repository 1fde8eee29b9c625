"""Where ``onmessage`` handlers and ``recv_async`` futures run.

* Set inside a running asyncio loop: on that loop. The loop watches a socket pair that the
  native side writes one byte to per batch (``loop.add_reader``), then drains every ready port.
* Otherwise: on one library dispatcher thread (a daemon thread named
  ``webmessaging-dispatcher``), which waits with the GIL released.

Either way the handlers of one port run one at a time, in message order.

After ``os.fork()`` the child has no dispatcher thread (fork copies only the calling thread):
a new one is started on the same hub, so ``onmessage`` handlers set before the fork keep running
in the child. Handlers set inside an asyncio loop are not carried over: asyncio loops are not
fork-safe, and the child must run its own loop and set its handlers there.
"""

from __future__ import annotations

import os
import sys
import threading
import weakref

from . import _native

_lock = threading.Lock()
_thread_hub = None
_loop_hubs: "weakref.WeakKeyDictionary[object, _native.Hub]" = weakref.WeakKeyDictionary()


def _serve(hub) -> None:
    while hub.wait():
        try:
            hub.run()
        except BaseException as exc:  # keep the dispatcher alive, but never silently
            sys.unraisablehook(_Unraisable(type(exc), exc, exc.__traceback__, "webmessaging dispatcher", hub))


class _Unraisable:
    """The argument sys.unraisablehook expects."""

    __slots__ = ("exc_type", "exc_value", "exc_traceback", "err_msg", "object")

    def __init__(self, exc_type, exc_value, exc_traceback, err_msg, obj):
        self.exc_type, self.exc_value, self.exc_traceback = exc_type, exc_value, exc_traceback
        self.err_msg, self.object = err_msg, obj


def thread_hub():
    """The library dispatcher thread's hub (the thread is started on first use)."""
    global _thread_hub
    hub = _thread_hub
    if hub is not None:
        return hub
    with _lock:
        if _thread_hub is None:
            hub = _native.Hub()
            _start_dispatcher(hub)
            _thread_hub = hub
        return _thread_hub


def _start_dispatcher(hub) -> None:
    threading.Thread(target=_serve, args=(hub,), name="webmessaging-dispatcher", daemon=True).start()


def _after_fork_in_child() -> None:
    """The dispatcher thread did not survive the fork: serve the same hub from a new one (the
    hub's ready list and every port's handler were copied with the process)."""
    global _lock
    _lock = threading.Lock()  # possibly held by a thread that no longer exists
    if _thread_hub is not None:
        _thread_hub._after_fork_in_child()
        _start_dispatcher(_thread_hub)


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


def loop_hub(loop):
    """The hub of an asyncio event loop (registered with ``loop.add_reader`` on first use)."""
    hub = _loop_hubs.get(loop)
    if hub is None:
        hub = _native.Hub(socket=True)
        loop.add_reader(hub.fileno(), hub.run)
        _loop_hubs[loop] = hub
        weakref.finalize(loop, hub.close)
    return hub


def running_loop():
    asyncio = sys.modules.get("asyncio")
    if asyncio is None:
        return None
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


def current_hub():
    """The running loop's hub when called inside one, else the dispatcher thread's."""
    loop = running_loop()
    if loop is None:
        return thread_hub()
    return loop_hub(loop)
