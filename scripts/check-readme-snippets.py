#!/usr/bin/env python3
"""Keep the code blocks of the READMEs equal to the examples they come from.

A fenced code block preceded (on the line right before its opening fence) by

    <!-- snippet: examples/python/get_token.py#get_token -->

must be byte-identical to the region of that file between the lines holding `[START get_token]`
and `[END get_token]` (in whatever comment syntax: `# [START x]`, `// [START x]`). The region is
taken without its marker lines, dedented by its common indentation, without leading and trailing
blank lines, and without lines holding other regions' markers. Paths are relative to the
repository root.

    scripts/check-readme-snippets.py                 check every *.md of the repository
    scripts/check-readme-snippets.py FILE.md ...     check these files
    scripts/check-readme-snippets.py --write [...]   rewrite stale blocks from the sources
    scripts/check-readme-snippets.py --self-test     check the checker on a temporary README

Prints `readme snippets: N passed, M failed` last; exits 1 when a block is stale or a marker
names a missing file or region.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import tempfile
from pathlib import Path
from typing import List, Optional, Tuple

ROOT = Path(__file__).resolve().parent.parent
SKIP_DIRS = {".git", "node_modules", "target", "__pycache__", ".venv", "venv"}

MARKER = re.compile(r"^\s*<!--\s*snippet:\s*(?P<path>[^#\s]+)#(?P<region>[\w.-]+)\s*-->\s*$")
FENCE = re.compile(r"^(?P<indent> {0,3})(?P<fence>`{3,}|~{3,})(?P<info>.*)$")
REGION_MARK = re.compile(r"\[(START|END) [\w.-]+\]")


class SnippetError(Exception):
    pass


def region(path: Path, name: str) -> str:
    """The text of region `name` of the file at `path` (see the module docstring)."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as e:
        raise SnippetError(f"cannot read {path}: {e.strerror}") from None
    start = [i for i, line in enumerate(lines) if f"[START {name}]" in line]
    end = [i for i, line in enumerate(lines) if f"[END {name}]" in line]
    if len(start) != 1 or len(end) != 1 or end[0] <= start[0]:
        raise SnippetError(
            f"{path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}: "
            f"expected one [START {name}] followed by one [END {name}] "
            f"(found {len(start)} START, {len(end)} END)"
        )
    body = [line for line in lines[start[0] + 1 : end[0]] if not REGION_MARK.search(line)]
    while body and not body[0].strip():
        body.pop(0)
    while body and not body[-1].strip():
        body.pop()
    indents = [len(line) - len(line.lstrip()) for line in body if line.strip()]
    cut = min(indents, default=0)
    return "".join(line[cut:].rstrip() + "\n" for line in body)


Block = Tuple[int, str, str, int, int]  # marker line, source path, region, first body line, fence-closing line


def blocks(lines: List[str], md: Path) -> Tuple[List[Block], List[str]]:
    """The marked blocks of a Markdown file's lines, and problems with the markers."""
    found: List[Block] = []
    problems: List[str] = []
    i = 0
    while i < len(lines):
        m = MARKER.match(lines[i])
        if not m:
            i += 1
            continue
        open_line = i + 1
        f = FENCE.match(lines[open_line]) if open_line < len(lines) else None
        if not f:
            problems.append(f"{md}:{i + 1}: a snippet marker must be followed directly by a fenced code block")
            i += 1
            continue
        fence = f.group("fence")
        close = open_line + 1
        closing = re.compile(r"^ {0,3}" + re.escape(fence[0]) + "{" + str(len(fence)) + r",}\s*$")
        while close < len(lines) and not closing.match(lines[close]):
            close += 1
        if close >= len(lines):
            problems.append(f"{md}:{open_line + 1}: the code block is not closed")
            break
        found.append((i, m.group("path"), m.group("region"), open_line + 1, close))
        i = close + 1
    return found, problems


def check_file(md: Path, write: bool) -> Tuple[int, List[str]]:
    """Check (or rewrite) one Markdown file: (blocks that are right, problems)."""
    text = md.read_text(encoding="utf-8")
    lines = text.splitlines(keepends=True)
    stripped = [line.rstrip("\r\n") for line in lines]
    found, problems = blocks(stripped, md)
    good = 0
    replacements: List[Tuple[int, int, str]] = []
    for marker, src, name, first, close in found:
        try:
            want = region(ROOT / src, name)
        except SnippetError as e:
            problems.append(f"{md}:{marker + 1}: {e}")
            continue
        have = "".join(lines[first:close])
        if have == want:
            good += 1
        elif write:
            replacements.append((first, close, want))
            good += 1
            print(f"{md}:{marker + 1}: rewrote the block from {src}#{name}")
        else:
            problems.append(f"{md}:{marker + 1}: the block differs from {src}#{name}:\n{diff(want, have)}")
    if replacements:
        for first, close, want in reversed(replacements):
            lines[first:close] = [want]
        md.write_text("".join(lines), encoding="utf-8")
    return good, problems


def diff(want: str, have: str) -> str:
    import difflib

    out = difflib.unified_diff(
        want.splitlines(), have.splitlines(), "source region", "README block", lineterm="", n=1
    )
    return "\n".join("    " + line for line in out)


def markdown_files() -> List[Path]:
    found = []
    for dirpath, dirnames, filenames in os.walk(ROOT):
        dirnames[:] = sorted(d for d in dirnames if d not in SKIP_DIRS)
        found += [Path(dirpath) / f for f in sorted(filenames) if f.endswith(".md")]
    return found


def run(files: List[Path], write: bool) -> int:
    passed, failed = 0, 0
    for md in files:
        good, problems = check_file(md, write)
        passed += good
        failed += len(problems)
        for p in problems:
            print(p)
    print(f"readme snippets: {passed} passed, {failed} failed")
    return 1 if failed else 0


def self_test() -> int:
    """A temporary README with one block per region of the examples: it must pass; a changed
    line, a missing region and a marker without a block must fail; --write must repair it."""
    sources = [
        p
        for lang in ("python", "node", "go")
        for p in sorted((ROOT / "examples" / lang).rglob("*"))
        if p.is_file() and "node_modules" not in p.parts and p.suffix in (".py", ".mjs", ".go")
    ]
    doc: List[str] = ["# test\n"]
    count = 0
    for p in sources:
        for name in sorted(set(re.findall(r"\[START ([\w.-]+)\]", p.read_text(encoding="utf-8")))):
            lang = {".py": "python", ".mjs": "js", ".go": "go"}[p.suffix]
            rel = p.relative_to(ROOT).as_posix()
            doc += ["\n", f"<!-- snippet: {rel}#{name} -->\n", f"```{lang}\n", region(p, name), "```\n"]
            count += 1
    if count == 0:
        print("self-test: no regions found in examples/")
        return 1
    ok = True

    def expect(label: str, files: List[Path], write: bool, want_failed: int) -> None:
        nonlocal ok
        results = [check_file(f, write) for f in files]
        got = sum(len(problems) for _, problems in results)
        fine = got == want_failed
        ok &= fine
        print(f"self-test: {label}: {got} failed (expected {want_failed}) {'ok' if fine else 'WRONG'}")

    with tempfile.TemporaryDirectory() as tmp:
        md = Path(tmp) / "README.md"
        md.write_text("".join(doc), encoding="utf-8")
        expect(f"{count} blocks copied from the sources", [md], False, 0)
        text = md.read_text(encoding="utf-8")
        stale = text.replace("\n```\n", "\n    # a line the source does not have\n```\n", 1)
        md.write_text(stale, encoding="utf-8")
        expect("one block with an extra line", [md], False, 1)
        expect("--write", [md], True, 0)
        expect("after --write", [md], False, 0)
        ok &= md.read_text(encoding="utf-8") == text
        bad = Path(tmp) / "BAD.md"
        bad.write_text(
            "<!-- snippet: examples/python/get_token.py#no_such_region -->\n```python\nx\n```\n"
            "<!-- snippet: examples/no/such/file.py#get_token -->\n```python\nx\n```\n"
            "<!-- snippet: examples/python/get_token.py#get_token -->\n\nnot a code block\n",
            encoding="utf-8",
        )
        expect("unknown region, missing file, marker without a block", [bad], False, 3)
    print(f"self-test: {'passed' if ok else 'FAILED'}")
    return 0 if ok else 1


def main(argv: Optional[List[str]] = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("files", nargs="*", type=Path, help="Markdown files (default: every *.md of the repository)")
    ap.add_argument("--write", action="store_true", help="rewrite stale blocks from their sources")
    ap.add_argument("--self-test", action="store_true", help="check the checker itself")
    args = ap.parse_args(argv)
    if args.self_test:
        return self_test()
    return run(args.files or markdown_files(), args.write)


if __name__ == "__main__":
    sys.exit(main())
