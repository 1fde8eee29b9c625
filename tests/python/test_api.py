"""The public API surface: names, errors, iteration, context managers, typing files."""

from __future__ import annotations

import importlib.resources
import pickle

import pytest

import webmessaging as wm
from webmessaging import (
    DataCloneError,
    DecodeError,
    DOMException,
    DOMSyntaxError,
    InvalidStateError,
    MessageChannel,
    PortClosedError,
)

T = 5.0


def test_public_names():
    for name in ["MessageChannel", "MessagePort", "MessageEvent", "Window", "BroadcastChannel", "serialize",
                 "deserialize", "structured_clone", "DOMException", "DataCloneError", "InvalidStateError",
                 "DOMSyntaxError", "PortClosedError", "UNDEFINED"]:
        assert name in wm.__all__ and hasattr(wm, name)
    assert wm.MessagePort.__module__ == "webmessaging"
    assert wm._native.__name__ == "webmessaging._native"


def test_typing_files_are_installed():
    # Their content is checked against the compiled module by mypy.stubtest (make test-python).
    files = importlib.resources.files("webmessaging")
    assert (files / "py.typed").is_file()
    assert (files / "_native.pyi").is_file()


def test_error_hierarchy_and_names():
    assert issubclass(DataCloneError, DOMException) and DataCloneError().name == "DataCloneError"
    assert issubclass(InvalidStateError, DOMException) and InvalidStateError().name == "InvalidStateError"
    assert issubclass(DOMSyntaxError, DOMException) and issubclass(DOMSyntaxError, SyntaxError)
    assert DOMSyntaxError("m").name == "SyntaxError" and str(DOMSyntaxError("m")) == "m"
    assert issubclass(DecodeError, ValueError)
    assert DOMException("m", "NotFoundError").name == "NotFoundError"


def test_errors_pickle():
    for err in [DataCloneError("x"), DOMException("y", "AbortError"), PortClosedError("z", "dropped", False)]:
        back = pickle.loads(pickle.dumps(err))
        assert type(back) is type(err) and str(back) == str(err)
    back = pickle.loads(pickle.dumps(PortClosedError("z", "dropped", False)))
    assert (back.reason, back.by_peer) == ("dropped", False)


def test_try_recv_returns_none_when_empty(channel):
    assert channel.port2.try_recv() is None
    channel.port1.post_message(0)
    assert channel.port2.try_recv().data == 0


def test_recv_timeout_raises_builtin_timeout_error(channel):
    with pytest.raises(TimeoutError):
        channel.port2.recv(0.05)
    with pytest.raises(TimeoutError):
        channel.port2.recv(timeout=0)
    with pytest.raises(ValueError):
        channel.port2.recv(-1)


def test_a_bad_timeout_is_refused_even_when_a_message_waits(channel):
    # As queue.Queue.get and Listener.accept: the argument is checked before anything is taken,
    # and the waiting message stays for the next call.
    channel.port1.post_message("waiting")
    for bad in (-1, float("nan")):
        with pytest.raises(ValueError):
            channel.port2.recv(timeout=bad)
    assert channel.port2.recv(timeout=0).data == "waiting"


def test_iteration_ends_at_the_close_record(channel):
    for i in range(3):
        channel.port1.post_message(i)
    channel.port1.close()
    assert [ev.data for ev in channel.port2] == [0, 1, 2]
    with pytest.raises(PortClosedError):
        channel.port2.recv(T)


def test_with_port_closes_it():
    ch = MessageChannel()
    with ch.port1 as p:
        assert p is ch.port1
        p.post_message("inside")
    assert ch.port1.detached
    assert ch.port2.recv(T).data == "inside"
    with pytest.raises(PortClosedError) as info:
        ch.port2.recv(T)
    assert info.value.reason == "closed" and info.value.by_peer


def test_with_port_closes_it_on_exceptions_too():
    ch = MessageChannel()
    with pytest.raises(RuntimeError):
        with ch.port1:
            raise RuntimeError("boom")
    assert ch.port1.detached


def test_transfer_of_other_objects_is_a_data_clone_error(channel):
    with pytest.raises(DataCloneError, match="bytes"):
        channel.port1.post_message(None, [b"immutable bytes cannot be detached"])


def test_transfer_list_duplicates_are_rejected(channel):
    other = MessageChannel()
    with pytest.raises(DataCloneError):
        channel.port1.post_message(None, [other.port1, other.port1])
    assert not other.port1.detached


def test_transferred_port_cannot_be_used_at_the_old_handle(channel):
    carrier = MessageChannel()
    carrier.port1.post_message(None, [channel.port2])
    with pytest.raises(InvalidStateError):
        channel.port2.recv(T)


def test_onmessage_getter_and_removal(channel):
    handler = lambda e: None  # noqa: E731
    assert channel.port2.onmessage is None
    channel.port2.onmessage = handler
    assert channel.port2.onmessage is handler
    channel.port2.onmessage = None
    assert channel.port2.onmessage is None


def test_onmessageerror_receives_undecodable_messages(channel):
    from helpers import Collector

    errors, messages = Collector(1), Collector(1)
    channel.port2.onmessageerror = errors
    channel.port2.onmessage = messages
    from helpers import unreadable_in_python

    value, hook = unreadable_in_python()
    channel.port1.post_message(value, default=hook)
    channel.port1.post_message("next")
    assert errors.wait(T) and messages.wait(T)
    assert errors.events[0].type == "messageerror" and errors.events[0].data is None
    assert messages.data == ["next"]


def test_undecodable_message_raises_decode_error_on_pull(channel):
    from helpers import unreadable_in_python

    value, hook = unreadable_in_python()
    channel.port1.post_message(value, default=hook)
    channel.port1.post_message("next")
    with pytest.raises(DecodeError):
        channel.port2.recv(T)
    assert channel.port2.recv(T).data == "next"


def test_deserialize_rejects_garbage():
    for data in [b"", b"\x00", b"\xff\x0f", b"\xff\x0f\x6f", b"\xff\x20\x30", b"\xff\x0f\x30\x30"]:
        with pytest.raises(DecodeError):
            wm.deserialize(data)


def test_message_event_is_immutable(channel):
    channel.port1.post_message(1)
    ev = channel.port2.recv(T)
    with pytest.raises(AttributeError):
        ev.data = 2


def test_metrics(channel):
    for i in range(3):
        channel.port1.post_message(i)
    m = channel.port2.metrics()
    assert (m["depth"], m["enqueued"], m["high_water_mark"]) == (3, 3, 3)
    assert channel.port1.metrics()["posted"] == 3
    channel.port2.recv(T)
    assert channel.port2.metrics()["delivered"] == 1


def test_repr(channel):
    assert "entangled" in repr(channel.port1)
    channel.port1.close()
    assert "detached" in repr(channel.port1)
    assert "Window" in repr(wm.Window("https://a.test"))


def test_undefined_is_a_singleton():
    assert wm.Undefined() is wm.UNDEFINED and not wm.UNDEFINED
    assert pickle.loads(pickle.dumps(wm.UNDEFINED)) is wm.UNDEFINED


def test_deserialize_accepts_any_bytes_like():
    data = wm.serialize({"a": [1]})
    for form in (data, bytearray(data), memoryview(data)):
        assert wm.deserialize(form) == {"a": [1]}


def test_serialize_transfer_must_be_empty():
    assert wm.serialize([1], transfer=()) == wm.serialize([1])
    ch = MessageChannel()
    with pytest.raises(DataCloneError, match="cannot transfer ports"):
        wm.serialize(ch.port1, transfer=[ch.port1])
    assert not ch.port1.detached
