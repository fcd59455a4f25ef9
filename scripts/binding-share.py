#!/usr/bin/env python3
"""How big each binding's Rust layer is next to the core: the lines of Rust under each binding's
folder and under core/src, without `#[cfg(test)]` modules. Issue 13's target: each binding at most
15 % of the core. Prints one line per binding; with --check, exits 1 above the limit."""
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BINDINGS = ["bindings-python", "bindings-node", "bindings-go", "wasm"]
LIMIT = 0.15


def lines_without_tests(path):
    lines = open(path, encoding="utf-8").read().split("\n")
    kept, i = 0, 0
    while i < len(lines):
        if lines[i].strip() == "#[cfg(test)]":
            depth, started, j = 0, False, i + 1
            while j < len(lines):
                depth += lines[j].count("{") - lines[j].count("}")
                started = started or "{" in lines[j]
                j += 1
                if started and depth <= 0:
                    break
            i = j
            continue
        kept += 1
        i += 1
    return kept


def rust_lines(folder):
    total = 0
    for root, dirs, files in os.walk(os.path.join(ROOT, folder)):
        dirs[:] = [d for d in dirs if d not in ("target", "node_modules", "tests")]
        total += sum(lines_without_tests(os.path.join(root, f)) for f in files if f.endswith(".rs"))
    return total


def main():
    core = rust_lines("core/src")
    print(f"core/src: {core} lines (without #[cfg(test)] modules)")
    over = False
    for b in BINDINGS:
        n = rust_lines(b)
        share = n / core
        over |= share > LIMIT
        print(f"{b}: {n} lines, {share:.1%} of the core{'  OVER ' + format(LIMIT, '.0%') if share > LIMIT else ''}")
    if "--check" in sys.argv and over:
        sys.exit(1)


if __name__ == "__main__":
    main()
