"""Against a real SPIRE server and agent (tests/spire): JWT-SVIDs from the agent verified on its
Workload API bundles and on the server's bundle file, a secretless token from the local
authorization server (trusting example.org from that file) verified as a protected API would, and
all of it still working after a JWT key rotation.

Skipped unless run under tests/spire/run.sh (AUTHSEC_SPIRE_DIR); with AUTHSEC_REQUIRE_SPIRE=1 a
missing SPIRE fails instead::

    tests/spire/run.sh env AUTHSEC_REQUIRE_SPIRE=1 <venv>/bin/python -m pytest bindings-python/tests/test_spire.py -q
"""

from __future__ import annotations

import base64
import json
import os
import pathlib
import subprocess
import time
from typing import Any, Callable, Dict, Iterator

import pytest

import authsec
from authsec.testing import LocalAuthServer

CTL = pathlib.Path(__file__).resolve().parents[2] / "tests" / "spire" / "ctl.sh"
API = "https://api.example.test"
JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"


@pytest.fixture(scope="module")
def spire() -> Dict[str, str]:
    names = ("AUTHSEC_SPIRE_DIR", "SPIFFE_ENDPOINT_SOCKET", "AUTHSEC_SPIRE_SPIFFE_ID", "AUTHSEC_SPIRE_BUNDLE_FILE")
    missing = [n for n in names if not os.environ.get(n)]
    if missing:
        why = f"no SPIRE: {', '.join(missing)} unset (run under tests/spire/run.sh)"
        if os.environ.get("AUTHSEC_REQUIRE_SPIRE") == "1":
            pytest.fail(f"AUTHSEC_REQUIRE_SPIRE=1 but {why}", pytrace=False)
        pytest.skip(why)
    return {n: os.environ[n] for n in names}


def ctl(*args: str) -> str:
    """tests/spire/ctl.sh's last line of output (a kid, for rotate/taint/revoke)."""
    r = subprocess.run([str(CTL), *args], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
    return r.stdout.strip().splitlines()[-1] if r.stdout.strip() else ""


def kid(token: str) -> str:
    seg = token.split(".")[0]
    return json.loads(base64.urlsafe_b64decode(seg + "=" * (-len(seg) % 4)))["kid"]


def eventually(attempt: Callable[[], Any], timeout: float = 20.0) -> Any:
    """`attempt()`'s result once it raises no AuthsecError (bounded)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return attempt()
        except authsec.AuthsecError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def test_fetch_and_verify(spire: Dict[str, str]) -> None:
    workload = authsec.WorkloadApiClient()  # SPIFFE_ENDPOINT_SOCKET
    jwt = workload.fetch_jwt_svid(API)
    assert jwt.spiffe_id == spire["AUTHSEC_SPIRE_SPIFFE_ID"]
    watched = authsec.JwtSvidVerifier(audience=API, workload_api=True)
    svid = watched.verify(jwt.token)
    assert (svid.spiffe_id, svid.trust_domain, svid.audience, svid.alg) == (jwt.spiffe_id, "example.org", [API], "ES256")
    from_file = authsec.JwtSvidVerifier(
        audience=API, trust_domains={"example.org": {"bundle_file": spire["AUTHSEC_SPIRE_BUNDLE_FILE"]}},
        allowed_ids=["spiffe://example.org/agents/*"],
    )
    assert from_file.verify(jwt.token).kid == svid.kid
    assert "example.org" in workload.fetch_jwt_bundles()
    x509 = workload.fetch_x509_svid()
    assert x509.spiffe_id == jwt.spiffe_id and "BEGIN CERTIFICATE" in x509.cert_chain_pem


@pytest.fixture(scope="module")
def server(spire: Dict[str, str]) -> Iterator[LocalAuthServer]:
    """The local authorization server trusting example.org from SPIRE's bundle file, with a
    client for every agent of the trust domain (no secret)."""
    client = {
        "client_id": "ml-agents",
        "spiffe_id": "spiffe://example.org/agents/*",
        "allowed_scopes": ["read:data"],
        "audiences": [API],
        "grant_types": ["client_credentials", JWT_BEARER],
    }
    spiffe = {"trust_domains": {"example.org": {"bundle_file": spire["AUTHSEC_SPIRE_BUNDLE_FILE"]}}}
    with LocalAuthServer(clients=[client], audience=API, config={"spiffe": spiffe}) as s:
        yield s


def secretless(server: LocalAuthServer, **kwargs: Any) -> authsec.ClientCredentials:
    # The SVID's audience must be the issuer alone (draft-ietf-oauth-spiffe-client-auth).
    return authsec.ClientCredentials(
        auth_method="spiffe_jwt", token_url=server.token_endpoint, spiffe_audience=server.issuer,
        scopes=["read:data"], **kwargs,
    )


def check_access(server: LocalAuthServer, token: authsec.Token, spiffe_id: str) -> None:
    """What a protected API does: verify the access token against the server's JWKS."""
    api = authsec.Verifier(issuer=server.issuer, audience=API, jwks_uri=server.jwks_uri)
    claims = api.verify(token.access_token, ["read:data"])
    assert (claims.client_id, claims.subject, claims.scopes) == ("ml-agents", "ml-agents", ["read:data"])
    # The server's audit names the workload that authenticated.
    assert spiffe_id in json.dumps(server.audit_events()[-1])


def test_secretless_token_and_rotation(spire: Dict[str, str], server: LocalAuthServer) -> None:
    spiffe_id = spire["AUTHSEC_SPIRE_SPIFFE_ID"]
    client = secretless(server)
    assert "***" not in repr(client)
    check_access(server, client.get_token(), spiffe_id)
    check_access(server, secretless(server, spiffe_grant="jwt_bearer").get_token(), spiffe_id)

    workload = authsec.WorkloadApiClient()
    watched = authsec.JwtSvidVerifier(audience=[API, server.issuer], workload_api=True)
    old_kid = kid(workload.fetch_jwt_svid(API).token)

    new_kid = ctl("rotate")  # the agent signs with a new key; the bundle file is rewritten
    assert new_kid and new_kid != old_kid
    fresh = workload.fetch_jwt_svid(f"{API}/after-rotation")  # a fresh audience: not from the agent's cache
    assert kid(fresh.token) == new_kid
    # The watched verifier follows the agent's bundle: no restart, no new verifier.
    svid = eventually(lambda: authsec.JwtSvidVerifier(audience=f"{API}/after-rotation", workload_api=True).verify(fresh.token))
    assert svid.kid == new_kid
    ctl("taint")  # the agent re-signs every cached SVID with the new key
    issuer_svid = eventually(lambda: _new_kid_svid(workload, server.issuer, new_kid))
    assert watched.verify(issuer_svid.token).kid == new_kid
    # The server reads the rewritten bundle file by itself; a new client sends a new-kid SVID.
    after = secretless(server, spiffe_reuse_svid=False)
    check_access(server, eventually(after.get_token), spiffe_id)
    check_access(server, eventually(secretless(server, spiffe_grant="jwt_bearer").get_token), spiffe_id)


def _new_kid_svid(workload: authsec.WorkloadApiClient, audience: str, want: str) -> authsec.WorkloadJwtSvid:
    svid = workload.fetch_jwt_svid(audience)
    if kid(svid.token) != want:
        raise authsec.errors.UnavailableError("the agent still hands out the old key's SVID", code="workload_api_unavailable")
    return svid
