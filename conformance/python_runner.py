"""The Python runner of the conformance check: every vector case through the `authsec` package's
public Verifier (the installed package, not the source tree), clock fixed at the case's `now` with
the package's test hook (`_clock=authsec.testing.ManualClock(now)`, as
bindings-python/tests/test_vectors.py does; the clock is in the authsec package itself, so the
separate authsec-testing package is not needed here).

    <venv>/bin/python conformance/python_runner.py <out.json>
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import authsec
from authsec.testing import ManualClock

VECTORS = Path(__file__).resolve().parent.parent / "tests" / "vectors"


def verify(file: dict, case: dict) -> dict:
    jwks = case["jwks"]
    if isinstance(jwks, str):
        jwks = file["jwks"][jwks]
    o = case["options"]
    req = case.get("required_scopes") or {}
    try:
        v = authsec.Verifier(
            issuer=o.get("issuer"),
            audience=o.get("audience", []),
            jwks=jwks,
            algorithms=o.get("algorithms"),
            leeway=o.get("leeway"),
            typ=o.get("typ"),
            required_claims=o.get("required_claims"),
            max_token_bytes=o.get("max_token_bytes"),
            skip_issuer_check=o.get("skip_issuer_check", False),
            skip_audience_check=o.get("skip_audience_check", False),
            _clock=ManualClock(o["now"]),
        )
        claims = v.verify(case["token"], req.get("all_of"), any_scopes=req.get("any_of"))
    except authsec.AuthsecError as e:
        return {"error": e.code, "missing_scopes": list(e.missing_scopes)}
    return {"claims": claims.to_dict()}


def main() -> int:
    if len(sys.argv) != 2:
        print("usage: python conformance/python_runner.py <out.json>", file=sys.stderr)
        return 2
    outcomes = {}
    problems = 0
    for path in sorted(VECTORS.glob("verify_*.json")):
        file = json.loads(path.read_text())
        for case in file["cases"]:
            cid = f"{path.name}#{case['name']}"
            try:
                outcomes[cid] = verify(file, case)
            except Exception as e:  # not an AuthsecError: left out, so the comparator reports it
                print(f"conformance (python): {cid}: {e!r}", file=sys.stderr)
                problems += 1
    version = f"{authsec.__version__} (CPython {sys.version.split()[0]})"
    doc = {"runtime": "python", "version": version, "outcomes": outcomes}
    Path(sys.argv[1]).write_text(json.dumps(doc, indent=2, sort_keys=True) + "\n")
    print(f"python: {len(outcomes)} outcomes -> {sys.argv[1]}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
