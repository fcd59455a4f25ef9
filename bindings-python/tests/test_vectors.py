"""The shared verification vectors (tests/vectors): every case must reach the expected outcome
through `Verifier.verify` and `Verifier.verify_async` alike. A success is the claims and the
delegation chain the library reports (`claims.delegation`, each `Actor.to_dict()`).

With AUTHSEC_CONFORMANCE_OUT=<dir> it also writes every case's outcome to <dir>/python.json for the
cross-language comparison (tests/conformance/README.md)."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from typing import Any, Dict, Iterator, List, Optional, Tuple

import pytest

import authsec
from authsec.testing import ManualClock
from conftest import ROOT, VECTORS

FILES = sorted(VECTORS.glob("verify_*.json"))
CASES: List[Tuple[str, dict, dict]] = []  # (file name, file, case)
for _path in FILES:
    _file = json.loads(_path.read_text())
    assert _file["version"] == 1, _path
    CASES.extend((_path.name, _file, case) for case in _file["cases"])

# ("claims", (claims dict, delegation list)) or ("error", (code, missing_scopes))
Outcome = Tuple[str, Any]

# "<file>#<case name>" -> {"claims": ..., "delegation": [...]} or {"error": ..., "missing_scopes": [...]}
OUTCOMES: Dict[str, dict] = {}


@pytest.fixture(scope="module", autouse=True)
def conformance_outcomes() -> Iterator[None]:
    """After this module's tests, writes OUTCOMES to $AUTHSEC_CONFORMANCE_OUT/python.json (a
    relative directory is taken from the repository root)."""
    yield
    out = os.environ.get("AUTHSEC_CONFORMANCE_OUT")
    if not out:
        return
    path = ROOT / out / "python.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    version = f"{authsec.__version__} (CPython {sys.version.split()[0]})"
    doc = {"runtime": "python", "version": version, "outcomes": OUTCOMES}
    path.write_text(json.dumps(doc, indent=2, sort_keys=True) + "\n")
    print(f"\npython: {len(OUTCOMES)} outcomes -> {path}")


def build(file: dict, case: dict) -> authsec.Verifier:
    jwks = case["jwks"]
    if isinstance(jwks, str):
        jwks = file["jwks"][jwks]
    o = case["options"]
    return authsec.Verifier(
        issuer=o.get("issuer"),
        audience=o.get("audience", []),
        audience_match=o.get("audience_match"),
        jwks=jwks,
        algorithms=o.get("algorithms"),
        leeway=o.get("leeway"),
        typ=o.get("typ"),
        required_claims=o.get("required_claims"),
        max_token_bytes=o.get("max_token_bytes"),
        skip_issuer_check=o.get("skip_issuer_check", False),
        skip_audience_check=o.get("skip_audience_check", False),
        forbid_delegation=o.get("forbid_delegation"),
        max_delegation_depth=o.get("max_delegation_depth"),
        allowed_actors=o.get("allowed_actors"),
        _clock=ManualClock(o["now"]),
    )


def scopes(case: dict) -> Tuple[Optional[list], Optional[list]]:
    req = case.get("required_scopes") or {}
    return req.get("all_of"), req.get("any_of")


def verified(claims: authsec.Claims) -> Outcome:
    assert isinstance(claims, authsec.Claims)
    return "claims", (claims.to_dict(), [actor.to_dict() for actor in claims.delegation])


def run_sync(file: dict, case: dict) -> Outcome:
    all_of, any_of = scopes(case)
    try:
        v = build(file, case)
        claims = v.verify(case["token"], all_of, any_scopes=any_of)
    except authsec.AuthsecError as e:
        return "error", (e.code, list(e.missing_scopes))
    return verified(claims)


def run_async(file: dict, case: dict) -> Outcome:
    all_of, any_of = scopes(case)

    async def go() -> Outcome:
        try:
            v = build(file, case)
            claims = await v.verify_async(case["token"], all_of, any_scopes=any_of)
        except authsec.AuthsecError as e:
            return "error", (e.code, list(e.missing_scopes))
        return verified(claims)

    return asyncio.run(go())


def check(expect: Dict[str, Any], got: Outcome) -> None:
    if "claims" in expect:
        assert got[0] == "claims", got
        claims, delegation = got[1]
        assert claims == expect["claims"]
        if "delegation" in expect:
            assert delegation == expect["delegation"]
    else:
        assert got[0] == "error", got
        code, missing = got[1]
        assert code == expect["error"]
        assert code in authsec.ERROR_CODES
        if "missing_scopes" in expect:
            assert missing == expect["missing_scopes"]


def test_vector_files_present() -> None:
    assert len(FILES) >= 7
    assert len(CASES) >= 240
    names = [c["name"] for _, _, c in CASES]
    assert len(names) == len(set(names)), "case names must be unique"


@pytest.mark.parametrize("name,file,case", CASES, ids=[c["name"] for _, _, c in CASES])
def test_vector(name: str, file: dict, case: dict) -> None:
    assert case["description"]
    sync = run_sync(file, case)
    kind, value = sync
    OUTCOMES[f"{name}#{case['name']}"] = (
        {"claims": value[0], "delegation": value[1]}
        if kind == "claims"
        else {"error": value[0], "missing_scopes": value[1]}
    )
    check(case["expect"], sync)
    # The async path, on a fresh verifier, must agree; and a second verify (now from the
    # verified-token cache) must give the same answer as the first.
    assert run_async(file, case) == sync
    if sync[0] == "claims":
        v = build(file, case)
        all_of, any_of = scopes(case)
        first = v.verify(case["token"], all_of, any_scopes=any_of)
        again = v.verify(case["token"], all_of, any_scopes=any_of)
        assert first == again
