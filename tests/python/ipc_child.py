"""A child process for test_ipc.py: `python ipc_child.py MODE [ARGS]`.

Modes (the port is parent_port() unless said otherwise):
  echo            post each message back, with its ports; on each received port post
                  {"hello": "from child"} first; "new port" makes a channel here and sends one end
                  back; "exit" ends.
  stream N        post {"seq": 1..N}, then close the port and exit 0.
  hang N          post {"seq": 1..N}, print "ready" on stdout, then sleep until killed.
  connect PATH    connect(PATH), post {"pid": pid}, wait for one reply, post it back, exit.
  relay           receive one message and post it back with its ports, then exit at once.
  env NAME        print os.environ.get(NAME) and whether the port variable is left, then exit.
  listen PATH     try listen(PATH); print the exception's class name (or "ok").
  nobody ACTION PATH
                  fork (before any cross-process port exists here), drop to user "nobody" in the
                  child and try ACTION (listen or connect) on PATH there; print what it gave
                  (the result's or the exception's class name).
"""

from __future__ import annotations

import os
import sys
import time

import webmessaging as wm

TIMEOUT = 20.0


def as_nobody(action: str, path: str) -> str:
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            os.close(r)
            os.setgid(65534)
            os.setuid(65534)
            try:
                if action == "listen":
                    result = type(wm.listen(path)).__name__
                else:
                    result = type(wm.connect(path, timeout=TIMEOUT)).__name__
            except Exception as e:
                result = type(e).__name__
            os.write(w, result.encode())
        finally:
            os._exit(0)
    os.close(w)
    with os.fdopen(r) as reader:
        result = reader.read()
    os.waitpid(pid, 0)
    return result


def main() -> int:
    mode, *args = sys.argv[1:]
    if mode == "listen":
        try:
            wm.listen(args[0]).close()
        except Exception as e:  # the parent asserts on the name
            print(type(e).__name__, flush=True)
        else:
            print("ok", flush=True)
        return 0
    if mode == "nobody":
        print(as_nobody(*args), flush=True)
        return 0
    if mode == "connect":
        port = wm.connect(args[0], timeout=TIMEOUT)
        port.post_message({"pid": os.getpid()})
        port.post_message({"echo": port.recv(timeout=TIMEOUT).data})
        port.close()
        return 0
    port = wm.parent_port()
    if port is None:
        print("no parent port", file=sys.stderr)
        return 1
    if mode == "env":
        print(os.environ.get(args[0]), wm.PORT_FD_ENV in os.environ, wm.parent_port() is None, flush=True)
        port.close()
        return 0
    if mode == "relay":
        event = port.recv(timeout=TIMEOUT)
        port.post_message(event.data, list(event.ports))
        port.close()
        return 0
    if mode in ("stream", "hang"):
        for i in range(1, int(args[0]) + 1):
            port.post_message({"seq": i})
        if mode == "stream":
            port.close()
            return 0
        # Posting never blocks: wait until the transport handed the bytes to the kernel before
        # saying "written" (the parent then kills this process).
        if not wm.flush(timeout=TIMEOUT):
            print("flush timed out", file=sys.stderr)
            return 1
        print("ready", flush=True)
        time.sleep(600)
        return 1
    if mode == "echo":
        while True:
            event = port.recv(timeout=TIMEOUT)
            if event.data == "exit":
                port.close()
                return 0
            if event.data == "new port":
                channel = wm.MessageChannel()
                channel.port1.post_message("made in child")
                port.post_message("new port", [channel.port2])
                continue
            for p in event.ports:
                p.post_message({"hello": "from child"})
            port.post_message(event.data, list(event.ports))
    print(f"unknown mode {mode}", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
