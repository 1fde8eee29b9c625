"""After os.fork(), onmessage handlers of ports created before the fork keep running in the
child (the dispatcher thread is restarted there), and the parent's keep running too.

The fork happens in a separate interpreter so the test process itself never forks while
threads run."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")

SCRIPT = textwrap.dedent(
    """
    import os, sys, threading, time
    import webmessaging as wm

    # With "busy", the fork happens while the dispatcher thread is inside a handler (the handler
    # released the GIL): the child must not treat that port as still being dispatched.
    busy = sys.argv[1] == "busy"

    def wait_for(got, n):
        deadline = time.monotonic() + 10
        while len(got) < n and time.monotonic() < deadline:
            time.sleep(0.005)
        return got

    ch = wm.MessageChannel()
    got, inside = [], threading.Event()
    def handler(event):
        got.append(event.data)
        if busy and event.data == "before fork":
            inside.set()
            time.sleep(0.5)
    ch.port2.onmessage = handler
    ch.port1.post_message("before fork")
    assert wait_for(got, 1) == ["before fork"], got
    if busy:
        inside.wait(10)

    pid = os.fork()
    if pid == 0:
        for n in range(3):
            ch.port1.post_message(f"child {n}")
        ok = wait_for(got, 4)[1:] == ["child 0", "child 1", "child 2"]
        os._exit(0 if ok else 3)
    ch.port1.post_message("parent after fork")
    parent_ok = wait_for(got, 2)[1:] == ["parent after fork"]
    _, status = os.waitpid(pid, 0)
    print("child", os.waitstatus_to_exitcode(status), "parent", parent_ok)
    """
)


@pytest.mark.parametrize("when", ["idle", "busy"])
def test_onmessage_keeps_running_in_a_forked_child(when):
    result = subprocess.run(
        [sys.executable, "-W", "ignore::DeprecationWarning", "-c", SCRIPT, when],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["child", "0", "parent", "True"], result.stderr
