"""asyncio: recv_async (with cancellation and timeouts), async iteration, onmessage on the loop."""

from __future__ import annotations

import asyncio
import threading

import pytest

from webmessaging import BroadcastChannel, MessageChannel, PortClosedError, Window


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, 10))


def test_recv_async_gets_a_message_posted_later():
    async def main():
        ch = MessageChannel()
        asyncio.get_running_loop().call_later(0.05, ch.port1.post_message, "later")
        ev = await ch.port2.recv_async()
        return ev.data

    assert run(main()) == "later"


def test_recv_async_gets_a_message_posted_from_another_thread():
    async def main():
        ch = MessageChannel()
        threading.Timer(0.05, ch.port1.post_message, args=("from thread",)).start()
        return (await ch.port2.recv_async()).data

    assert run(main()) == "from thread"


def test_cancelled_recv_async_loses_no_message():
    async def main():
        ch = MessageChannel()
        task = asyncio.ensure_future(ch.port2.recv_async())
        await asyncio.sleep(0.02)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        ch.port1.post_message("kept")
        return (await ch.port2.recv_async()).data

    assert run(main()) == "kept"


def test_cancel_races_with_delivery_and_nothing_is_lost():
    async def main():
        ch = MessageChannel()
        got = []
        for i in range(200):
            task = asyncio.ensure_future(ch.port2.recv_async())
            await asyncio.sleep(0)
            ch.port1.post_message(i)
            if i % 2:
                task.cancel()
            try:
                got.append((await task).data)
            except asyncio.CancelledError:
                pass
        while (ev := ch.port2.try_recv()) is not None:
            got.append(ev.data)
        return got

    assert sorted(run(main())) == list(range(200))


def test_recv_async_timeout_raises_builtin_timeout_error():
    async def main():
        ch = MessageChannel()
        with pytest.raises(TimeoutError):
            await ch.port2.recv_async(timeout=0.05)
        ch.port1.post_message("after timeout")
        return (await ch.port2.recv_async(timeout=5)).data

    assert run(main()) == "after timeout"


def test_async_for_ends_at_the_close_record():
    async def main():
        ch = MessageChannel()
        for i in range(3):
            ch.port1.post_message(i)
        ch.port1.close()
        return [ev.data async for ev in ch.port2]

    assert run(main()) == [0, 1, 2]


def test_recv_async_raises_port_closed_error():
    async def main():
        ch = MessageChannel()
        ch.port1.close()
        with pytest.raises(PortClosedError) as info:
            await ch.port2.recv_async()
        return info.value.reason

    assert run(main()) == "closed"


def test_recv_async_starts_the_port():
    async def main():
        ch = MessageChannel()
        assert not ch.port2.started
        task = asyncio.ensure_future(ch.port2.recv_async())
        await asyncio.sleep(0.01)
        assert ch.port2.started
        ch.port1.post_message(1)
        return (await task).data

    assert run(main()) == 1


def test_onmessage_set_inside_a_loop_runs_on_that_loop():
    async def main():
        loop = asyncio.get_running_loop()
        ch = MessageChannel()
        seen = []
        done = loop.create_future()

        def handler(ev):
            seen.append((ev.data, asyncio.get_running_loop() is loop, threading.current_thread()))
            if len(seen) == 3:
                done.set_result(None)

        ch.port2.onmessage = handler
        threading.Thread(target=lambda: [ch.port1.post_message(i) for i in range(3)]).start()
        await done
        return seen

    seen = run(main())
    assert [d for d, _, _ in seen] == [0, 1, 2]
    assert all(on_loop for _, on_loop, _ in seen)
    assert {t for _, _, t in seen} == {threading.main_thread()}


def test_many_ports_one_loop_batches():
    async def main():
        channels = [MessageChannel() for _ in range(20)]

        async def consume(port):
            return [(await port.recv_async()).data for _ in range(50)]

        tasks = [asyncio.ensure_future(consume(c.port2)) for c in channels]
        for i in range(50):
            for c in channels:
                c.port1.post_message(i)
        return await asyncio.gather(*tasks)

    assert run(main()) == [list(range(50))] * 20


def test_window_and_broadcast_recv_async():
    async def main():
        a, b = Window("https://a.test"), Window("https://b.test")
        b.post_message("w", "*", source=a)
        w = await b.recv_async()
        x, y = BroadcastChannel("async-bc"), BroadcastChannel("async-bc")
        asyncio.get_running_loop().call_later(0.02, x.post_message, "bc")
        bc = await y.recv_async()
        x.close()
        y.close()
        return w.data, w.origin, bc.data

    assert run(main()) == ("w", "https://a.test", "bc")


def test_handler_moved_from_the_dispatcher_thread_to_a_loop_keeps_order():
    ch = MessageChannel()
    got = []
    first = threading.Event()

    def on_thread(ev):
        got.append(("thread", ev.data))
        first.set()

    ch.port2.onmessage = on_thread  # set outside a loop: dispatcher thread
    ch.port1.post_message(0)
    assert first.wait(5)

    async def main():
        done = asyncio.get_running_loop().create_future()

        def on_loop(ev):
            got.append(("loop", ev.data))
            if ev.data == 99:
                done.set_result(None)

        ch.port2.onmessage = on_loop  # set inside the loop: runs here from now on
        threading.Thread(target=lambda: [ch.port1.post_message(i) for i in range(1, 100)]).start()
        await done

    run(main())
    assert [d for _, d in got] == list(range(100))
    assert all(where == "loop" for where, d in got if d > 0)


def test_recv_async_is_a_coroutine_that_create_task_accepts():
    async def main():
        ch = MessageChannel()
        task = asyncio.create_task(ch.port2.recv_async(timeout=5))
        ch.port1.post_message("via a task")
        return (await task).data

    assert run(main()) == "via a task"


def test_recv_async_created_outside_the_loop_runs_when_awaited():
    ch = MessageChannel()
    pending = ch.port2.recv_async(timeout=5)  # nothing happens until it is awaited
    ch.port1.post_message("later")
    assert asyncio.run(pending).data == "later"


def test_recv_async_rejects_a_negative_timeout(channel):
    with pytest.raises(ValueError):
        channel.port2.recv_async(timeout=-1)


def test_timed_out_receives_take_nothing_and_the_next_receive_gets_the_message(channel):
    async def main():
        for _ in range(200):
            with pytest.raises(TimeoutError):
                await channel.port2.recv_async(timeout=0)
        waiting = asyncio.ensure_future(channel.port2.recv_async(timeout=5))
        await asyncio.sleep(0)
        channel.port1.post_message("kept")
        return (await waiting).data

    assert run(main()) == "kept"


@pytest.mark.parametrize("how", ["close", "drop"])
def test_an_abandoned_receive_takes_no_message(channel, how):
    async def main():
        coro = channel.port2.recv_async()
        coro.send(None)  # started: now waiting on the loop
        if how == "close":
            coro.close()
        del coro
        channel.port1.post_message("kept")
        await asyncio.sleep(0.05)  # the loop serves the port: no waiter may take the message
        return channel.port2.try_recv()

    event = run(main())
    assert event is not None and event.data == "kept"
