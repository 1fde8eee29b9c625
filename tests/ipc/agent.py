"""The Python side of the cross-language matrix: one program that is both driver and agent.

Agent mode (started by another language's driver, so ``parent_port()`` returns a port): serve
``echo`` / ``stream`` / ``collect`` / ``exit`` commands on it (the protocol is described at
the top of ``run_matrix.py``).

Driver mode: ``agent.py <child-lang> <third-lang>`` (langs: c, python, node) spawns the child
agent Q and the third agent R (their command lines come from ``WM_AGENT_C``, ``WM_AGENT_PY``,
``WM_AGENT_NODE``: JSON arrays), echoes every plain golden vector (``WM_VECTORS``) through Q,
then streams N numbered messages from R through a port that moves from Q back to this process
part-way, checks that nothing was lost, duplicated or reordered, and prints one line.
"""

from __future__ import annotations

import array
import json
import math
import os
import re
import subprocess
import sys

import webmessaging as wm

TIMEOUT = 30.0
N = 20000
HANDOFF = 5000
LANGS = ("c", "python", "node")
AGENT_ENV = {"c": "WM_AGENT_C", "python": "WM_AGENT_PY", "node": "WM_AGENT_NODE"}


class Failure(Exception):
    """An unexpected condition: the program prints why and exits with status 1."""


# --- deep equality (NaN equals NaN, -0 differs from 0, cycles and shared references kept) -----


def same(a, b, seen=None) -> bool:
    """Whether two decoded values are the same JavaScript value (types strict: ``JSBigInt(1)``
    is not ``1``; ``-0.0`` is not ``0.0``; NaN is NaN; sets compare without order)."""
    if seen is None:
        seen = set()
    if type(a) is not type(b):
        return False
    if isinstance(a, float):
        if math.isnan(a):
            return math.isnan(b)
        return a == b and math.copysign(1.0, a) == math.copysign(1.0, b)
    if isinstance(a, (str, bytes, int, bool)) or a is None:
        return a == b and (getattr(a, "__dict__", None) == getattr(b, "__dict__", None))
    key = (id(a), id(b))
    if key in seen:
        return True
    seen.add(key)
    if isinstance(a, (list, tuple)):
        return (
            len(a) == len(b)
            and all(same(x, y, seen) for x, y in zip(a, b))
            and same(getattr(a, "properties", None), getattr(b, "properties", None), seen)
        )
    if isinstance(a, dict):
        return len(a) == len(b) and all(
            same(ka, kb, seen) and same(va, vb, seen) for (ka, va), (kb, vb) in zip(a.items(), b.items())
        )
    if isinstance(a, (set, frozenset)):
        rest = list(b)
        for x in a:
            for i, y in enumerate(rest):
                if same(x, y, set(seen)):
                    del rest[i]
                    break
            else:
                return False
        return not rest
    if isinstance(a, bytearray):
        return a == b
    if isinstance(a, array.array):
        return a.typecode == b.typecode and a.tobytes() == b.tobytes()
    if isinstance(a, BaseException):
        return (
            same(list(a.args), list(b.args), seen)
            and same(dict(vars(a)), dict(vars(b)), seen)
            and same(a.__cause__, b.__cause__, seen)
        )
    if isinstance(a, wm.JSBoxed):
        return same(a.value, b.value, seen)
    if isinstance(a, re.Pattern):
        return (a.pattern, a.flags) == (b.pattern, b.flags)
    return a == b


# --- agent mode -------------------------------------------------------------------------------


def serve(parent: wm.MessagePort) -> int:
    while True:
        try:
            event = parent.recv(timeout=600)
        except wm.DecodeError as e:
            # The whole message is unreadable here, its name included (null: unknown); the
            # driver pairs replies with what it sent, in order.
            parent.post_message({"cmd": "unreadable", "name": None, "error": str(e)})
            continue
        command = event.data
        if not isinstance(command, dict) or not isinstance(command.get("cmd"), str):
            raise Failure(f"not a command: {command!r}")
        cmd = command["cmd"]
        if cmd == "echo":
            try:
                parent.post_message({"cmd": "echo", "name": command["name"], "value": command["value"]})
            except (wm.DataCloneError, TypeError, ValueError) as e:
                parent.post_message({"cmd": "unreadable", "name": command["name"], "error": str(e)})
        elif cmd == "stream":
            (port,) = event.ports
            post = port.post_message
            for i in range(1, int(command["n"]) + 1):
                post({"seq": i})
            port.close()
            parent.post_message({"cmd": "streamed", "n": command["n"]})
        elif cmd == "collect":
            (port,) = event.ports
            seqs = [port.recv(timeout=TIMEOUT).data["seq"] for _ in range(int(command["handoff"]))]
            parent.post_message({"cmd": "handoff", "seqs": seqs}, [port])
        elif cmd == "exit":
            parent.close()
            return 0
        else:
            raise Failure(f"unknown command {cmd!r}")


# --- driver mode ------------------------------------------------------------------------------


def agent_argv(lang: str) -> list[str]:
    raw = os.environ.get(AGENT_ENV[lang])
    if raw is None:
        if lang == "python":
            return [sys.executable, os.path.abspath(__file__)]
        raise Failure(f"{AGENT_ENV[lang]} is not set (a JSON array: the argv of the {lang} agent)")
    argv = json.loads(raw)
    if not (isinstance(argv, list) and argv and all(isinstance(a, str) for a in argv)):
        raise Failure(f"{AGENT_ENV[lang]} must be a non-empty JSON array of strings")
    return argv


def reply(port: wm.MessagePort, expect: str, who: str) -> wm.MessageEvent:
    event = port.recv(timeout=TIMEOUT)
    if not isinstance(event.data, dict) or event.data.get("cmd") not in (expect, "unreadable"):
        raise Failure(f"{who}: expected a {expect!r} reply, got {event.data!r}")
    return event


def exchange_vectors(q: wm.MessagePort, child: str) -> tuple[int, list[str]]:
    path = os.environ.get("WM_VECTORS") or os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "..", "vectors", "v8-vectors.json"
    )
    with open(path) as f:
        vectors = [v for v in json.load(f)["vectors"] if v["mode"] == "plain"]
    exchanged, skipped = 0, []
    for vector in vectors:
        name = vector["name"]
        try:
            value = wm.deserialize(bytes.fromhex(vector["hex"]))
            q.post_message({"cmd": "echo", "name": name, "value": value})
        except (wm.DecodeError, wm.DataCloneError, ValueError, TypeError):
            skipped.append(f"{name} (python)")
            continue
        try:
            event = reply(q, "echo", child)
        except wm.DecodeError as e:
            raise Failure(f"vector {name!r}: {child}'s echo cannot be read here: {e}") from None
        data = event.data
        if data["cmd"] == "unreadable":
            skipped.append(f"{name} ({child})")
            continue
        if data.get("name") != name:
            raise Failure(f"vector {name!r}: the echo names {data.get('name')!r}")
        if not same(value, data["value"]):
            raise Failure(f"vector {name!r}: sent {value!r}, {child} echoed {data['value']!r}")
        exchanged += 1
    return exchanged, skipped


def stream_across_a_moving_port(q: wm.MessagePort, r: wm.MessagePort, child: str, third: str) -> None:
    channel = wm.MessageChannel()
    q.post_message({"cmd": "collect", "n": N, "handoff": HANDOFF}, [channel.port1])
    r.post_message({"cmd": "stream", "n": N}, [channel.port2])
    handoff = reply(q, "handoff", child)
    if handoff.data["cmd"] != "handoff" or len(handoff.ports) != 1:
        raise Failure(f"{child}: a handoff must carry one port, got {handoff.data!r}")
    seqs = list(handoff.data["seqs"])
    port = handoff.ports[0]
    try:
        while True:
            seqs.append(port.recv(timeout=TIMEOUT).data["seq"])
    except wm.PortClosedError as end:
        if end.reason != "closed":
            raise Failure(f"the streamed port ended with {end.reason!r}, not 'closed'") from None
    if seqs != list(range(1, N + 1)):
        first_bad = next((i for i, s in enumerate(seqs) if s != i + 1), len(seqs))
        raise Failure(f"{len(seqs)} seqs received, wrong from index {first_bad}: {seqs[first_bad:first_bad + 5]}")
    streamed = reply(r, "streamed", third)
    if streamed.data != {"cmd": "streamed", "n": N}:
        raise Failure(f"{third}: expected streamed {N}, got {streamed.data!r}")


def drive(child: str, third: str) -> int:
    procs: list[subprocess.Popen] = []
    try:
        proc_q, q = wm.spawn(agent_argv(child))
        procs.append(proc_q)
        proc_r, r = wm.spawn(agent_argv(third))
        procs.append(proc_r)
        exchanged, skipped = exchange_vectors(q, child)
        stream_across_a_moving_port(q, r, child, third)
        for port in (q, r):
            port.post_message({"cmd": "exit"})
        for lang, proc in ((child, proc_q), (third, proc_r)):
            status = proc.wait(timeout=TIMEOUT)
            if status != 0:
                raise Failure(f"the {lang} agent exited with status {status}")
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    names = ", ".join(skipped)
    print(
        f"matrix python->{child} (third {third}): {exchanged} values exchanged, "
        f"{len(skipped)} skipped [{names}], {N} streamed across a moving port: OK",
        flush=True,
    )
    return 0


def main(argv: list[str]) -> int:
    parent = wm.parent_port()
    if parent is not None:
        return serve(parent)
    if len(argv) != 2 or any(a not in LANGS for a in argv):
        raise Failure("usage: agent.py <child-lang> <third-lang>  (langs: c, python, node)")
    return drive(*argv)


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except Failure as e:
        print(f"agent.py: {e}", file=sys.stderr)
        sys.exit(1)
    except Exception as e:  # any other surprise is a failure too, with its traceback
        import traceback

        traceback.print_exc()
        print(f"agent.py: {type(e).__name__}: {e}", file=sys.stderr)
        sys.exit(1)
