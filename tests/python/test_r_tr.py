"""Transfer of buffers (R-TR-*): a ``bytearray`` in ``transfer`` is Python's transferable
ArrayBuffer — its bytes move to the receiver and it is left empty (detached)."""

from __future__ import annotations

import pytest

import webmessaging as wm
from webmessaging import DataCloneError, MessageChannel, Window

T = 5.0


def test_r_tr_9_transferred_buffer_referenced_in_the_value(channel):
    buf = bytearray(b"payload")
    channel.port1.post_message({"a": buf, "b": buf}, [buf])
    assert len(buf) == 0  # detached
    data = channel.port2.recv(T).data
    assert data["a"] == b"payload" and data["a"] is data["b"]


def test_r_tr_10_transferred_buffer_not_in_the_value_is_still_detached(channel):
    buf = bytearray(b"x" * 100)
    channel.port1.post_message(None, [buf])
    assert len(buf) == 0
    assert channel.port2.recv(T).data is None


def test_r_tr_4_duplicate_buffer_is_rejected_before_anything_is_detached(channel):
    buf = bytearray(b"keep")
    with pytest.raises(DataCloneError):
        channel.port1.post_message(buf, [buf, buf])
    assert buf == bytearray(b"keep")


def test_r_tr_11_ports_and_buffers_keep_transfer_order(channel):
    a, b = MessageChannel(), MessageChannel()
    buf = bytearray(b"z")
    channel.port1.post_message([buf], [a.port2, buf, b.port2])
    ev = channel.port2.recv(T)
    assert ev.data == [b"z"] and len(ev.ports) == 2
    a.port1.post_message("a")
    assert ev.ports[0].recv(T).data == "a"


def test_serialization_error_detaches_nothing(channel):
    buf = bytearray(b"keep")
    with pytest.raises(DataCloneError):
        channel.port1.post_message([buf, object()], [buf])
    assert buf == bytearray(b"keep")


def test_buffer_with_live_views_cannot_be_detached(channel):
    buf = bytearray(b"abc")
    view = memoryview(buf)
    with pytest.raises(DataCloneError, match="detached"):
        channel.port1.post_message(buf, [buf])
    view.release()
    assert channel.port2.try_recv() is None  # nothing was sent


def test_r_ch_17_closed_port_still_detaches_buffers(channel):
    channel.port1.close()
    buf = bytearray(b"gone")
    channel.port1.post_message(buf, [buf])
    assert len(buf) == 0


def test_r_win_11_window_transfer_detaches_even_when_dropped():
    a, b = Window("https://a.test"), Window("https://b.test")
    buf = bytearray(b"w")
    b.post_message(buf, "https://c.test", [buf], source=a)
    assert len(buf) == 0


def test_r_tr_15_structured_clone_with_transfer():
    buf = bytearray(b"clone me")
    clone = wm.structured_clone({"b": buf}, transfer=[buf])
    assert clone == {"b": b"clone me"} and len(buf) == 0
