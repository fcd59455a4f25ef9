#!/usr/bin/env python3
"""Compares the outcome files the vector tests wrote with the vectors and with each other.

    tests/conformance/compare.py [--vectors DIR] [--corrupt SPEC]... OUT/rust.json OUT/python.json ...

Every runtime's outcome for every case of tests/vectors/verify_*.json (and of dpop_requests.json,
whose outcome is the list of its requests' outcomes, and of jwt_svid.json, whose outcome is the
verified SVID or an error) must equal the vector's
expected outcome (claims deep-equal, numbers compared numerically; the delegation chain equal;
error code equal; missing_scopes equal when the vector gives them) AND the outcomes of all runtimes must equal each
other (here missing_scopes always count). Prints every disagreement, a table (runtime -> cases
matched) and finally `conformance: N cases x R runtimes, D disagreements`; exits 1 when D > 0.

A disagreement is one (case, runtime) cell that misses the expected outcome, differs from the
other runtimes' consensus, or is absent. The consensus of a case is the largest group of runtimes
with equal outcomes, preferring a group that matches the vector.

--corrupt WHO:CASE:KIND (self-test only; repeatable) mutates the loaded data before comparing, to
prove the comparison bites. WHO is a runtime or `expect` (the vector's expected outcome); CASE is a
case id (`<file>#<name>`), or `first-claims` / `first-error` / `first-delegation` / `first-requests` for the first
such case; KIND is `value` (a claim value, the error code, or a request outcome's dpop_nonce changes), `missing_scopes` (a scope
is added to an error's missing_scopes), `delegation` (an actor is added to the chain) or `drop`
(the case's outcome disappears).
"""

from __future__ import annotations

import argparse
import copy
import json
import sys
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

ROOT = Path(__file__).resolve().parents[2]
KINDS = ("value", "missing_scopes", "delegation", "drop")
MAX_LINES_PER_RUNTIME = 25


def same(a: Any, b: Any) -> bool:
    """JSON equality: numbers compare numerically (1 == 1.0), booleans are not numbers, key order
    is irrelevant, list order is not."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return a == b
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    return type(a) is type(b) and a == b


def show(v: Any) -> str:
    text = json.dumps(v, sort_keys=True)
    return text if len(text) <= 120 else text[:117] + "..."


def diff(a: Any, b: Any, path: str = "") -> List[str]:
    """Where a and b differ, as `path: a vs b` lines (`<absent>` for a missing key)."""
    if same(a, b):
        return []
    if isinstance(a, dict) and isinstance(b, dict):
        out: List[str] = []
        for k in sorted(set(a) | set(b)):
            p = f"{path}.{k}" if path else k
            if k not in a:
                out.append(f"{p}: <absent> vs {show(b[k])}")
            elif k not in b:
                out.append(f"{p}: {show(a[k])} vs <absent>")
            else:
                out.extend(diff(a[k], b[k], p))
        return out
    return [f"{path or 'value'}: {show(a)} vs {show(b)}"]


def normalize(o: Any) -> Tuple[Optional[Dict[str, Any]], Optional[str]]:
    """An outcome as {"claims": ..., "delegation": [...]} or {"error": ..., "missing_scopes": [...]},
    or a problem. Every runtime reports the delegation chain of a verified token (empty when nobody
    acts for its subject)."""
    if not isinstance(o, dict):
        return None, f"not an object: {show(o)}"
    if "claims" in o and set(o) == {"claims", "delegation"} and isinstance(o["claims"], dict):
        if isinstance(o["delegation"], list):
            return {"claims": o["claims"], "delegation": o["delegation"]}, None
    if set(o) == {"requests"} and isinstance(o["requests"], list) and all(isinstance(r, dict) for r in o["requests"]):
        return {"requests": o["requests"]}, None
    if set(o) == {"svid"} and isinstance(o["svid"], dict):
        return {"svid": o["svid"]}, None
    if "error" in o and set(o) <= {"error", "missing_scopes"} and isinstance(o["error"], str):
        missing = o.get("missing_scopes", [])
        if isinstance(missing, list):
            return {"error": o["error"], "missing_scopes": missing}, None
    return None, f"malformed outcome {show(o)}"


def describe(o: Dict[str, Any]) -> str:
    if "claims" in o:
        return "claims"
    if "requests" in o:
        return "requests"
    if "svid" in o:
        return "svid"
    return f"error {o['error']}" + (f" missing_scopes {show(o['missing_scopes'])}" if o["missing_scopes"] else "")


def versus(a: Dict[str, Any], b: Dict[str, Any], strict_missing: bool = True) -> Optional[str]:
    """None when a meets b, else what differs, a's value first. With strict_missing false (b is a
    vector's expectation), missing_scopes count only when b gives them. A dpop_requests.json case's
    outcome is its requests' outcomes, compared whole."""
    if ("requests" in a) or ("requests" in b):
        if ("requests" in a) != ("requests" in b):
            return f"{describe(a)} vs {describe(b)}"
        return "; ".join(diff(a["requests"], b["requests"], "requests")) or None
    if ("svid" in a) or ("svid" in b):
        if ("svid" in a) != ("svid" in b):
            return f"{describe(a)} vs {describe(b)}"
        return "; ".join(diff(a["svid"], b["svid"], "svid")) or None
    if ("claims" in a) != ("claims" in b):
        return f"{describe(a)} vs {describe(b) if strict_missing or 'claims' in b else 'error ' + b['error']}"
    if "claims" in a:
        out = diff(a["claims"], b["claims"], "claims")
        if (strict_missing or "delegation" in b) and not same(a["delegation"], b.get("delegation")):
            out.append(f"delegation: {show(a['delegation'])} vs {show(b.get('delegation'))}")
        return "; ".join(out) or None
    out = []
    if a["error"] != b["error"]:
        out.append(f"error: {a['error']} vs {b['error']}")
    if (strict_missing or "missing_scopes" in b) and not same(a["missing_scopes"], b.get("missing_scopes")):
        out.append(f"missing_scopes: {show(a['missing_scopes'])} vs {show(b.get('missing_scopes'))}")
    return "; ".join(out) or None


def load_vectors(dir: Path) -> Dict[str, Dict[str, Any]]:
    cases: Dict[str, Dict[str, Any]] = {}
    for path in sorted(dir.glob("verify_*.json")):
        for c in json.loads(path.read_text())["cases"]:
            cases[f"{path.name}#{c['name']}"] = c["expect"]
    requests = dir / "dpop_requests.json"
    if requests.exists():
        for c in json.loads(requests.read_text())["cases"]:
            cases[f"{requests.name}#{c['name']}"] = {"requests": [r["expect"] for r in c["requests"]]}
    svids = dir / "jwt_svid.json"
    if svids.exists():
        for c in json.loads(svids.read_text())["cases"]:
            cases[f"{svids.name}#{c['name']}"] = c["expect"]
    if not cases:
        raise SystemExit(f"compare: no cases in {dir}/verify_*.json")
    return cases


def corrupt(spec: str, expected: Dict[str, Any], runs: Dict[str, Dict[str, Any]]) -> str:
    who, _, rest = spec.partition(":")
    case, _, kind = rest.rpartition(":")
    if kind not in KINDS or not case:
        raise SystemExit(f"compare: bad --corrupt {spec!r} (WHO:CASE:KIND, KIND one of {KINDS})")
    if case in ("first-claims", "first-error", "first-delegation", "first-requests"):
        want = case.split("-")[1]
        case = next(cid for cid, e in expected.items() if e.get(want))
    if who == "expect":
        table = expected
    elif who in runs:
        table = runs[who]["outcomes"]
    else:
        raise SystemExit(f"compare: --corrupt: no runtime {who!r}")
    if case not in table:
        raise SystemExit(f"compare: --corrupt: {who} has no case {case!r}")
    o = table[case]
    if kind == "drop":
        del table[case]
    elif kind == "missing_scopes":
        o.setdefault("missing_scopes", []).append("corrupted:scope")
    elif kind == "delegation":
        o.setdefault("delegation", []).append({"sub": "corrupted-actor"})
    elif "requests" in o:
        o["requests"][-1]["dpop_nonce"] = not o["requests"][-1].get("dpop_nonce")
    elif "svid" in o:
        o["svid"]["expires_at"] = o["svid"]["expires_at"] + 1
    elif "claims" in o:
        claims = o["claims"]
        key = "exp" if "exp" in claims else sorted(claims)[0]
        v = claims[key]
        claims[key] = v + 1 if isinstance(v, (int, float)) and not isinstance(v, bool) else f"{v}-corrupted"
    else:
        o["error"] = "token_expired" if o["error"] != "token_expired" else "invalid_signature"
    return f"{who}:{case}:{kind}"


def compare(expected: Dict[str, Any], runs: Dict[str, Dict[str, Any]], runtimes: List[str], out=print) -> int:
    """Prints the report; returns the number of disagreements."""
    bad: Dict[Tuple[str, str], List[str]] = {}  # (case, runtime) -> reasons
    problems: List[str] = []
    for rt in runtimes:
        if rt not in runs:
            continue  # every case counts below, as "no outcome"
        doc = runs[rt]
        if doc.get("runtime") != rt:
            problems.append(f"{rt}: the file names runtime {doc.get('runtime')!r}")
        extra = sorted(set(doc["outcomes"]) - set(expected))
        for cid in extra:
            problems.append(f"{rt}: outcome for {cid}, which is not a vector case")
    for cid, expect in expected.items():
        got: Dict[str, Dict[str, Any]] = {}
        for rt in runtimes:
            if rt not in runs:
                bad[(cid, rt)] = [f"{rt}: no outcome"]
                continue
            raw = runs[rt]["outcomes"].get(cid)
            if raw is None:
                bad[(cid, rt)] = [f"{rt}: no outcome"]
                continue
            o, problem = normalize(raw)
            if problem:
                bad[(cid, rt)] = [f"{rt}: {problem}"]
                continue
            got[rt] = o  # type: ignore[assignment]
            miss = versus(o, expect, strict_missing=False)  # type: ignore[arg-type]
            if miss:
                bad.setdefault((cid, rt), []).append(f"{rt} vs expected: {miss}")
        # Inter-runtime agreement: group equal outcomes; the consensus is the largest group,
        # preferring one that meets the vector.
        groups: List[List[str]] = []
        for rt, o in got.items():
            for g in groups:
                if same(got[g[0]], o):
                    g.append(rt)
                    break
            else:
                groups.append([rt])
        if len(groups) > 1:
            groups.sort(key=lambda g: (versus(got[g[0]], expect, strict_missing=False) is not None, -len(g)))
            ref = groups[0]
            for g in groups[1:]:
                for rt in g:
                    bad.setdefault((cid, rt), []).append(f"{rt} vs {ref[0]}: {versus(got[rt], got[ref[0]])}")
    # Report.
    per_rt: Dict[str, List[str]] = {rt: [] for rt in runtimes}
    for (cid, rt), reasons in bad.items():
        per_rt[rt].append(f"  {cid}: " + " | ".join(reasons))
    for p in problems:
        out(f"PROBLEM {p}")
    for rt in runtimes:
        lines = per_rt[rt]
        if rt not in runs and lines:
            out(f"DISAGREE {rt}: no outcomes for any of the {len(expected)} cases")
            continue
        for line in lines[:MAX_LINES_PER_RUNTIME]:
            out("DISAGREE" + line[1:])  # "DISAGREE <case>: A vs B: what: A's vs B's"
        if len(lines) > MAX_LINES_PER_RUNTIME:
            out(f"DISAGREE   ... and {len(lines) - MAX_LINES_PER_RUNTIME} more for {rt}")
    n = len(expected)
    out("")
    out(f"{'runtime':<8} {'cases matched':>14}  version")
    for rt in runtimes:
        matched = n - len(per_rt[rt])
        version = runs[rt].get("version", "?") if rt in runs else "(no outcomes)"
        out(f"{rt:<8} {f'{matched}/{n}':>14}  {version}")
    for rt in runtimes:
        for note in (runs.get(rt) or {}).get("notes") or []:
            out(f"note ({rt}): {note}")
    d = len(bad) + len(problems)
    out(f"conformance: {n} cases x {len(runtimes)} runtimes, {d} disagreement{'' if d == 1 else 's'}")
    return d


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--vectors", type=Path, default=ROOT / "tests" / "vectors")
    ap.add_argument("--runtimes", help="comma-separated runtimes that must be present (default: the files')")
    ap.add_argument("--corrupt", action="append", default=[], metavar="WHO:CASE:KIND", help="self-test only")
    ap.add_argument("files", nargs="*", type=Path, help="outcome files (<runtime>.json)")
    args = ap.parse_args()
    expected = load_vectors(args.vectors)
    runs: Dict[str, Dict[str, Any]] = {}
    order: List[str] = []
    for f in args.files:
        name = f.stem
        order.append(name)
        try:
            doc = json.loads(f.read_text())
            if not isinstance(doc, dict) or not isinstance(doc.get("outcomes"), dict):
                raise ValueError("no outcomes object")
            runs[name] = doc
        except (OSError, ValueError) as e:
            print(f"PROBLEM {name}: cannot read {f}: {e}")
    runtimes = args.runtimes.split(",") if args.runtimes else order
    if args.corrupt:
        expected = copy.deepcopy(expected)
        for spec in args.corrupt:
            print(f"SELF-TEST: corrupted {corrupt(spec, expected, runs)}")
    return 1 if compare(expected, runs, runtimes) else 0


if __name__ == "__main__":
    sys.exit(main())
