"""Where ``onmessage`` handlers and ``recv_async`` futures run.

* Set inside a running asyncio loop: on that loop. The loop watches a socket pair that the
  native side writes one byte to per batch (``loop.add_reader``), then drains every ready port.
* Otherwise: on one library dispatcher thread (a daemon thread named
  ``webmessaging-dispatcher``), which waits with the GIL released.

Either way the handlers of one port run one at a time, in message order.
"""

from __future__ import annotations

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
            thread = threading.Thread(
                target=_serve, args=(hub,), name="webmessaging-dispatcher", daemon=True
            )
            thread.start()
            _thread_hub = hub
        return _thread_hub


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
