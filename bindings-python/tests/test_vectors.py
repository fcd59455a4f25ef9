"""The shared verification vectors (tests/vectors): every case must reach the expected outcome
through `Verifier.verify` and `Verifier.verify_async` alike. A success is the claims and the
delegation chain the library reports (`claims.delegation`, each `Actor.to_dict()`). The cases of
dpop_requests.json are sequences of whole requests through `RequestVerifier.verify` and
`verify_async` alike.

With AUTHSEC_CONFORMANCE_OUT=<dir> it also writes every case's outcome to <dir>/python.json for the
cross-language comparison (tests/conformance/README.md)."""

from __future__ import annotations

import asyncio
import base64
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


REQUESTS_FILE = VECTORS / "dpop_requests.json"
REQUEST_FILE: dict = json.loads(REQUESTS_FILE.read_text()) if REQUESTS_FILE.exists() else {"cases": []}


def run_requests(case: dict, asynchronous: bool) -> List[dict]:
    """Each request's outcome, through one RequestVerifier (its replay cache lives for the case),
    the clock at each request's `now`, shaped as the vector's `expect`."""
    clock = ManualClock(0)
    verifier = authsec.Verifier(jwks=REQUEST_FILE["jwks"][case["jwks"]], _clock=clock, **case["verifier"])
    rv = authsec.RequestVerifier(verifier, **case["policy"])
    req = case.get("required_scopes") or {}
    out = []
    for r in case["requests"]:
        clock.set(r["now"])
        cert = base64.b64decode(r["client_certificate"]) if r.get("client_certificate") else None
        args = dict(scheme=r["scheme"], headers=[tuple(h) for h in r["headers"]], peer=r.get("peer"),
                    client_certificate=cert, required_scopes=req.get("all_of"), any_scopes=req.get("any_of"))
        if asynchronous:
            got = asyncio.run(rv.verify_async(r["method"], r["target"], **args))
        else:
            got = rv.verify(r["method"], r["target"], **args)
        nonce = any(k.lower() == "dpop-nonce" for k, _ in got.headers)
        if isinstance(got, authsec.Accepted):
            out.append({"accepted": True, "scheme": got.scheme, "jkt": got.dpop_jkt,
                        "certificate": got.certificate_thumbprint, "dpop_nonce": nonce})
            continue
        challenges = [v for k, v in got.headers if k.lower() == "www-authenticate"]
        out.append({
            "accepted": False,
            "status": got.status,
            "error": None if got.error is None else got.error.code,
            "challenges": [c.split(" ")[0] for c in challenges],
            "error_scheme": next((c.split(" ")[0] for c in challenges if 'error="' in c), None),
            "dpop_nonce": nonce,
        })
    return out


def test_request_vectors_present() -> None:
    assert REQUESTS_FILE.exists(), "tests/vectors/dpop_requests.json"
    assert REQUEST_FILE["version"] == 1 and len(REQUEST_FILE["cases"]) >= 50


@pytest.mark.parametrize("case", REQUEST_FILE["cases"], ids=[c["name"] for c in REQUEST_FILE["cases"]])
def test_request_vector(case: dict) -> None:
    assert case["description"]
    got = run_requests(case, asynchronous=False)
    OUTCOMES[f"{REQUESTS_FILE.name}#{case['name']}"] = {"requests": got}
    for i, (r, outcome) in enumerate(zip(case["requests"], got)):
        assert outcome == r["expect"], f"request {i}"
    assert run_requests(case, asynchronous=True) == got


SVID_FILE_PATH = VECTORS / "jwt_svid.json"
SVID_FILE: dict = json.loads(SVID_FILE_PATH.read_text())


def run_svid(case: dict, asynchronous: bool) -> dict:
    """A jwt_svid.json case through authsec.JwtSvidVerifier: its options without `now`, the named
    bundle set as `trust_domains`, the clock at `now`; the outcome shaped as the vector's `expect`."""
    options = dict(case["options"])
    clock = ManualClock(options.pop("now"))
    bundles = SVID_FILE["bundles"][case["bundles"]]
    trust_domains = {td: {"bundle": doc} for td, doc in bundles.items()}
    try:
        v = authsec.JwtSvidVerifier(trust_domains=trust_domains, _clock=clock, **options)
        if asynchronous:
            svid = asyncio.run(_verify_async(v, case["token"]))
        else:
            svid = v.verify(case["token"])
    except authsec.AuthsecError as e:
        assert e.code in authsec.ERROR_CODES
        return {"error": e.code}
    assert isinstance(svid, authsec.JwtSvid)
    return {"svid": {"spiffe_id": svid.spiffe_id, "audience": svid.audience, "expires_at": svid.expires_at}}


async def _verify_async(v: authsec.JwtSvidVerifier, token: str) -> authsec.JwtSvid:
    return await v.verify_async(token)


def test_svid_vectors_present() -> None:
    assert SVID_FILE["version"] == 1 and len(SVID_FILE["cases"]) >= 50


@pytest.mark.parametrize("case", SVID_FILE["cases"], ids=[c["name"] for c in SVID_FILE["cases"]])
def test_svid_vector(case: dict) -> None:
    assert case["description"]
    got = run_svid(case, asynchronous=False)
    OUTCOMES[f"{SVID_FILE_PATH.name}#{case['name']}"] = got
    assert got == case["expect"]
    assert run_svid(case, asynchronous=True) == got
