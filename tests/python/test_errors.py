"""The error hierarchy against Python's conventions, and the end of a port in one contract."""

from __future__ import annotations

import asyncio

import pytest

import webmessaging as wm
from webmessaging import DataCloneError, InvalidStateError, MessageChannel, PortClosedError

T = 5.0


def test_data_clone_error_is_a_type_error(channel):
    assert issubclass(DataCloneError, TypeError) and issubclass(DataCloneError, wm.DOMException)
    with pytest.raises(TypeError):  # as json.dumps / pickle.dumps would raise
        wm.serialize(object())
    with pytest.raises(TypeError):
        channel.port1.post_message(lambda: None)
    err = DataCloneError("m")
    assert str(err) == "m" and err.name == "DataCloneError"


def test_port_closed_error_is_an_eof_error(channel):
    assert issubclass(PortClosedError, EOFError) and not issubclass(PortClosedError, OSError)
    channel.port1.close()
    with pytest.raises(EOFError) as info:
        channel.port2.recv(T)
    assert isinstance(info.value, PortClosedError) and info.value.by_peer


def test_try_recv_after_the_close_notice(channel):
    channel.port1.post_message("first")
    channel.port1.post_message("second")
    assert channel.port2.try_recv().data == "first"
    channel.port1.close()
    assert channel.port2.try_recv().data == "second"  # queued messages come first
    for _ in range(3):  # then the close record, on every call
        with pytest.raises(PortClosedError) as info:
            channel.port2.try_recv()
        assert (info.value.reason, info.value.by_peer) == ("closed", True)
    with pytest.raises(PortClosedError):
        channel.port2.recv(T)
    assert list(channel.port2) == []


def test_try_recv_on_an_empty_open_port_is_none_not_an_error(channel):
    assert channel.port2.try_recv() is None
    assert channel.port2.try_recv() is None


def test_recv_async_after_the_close_notice(channel):
    channel.port1.post_message(1)
    channel.port1.close()

    async def main():
        assert (await channel.port2.recv_async(T)).data == 1
        with pytest.raises(PortClosedError):
            await channel.port2.recv_async(T)
        return [ev async for ev in channel.port2]

    assert asyncio.run(main()) == []


def test_a_closed_broadcast_channel_ends_the_same_way():
    bc = wm.BroadcastChannel("end-contract")
    bc.close()
    for _ in range(2):
        with pytest.raises(PortClosedError) as info:
            bc.try_recv()
        assert info.value.by_peer is False


def test_a_transferred_port_raises_invalid_state_not_closed(channel):
    carrier = MessageChannel()
    carrier.port1.post_message(None, [channel.port2])
    with pytest.raises(InvalidStateError):
        channel.port2.try_recv()


def test_key_error_message_is_kept_without_quotes():
    back = wm.structured_clone(KeyError("k"))
    assert isinstance(back, wm.JSError) and back.message == "k" and str(back) == "k"
    assert wm.deserialize(wm.serialize(KeyError("a key"))).message == "a key"
    # Other exceptions keep str(exc) as before.
    assert wm.structured_clone(ValueError("v")).message == "v"
