"""The cross-language matrix of cross-process ports: for each ordered pair (driver, child) of
{c, python, node}, the driver spawns the child's agent and the third language's agent, echoes
every plain golden vector through the child, then streams numbered messages from the third
process through a port that the child hands back part-way.

    python tests/ipc/run_matrix.py [--only LANG] [--pair DRIVER,CHILD,THIRD ...]

`--only python` runs python->python (third python); `--pair` runs the given triples; the default
is the six ordered pairs. Each run has a 60 s timeout. Exit status 1 if any fails.

Every language has ONE program that is both driver and agent (tests/ipc/agent.{c,py,js}; the C
one is built to build/ipc/agent-c). Its command line comes from the environment: WM_AGENT_C,
WM_AGENT_PY, WM_AGENT_NODE (JSON arrays: the argv that starts it; defaults below) and
WM_VECTORS (the golden vectors file).

The protocol. An agent started with a parent port (`parent_port()`) serves commands on it,
each an object with a string `cmd`, until `exit`:
  {cmd: "echo", name, value}    -> post {cmd: "echo", name, value} with the value decoded and
                                   re-encoded natively, or {cmd: "unreadable", name, error} if
                                   this language cannot read it (name null when the whole
                                   message is unreadable: drivers pair replies in order).
  {cmd: "stream", n}, ports [p] -> post {seq: i} for i = 1..n on p, close p, then post
                                   {cmd: "streamed", n} to the parent.
  {cmd: "collect", n, handoff}, ports [p]
                                -> receive `handoff` messages from p, then post
                                   {cmd: "handoff", seqs: [...]} with transfer [p] to the parent.
  {cmd: "exit"}                 -> close everything and exit 0.
Anything unexpected: print why on stderr, exit 1.
A driver (`agent <child-lang> <third-lang>`, no parent port) spawns both agents, echoes the
vectors (deep equality: NaN is NaN, -0 is not 0), sends collect(N=20000, handoff=5000) with m1
to the child and stream(N) with m2 to the third, checks seqs 1..N in order across the handoff
then the close, sends exit to both, waits for status 0 and prints
`matrix <driver>-><child> (third <third>): <v> values exchanged, <s> skipped [names], <N>
streamed across a moving port: OK`.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import pathlib
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[2]
LANGS = ("c", "python", "node")
TIMEOUT = 60


def default_agents() -> dict[str, str]:
    return {
        "WM_AGENT_C": json.dumps([str(ROOT / "build" / "ipc" / "agent-c")]),
        "WM_AGENT_PY": json.dumps([sys.executable, str(ROOT / "tests" / "ipc" / "agent.py")]),
        "WM_AGENT_NODE": json.dumps(["node", str(ROOT / "tests" / "ipc" / "agent.js")]),
        "WM_VECTORS": str(ROOT / "tests" / "vectors" / "v8-vectors.json"),
    }


def run(env: dict[str, str], driver: str, child: str, third: str) -> bool:
    name = {"c": "WM_AGENT_C", "python": "WM_AGENT_PY", "node": "WM_AGENT_NODE"}[driver]
    argv = [*json.loads(env[name]), child, third]
    label = f"{driver}->{child} (third {third})"
    try:
        done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=TIMEOUT)
    except subprocess.TimeoutExpired as e:
        # subprocess.run killed the driver; its agents see their parent port lost and exit.
        err = (e.stderr or b"")
        err = err.decode(errors="replace") if isinstance(err, bytes) else err
        print(f"matrix {label}: FAILED: timed out after {TIMEOUT} s\n{err[-2000:]}", flush=True)
        return False
    except OSError as e:
        print(f"matrix {label}: FAILED: cannot start {argv[0]}: {e}", flush=True)
        return False
    lines = [line for line in done.stdout.splitlines() if line.startswith("matrix ")]
    ok = done.returncode == 0 and len(lines) == 1 and lines[0].endswith(": OK")
    if ok:
        print(lines[0], flush=True)
    else:
        print(f"matrix {label}: FAILED (status {done.returncode})\n{done.stdout[-2000:]}{done.stderr[-4000:]}", flush=True)
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", choices=LANGS, help="run LANG->LANG with third LANG only")
    parser.add_argument("--pair", action="append", default=[], help="DRIVER,CHILD,THIRD (repeatable)")
    args = parser.parse_args()
    env = {**os.environ}
    for key, value in default_agents().items():
        env.setdefault(key, value)
    if args.only:
        runs = [(args.only, args.only, args.only)]
    elif args.pair:
        runs = []
        for pair in args.pair:
            triple = tuple(pair.split(","))
            if len(triple) != 3 or any(t not in LANGS for t in triple):
                parser.error(f"--pair {pair!r}: want DRIVER,CHILD,THIRD from {LANGS}")
            runs.append(triple)
    else:
        runs = [(d, c, next(t for t in LANGS if t not in (d, c))) for d, c in itertools.permutations(LANGS, 2)]
    failed = [r for r in runs if not run(env, *r)]
    if failed:
        print(f"matrix: {len(failed)} of {len(runs)} runs FAILED", flush=True)
        return 1
    print(f"matrix: all {len(runs)} runs passed", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
