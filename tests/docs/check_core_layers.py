#!/usr/bin/env python3
"""The core's files import each other without cycles.

Each `.rs` file under core/src is a node; an edge A -> B means A names an item of B through a
path (`crate::b::...`, `super::...`, or a child module of A's). Comments and `#[cfg(test)]`
modules are ignored: a test may use anything. A cycle (e.g. two files that each import the
other) is reported with its files and fails the check. `--self-test` plants a cycle in a
scratch copy and fails unless it is caught.
"""

import os
import re
import shutil
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PATH = re.compile(r"\b(crate|super|self|[a-z_][a-z0-9_]*)((?:::[A-Za-z_][A-Za-z0-9_]*)+)")


def load(src_dir):
    files = {}
    for root, _, names in os.walk(src_dir):
        for n in names:
            if n.endswith(".rs"):
                full = os.path.join(root, n)
                rel = os.path.relpath(full, src_dir)
                text = open(full, encoding="utf-8").read().split("#[cfg(test)]")[0]
                text = re.sub(r"//[^\n]*", "", text)
                files[rel] = text
    return files


def module_dir(rel):
    """The directory whose files are this file's child modules."""
    base = rel[:-3]
    return os.path.dirname(rel) if base.endswith(("mod", "lib")) and os.path.basename(base) in ("mod", "lib") else base


def resolve(files, segments):
    """The file that holds the longest prefix of `segments` (a module path from src)."""
    for n in range(len(segments), 0, -1):
        stem = os.path.join(*segments[:n])
        for cand in (stem + ".rs", os.path.join(stem, "mod.rs")):
            if cand in files:
                return cand
    return None


def edges_of(files, rel):
    here = module_dir(rel)
    parent = os.path.dirname(here)
    children = set(re.findall(r"^\s*(?:pub(?:\([^)]*\))?\s+)?mod\s+(\w+)\s*;", files[rel], re.M))
    out = set()
    for head, tail in PATH.findall(files[rel]):
        rest = [s for s in tail.split("::") if s]
        if head == "crate":
            target = resolve(files, rest)
        elif head == "super":
            target = resolve(files, [p for p in parent.split(os.sep) if p] + rest) or next(
                (c for c in (parent + ".rs", os.path.join(parent, "mod.rs")) if c in files), None)
        elif head == "self" or head in children:
            segs = [p for p in here.split(os.sep) if p] + ([] if head == "self" else [head]) + rest
            target = resolve(files, segs)
        else:
            continue
        if target and target != rel:
            out.add(target)
    return out


def cycles(files):
    graph = {f: edges_of(files, f) for f in files}
    found, state, stack = [], {}, []

    def visit(u):
        state[u] = 1
        stack.append(u)
        for v in sorted(graph[u]):
            if state.get(v) == 1:
                found.append(stack[stack.index(v):] + [v])
            elif v not in state:
                visit(v)
        stack.pop()
        state[u] = 2

    for f in sorted(graph):
        if f not in state:
            visit(f)
    return found


def check(src_dir):
    found = cycles(load(src_dir))
    for c in found:
        print("import cycle in core/src: " + " -> ".join(c), file=sys.stderr)
    return not found


def self_test():
    with tempfile.TemporaryDirectory() as tmp:
        copy = os.path.join(tmp, "src")
        shutil.copytree(os.path.join(ROOT, "core", "src"), copy)
        with open(os.path.join(copy, "close.rs"), "a", encoding="utf-8") as f:
            f.write("\nuse crate::port::MessagePort;\n")
        with open(os.devnull, "w") as quiet:
            saved, sys.stderr = sys.stderr, quiet
            try:
                caught = not check(copy)
            finally:
                sys.stderr = saved
        if not caught:
            print("self-test: a planted cycle (close.rs <-> port.rs) was not caught", file=sys.stderr)
            return False
    return True


if __name__ == "__main__":
    ok = check(os.path.join(ROOT, "core", "src"))
    if ok and "--self-test" in sys.argv:
        ok = self_test()
    print("core layers: " + ("no import cycle" if ok else "import cycles found"))
    sys.exit(0 if ok else 1)
