"""webmessaging demo: a worker thread, an asyncio loop and a port handed between them.

1. The main thread creates a "control" channel to a worker thread and a "jobs" channel.
2. It transfers one end of the jobs channel to the worker inside a message (port transfer).
3. The asyncio loop awaits results on the other end (`async for`), while the worker thread
   answers with blocking `recv` calls (the GIL is released while it waits).
4. An `onmessage` handler set inside the loop runs on that loop.
5. Windows: an origin-checked `post_message`; a mismatching target origin is dropped silently.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import threading

import webmessaging as wm

_print_lock = threading.Lock()


def say(text: str) -> None:
    with _print_lock:
        print(text, flush=True)


def worker(control: wm.MessagePort) -> None:
    # The first message carries the port this worker should serve.
    event = control.recv(timeout=5)
    (jobs,) = event.ports
    say(f"[worker ] got a port from the main thread: {event.data!r}")
    for job in jobs:  # ends when the other side closes
        n = job.data["n"]
        jobs.post_message({"n": n, "square": n * n, "by": threading.current_thread().name})
    say("[worker ] jobs port closed by the peer; bye")


async def main() -> None:
    control = wm.MessageChannel()
    jobs = wm.MessageChannel()
    thread = threading.Thread(target=worker, args=(control.port2,), name="worker-1", daemon=True)
    thread.start()

    # Transfer jobs.port2 to the worker: after this, it is detached here.
    control.port1.post_message({"hello": "worker", "sent": dt.datetime.now(dt.timezone.utc)}, [jobs.port2])
    say(f"[main   ] transferred a port; detached here: {jobs.port2.detached}")

    for n in range(1, 6):
        jobs.port1.post_message({"n": n})
    results = []
    async for event in jobs.port1:
        results.append(event.data)
        say(f"[asyncio] {event.data}")
        if len(results) == 5:
            break
    jobs.port1.close()  # the worker's `for` loop ends at the close record
    await asyncio.to_thread(thread.join)

    # onmessage set inside the loop runs on the loop, in order.
    ch = wm.MessageChannel()
    done = asyncio.get_running_loop().create_future()

    def on_message(event: wm.MessageEvent) -> None:
        say(f"[asyncio] onmessage on the loop: {event.data!r}")
        if event.data == "last":
            done.set_result(None)

    ch.port2.onmessage = on_message
    threading.Thread(target=lambda: [ch.port1.post_message(x) for x in ("from", "a", "thread", "last")]).start()
    await done

    # Windows: origin-checked messaging with a source that can reply.
    app, widget = wm.Window("https://app.example"), wm.Window("https://widget.example")
    widget.post_message({"cmd": "render"}, "https://widget.example", source=app)
    widget.post_message("dropped: wrong target origin", "https://evil.example", source=app)
    event = await widget.recv_async(timeout=5)
    say(f"[window ] widget got {event.data!r} from {event.origin}")
    event.source.post_message("rendered", event.origin, source=widget)
    say(f"[window ] app got {(await app.recv_async(timeout=5)).data!r}")
    say(f"[window ] anything else for the widget? {widget.try_recv()}")
    say("demo done")


if __name__ == "__main__":
    asyncio.run(main())
