"""Channel messaging requirements (R-CH-*) through the Python API."""

from __future__ import annotations

import gc
import time

import pytest

from webmessaging import DataCloneError, MessageChannel, MessagePort, PortClosedError

from helpers import Collector, settle

T = 5.0


def test_r_ch_1_new_channel_has_two_entangled_ports():
    ch = MessageChannel()
    assert isinstance(ch.port1, MessagePort) and isinstance(ch.port2, MessagePort)
    assert ch.port1 is not ch.port2
    assert ch.port1.entangled and ch.port2.entangled
    ch.port1.post_message("ping")
    assert ch.port2.recv(T).data == "ping"


def test_r_ch_2_port_attributes_return_the_same_objects():
    ch = MessageChannel()
    assert ch.port1 is ch.port1
    assert ch.port2 is ch.port2


def test_r_ch_3_channels_are_bidirectional(channel):
    channel.port2.post_message("to 1")
    channel.port1.post_message("to 2")
    assert channel.port1.recv(T).data == "to 1"
    assert channel.port2.recv(T).data == "to 2"


def test_r_ch_4_new_port_buffers_until_started(channel):
    for i in range(3):
        channel.port1.post_message(i)
    settle()
    assert not channel.port2.started
    assert channel.port2.metrics()["depth"] == 3
    got = Collector(3)
    channel.port2.onmessage = got
    assert got.wait(T)
    assert got.data == [0, 1, 2]


def test_r_ch_5_setting_onmessage_starts_the_port(channel):
    got = Collector(1)
    channel.port2.onmessage = got
    assert channel.port2.started
    channel.port1.post_message("x")
    assert got.wait(T) and got.data == ["x"]


def test_r_ch_6_onmessageerror_alone_does_not_start(channel):
    channel.port2.onmessageerror = lambda e: None
    channel.port1.post_message("x")
    settle()
    assert not channel.port2.started
    assert channel.port2.metrics()["depth"] == 1


def test_r_ch_7_a_started_queue_stays_enabled(channel):
    channel.port2.onmessage = lambda e: None
    channel.port2.onmessage = None
    assert channel.port2.started
    channel.port1.post_message("later")
    got = Collector(1)
    channel.port2.onmessage = got
    assert got.wait(T) and got.data == ["later"]


def test_r_ch_8_start_is_idempotent_and_never_raises(channel):
    channel.port2.start()
    channel.port2.start()
    channel.port2.close()
    channel.port2.start()


def test_r_ch_9_delivery_is_fifo(channel):
    got = Collector(1000)
    channel.port2.onmessage = got
    for i in range(1000):
        channel.port1.post_message(i)
    assert got.wait(T)
    assert got.data == list(range(1000))


def test_r_ch_11_event_fields(channel):
    other = MessageChannel()
    channel.port1.post_message({"k": [1, 2]}, [other.port2])
    ev = channel.port2.recv(T)
    assert ev.data == {"k": [1, 2]}
    assert isinstance(ev.ports, tuple) and len(ev.ports) == 1
    assert isinstance(ev.ports[0], MessagePort)
    assert ev.origin == "" and ev.source is None and ev.last_event_id == ""
    assert ev.type == "message"


def test_r_ch_12_transfer_positional_and_keyword_are_equivalent(channel):
    a, b = MessageChannel(), MessageChannel()
    channel.port1.post_message("p", [a.port2])
    channel.port1.post_message("k", transfer=[b.port2])
    e1, e2 = channel.port2.recv(T), channel.port2.recv(T)
    assert (e1.data, len(e1.ports)) == ("p", 1)
    assert (e2.data, len(e2.ports)) == ("k", 1)


def test_r_ch_13_transferring_the_source_port_raises_before_serializing(channel):
    other = MessageChannel()
    with pytest.raises(DataCloneError, match="source port"):
        # The value is not cloneable either: the source-port check must win.
        channel.port1.post_message(object(), [other.port2, channel.port1])
    assert not other.port2.detached and not channel.port1.detached


def test_r_ch_14_transferring_the_peer_dooms_the_channel(channel):
    channel.port1.post_message("x", [channel.port2])
    assert channel.port2.detached
    with pytest.raises(DataCloneError):
        MessageChannel().port1.post_message(None, [channel.port2])
    assert channel.port1.metrics()["dropped"] == 1


def test_r_ch_15_port_in_value_but_not_in_transfer_list(channel):
    other = MessageChannel()
    with pytest.raises(DataCloneError):
        channel.port1.post_message({"port": other.port1})
    assert not other.port1.detached


def test_r_ch_16_uncloneable_data_raises(channel):
    with pytest.raises(DataCloneError, match="function"):
        channel.port1.post_message(lambda: None)


def test_r_ch_17_posting_on_a_closed_port_still_serializes_and_transfers(channel):
    channel.port1.close()
    with pytest.raises(DataCloneError):
        channel.port1.post_message(lambda: None)
    other = MessageChannel()
    channel.port1.post_message("lost", [other.port2])
    assert other.port2.detached
    with pytest.raises(PortClosedError):
        channel.port2.recv(T)


def test_r_ch_18_message_to_a_closed_port_never_arrives(channel):
    channel.port2.close()
    channel.port1.post_message("x")
    with pytest.raises(PortClosedError) as info:
        channel.port2.recv(T)
    assert info.value.reason == "closed" and info.value.by_peer is False
    assert channel.port2.metrics()["enqueued"] == 0


def test_r_ch_19_message_from_a_closed_port_never_arrives(channel):
    channel.port1.close()
    channel.port1.post_message("x")
    with pytest.raises(PortClosedError) as info:
        channel.port2.recv(T)
    assert info.value.by_peer is True


def test_r_ch_20_in_flight_messages_arrive_after_sender_close(channel):
    channel.port2.post_message("T")
    channel.port2.close()
    assert channel.port1.recv(T).data == "T"
    with pytest.raises(PortClosedError) as info:
        channel.port1.recv(T)
    assert (info.value.reason, info.value.by_peer) == ("closed", True)


def test_r_ch_21_closing_in_onmessage_keeps_queued_messages(channel):
    for i in range(3):
        channel.port1.post_message(i)
    got = Collector(3, action=lambda e: channel.port2.close())
    channel.port2.onmessage = got
    assert got.wait(T)
    assert got.data == [0, 1, 2]


def test_r_ch_22_close_detaches_only_that_port(channel):
    channel.port1.close()
    assert channel.port1.detached and not channel.port2.detached
    carrier = MessageChannel()
    with pytest.raises(DataCloneError):
        carrier.port1.post_message(None, [channel.port1])
    carrier.port1.post_message(None, [channel.port2])
    assert len(carrier.port2.recv(T).ports) == 1


def test_r_ch_23_close_is_idempotent(channel):
    channel.port1.close()
    channel.port1.close()
    with pytest.raises(PortClosedError):
        channel.port2.recv(T)
    with pytest.raises(PortClosedError):
        channel.port2.recv(T)


def test_r_ch_24_transfer_detaches_the_original(channel):
    carrier = MessageChannel()
    carrier.port1.post_message(None, [channel.port2])
    assert channel.port2.detached
    with pytest.raises(DataCloneError):
        carrier.port1.post_message(None, [channel.port2])


def test_r_ch_25_transferred_port_stays_entangled(channel):
    carrier = MessageChannel()
    carrier.port1.post_message(None, [channel.port2])
    moved = carrier.port2.recv(T).ports[0]
    channel.port1.post_message("to moved")
    assert moved.recv(T).data == "to moved"
    moved.post_message("from moved")
    assert channel.port1.recv(T).data == "from moved"


def test_r_ch_26_backlog_moves_with_transferred_port(channel):
    for i in range(3):
        channel.port1.post_message(i)
    carrier = MessageChannel()
    carrier.port1.post_message(None, [channel.port2])
    channel.port1.post_message(3)  # sent while the port is in flight
    moved = carrier.port2.recv(T).ports[0]
    got = Collector(4)
    moved.onmessage = got
    assert got.wait(T)
    assert got.data == [0, 1, 2, 3]


def test_r_ch_27_messages_sent_before_transfer_still_arrive(channel):
    channel.port2.post_message("before")
    carrier = MessageChannel()
    carrier.port1.post_message(None, [channel.port2])
    assert channel.port1.recv(T).data == "before"


def test_r_ch_28_received_port_starts_disabled(channel):
    carrier = MessageChannel()
    carrier.port1.post_message(None, [channel.port2])
    moved = carrier.port2.recv(T).ports[0]
    assert not moved.started
    channel.port1.post_message("x")
    settle()
    assert moved.metrics()["depth"] == 1


def test_r_ch_29_message_to_port_transferred_then_closed_never_arrives(channel):
    carrier = MessageChannel()
    carrier.port1.post_message(None, [channel.port2])
    moved = carrier.port2.recv(T).ports[0]
    moved.close()
    channel.port1.post_message("x")
    with pytest.raises(PortClosedError):
        moved.recv(T)


def test_r_ch_30_ports_listed_only_in_transfer_are_in_event_ports(channel):
    a, b = MessageChannel(), MessageChannel()
    channel.port1.post_message(None, [a.port1, b.port1])
    ev = channel.port2.recv(T)
    assert ev.data is None and len(ev.ports) == 2
    ev.ports[0].post_message("a")
    ev.ports[1].post_message("b")
    assert a.port2.recv(T).data == "a" and b.port2.recv(T).data == "b"


def test_r_ch_33_port_with_onmessage_outlives_its_handles(collect):
    ch = MessageChannel()
    sender = ch.port1
    got = Collector(1)
    ch.port2.onmessage = got
    del ch
    collect()
    sender.post_message("still delivered")
    assert got.wait(T) and got.data == ["still delivered"]
    sender.close()


def test_r_ch_34_queued_messages_dispatch_after_handles_are_dropped(collect):
    ch = MessageChannel()
    sender = ch.port1
    sender.post_message("queued")
    got = Collector(1)
    receiver = ch.port2
    receiver.onmessage = got
    del ch, receiver
    collect()
    assert got.wait(T) and got.data == ["queued"]
    sender.close()


def test_r_ch_35_dropping_an_unlistened_port_disentangles_it(collect):
    ch = MessageChannel()
    survivor = ch.port1
    del ch
    collect()
    survivor.post_message("nowhere")
    with pytest.raises(PortClosedError) as info:
        survivor.recv(T)
    assert (info.value.reason, info.value.by_peer) == ("dropped", True)
    assert not survivor.entangled


def test_r_ch_40_no_onclose_attribute(channel):
    assert not hasattr(channel.port1, "onclose")


def test_no_mailbox_leaks_after_close(collect):
    from webmessaging import _native

    collect()
    before = _native._live_mailboxes()
    for _ in range(50):
        ch = MessageChannel()
        got = Collector(1)
        ch.port2.onmessage = got
        ch.port1.post_message("x")
        assert got.wait(T)
        ch.port1.close()
        ch.port2.close()
        del ch
    # The dispatcher drops its keep-alive when it reaches each close record; give it time.
    deadline = time.monotonic() + 10
    while True:
        collect()
        if _native._live_mailboxes() <= before or time.monotonic() > deadline:
            break
        settle(0.05)
    assert _native._live_mailboxes() <= before
