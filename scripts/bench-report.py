#!/usr/bin/env python3
"""The README's benchmark tables from the RESULT lines every benchmark prints.

    python3 scripts/bench-report.py target/bench/results.txt   # or several files, or stdin

A RESULT line (see scripts/bench-all.sh) is
``RESULT lang=<rust|python|node|go|server> lib=<...> regime=<...> alg=<...> value=<n> unit=<us|ns|per_s>``.
Ratios are peer ÷ authsec for times (above 1: authsec is faster) and authsec ÷ peer for rates,
and binding ÷ core for the bindings' own overhead; all from the same run.
"""

from __future__ import annotations

import sys
from collections import defaultdict
from typing import Dict, List, Optional, Tuple

ALGS = ("RS256", "ES256", "EdDSA")
Key = Tuple[str, str, str, str]  # lang, lib, regime, alg


def read(lines: List[str]) -> Dict[Key, float]:
    out: Dict[Key, float] = {}
    for line in lines:
        if not line.startswith("RESULT "):
            continue
        kv = dict(p.split("=", 1) for p in line.split()[1:] if "=" in p)
        value = float(kv["value"])
        unit = kv.get("unit", "us")
        if unit == "ns":
            value /= 1000.0
        out[(kv["lang"], kv["lib"], kv["regime"], kv.get("alg", "-"))] = value  # µs, or per second
    return out


def us(v: Optional[float]) -> str:
    if v is None:
        return "–"
    if v >= 100:
        return f"{v:.0f} µs"
    if v >= 1:
        return f"{v:.1f} µs"
    return f"{v * 1000:.0f} ns"


def ratio(theirs: Optional[float], ours: Optional[float]) -> str:
    if theirs is None or ours is None or ours == 0:
        return "–"
    return f"{theirs / ours:.2f}×"


# Each language's authsec entry points and peers, in table order: (lib, label).
LANGS = {
    "python": ("Python", [("authsec", "authsec")],
               [("pyjwt", "PyJWT"), ("pyjwt-jwkclient", "PyJWT + PyJWKClient"), ("joserfc", "joserfc"), ("authlib", "authlib.jose")]),
    "node": ("Node.js", [("authsec", "authsec `verify`"), ("authsec-sync", "authsec `verifySync`")],
             [("fast-jwt", "fast-jwt"), ("fast-jwt-cached", "fast-jwt, cache on"), ("jsonwebtoken", "jsonwebtoken"),
              ("jose", "jose")]),
    "go": ("Go", [("authsec", "authsec")], [("golang-jwt", "golang-jwt/v5"), ("jwx", "jwx/v3")]),
}


def main() -> None:
    files = sys.argv[1:]
    lines: List[str] = []
    if files:
        for f in files:
            with open(f, encoding="utf-8") as fh:
                lines += fh.read().splitlines()
    else:
        lines = sys.stdin.read().splitlines()
    r = read(lines)
    get = r.get

    # 1. Each binding's first-sight verify against the core's own native time on the same tokens.
    # A binding's benchmark that found bench-core built ran one of the core's rounds after each of
    # its own ("core-paired"): its ratio is against those, timed in the same minutes, and the cell
    # names that core time; otherwise against the core's own run (bench-core), another minute.
    print("**Each binding against the core** (first sight, one at a time, the same 2,000 tokens; "
          "binding ÷ core, the goal is at most 1.3×; \"core\" in a cell is the core's rounds run between "
          "that binding's own):\n")
    cols = [(lang, lib, label) for lang, (_, ours, _) in LANGS.items() for lib, label in ours]
    print("| alg | core (Rust), own run | " + " | ".join(f"{LANGS[l][0]} {label}" for l, _, label in cols) + " |")
    print("|---|---|" + "---|" * len(cols))
    for alg in ALGS:
        core = get(("rust", "authsec", "first", alg))
        cells = []
        for l, lib, _ in cols:
            ours, paired = get((l, lib, "first", alg)), get((l, "core-paired", "first", alg))
            if paired is not None:
                cells.append(f"{us(ours)} ({ratio(ours, paired)}; core {us(paired)})")
            else:
                cells.append(f"{us(ours)} ({ratio(ours, core)})")
        print(f"| {alg} | {us(core)} | " + " | ".join(cells) + " |")

    # 1b. The same with work in flight on both cores.
    conc = [("python", "authsec", "first_concurrent", "Python, 2 threads"),
            ("node", "authsec", "first_concurrent", "Node.js `verify`, 64 in flight"),
            ("go", "authsec", "first_concurrent", "Go, `RunParallel` (2 goroutines)"),
            ("go", "authsec", "first_server", "Go, 16 goroutines")]
    if any(get((l, lib, rg, a)) is not None for l, lib, rg, _ in conc for a in ALGS):
        print("\n**With work in flight** (first sight, per token, wall time ÷ tokens on the 2 cores; binding ÷ core):\n")
        print("| alg | core (Rust), 2 threads | " + " | ".join(label for _, _, _, label in conc) + " |")
        print("|---|---|" + "---|" * len(conc))
        for alg in ALGS:
            core = get(("rust", "authsec", "first_concurrent", alg))
            cells = [f"{us(get((l, lib, rg, alg)))} ({ratio(get((l, lib, rg, alg)), core)})" for l, lib, rg, _ in conc]
            print(f"| {alg} | {us(core)} | " + " | ".join(cells) + " |")

    # 1c. Go's cgo control: what the cgo boundary alone costs when every P is in a call.
    control = [(lib, label, get(("go", lib, "first", "-")), get(("go", lib, "first_concurrent", "-")))
               for lib, label in (("cgo-control", "C, through cgo"), ("go-control", "Go"))]
    if all(one is not None and every is not None for _, _, one, every in control):
        print("\n**Go's cgo boundary alone** (`bindings-go/internal/cgocontrol`: one multiply-add loop, as long "
              "as authsec's ES256 check in this run, with no authsec code; per call):\n")
        print("| loop | one at a time | every P (`RunParallel`) | speed-up |")
        print("|---|---|---|---|")
        for _, label, one, every in control:
            print(f"| {label} | {us(one)} | {us(every)} | {ratio(one, every)} |")

    # 2. Per language: authsec against its peers, per regime.
    for lang, (name, ours, peers) in LANGS.items():
        if not any(k[0] == lang for k in r):
            continue
        print(f"\n**{name}** (peer ÷ authsec; above 1 means authsec is faster):\n")
        libs = ours + peers
        print("| alg | regime | " + " | ".join(label for _, label in libs) + " | slowest peer ÷ fastest authsec |")
        print("|---|---|" + "---|" * (len(libs) + 1))
        for regime, regime_label in (("first", "first sight"), ("first_concurrent", "first sight, concurrent"),
                                     ("first_server", "first sight, 16 goroutines"), ("repeated", "repeated")):
            for alg in ALGS:
                vals = {lib: get((lang, lib, regime, alg)) for lib, _ in libs}
                if all(v is None for v in vals.values()):
                    continue
                best_ours = min((vals[lib] for lib, _ in ours if vals[lib] is not None), default=None)
                peer_vals = [vals[lib] for lib, _ in peers if vals[lib] is not None]
                fastest_peer = min(peer_vals, default=None)
                print(f"| {alg} | {regime_label} | " + " | ".join(us(vals[lib]) for lib, _ in libs)
                      + f" | {ratio(fastest_peer, best_ours)} |")

    # 3. Cached client-credentials token.
    cached = defaultdict(dict)
    for (lang, lib, regime, _), v in r.items():
        if regime == "cached_token":
            cached[lang][lib] = v
    if cached:
        print("\n**A cached token** (`get_token()` / `getToken()` / `Token(ctx)`):\n")
        print("| language | authsec | peers |")
        print("|---|---|---|")
        for lang in ("python", "node", "go"):
            if lang not in cached:
                continue
            ours = cached[lang].get("authsec")
            peers = ", ".join(f"{lib} {us(v)} ({ratio(v, ours)})" for lib, v in sorted(cached[lang].items()) if lib != "authsec")
            print(f"| {LANGS[lang][0]} | {us(ours)} | {peers or '–'} |")

    # 4. The local authorization server against oidc-provider.
    server = {(lib, alg): v for (lang, lib, regime, alg), v in r.items() if lang == "server" and regime == "tokens_per_s"}
    if server:
        print("\n**Local authorization server** (client-credentials tokens per second, wrk; authsec ÷ oidc-provider):\n")
        print("| alg | authsec | oidc-provider | ratio |")
        print("|---|---|---|---|")
        for alg in ALGS:
            a, o = server.get(("authsec", alg)), server.get(("oidc-provider", alg))
            if a is None and o is None:
                continue
            fa = f"{a:,.0f}/s" if a is not None else "–"
            fo = f"{o:,.0f}/s" if o is not None else "–"
            print(f"| {alg} | {fa} | {fo} | {ratio(a, o)} |")


if __name__ == "__main__":
    main()
