"""asyncio support: ``await port.recv_async()`` and ``async for event in port``."""

from __future__ import annotations

import asyncio

from ._native import _loop_hub as loop_hub
from ._errors import PortClosedError


async def _recv(port, hub, loop):
    while True:
        event = port.try_recv()
        if event is not None:
            return event
        future = loop.create_future()
        port._add_waiter(hub, future)
        try:
            # Re-check after registering: a message that arrived in between fired the notifier
            # before the waiter existed.
            event = port.try_recv()
            if event is not None:
                return event
            await future
        finally:
            port._remove_waiter(future)


async def recv_async(port, timeout=None):
    """Awaits the next message of ``port``. Cancelling the await loses no message: a message is
    taken from the queue only by the call that returns it."""
    loop = asyncio.get_running_loop()
    hub = loop_hub(loop)
    if timeout is None:
        return await _recv(port, hub, loop)
    try:
        return await asyncio.wait_for(_recv(port, hub, loop), timeout)
    except asyncio.TimeoutError:
        raise TimeoutError("no message arrived before the timeout") from None


async def anext(port):
    try:
        return await recv_async(port)
    except PortClosedError:
        raise StopAsyncIteration from None
