"""Cross-process ports: spawn / parent_port, listen / connect, export_fd / import_fd.

The children run tests/python/ipc_child.py with this interpreter. Every wait has a timeout, and
every child is reaped (killed if still running) by the `children` fixture.
"""

from __future__ import annotations

import asyncio
import errno
import os
import pathlib
import selectors
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import warnings

import pytest

import webmessaging as wm
from helpers import Collector

TIMEOUT = 20.0
CHILD = pathlib.Path(__file__).with_name("ipc_child.py")


@pytest.fixture
def children():
    """spawn(...) for the test; every child is waited for (killed after the test if needed)."""
    started: list[subprocess.Popen] = []

    def start(*args, **kwargs):
        kwargs.setdefault("stdout", subprocess.PIPE)
        kwargs.setdefault("text", True)
        proc, port = wm.spawn([sys.executable, str(CHILD), *map(str, args)], **kwargs)
        started.append(proc)
        return proc, port

    yield start
    for proc in started:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=TIMEOUT)
        if proc.stdout:
            proc.stdout.close()


@pytest.fixture
def sock_dir():
    """A short directory for socket paths (a Unix socket path is limited to 107 bytes)."""
    with tempfile.TemporaryDirectory(prefix="wm-", dir="/tmp") as d:
        yield pathlib.Path(d)


def open_fds() -> set[int]:
    """The descriptors open now (not the one listdir used to read the directory)."""
    listed = {int(n) for n in os.listdir("/proc/self/fd")}
    still = set()
    for fd in listed:
        try:
            os.fstat(fd)
        except OSError:
            continue
        still.add(fd)
    return still


def seqs_until_closed(port, n):
    got = [port.recv(timeout=TIMEOUT).data["seq"] for _ in range(n)]
    with pytest.raises(wm.PortClosedError) as info:
        port.recv(timeout=TIMEOUT)
    return got, info.value


# --- spawn / parent_port ----------------------------------------------------------------------


def test_spawn_exchanges_values_both_ways(children):
    proc, port = children("echo")
    values = [
        {"id": 1, "name": "x", "tags": [1, 2, 3]},
        {"user": {"name": "alice", "roles": ["a", "b"]}, "items": [{"k": i} for i in range(5)], "ok": True},
        b"\x00\x01" * 40_000,
        [1.5, None, "text", -7, 2**70],
    ]
    for value in values:
        port.post_message(value)
        assert port.recv(timeout=TIMEOUT).data == value
    # A port of this process goes to the child and comes back (its peer is here).
    channel = wm.MessageChannel()
    port.post_message("carry", [channel.port2])
    event = port.recv(timeout=TIMEOUT)
    assert event.data == "carry" and len(event.ports) == 1
    assert channel.port1.recv(timeout=TIMEOUT).data == {"hello": "from child"}
    back = event.ports[0]
    channel.port1.post_message("after the round trip")
    assert back.recv(timeout=TIMEOUT).data == "after the round trip"
    # A port made in the child reaches this process.
    port.post_message("new port")
    event = port.recv(timeout=TIMEOUT)
    assert event.data == "new port"
    assert event.ports[0].recv(timeout=TIMEOUT).data == "made in child"
    port.post_message("exit")
    assert proc.wait(timeout=TIMEOUT) == 0


def test_close_after_n_delivers_n_then_closed(children):
    proc, port = children("stream", 500)
    got, end = seqs_until_closed(port, 500)
    assert got == list(range(1, 501))
    assert (end.reason, end.by_peer) == ("closed", True)
    assert proc.wait(timeout=TIMEOUT) == 0


def test_sigkill_after_n_delivers_n_then_lost(children):
    proc, port = children("hang", 500)
    assert proc.stdout.readline().strip() == "ready"
    proc.send_signal(signal.SIGKILL)
    assert proc.wait(timeout=TIMEOUT) == -signal.SIGKILL
    got, end = seqs_until_closed(port, 500)
    assert got == list(range(1, 501))
    assert (end.reason, end.by_peer) == ("lost", True)


def test_a_relay_may_exit_right_after_passing_a_port_on(children):
    proc, port = children("relay")
    channel = wm.MessageChannel()
    mine, travelling = channel.port1, channel.port2
    mine.post_message("sent before the move")
    port.post_message("take this", [travelling])
    mine.post_message("sent while it moves")
    assert proc.wait(timeout=TIMEOUT) == 0  # the relay is gone before we read its message
    event = port.recv(timeout=TIMEOUT)
    assert event.data == "take this"
    (back,) = event.ports
    mine.post_message("sent after the relay exited")
    assert [back.recv(timeout=TIMEOUT).data for _ in range(3)] == [
        "sent before the move",
        "sent while it moves",
        "sent after the relay exited",
    ]
    back.post_message("and back")
    assert mine.recv(timeout=TIMEOUT).data == "and back"


def test_asyncio_receives_from_another_process(children):
    proc, port = children("stream", 50)

    async def main():
        return [event.data["seq"] async for event in port]

    assert asyncio.run(asyncio.wait_for(main(), TIMEOUT)) == list(range(1, 51))
    assert proc.wait(timeout=TIMEOUT) == 0


def test_spawn_merges_env_and_the_child_consumes_the_variable(children):
    proc, port = children("env", "WM_TEST_VALUE", env={**os.environ, "WM_TEST_VALUE": "kept"})
    out, _ = proc.communicate(timeout=TIMEOUT)
    # The caller's variable arrived; parent_port() removed WEBMESSAGING_PORT_FD from os.environ
    # and a second call finds nothing.
    assert out.split() == ["kept", "False", "True"]
    assert proc.returncode == 0
    with pytest.raises(wm.PortClosedError):
        port.recv(timeout=TIMEOUT)


LOW_FD_PARENT = """
import os, subprocess, sys, webmessaging as wm
os.close(wm.export_fd(wm.MessageChannel().port1))  # the transport's own descriptors come first
os.close(0)
os.close(1)  # the next socket pair is (0, 1): the child's end would be 1, its stdout
proc, port = wm.spawn([sys.executable, sys.argv[1], "stream", "3"],
                      stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
got = [port.recv(timeout=20).data["seq"] for _ in range(3)]
sys.exit(0 if got == [1, 2, 3] and proc.wait(timeout=20) == 0 else 3)
"""


def test_spawn_from_a_parent_with_stdio_closed():
    done = subprocess.run([sys.executable, "-c", LOW_FD_PARENT, str(CHILD)], capture_output=True, timeout=TIMEOUT)
    assert done.returncode == 0, done.stderr.decode()


def test_spawn_failure_closes_the_descriptor():
    with pytest.raises(FileNotFoundError):  # starts the transport (its own descriptors)
        wm.spawn(["/nonexistent/webmessaging-child"])
    before = open_fds()
    for _ in range(20):
        with pytest.raises(FileNotFoundError):
            wm.spawn(["/nonexistent/webmessaging-child"])
    # Nothing new stays open. The transport retires the socket of each failed child's port on
    # its own thread, so give it a moment; earlier tests' bridges may be closing too, so only
    # new descriptors count.
    deadline = time.monotonic() + TIMEOUT
    while open_fds() - before and time.monotonic() < deadline:
        time.sleep(0.01)
    assert open_fds() - before == set()


def test_parent_port_is_none_here():
    assert wm.PORT_FD_ENV == "WEBMESSAGING_PORT_FD"
    assert wm.PORT_FD_ENV not in os.environ
    assert wm.parent_port() is None


# --- export_fd / import_fd --------------------------------------------------------------------


def test_export_and_import_within_one_process():
    channel = wm.MessageChannel()
    channel.port1.post_message({"queued": "before the export"})
    fd = wm.export_fd(channel.port2)
    assert isinstance(fd, int) and fd >= 0
    assert channel.port2.detached
    port = wm.import_fd(fd)
    assert port.recv(timeout=TIMEOUT).data == {"queued": "before the export"}
    assert wm.flush(timeout=TIMEOUT)
    port.post_message("back")
    assert channel.port1.recv(timeout=TIMEOUT).data == "back"
    port.close()
    with pytest.raises(wm.PortClosedError) as info:
        channel.port1.recv(timeout=TIMEOUT)
    assert info.value.reason == "closed"


OUT_OF_DESCRIPTORS = """
import errno, os, resource, webmessaging as wm
wm.import_fd(wm.export_fd(wm.MessageChannel().port1)).close()  # the transport has started
resource.setrlimit(resource.RLIMIT_NOFILE, (256, 256))
held = []
try:
    while True:
        held.append(os.open("/dev/null", os.O_RDONLY))
except OSError:
    pass
channel = wm.MessageChannel()
try:
    wm.export_fd(channel.port1)
except OSError as e:
    assert type(e) is OSError and e.errno == errno.EMFILE, repr(e)
else:
    raise AssertionError("export_fd found a descriptor")
assert not channel.port1.detached  # the port was left untouched
for fd in held:
    os.close(fd)
port = wm.import_fd(wm.export_fd(channel.port1))
channel.port2.post_message("works again")
assert port.recv(timeout=20).data == "works again"
"""


def test_out_of_descriptors_is_oserror_emfile():
    done = subprocess.run([sys.executable, "-c", OUT_OF_DESCRIPTORS], capture_output=True, timeout=TIMEOUT)
    assert done.returncode == 0, done.stderr.decode()


A_CLIENT_LOST_TO_THE_DESCRIPTOR_LIMIT = """
import errno, os, resource, subprocess, sys, tempfile, webmessaging as wm
path = os.path.join(tempfile.mkdtemp(), "sock")
listener = wm.listen(path)
client = subprocess.Popen(
    [sys.executable, "-c",
     "import sys, webmessaging as wm; sys.stdin.readline(); "
     "wm.connect(sys.argv[1], timeout=20).post_message('from the client'); wm.flush(20)",
     path],
    stdin=subprocess.PIPE,
)
resource.setrlimit(resource.RLIMIT_NOFILE, (256, 256))
held = []
try:
    while True:
        held.append(os.open("/dev/null", os.O_RDONLY))
except OSError:
    pass
client.stdin.write(b"connect\\n")
client.stdin.flush()
try:
    listener.accept(timeout=20)
except OSError as e:
    assert type(e) is OSError and e.errno == errno.EMFILE, repr(e)
else:
    raise AssertionError("a client was set up without a descriptor")
for fd in held:
    os.close(fd)
while True:  # the listener goes on: the client still waits and is accepted now
    try:
        port = listener.accept(timeout=20)
        break
    except OSError as e:
        assert e.errno == errno.EMFILE, repr(e)  # failures queued while the limit held
assert port.recv(timeout=20).data == "from the client"
assert client.wait(timeout=20) == 0
listener.close()
"""


def test_a_client_lost_to_the_descriptor_limit_is_oserror_and_the_listener_goes_on():
    done = subprocess.run(
        [sys.executable, "-c", A_CLIENT_LOST_TO_THE_DESCRIPTOR_LIMIT], capture_output=True, timeout=2 * TIMEOUT
    )
    assert done.returncode == 0, done.stderr.decode()


def test_export_of_a_closed_port_is_a_data_clone_error():
    channel = wm.MessageChannel()
    channel.port1.close()
    with pytest.raises(wm.DataCloneError):
        wm.export_fd(channel.port1)


def test_import_of_a_bad_descriptor():
    with pytest.raises(ValueError):
        wm.import_fd(-1)
    r, w = os.pipe()
    os.close(r)
    os.close(w)
    with pytest.raises(OSError) as info:
        wm.import_fd(r)
    assert info.value.errno == errno.EBADF
    # Not a socket: refused, and the descriptor (handed over) is closed.
    r, w = os.pipe()
    try:
        with pytest.raises(wm.ProtocolError):
            wm.import_fd(r)
        with pytest.raises(OSError) as info:
            os.fstat(r)
        assert info.value.errno == errno.EBADF
    finally:
        os.close(w)


# --- listen / connect -------------------------------------------------------------------------


def test_listen_accepts_two_clients(children, sock_dir):
    path = sock_dir / "s"
    with wm.listen(path) as listener:
        assert listener.path == path
        assert (path.stat().st_mode & 0o777) & 0o077 == 0, "the socket is owner-only"
        procs = [subprocess.Popen([sys.executable, str(CHILD), "connect", str(path)]) for _ in range(2)]
        try:
            pids = set()
            for _ in range(2):
                port = listener.accept(timeout=TIMEOUT)
                pid = port.recv(timeout=TIMEOUT).data["pid"]
                port.post_message(f"hi {pid}")
                assert port.recv(timeout=TIMEOUT).data == {"echo": f"hi {pid}"}
                pids.add(pid)
            assert pids == {p.pid for p in procs}
            assert [p.wait(timeout=TIMEOUT) for p in procs] == [0, 0]
        finally:
            for p in procs:
                if p.poll() is None:
                    p.kill()
                    p.wait(timeout=TIMEOUT)
    assert listener.closed and not path.exists()
    with pytest.raises(wm.PortClosedError):
        listener.accept(timeout=TIMEOUT)


def test_onconnect_gets_a_connect_event_per_client(sock_dir):
    path = sock_dir / "s"
    listener = wm.listen(path)
    seen = Collector(expect=2)
    listener.onconnect = seen
    clients = [wm.connect(path, timeout=TIMEOUT) for _ in range(2)]
    assert seen.wait(TIMEOUT)
    assert [e.type for e in seen.events] == ["connect", "connect"]
    for i, (client, event) in enumerate(zip(clients, seen.events)):
        event.ports[0].post_message(i)
    assert sorted(c.recv(timeout=TIMEOUT).data for c in clients) == [0, 1]
    listener.close()


def test_onconnect_set_inside_asyncio_runs_on_the_loop(sock_dir):
    path = sock_dir / "s"

    async def main():
        listener = wm.listen(path)
        loop = asyncio.get_running_loop()
        arrived = loop.create_future()

        def onconnect(event):
            arrived.set_result((threading.get_ident(), event.type, event.ports[0]))

        listener.onconnect = onconnect
        client = await loop.run_in_executor(None, wm.connect, path, TIMEOUT)
        thread, kind, port = await asyncio.wait_for(arrived, TIMEOUT)
        client.post_message("hello")
        data = (await port.recv_async(timeout=TIMEOUT)).data
        listener.close()
        return thread == threading.get_ident(), kind, data

    assert asyncio.run(main()) == (True, "connect", "hello")


KEPT_LISTENER = """
import gc, sys, threading, webmessaging as wm
path = sys.argv[1]
got = threading.Event()
wm.listen(path).onconnect = lambda event: (event.ports[0].post_message("served"), got.set())
gc.collect()  # the Python object is gone; with a handler the listener itself lives on
client = wm.connect(path, timeout=20)
assert client.recv(timeout=20).data == "served" and got.wait(20)
"""


def test_a_listener_with_onconnect_lives_on_without_references(sock_dir):
    path = sock_dir / "kept"
    done = subprocess.run([sys.executable, "-c", KEPT_LISTENER, str(path)], capture_output=True, timeout=TIMEOUT)
    assert done.returncode == 0, done.stderr.decode()


def test_a_dropped_listener_without_handler_closes(sock_dir, collect):
    path = sock_dir / "dropped"
    wm.listen(path)
    collect()
    assert not path.exists()
    with pytest.raises(FileNotFoundError):
        wm.connect(path, timeout=TIMEOUT)


def test_try_accept_and_repr(sock_dir):
    path = sock_dir / "s"
    listener = wm.listen(path)
    assert listener.try_accept() is None
    assert "listening" in repr(listener)
    client = wm.connect(path, timeout=TIMEOUT)
    port = listener.accept(timeout=TIMEOUT)
    client.post_message(1)
    assert port.recv(timeout=TIMEOUT).data == 1
    with pytest.raises(TimeoutError):
        listener.accept(timeout=0.05)
    listener.close()
    listener.close()  # idempotent
    assert "closed" in repr(listener) and not path.exists()
    with pytest.raises(wm.PortClosedError):
        listener.try_accept()


def test_a_listener_works_with_selectors(sock_dir):
    path = sock_dir / "s"
    with wm.listen(path) as listener, selectors.DefaultSelector() as selector:
        selector.register(listener, selectors.EVENT_READ)
        assert selector.select(timeout=0) == []
        client = wm.connect(path, timeout=TIMEOUT)
        assert [key.fileobj for key, _ in selector.select(timeout=TIMEOUT)] == [listener]
        port = listener.try_accept()
        assert port is not None and listener.try_accept() is None
        assert selector.select(timeout=0) == []
        client.post_message("selected")
        assert port.recv(timeout=TIMEOUT).data == "selected"
        listener.close()
        assert len(selector.select(timeout=TIMEOUT)) == 1  # readable for good once closed


def test_iteration_ends_when_the_listener_is_closed(sock_dir):
    path = sock_dir / "s"
    listener = wm.listen(path)
    got = []
    served = threading.Event()

    def serve():
        for port in listener:
            got.append(port.recv(timeout=TIMEOUT).data)
            served.set()

    t = threading.Thread(target=serve)
    t.start()
    client = wm.connect(path, timeout=TIMEOUT)
    client.post_message("one")
    client.close()
    assert served.wait(TIMEOUT)
    # The iterating thread is blocked in accept again: close() ends its loop.
    listener.close()
    t.join(TIMEOUT)
    assert not t.is_alive() and got == ["one"]


def test_asyncio_accept_and_async_for(sock_dir):
    path = sock_dir / "s"

    async def main():
        listener = wm.listen(path)
        loop = asyncio.get_running_loop()
        client = await loop.run_in_executor(None, wm.connect, path, TIMEOUT)
        port = await listener.accept_async(timeout=TIMEOUT)
        client.post_message("via asyncio")
        first = (await port.recv_async(timeout=TIMEOUT)).data
        await loop.run_in_executor(None, wm.connect, path, TIMEOUT)
        accepted = []
        async for p in listener:
            accepted.append(p)
            listener.close()
        return first, len(accepted)

    assert asyncio.run(asyncio.wait_for(main(), TIMEOUT)) == ("via asyncio", 1)


def test_listen_on_an_existing_path_leaves_it_untouched(sock_dir):
    path = sock_dir / "taken"
    path.write_text("precious")
    with pytest.raises(FileExistsError) as info:
        wm.listen(path)
    assert info.value.filename == str(path)
    assert path.read_text() == "precious"


def test_listen_where_not_writable_is_a_permission_error(sock_dir):
    locked = sock_dir / "locked"
    locked.mkdir(mode=0o755)
    target = locked / "s"
    if os.geteuid() != 0:
        locked.chmod(0o500)
        with pytest.raises(PermissionError):
            wm.listen(target)
        return
    # Root may write anywhere: try as another user, who may enter the directory but not write.
    sock_dir.chmod(0o755)
    assert as_nobody("listen", target) == "PermissionError"
    assert not target.exists()


def as_nobody(action: str, path) -> str:
    """What `action` ("listen" or "connect") on `path` gives as user "nobody": a fresh process
    (ipc_child.py) forks before using any cross-process port and drops privileges in the child
    (no exec, so nothing needs to be readable by that user)."""
    done = subprocess.run(
        [sys.executable, str(CHILD), "nobody", action, str(path)], capture_output=True, text=True, timeout=TIMEOUT
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_a_forked_child_is_refused_the_transport_not_left_hanging():
    wm.import_fd(wm.export_fd(wm.MessageChannel().port1)).close()  # used here
    r, w = os.pipe()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # 3.12+: fork with threads
        pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        try:
            os.close(r)
            try:
                wm.export_fd(wm.MessageChannel().port1)
                result = "exported"
            except Exception as e:
                result = f"{type(e).__name__}: {e}"
            os.write(w, result.encode())
        finally:
            os._exit(0)
    os.close(w)
    with os.fdopen(r) as reader:
        result = reader.read()
    os.waitpid(pid, 0)
    assert result.startswith("InvalidStateError: ") and "fork" in result, result


def test_another_user_is_refused_unless_allowed(sock_dir):
    if os.geteuid() != 0:
        pytest.skip("needs root to run a client as another user")
    sock_dir.chmod(0o755)
    with wm.listen(sock_dir / "default", mode=0o666) as listener:
        assert (listener.path.stat().st_mode & 0o777) == 0o666
        assert as_nobody("connect", listener.path) == "ConnectionRefusedError"
        assert listener.try_accept() is None
    with wm.listen(sock_dir / "owner-only") as listener:
        # Mode 0600: another user cannot even open the socket file.
        assert as_nobody("connect", listener.path) == "PermissionError"
    for options in ({"allow_uids": [65534]}, {"allow_any_uid": True}):
        with wm.listen(sock_dir / "allowed", mode=0o666, **options) as listener:
            assert as_nobody("connect", listener.path) == "MessagePort"
            assert isinstance(listener.accept(timeout=TIMEOUT), wm.MessagePort)
    with pytest.raises(ValueError):
        wm.listen(sock_dir / "bad", mode=0o4777)


def test_connect_errors(sock_dir):
    with pytest.raises(FileNotFoundError):
        wm.connect(sock_dir / "nobody-here", timeout=TIMEOUT)
    # A socket file nothing listens on.
    dead = sock_dir / "dead"
    s = socket.socket(socket.AF_UNIX)
    s.bind(str(dead))
    s.close()
    with pytest.raises(ConnectionRefusedError):
        wm.connect(dead, timeout=TIMEOUT)
    with pytest.raises(ValueError):
        wm.connect(dead, timeout=-1)


def test_connect_to_something_else_is_a_protocol_error(sock_dir):
    path = sock_dir / "http"
    server = socket.socket(socket.AF_UNIX)
    server.bind(str(path))
    server.listen()

    def answer():
        conn, _ = server.accept()
        with conn:
            conn.sendall(b"HTTP/1.1 400 Bad Request\r\n\r\n")

    t = threading.Thread(target=answer)
    t.start()
    try:
        with pytest.raises(wm.ProtocolError) as info:
            wm.connect(path, timeout=TIMEOUT)
        assert isinstance(info.value, ConnectionError) and info.value.errno == errno.EPROTO
    finally:
        t.join(TIMEOUT)
        server.close()
