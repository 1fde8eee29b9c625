#!/usr/bin/env python3
"""The documentation check (`make test-docs`): the project's docs stand alone and match the tests.

It fails when
  * a requirement id cited anywhere in the sources (a test name such as `r_ch_26_...` or
    `test_r_win_16_...`, or a comment such as `R-CH-26`, `R-CH-13..24`, `R-SC-10/14`) is not a row
    of docs/requirements.md, or a row is defined twice;
  * a relative link in README.md, CHANGELOG.md, docs/**/*.md or a path named in a comment of
    include/webmessaging.h does not resolve: the file must exist inside the repository and an
    `#anchor` must be a heading (or an explicit anchor) of the target Markdown file;
  * any of those files points outside the repository (`../shared/...`, the old design notes);
  * a catalogue row has no known status, or says **tested** while no test file cites the id;
  * a worked example in docs/wire-format.md disagrees with tests/vectors/v8-vectors.json.

`--self-test` copies the documents to a scratch tree, plants one defect at a time (a broken link,
a broken anchor, an unknown id in a test name and in a comment, a pointer into ../shared, a wrong
example) and fails unless each plant is caught. `--citations` prints, for every cited id, the
tests that cite it (to refresh the catalogue's test column). `--code` applies the same rules to
comments in the code (not part of `make test`: those files belong to other areas).

Needs only python3. Prints one line per failure and a closing line `N passed, M failed`.
"""

import argparse
import json
import os
import re
import shutil
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

SKIP_DIRS = {".git", "target", "node_modules", "build", "__pycache__", ".venv", "venv", "dist",
             ".pytest_cache", ".mypy_cache"}
SOURCE_EXTS = {".rs", ".c", ".h", ".py", ".pyi", ".js", ".mjs", ".cjs", ".ts", ".md", ".toml",
               ".mk", ".sh", ".txt", ".supp"}
SOURCE_NAMES = {"Makefile"}
# The golden vectors are data; this checker names ids only as examples and plants.
SCAN_SKIP_FILES = {"tests/vectors/v8-vectors.json", "tests/docs/check_docs.py"}

# R-CH-26, R-CH-13..24, R-CH-13–24, R-SC-10/14, R-EV-3/4/5
COMMENT_ID = re.compile(r"(?<![A-Za-z0-9])R-([A-Z]{2,4})-(\d+)((?:(?:\.\.|–|/)\d+)*)")
# r_ch_26_backlog..., test_r_win_3_4_12_13_target...
NAME_ID = re.compile(r"^(?:test_)?r_([a-z]{2,4})_(\d+(?:_(?:and_)?\d+)*)(?:_|$)")
STATUSES = ("tested", "implemented", "partly", "differs", "not implemented", "not applicable")
CATALOGUE_ROW = re.compile(r"^\|\s*(R-[A-Z]{2,4}-\d+)\s*\|")

DEF_PATTERNS = {
    ".rs": re.compile(r"^\s*(?:pub(?:\([^)]*\))?\s+)?(?:async\s+)?fn\s+(\w+)"),
    ".c": re.compile(r"^\s*(?:static\s+)?(?:void|int)\s+(\w+)\s*\("),
    ".py": re.compile(r"^\s*(?:async\s+)?def\s+(\w+)"),
    ".js": re.compile(r"""^\s*(?:test|it|describe)\(\s*(['"`])(.+?)\1"""),
    ".mjs": re.compile(r"""^\s*(?:test|it|describe)\(\s*(['"`])(.+?)\1"""),
}

# Anything in the checked documents that points at material outside the repository.
OUTSIDE = re.compile(r"\.\./shared|/work/shared|shared/(?:spec|design)/|ARCHITECTURE(?:\.md)?\s*§"
                     r"|ARCHITECTURE\.md|CONVENTIONS\.md|spec/web-messaging\.md|spec/wire-format\.md")

# Paths named in the header's comments, relative to the repository root.
HEADER_PATH = re.compile(r"(?<![A-Za-z0-9_/.-])((?:docs|tests|examples|include|bindings|core|ffi|mk)"
                         r"/[A-Za-z0-9_./-]*[A-Za-z0-9_/]|README\.md|CHANGELOG\.md)(#[A-Za-z0-9_-]+)?")

MD_LINK = re.compile(r"!?\[(?:[^\[\]]|\[[^\]]*\])*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
MD_REF_DEF = re.compile(r"^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)")
HTML_ANCHOR = re.compile(r"<a\s+(?:id|name)=\"([^\"]+)\"")


class Report:
    def __init__(self, quiet=False):
        self.passed = 0
        self.failures = []
        self.quiet = quiet

    def ok(self):
        self.passed += 1

    def fail(self, where, what):
        self.failures.append(f"{where}: {what}")

    def note(self, text):
        if not self.quiet:
            print(text)


def rel(root, path):
    return os.path.relpath(path, root).replace(os.sep, "/")


def walk_sources(root):
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d not in SKIP_DIRS and not d.startswith("."))
        for name in sorted(filenames):
            path = os.path.join(dirpath, name)
            ext = os.path.splitext(name)[1]
            if ext not in SOURCE_EXTS and name not in SOURCE_NAMES:
                continue
            if rel(root, path) in SCAN_SKIP_FILES:
                continue
            yield path


def read_text(path):
    with open(path, encoding="utf-8", errors="replace") as f:
        return f.read()


def expand_comment_id(m):
    family, first, rest = m.group(1), int(m.group(2)), m.group(3)
    ids = [first]
    for sep, num in re.findall(r"(\.\.|–|/)(\d+)", rest):
        n = int(num)
        if sep == "/":
            ids.append(n)
        else:  # a range: R-CH-13..24
            lo = ids[-1]
            ids.extend(range(lo + 1, n + 1) if n > lo else [n])
    return [f"R-{family}-{i}" for i in ids]


def name_ids(name):
    m = NAME_ID.match(name)
    if not m:
        return []
    numbers = [n for n in m.group(2).split("_") if n != "and"]
    return [f"R-{m.group(1).upper()}-{int(n)}" for n in numbers]


def is_test_file(relpath):
    parts = relpath.split("/")
    return "tests" in parts[:-1] or parts[-1].startswith("test_") or ".test." in parts[-1]


def collect_citations(root):
    """Maps every cited id to {(file, test or None, line)}."""
    cited = {}
    for path in walk_sources(root):
        relpath = rel(root, path)
        if relpath == "docs/requirements.md":
            continue  # the catalogue defines ids; it is checked for duplicates instead
        ext = os.path.splitext(path)[1]
        def_re = DEF_PATTERNS.get(".c" if ext == ".h" else ext)
        in_tests = is_test_file(relpath)
        current = None
        for lineno, line in enumerate(read_text(path).splitlines(), 1):
            if def_re:
                d = def_re.match(line)
                if d:
                    current = d.group(d.lastindex)
                    for rid in name_ids(current):
                        cited.setdefault(rid, set()).add((relpath, current, lineno))
            for m in COMMENT_ID.finditer(line):
                for rid in expand_comment_id(m):
                    test = current if in_tests else None
                    cited.setdefault(rid, set()).add((relpath, test, lineno))
    return cited


def catalogue_ids(root, report):
    path = os.path.join(root, "docs", "requirements.md")
    if not os.path.exists(path):
        report.fail("docs/requirements.md", "the requirement catalogue is missing")
        return set()
    ids = {}
    for lineno, line in enumerate(read_text(path).splitlines(), 1):
        m = CATALOGUE_ROW.match(line)
        if m:
            rid = m.group(1)
            if rid in ids:
                report.fail(f"docs/requirements.md:{lineno}",
                            f"{rid} is defined twice (first at line {ids[rid][0]})")
                continue
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            status = re.match(r"\*\*([a-z ]+)\*\*", cells[2]) if len(cells) > 2 else None
            if not status or status.group(1) not in STATUSES:
                report.fail(f"docs/requirements.md:{lineno}",
                            f"{rid}: the status must start with one of " + ", ".join(
                                f"**{s}**" for s in STATUSES))
            ids[rid] = (lineno, status.group(1) if status else None)
    return ids


def check_ids(root, report):
    defined = catalogue_ids(root, report)
    cited = collect_citations(root)
    for rid in sorted(cited, key=id_sort_key):
        if rid in defined:
            report.ok()
            continue
        where = sorted(cited[rid])[0]
        who = f" (in {where[1]})" if where[1] else ""
        report.fail(f"{where[0]}:{where[2]}",
                    f"requirement id {rid}{who} is not in docs/requirements.md")
    # "tested" is a claim the sources must back: some test file cites the id.
    in_tests = {rid for rid, refs in cited.items() if any(is_test_file(f) for f, _, _ in refs)}
    for rid, (lineno, status) in sorted(defined.items(), key=lambda kv: id_sort_key(kv[0])):
        if status != "tested":
            continue
        if rid in in_tests:
            report.ok()
        else:
            report.fail(f"docs/requirements.md:{lineno}",
                        f"{rid} is marked tested but no test names or mentions it")
    report.note(f"requirement ids: {len(cited)} cited in the sources, "
                f"{len(defined)} in the catalogue")


def id_sort_key(rid):
    _, family, num = rid.split("-")
    return (family, int(num))


# ---- links ----

def strip_code(text):
    """Blanks fenced code blocks and inline code spans, keeping line numbers."""
    out = []
    fence = None
    for line in text.splitlines():
        stripped = line.lstrip()
        if fence:
            if stripped.startswith(fence):
                fence = None
            out.append("")
            continue
        if stripped.startswith("```") or stripped.startswith("~~~"):
            fence = stripped[:3]
            out.append("")
            continue
        out.append(re.sub(r"(`+)(?:(?!\1).)+?\1", lambda m: " " * len(m.group(0)), line))
    return out


def slugify(heading):
    """GitHub's heading anchor: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # links keep their text
    text = re.sub(r"<[^>]+>", "", text)
    text = text.strip().lower()
    text = "".join(ch for ch in text if ch.isalnum() or ch in " -_")
    return text.replace(" ", "-")


def anchors_of(path, cache):
    if path in cache:
        return cache[path]
    anchors = set()
    counts = {}
    fence = None
    for line in read_text(path).splitlines():
        stripped = line.lstrip()
        if fence:
            if stripped.startswith(fence):
                fence = None
            continue
        if stripped.startswith("```") or stripped.startswith("~~~"):
            fence = stripped[:3]
            continue
        m = re.match(r"^(#{1,6})\s+(.*?)\s*#*\s*$", line)
        if m:
            slug = slugify(m.group(2))
            n = counts.get(slug, 0)
            counts[slug] = n + 1
            anchors.add(slug if n == 0 else f"{slug}-{n}")
        for a in HTML_ANCHOR.findall(line):
            anchors.add(a)
    cache[path] = anchors
    return anchors


def check_target(root, source, base_dir, target, where, report, cache):
    if re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*:", target):  # http:, https:, mailto:
        report.ok()
        return
    path_part, _, anchor = target.partition("#")
    resolved = source if path_part == "" else os.path.normpath(os.path.join(base_dir, path_part))
    inside = os.path.commonpath([os.path.abspath(root), os.path.abspath(resolved)]) == os.path.abspath(root)
    if not inside:
        report.fail(where, f"link {target!r} points outside the repository")
        return
    if not os.path.exists(resolved):
        report.fail(where, f"link {target!r}: {rel(root, resolved)} does not exist")
        return
    if anchor:
        if not resolved.endswith(".md") or os.path.isdir(resolved):
            report.fail(where, f"link {target!r}: an #anchor needs a Markdown file")
            return
        if anchor not in anchors_of(resolved, cache):
            report.fail(where, f"link {target!r}: no heading #{anchor} in {rel(root, resolved)}")
            return
    report.ok()


def checked_documents(root):
    docs = [os.path.join(root, "README.md"), os.path.join(root, "CHANGELOG.md")]
    docs_dir = os.path.join(root, "docs")
    for dirpath, dirnames, filenames in os.walk(docs_dir):
        dirnames.sort()
        docs.extend(os.path.join(dirpath, f) for f in sorted(filenames) if f.endswith(".md"))
    return docs


def check_links(root, report):
    cache = {}
    count = 0
    for path in checked_documents(root):
        name = rel(root, path)
        if not os.path.exists(path):
            report.fail(name, "missing")
            continue
        report.ok()
        text = read_text(path)
        for lineno, line in enumerate(text.splitlines(), 1):
            if OUTSIDE.search(line):
                report.fail(f"{name}:{lineno}", f"points outside the repository: {line.strip()[:100]}")
        for lineno, line in enumerate(strip_code(text), 1):
            targets = [m.group(1) for m in MD_LINK.finditer(line)]
            m = MD_REF_DEF.match(line)
            if m:
                targets.append(m.group(1))
            for target in targets:
                count += 1
                check_target(root, path, os.path.dirname(path), target, f"{name}:{lineno}",
                              report, cache)
    header = os.path.join(root, "include", "webmessaging.h")
    if os.path.exists(header):
        for lineno, line in enumerate(read_text(header).splitlines(), 1):
            if OUTSIDE.search(line):
                report.fail(f"include/webmessaging.h:{lineno}",
                            f"points outside the repository: {line.strip()[:100]}")
            for m in HEADER_PATH.finditer(line):
                count += 1
                check_target(root, header, root, m.group(1) + (m.group(2) or ""),
                             f"include/webmessaging.h:{lineno}", report, cache)
    report.note(f"links: {count} checked in README.md, CHANGELOG.md, docs/ and include/webmessaging.h")


# ---- worked examples of the wire format ----

EXAMPLE_ROW = re.compile(r"^\|\s*`([^`]+)`\s*\|\s*`([0-9a-f ]+)`\s*\|")


def check_examples(root, report):
    doc = os.path.join(root, "docs", "wire-format.md")
    vectors_path = os.path.join(root, "tests", "vectors", "v8-vectors.json")
    if not os.path.exists(doc) or not os.path.exists(vectors_path):
        report.fail("docs/wire-format.md", "the wire-format doc or tests/vectors/v8-vectors.json is missing")
        return
    with open(vectors_path, encoding="utf-8") as f:
        vectors = {v["name"]: v["hex"] for v in json.load(f)["vectors"]}
    n = 0
    for lineno, line in enumerate(read_text(doc).splitlines(), 1):
        m = EXAMPLE_ROW.match(line)
        if not m:
            continue
        n += 1
        name, shown = m.group(1), m.group(2).replace(" ", "")
        where = f"docs/wire-format.md:{lineno}"
        if name not in vectors:
            report.fail(where, f"example {name!r} is not a vector in tests/vectors/v8-vectors.json")
        elif vectors[name] != shown:
            report.fail(where, f"example {name!r} shows {shown}, the vector is {vectors[name]}")
        else:
            report.ok()
    if n == 0:
        report.fail("docs/wire-format.md", "no worked examples found (| `vector name` | `hex` | rows)")
    report.note(f"wire-format examples: {n} compared with the golden vectors")


def run_checks(root, quiet=False):
    report = Report(quiet)
    check_ids(root, report)
    check_links(root, report)
    check_examples(root, report)
    return report


# ---- self-test: the check must catch planted defects ----

PLANTS = [
    ("a broken link", "docs/architecture.md", "\nSee [nowhere](no-such-file.md).\n",
     "no-such-file.md"),
    ("a broken anchor", "README.md", "\nSee [the layout](#no-such-heading).\n",
     "#no-such-heading"),
    ("a link out of the repository", "CHANGELOG.md", "\nSee [x](../../outside.md).\n",
     "outside the repository"),
    ("a pointer into ../shared", "docs/wire-format.md", "\nAs ../shared/spec says.\n",
     "points outside the repository"),
    ("a broken path in the header", "include/webmessaging.h", "\n/* see docs/nothing-here.md */\n",
     "docs/nothing-here.md"),
    ("an unknown id in a test name", "tests/planted/test_planted.py",
     "def test_r_ch_999_planted():\n    pass\n", "R-CH-999"),
    ("an unknown id in a test comment", "tests/planted/planted.rs",
     "#[test]\nfn planted() {\n    // R-ZZ-7: planted\n}\n", "R-ZZ-7"),
    ("a wrong worked example", "docs/wire-format.md", "\n| `null` | `ff 0f 31` |\n",
     "example 'null'"),
    ("a tested claim no test backs", "docs/requirements.md",
     "\n| R-XX-1 | planted | **tested** | — |\n", "R-XX-1 is marked tested"),
    ("a row without a status", "docs/requirements.md", "\n| R-XX-2 | planted | maybe | — |\n",
     "R-XX-2: the status"),
]


def self_test(report):
    with tempfile.TemporaryDirectory() as scratch:
        for item in ["README.md", "CHANGELOG.md", "docs", "include", "core/tests", "tests"]:
            src = os.path.join(ROOT, item)
            dst = os.path.join(scratch, item)
            if os.path.isdir(src):
                shutil.copytree(src, dst, ignore=shutil.ignore_patterns(*SKIP_DIRS))
            elif os.path.exists(src):
                os.makedirs(os.path.dirname(dst), exist_ok=True)
                shutil.copy2(src, dst)
        # Whatever the header names must exist in the copy too (an empty stand-in will do).
        for m in HEADER_PATH.finditer(read_text(os.path.join(ROOT, "include", "webmessaging.h"))):
            src, dst = os.path.join(ROOT, m.group(1)), os.path.join(scratch, m.group(1))
            if os.path.isdir(src):
                os.makedirs(dst, exist_ok=True)
            elif os.path.exists(src) and not os.path.exists(dst):
                os.makedirs(os.path.dirname(dst), exist_ok=True)
                shutil.copy2(src, dst)
        clean = run_checks(scratch, quiet=True)
        if clean.failures:
            report.fail("self-test", "the unplanted copy does not pass: " + clean.failures[0])
            return
        for what, relpath, text, expect in PLANTS:
            path = os.path.join(scratch, relpath)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            before = read_text(path) if os.path.exists(path) else None
            with open(path, "a", encoding="utf-8") as f:
                f.write(text)
            planted = run_checks(scratch, quiet=True)
            if before is None:
                os.remove(path)
            else:
                with open(path, "w", encoding="utf-8") as f:
                    f.write(before)
            if any(expect in failure for failure in planted.failures):
                report.ok()
            else:
                report.fail("self-test", f"{what} in {relpath} was not caught")
    report.note(f"self-test: {len(PLANTS)} planted defects")


CODE_DOC_PATH = re.compile(r"(?<![A-Za-z0-9_/.-])(docs/[A-Za-z0-9_./-]*[A-Za-z0-9_])(#[A-Za-z0-9_-]+)?")
# Section numbers of the old design notes ("wire-format doc §7.3", "ARCHITECTURE §2").
CODE_OUTSIDE = re.compile(OUTSIDE.pattern + r"|wire-format doc §|HTML §|\bspec\b §")


def check_code(root, report):
    """The same rules for comments in the code (not part of `make test` yet: other areas own
    those files). Lists pointers outside the repository and docs/ paths that do not exist."""
    cache = {}
    for path in walk_sources(root):
        name = rel(root, path)
        if name.endswith(".md") or name == "include/webmessaging.h":
            continue  # checked by check_links
        for lineno, line in enumerate(read_text(path).splitlines(), 1):
            if CODE_OUTSIDE.search(line):
                report.fail(f"{name}:{lineno}", f"points outside the repository: {line.strip()[:90]}")
            for m in CODE_DOC_PATH.finditer(line):
                check_target(root, path, root, m.group(1) + (m.group(2) or ""), f"{name}:{lineno}",
                             report, cache)


def print_citations(root):
    cited = collect_citations(root)
    for rid in sorted(cited, key=id_sort_key):
        tests = sorted({(f, t) for f, t, _ in cited[rid] if t and is_test_file(f)})
        print(rid + "\t" + "; ".join(f"{f}::{t}" for f, t in tests))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--self-test", action="store_true",
                        help="also check that planted defects are caught")
    parser.add_argument("--code", action="store_true",
                        help="check comments in the code instead of the documents")
    parser.add_argument("--citations", action="store_true",
                        help="print each cited id with the tests that cite it, and exit")
    args = parser.parse_args()
    if args.citations:
        print_citations(ROOT)
        return 0
    if args.code:
        report = Report()
        check_code(ROOT, report)
    else:
        report = run_checks(ROOT)
    if args.self_test:
        self_test(report)
    for failure in report.failures:
        print("FAIL " + failure)
    print(f"docs check: {report.passed} passed, {len(report.failures)} failed")
    return 1 if report.failures else 0


if __name__ == "__main__":
    sys.exit(main())
