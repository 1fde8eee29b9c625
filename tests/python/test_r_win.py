"""Window messaging (R-WIN-*), MessageEvent (R-EV-*) and BroadcastChannel (R-BC-*) requirements."""

from __future__ import annotations

import pytest

from webmessaging import (
    BroadcastChannel,
    DataCloneError,
    DOMSyntaxError,
    InvalidStateError,
    MessageChannel,
    MessageEvent,
    MessagePort,
    PortClosedError,
    Window,
)

from helpers import Collector, settle, unreadable_in_python

T = 5.0
A, B = "https://a.test", "https://b.test"


@pytest.fixture
def wins():
    return Window(A), Window(B)


def none_waiting(w):
    settle()
    return w.try_recv() is None


def test_r_win_1_positional_and_keyword_forms_are_identical(wins):
    a, b = wins
    b.post_message("x", B, [], source=a)
    b.post_message("x", target_origin=B, transfer=[], source=a)
    e1, e2 = b.recv(T), b.recv(T)
    assert (e1.data, e1.origin, e1.source) == (e2.data, e2.origin, e2.source)


def test_r_win_2_default_target_origin_is_same_origin_only(wins):
    a, b = wins
    b.post_message("cross", source=a)
    assert none_waiting(b)
    same = Window(A)
    same.post_message("same", source=a)
    assert same.recv(T).data == "same"


def test_r_win_3_slash_is_the_senders_origin_not_the_targets(wins):
    a, b = wins
    # "/" resolves to a's origin: b (another origin) gets nothing even though b posts to itself
    # from a's perspective.
    b.post_message("x", "/", source=a)
    assert none_waiting(b)
    a.post_message("y", "/", source=a)
    assert a.recv(T).data == "y"


def test_r_win_4_star_disables_the_check(wins):
    a, b = wins
    b.post_message("any", "*", source=a)
    ev = b.recv(T)
    assert ev.data == "any" and ev.origin == A


@pytest.mark.parametrize("bad", ["example.com", "//example.com", "foo", " *", ""])
def test_r_win_5_unparseable_target_origin_raises_syntax_error_before_serializing(wins, bad):
    a, b = wins
    with pytest.raises(DOMSyntaxError) as info:
        b.post_message(lambda: None, bad, source=a)  # not cloneable: the syntax error must win
    assert info.value.name == "SyntaxError" and isinstance(info.value, SyntaxError)


def test_r_win_6_path_query_fragment_are_ignored(wins):
    a, b = wins
    b.post_message("ok", "https://b.test:443/p?q#f", source=a)
    assert b.recv(T).data == "ok"


@pytest.mark.parametrize("opaque", ["data:text/plain,x", "about:blank", "javascript:void(0)"])
def test_r_win_7_opaque_target_origin_never_matches(wins, opaque):
    a, b = wins
    b.post_message("x", opaque, source=a)
    assert none_waiting(b)


def test_r_win_8_origin_is_checked_at_delivery(wins):
    a, b = wins
    b.post_message("x", B, source=a)
    b.navigate("https://elsewhere.test")
    assert none_waiting(b)
    assert b.origin == "https://elsewhere.test"


def test_r_win_9_mismatch_is_silent(wins):
    a, b = wins
    b.post_message("x", "https://c.test", source=a)  # no exception
    got = Collector(1)
    b.onmessage = got
    settle(0.1)
    assert got.events == []


def test_r_win_10_clone_errors_raise_at_post(wins):
    a, b = wins
    with pytest.raises(DataCloneError):
        b.post_message(lambda: None, "*", source=a)


def test_r_win_11_transfers_happen_even_if_dropped(wins):
    a, b = wins
    ch = MessageChannel()
    b.post_message(None, "https://c.test", [ch.port2], source=a)
    assert ch.port2.detached
    assert none_waiting(b)
    # The port went away with the dropped message: the channel is closed.
    with pytest.raises(PortClosedError):
        ch.port1.recv(T)


def test_r_win_12_origin_is_the_senders_serialized_origin():
    sender, target = Window("https://sender.test:8443/path"), Window(B)
    target.post_message("x", "*", source=sender)
    assert target.recv(T).origin == "https://sender.test:8443"
    opaque = Window(None)
    target.post_message("y", "*", source=opaque)
    assert target.recv(T).origin == "null"


def test_r_win_13_source_is_the_sending_window_and_can_reply(wins):
    a, b = wins
    b.post_message("hi", "*", source=a)
    ev = b.recv(T)
    assert ev.source is a
    ev.source.post_message("reply", ev.origin, source=b)
    assert a.recv(T).data == "reply"


def test_r_win_14_ports_in_transfer_order(wins):
    a, b = wins
    c1, c2 = MessageChannel(), MessageChannel()
    b.post_message("x", "*", [c1.port2, c2.port2], source=a)
    ev = b.recv(T)
    assert len(ev.ports) == 2 and all(isinstance(p, MessagePort) for p in ev.ports)
    c1.port1.post_message(1)
    c2.port1.post_message(2)
    assert ev.ports[0].recv(T).data == 1 and ev.ports[1].recv(T).data == 2


def test_r_win_15_last_event_id_empty_and_data_is_a_clone(wins):
    a, b = wins
    value = {"list": [1, 2]}
    b.post_message(value, "*", source=a)
    ev = b.recv(T)
    assert ev.last_event_id == "" and ev.data == value and ev.data is not value


def test_r_win_17_delivery_is_asynchronous(wins):
    a, b = wins
    flag = []
    got = Collector(1, action=lambda e: flag.append("handler"))
    b.onmessage = got
    b.post_message("x", "*", source=a)
    flag.append("after post")
    assert got.wait(T)
    assert flag[0] == "after post"


def test_r_win_18_messages_keep_posting_order(wins):
    a, b = wins
    for i in range(100):
        b.post_message(i, "*", source=a)
    assert [b.recv(T).data for _ in range(100)] == list(range(100))


def test_r_win_19_posting_to_ones_own_window(wins):
    a, _ = wins
    a.post_message("self", "*", source=a)
    ev = a.recv(T)
    assert ev.data == "self" and ev.source is a


def test_r_win_20_transfer_must_hold_transferables(wins):
    a, b = wins
    with pytest.raises(DataCloneError):
        b.post_message("x", "*", [object()], source=a)
    b.post_message("none", "*", None, source=a)  # None means no transfer list
    assert b.recv(T).data == "none"


def test_window_recv_times_out_with_builtin_timeout_error(wins):
    with pytest.raises(TimeoutError):
        wins[0].recv(0.05)


# --- MessageEvent -----------------------------------------------------------------------------


def test_r_ev_2_port_events_keep_defaults(channel):
    channel.port1.post_message(1)
    ev = channel.port2.recv(T)
    assert (ev.origin, ev.source, ev.last_event_id, ev.ports) == ("", None, "", ())


def test_r_ev_3_ports_is_an_immutable_tuple_returned_each_time(channel):
    channel.port1.post_message(1, [MessageChannel().port1])
    ev = channel.port2.recv(T)
    assert isinstance(ev.ports, tuple) and ev.ports == ev.ports


def test_r_ev_4_constructor_and_defaults():
    ev = MessageEvent("x", origin="abc")
    assert (ev.type, ev.origin, ev.data, ev.source, ev.last_event_id, ev.ports) == ("x", "abc", None, None, "", ())
    ev = MessageEvent()
    assert (ev.type, ev.origin) == ("message", "")


def test_r_ev_6_opaque_origin_serializes_as_null(wins):
    _, b = wins
    b.post_message("x", "*", source=Window())
    assert b.recv(T).origin == "null"


# --- BroadcastChannel -------------------------------------------------------------------------


@pytest.fixture
def bc_name(request):
    return f"bc-{request.node.name}"


def test_r_bc_1_name_is_stringified(bc_name):
    assert BroadcastChannel(1).name == "1"
    assert BroadcastChannel("").name == ""


def test_r_bc_2_name_round_trips_unchanged():
    name = "naïve \ud800 😀"
    assert BroadcastChannel(name).name == name


def test_r_bc_3_and_4_every_other_channel_receives_the_sender_does_not(bc_name):
    a, b, c = BroadcastChannel(bc_name), BroadcastChannel(bc_name), BroadcastChannel(bc_name)
    a.post_message({"n": 1})
    assert b.recv(T).data == {"n": 1} and c.recv(T).data == {"n": 1}
    assert a.try_recv() is None


def test_r_bc_5_names_compare_exactly(bc_name):
    a, b = BroadcastChannel(bc_name), BroadcastChannel(bc_name.upper())
    a.post_message(1)
    settle()
    assert b.try_recv() is None


def test_r_bc_6_different_origin_gets_nothing(bc_name):
    a = BroadcastChannel(bc_name, "https://a.test")
    b = BroadcastChannel(bc_name, "https://b.test")
    same = BroadcastChannel(bc_name, Window("https://a.test"))
    a.post_message(1)
    assert same.recv(T).data == 1
    assert b.try_recv() is None


def test_r_bc_7_post_after_close_raises_invalid_state(bc_name):
    a = BroadcastChannel(bc_name)
    a.close()
    with pytest.raises(InvalidStateError) as info:
        a.post_message(lambda: None)  # the state check comes before serializing
    assert info.value.name == "InvalidStateError"


def test_r_bc_10_clone_errors_raise(bc_name):
    a = BroadcastChannel(bc_name)
    with pytest.raises(DataCloneError):
        a.post_message(MessageChannel().port1)


def test_r_bc_11_receivers_are_fixed_at_post_time(bc_name):
    a = BroadcastChannel(bc_name)
    a.post_message("early")
    late = BroadcastChannel(bc_name)
    settle()
    assert late.try_recv() is None


def test_r_bc_12_receiver_closed_before_delivery_gets_nothing(bc_name):
    a, b = BroadcastChannel(bc_name), BroadcastChannel(bc_name)
    a.post_message("x")
    b.close()
    with pytest.raises(PortClosedError):
        b.try_recv()


def test_r_bc_13_receivers_in_creation_order(bc_name):
    sender = BroadcastChannel(bc_name)
    order = []
    receivers = [BroadcastChannel(bc_name) for _ in range(3)]
    done = Collector(3)
    for i, r in enumerate(receivers):
        r.onmessage = lambda e, i=i: (order.append(i), done(e))
    sender.post_message("x")
    assert done.wait(T)
    assert order == [0, 1, 2]


def test_r_bc_14_posting_order(bc_name):
    a, b = BroadcastChannel(bc_name), BroadcastChannel(bc_name)
    for i in range(100):
        a.post_message(i)
    assert [b.recv(T).data for _ in range(100)] == list(range(100))


def test_r_bc_15_event_fields(bc_name):
    a, b = BroadcastChannel(bc_name, A), BroadcastChannel(bc_name, A)
    a.post_message([1])
    ev = b.recv(T)
    assert (ev.data, ev.origin, ev.source, ev.ports, ev.last_event_id) == ([1], A, None, (), "")


def test_r_bc_18_no_start_needed(bc_name):
    a, b = BroadcastChannel(bc_name), BroadcastChannel(bc_name)
    got = Collector(1)
    b.onmessage = got
    a.post_message("x")
    assert got.wait(T) and got.data == ["x"]


def test_r_bc_19_close_is_idempotent_and_stops_delivery(bc_name):
    a, b = BroadcastChannel(bc_name), BroadcastChannel(bc_name)
    b.close()
    b.close()
    a.post_message("x")
    with pytest.raises(PortClosedError):
        b.recv(T)


def test_r_bc_20_listened_channel_outlives_its_handle(bc_name, collect):
    a = BroadcastChannel(bc_name)
    got = Collector(1)
    b = BroadcastChannel(bc_name)
    b.onmessage = got
    del b
    collect()
    a.post_message("kept alive")
    assert got.wait(T) and got.data == ["kept alive"]


def test_broadcast_context_manager_and_iteration(bc_name):
    a = BroadcastChannel(bc_name)
    with BroadcastChannel(bc_name) as b:
        a.post_message(1)
        assert b.recv(T).data == 1
    assert b.closed
    assert list(b) == []


def test_r_win_16_messageerror_carries_origin_and_source(wins):
    import webmessaging as wm

    a, b = wins
    errors = Collector(1)
    b.onmessageerror = errors
    b.onmessage = lambda e: None
    value, hook = unreadable_in_python()
    b.post_message(value, "*", source=a, default=hook)
    assert errors.wait(T)
    ev = errors.events[0]
    assert (ev.type, ev.data, ev.ports, ev.origin) == ("messageerror", None, (), A)
    assert ev.source is a
