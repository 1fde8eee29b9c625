"""Cross-language, cross-process ports: a Python parent, a Node child and a C child.

1. `spawn` starts each child with one end of a new channel (its "parent port").
2. The parent makes a channel (a, b) and hands `a` to the Node child and `b` to the C child,
   inside a message: the two children now hold the two ends of one channel and talk directly,
   without the parent relaying anything.
3. Each child reports on its parent port what it received from the other; the parent prints
   both reports and waits for the children to exit.

    make demo-ipc        (builds the C child and the Node addon, then runs this)
    python examples/ipc/main.py
"""

from __future__ import annotations

import os
import pathlib
import sys

import webmessaging as wm

ROOT = pathlib.Path(__file__).resolve().parents[2]
TIMEOUT = 30.0


def main() -> int:
    node = os.environ.get("NODE", "node")
    children: dict[str, tuple] = {}
    try:
        children["node"] = wm.spawn([node, str(ROOT / "examples" / "ipc" / "child.js")])
        children["c"] = wm.spawn([str(ROOT / "build" / "ipc" / "child-c")])
        talk = wm.MessageChannel()
        children["node"][1].post_message({"cmd": "talk"}, [talk.port1])
        children["c"][1].post_message({"cmd": "talk"}, [talk.port2])
        print("python: gave one end of a channel to the Node child and the other to the C child")
        for lang, (proc, port) in children.items():
            report = port.recv(timeout=TIMEOUT).data
            print(f"python: the {lang} child (pid {proc.pid}) reports {report!r}")
            if not (isinstance(report, dict) and report.get("from") == lang and "got" in report):
                print(f"unexpected report from the {lang} child", file=sys.stderr)
                return 1
        for lang, (proc, port) in children.items():
            status = proc.wait(timeout=TIMEOUT)
            port.close()
            if status != 0:
                print(f"the {lang} child exited with status {status}", file=sys.stderr)
                return 1
    finally:
        for proc, _ in children.values():
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    print("python: both children exited 0")
    return 0


if __name__ == "__main__":
    sys.exit(main())
