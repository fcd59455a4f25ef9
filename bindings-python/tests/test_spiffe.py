"""SPIFFE: JWT-SVIDs from the fake Workload API (authsec.testing.FakeWorkloadApi) verified by
authsec.JwtSvidVerifier on the Workload API's bundles and on given ones, key rotation followed
without a restart, allowed SPIFFE IDs, the error classes of the SPIFFE codes, the Workload API
client, and token clients that authenticate with the workload's SVIDs (no secret)."""

from __future__ import annotations

import asyncio
import json
import os
import time
import urllib.parse
from typing import Any, Callable, Dict, List

import pytest

import authsec
from authsec.testing import FakeWorkloadApi, LocalAuthServer, ManualClock
from conftest import VECTORS, http_server, json_response

AUD = "https://api.example.test"


def wait_for(check: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def header(token: str) -> Dict[str, Any]:
    import base64

    seg = token.split(".")[0]
    return json.loads(base64.urlsafe_b64decode(seg + "=" * (-len(seg) % 4)))


def test_fetch_and_verify_on_the_workload_api_bundles(fake_workload_api: FakeWorkloadApi) -> None:
    agent = fake_workload_api
    client = authsec.WorkloadApiClient(agent.endpoint)
    jwt = client.fetch_jwt_svid(AUD)
    assert isinstance(jwt, authsec.WorkloadJwtSvid)
    assert jwt.spiffe_id == agent.spiffe_id == "spiffe://example.org/workload"
    assert jwt.token not in repr(jwt) and "***" in repr(jwt) and jwt.token not in str(jwt)
    verifier = authsec.JwtSvidVerifier(audience=AUD, workload_api=agent.endpoint)
    svid = verifier.verify(jwt.token)
    assert isinstance(svid, authsec.JwtSvid)
    assert svid.spiffe_id == "spiffe://example.org/workload" and svid.trust_domain == "example.org"
    assert svid.audience == [AUD] and svid.alg == "ES256" and svid.kid == agent.jwt_kid
    assert svid.claims["sub"] == svid.spiffe_id and svid.expires_at == svid.claims["exp"]
    assert isinstance(svid.issued_at, int) and svid.expires_at > time.time()
    # A WorkloadApiClient is accepted for workload_api, and the async path agrees.
    verifier2 = authsec.JwtSvidVerifier(audience=[AUD, "other"], workload_api=client)

    async def go() -> authsec.JwtSvid:
        fetched = await client.fetch_jwt_svid_async(AUD)
        return await verifier2.verify_async(fetched.token)

    assert asyncio.run(go()).spiffe_id == svid.spiffe_id
    assert verifier.audience == [AUD] and "JwtSvidVerifier" in repr(verifier)


def test_workload_api_from_the_environment(fake_workload_api: FakeWorkloadApi, monkeypatch: Any) -> None:
    monkeypatch.setenv("SPIFFE_ENDPOINT_SOCKET", fake_workload_api.endpoint)
    jwt = authsec.WorkloadApiClient().fetch_jwt_svid([AUD])
    svid = authsec.JwtSvidVerifier(audience=AUD, workload_api=True).verify(jwt.token)
    assert svid.spiffe_id == fake_workload_api.spiffe_id


def test_verify_with_given_bundles_and_bundle_files(fake_workload_api: FakeWorkloadApi, tmp_path: Any) -> None:
    agent = fake_workload_api
    token = authsec.WorkloadApiClient(agent.endpoint).fetch_jwt_svid(AUD).token
    bundle = agent.jwt_bundle()
    assert [k["kid"] for k in bundle["keys"]] == [agent.jwt_kid]
    given = authsec.JwtSvidVerifier(audience=AUD, trust_domains={"example.org": {"bundle": bundle}})
    assert given.verify(token).spiffe_id == agent.spiffe_id
    as_text = authsec.JwtSvidVerifier(audience=AUD, trust_domains={"example.org": {"bundle": json.dumps(bundle)}})
    assert as_text.verify(token).kid == agent.jwt_kid
    path = agent.write_jwt_bundle(tmp_path / "bundle.json")
    for bundle_file in (path, tmp_path / "bundle.json"):  # text or os.PathLike
        v = authsec.JwtSvidVerifier(audience=AUD, trust_domains={"example.org": {"bundle_file": bundle_file}})
        assert v.verify(token).spiffe_id == agent.spiffe_id
    # Another trust domain's bundle never verifies it.
    other = authsec.JwtSvidVerifier(audience=AUD, trust_domains={"other.test": {"bundle": bundle}})
    with pytest.raises(authsec.InvalidTokenError) as e:
        other.verify(token)
    assert e.value.code == "unknown_trust_domain"


def test_the_test_clock(fake_workload_api: FakeWorkloadApi) -> None:
    agent = fake_workload_api
    token = authsec.WorkloadApiClient(agent.endpoint).fetch_jwt_svid(AUD).token
    clock = ManualClock()
    v = authsec.JwtSvidVerifier(audience=AUD, trust_domains={"example.org": {"bundle": agent.jwt_bundle()}}, _clock=clock)
    assert v.verify(token)
    clock.advance(300 + 31)  # exp is 5 minutes ahead, the default leeway 30 s
    with pytest.raises(authsec.TokenExpiredError):
        v.verify(token)


def test_rotation_is_followed_without_a_restart(fake_workload_api: FakeWorkloadApi) -> None:
    agent = fake_workload_api
    client = authsec.WorkloadApiClient(agent.endpoint)
    watched = authsec.JwtSvidVerifier(audience=AUD, workload_api=agent.endpoint)
    fixed = authsec.JwtSvidVerifier(audience=AUD, trust_domains={"example.org": {"bundle": agent.jwt_bundle()}})
    old = client.fetch_jwt_svid(AUD).token
    old_kid = agent.jwt_kid
    agent.rotate_jwt_key()
    assert agent.jwt_kid != old_kid
    new = client.fetch_jwt_svid(AUD).token
    assert header(new)["kid"] == agent.jwt_kid

    def verifies() -> bool:
        try:
            return watched.verify(new).kid == agent.jwt_kid
        except authsec.InvalidTokenError:
            return False

    wait_for(verifies)  # the watch delivers the new bundle (at once, on the fake)
    assert watched.verify(old).kid == old_kid  # the old key is still in the bundle
    with pytest.raises(authsec.InvalidTokenError) as e:
        fixed.verify(new)  # a bundle given once does not know the new key
    assert e.value.code == "key_not_found"
    assert {k["kid"] for k in client.fetch_jwt_bundles()["example.org"]["keys"]} == {old_kid, agent.jwt_kid}


def test_allowed_ids(fake_workload_api: FakeWorkloadApi) -> None:
    agent = fake_workload_api
    client = authsec.WorkloadApiClient(agent.endpoint)
    agent.set_spiffe_id("spiffe://example.org/agents/ml-training")
    wait_for(lambda: agent.spiffe_id == "spiffe://example.org/agents/ml-training")
    token = client.fetch_jwt_svid(AUD).token
    bundle = {"example.org": {"bundle": agent.jwt_bundle()}}
    ok = authsec.JwtSvidVerifier(audience=AUD, trust_domains=bundle, allowed_ids=["spiffe://example.org/agents/*"])
    assert ok.verify(token).spiffe_id == "spiffe://example.org/agents/ml-training"
    refuse = authsec.JwtSvidVerifier(audience=AUD, trust_domains=bundle, allowed_ids=["spiffe://example.org/tools/*"])
    with pytest.raises(authsec.InsufficientScopeError) as e:
        refuse.verify(token)
    assert e.value.code == "spiffe_id_not_allowed"
    with pytest.raises(authsec.InvalidTokenError) as e2:
        authsec.JwtSvidVerifier(audience="https://elsewhere.test", trust_domains=bundle).verify(token)
    assert e2.value.code == "invalid_audience"


def test_spiffe_id_matches() -> None:
    m = authsec.spiffe_id_matches
    assert m("spiffe://example.org/agents/a", ["spiffe://example.org/agents/*"])
    assert m("spiffe://example.org/agents/a", ["spiffe://example.org"])
    assert m("spiffe://example.org/agents/a", ["spiffe://x.test", "spiffe://example.org/agents/a"])
    assert not m("spiffe://example.org/agents", ["spiffe://example.org/agents/*"])
    assert not m("spiffe://other.test/agents/a", ["spiffe://example.org/agents/*"])
    assert not m("spiffe://example.org/agents/a", [])
    with pytest.raises(authsec.ConfigError):
        m("spiffe://example.org/a", ["https://example.org/a"])
    with pytest.raises(authsec.InvalidTokenError) as e:
        m("not a spiffe id", ["spiffe://example.org"])
    assert e.value.code == "invalid_spiffe_id"


SVID_VECTORS = json.loads((VECTORS / "jwt_svid.json").read_text())


@pytest.mark.parametrize(
    "code,cls",
    [
        ("invalid_spiffe_id", authsec.InvalidTokenError),
        ("unknown_trust_domain", authsec.InvalidTokenError),
        ("spiffe_id_not_allowed", authsec.InsufficientScopeError),
    ],
)
def test_error_classes_of_the_svid_codes(code: str, cls: type) -> None:
    case = next(c for c in SVID_VECTORS["cases"] if c["expect"].get("error") == code)
    options = dict(case["options"])
    clock = ManualClock(options.pop("now"))
    tds = {td: {"bundle": doc} for td, doc in SVID_VECTORS["bundles"][case["bundles"]].items()}
    v = authsec.JwtSvidVerifier(trust_domains=tds, _clock=clock, **options)
    with pytest.raises(cls) as e:
        v.verify(case["token"])
    assert e.value.code == code and type(e.value) is cls
    assert authsec.errors.CLASS_BY_CODE[code] is cls


def test_workload_api_unavailable(fake_workload_api: FakeWorkloadApi, tmp_path: Any) -> None:
    agent = fake_workload_api
    client = authsec.WorkloadApiClient(agent.endpoint)
    agent.deny_next(1)  # no identity issued yet
    with pytest.raises(authsec.UnavailableError) as e:
        client.fetch_jwt_svid(AUD)
    assert e.value.code == "workload_api_unavailable" and e.value.retryable
    assert client.fetch_jwt_svid(AUD).spiffe_id == agent.spiffe_id  # and then it is
    nobody = authsec.WorkloadApiClient(f"unix://{tmp_path}/none.sock")
    for call in (lambda: nobody.fetch_jwt_svid(AUD), nobody.fetch_jwt_bundles, nobody.fetch_x509_svid):
        with pytest.raises(authsec.UnavailableError) as e:
            call()
        assert e.value.code == "workload_api_unavailable"

    async def fails() -> None:
        await nobody.fetch_jwt_bundles_async()

    with pytest.raises(authsec.UnavailableError):
        asyncio.run(fails())


def test_bad_options_are_config_errors(fake_workload_api: FakeWorkloadApi) -> None:
    bundle = {"example.org": {"bundle": fake_workload_api.jwt_bundle()}}
    bad: List[Dict[str, Any]] = [
        {"audience": AUD},  # no trust source
        {"audience": [], "trust_domains": bundle},
        {"audience": AUD, "trust_domains": bundle, "algorithms": ["HS256"]},
        {"audience": AUD, "trust_domains": bundle, "allowed_ids": ["example.org/agents/*"]},
        {"audience": AUD, "trust_domains": {"example.org": {"bundle": "{not json"}}},
        {"audience": AUD, "trust_domains": {"example.org": {"bundle_file": "/nonexistent/bundle.json"}}},
        {"audience": AUD, "workload_api": "http://127.0.0.1:1"},
    ]
    for options in bad:
        with pytest.raises(authsec.ConfigError):
            authsec.JwtSvidVerifier(**options)
    with pytest.raises(authsec.ConfigError):
        authsec.WorkloadApiClient("http://not-a-socket")


def test_x509_svid(fake_workload_api: FakeWorkloadApi) -> None:
    agent = fake_workload_api
    client = authsec.WorkloadApiClient(agent.endpoint)
    x = client.fetch_x509_svid()
    assert isinstance(x, authsec.X509Svid) and x.spiffe_id == agent.spiffe_id
    assert x.cert_chain_pem.startswith("-----BEGIN CERTIFICATE-----")
    assert x.private_key_pem.startswith("-----BEGIN PRIVATE KEY-----")
    assert x.bundle_pem.startswith("-----BEGIN CERTIFICATE-----")
    assert "PRIVATE KEY" not in repr(x) and "***" in repr(x) and "PRIVATE" not in str(x)
    agent.rotate_x509()
    again = asyncio.run(_call(client.fetch_x509_svid_async))
    assert again.private_key_pem != x.private_key_pem and again.bundle_pem == x.bundle_pem


async def _call(start: Callable[[], Any]) -> Any:
    """Await what `start()` returns, called inside the event loop."""
    return await start()


def test_the_fixture_takes_a_trust_domain() -> None:
    with FakeWorkloadApi("corp.test", spiffe_id="spiffe://corp.test/svc") as agent:
        assert agent.trust_domain == "corp.test" and agent.spiffe_id == "spiffe://corp.test/svc"
        bundles = authsec.WorkloadApiClient(agent.endpoint).fetch_jwt_bundles()
        assert list(bundles) == ["corp.test"] and bundles["corp.test"] == agent.jwt_bundle()
        endpoint = agent.endpoint
        assert agent.calls >= 1
    with pytest.raises(RuntimeError):
        agent.endpoint
    with pytest.raises(authsec.UnavailableError):
        authsec.WorkloadApiClient(endpoint).fetch_jwt_bundles()


# ----- token clients with no secret: the SVID as the client assertion, or a JWT-bearer grant -----


def token_endpoint(agent: FakeWorkloadApi, seen: List[Dict[str, str]]) -> Any:
    """A token endpoint on 127.0.0.1 that accepts what the fake's SVIDs prove, as an
    authorization server would: the SVID verified against the trust domain's bundle, for its own
    URL as the audience."""
    state: Dict[str, Any] = {}

    def handle(method: str, path: str, headers: Dict[str, str], body: bytes) -> Any:
        form = dict(urllib.parse.parse_qsl(body.decode()))
        seen.append(form)
        assertion = form.get("client_assertion") or form.get("assertion") or ""
        try:
            svid = state["verifier"].verify(assertion)
        except authsec.AuthsecError as e:
            return json_response(401, {"error": "invalid_client", "error_description": e.code})
        return json_response(200, {"access_token": f"at-for-{svid.spiffe_id}", "token_type": "Bearer", "expires_in": 600})

    return handle, state


@pytest.mark.parametrize("grant", ["client_assertion", "jwt_bearer"])
def test_secretless_token_client(fake_workload_api: FakeWorkloadApi, grant: str) -> None:
    agent = fake_workload_api
    seen: List[Dict[str, str]] = []
    handle, state = token_endpoint(agent, seen)
    with http_server(handle) as url:
        token_url = url + "/oauth/token"
        state["verifier"] = authsec.JwtSvidVerifier(audience=token_url, workload_api=agent.endpoint, sole_audience=True)
        client = authsec.ClientCredentials(
            auth_method="spiffe_jwt", token_url=token_url, spiffe_endpoint_socket=agent.endpoint, spiffe_grant=grant
        )
        assert client.auth_method == "spiffe_jwt" and "***" not in repr(client) and "spiffe_id=None" in repr(client)
        token = client.get_token()
        assert token.access_token == f"at-for-{agent.spiffe_id}"
        form = seen[-1]
        assert "client_secret" not in form
        if grant == "client_assertion":
            assert form["grant_type"] == "client_credentials"
            assert form["client_assertion_type"] == "urn:ietf:params:oauth:client-assertion-type:jwt-spiffe"
        else:
            assert form["grant_type"] == "urn:ietf:params:oauth:grant-type:jwt-bearer"
            assert "client_assertion" not in form and form["assertion"]
        # The next identity (and a rotated key) reach the server without a restart.
        agent.set_spiffe_id("spiffe://example.org/agents/next")
        agent.rotate_jwt_key()
        wait_for(lambda: len(authsec.WorkloadApiClient(agent.endpoint).fetch_jwt_bundles()["example.org"]["keys"]) == 2)
        fresh = authsec.ClientCredentials(
            auth_method="spiffe_jwt", token_url=token_url, spiffe_endpoint_socket=agent.endpoint,
            spiffe_grant=grant, spiffe_reuse_svid=False,
        )

        def next_identity() -> bool:
            fresh.invalidate()
            try:
                return fresh.get_token().access_token == "at-for-spiffe://example.org/agents/next"
            except authsec.InvalidClientError:
                return False  # the server's watch has not seen the new key yet

        wait_for(next_identity)


def test_secretless_token_client_from_env(fake_workload_api: FakeWorkloadApi, monkeypatch: Any) -> None:
    agent = fake_workload_api
    seen: List[Dict[str, str]] = []
    handle, state = token_endpoint(agent, seen)
    with http_server(handle) as url:
        token_url = url + "/oauth/token"
        state["verifier"] = authsec.JwtSvidVerifier(audience=token_url, workload_api=agent.endpoint)
        for name in ("AUTHSEC_CLIENT_ID", "AUTHSEC_CLIENT_SECRET", "AUTHSEC_ISSUER"):
            monkeypatch.delenv(name, raising=False)
        monkeypatch.setenv("AUTHSEC_AUTH_METHOD", "spiffe_jwt")
        monkeypatch.setenv("AUTHSEC_TOKEN_URL", token_url)
        monkeypatch.setenv("SPIFFE_ENDPOINT_SOCKET", agent.endpoint)
        monkeypatch.setenv("AUTHSEC_SPIFFE_ID", agent.spiffe_id)
        client = authsec.ClientCredentials.from_env()
        assert asyncio.run(_call(client.get_token_async)).access_token == f"at-for-{agent.spiffe_id}"


def test_secretless_token_client_without_an_agent(tmp_path: Any) -> None:
    client = authsec.ClientCredentials(
        auth_method="spiffe_jwt", token_url="http://127.0.0.1:1/oauth/token",
        spiffe_endpoint_socket=f"unix://{tmp_path}/none.sock", max_attempts=1,
    )
    with pytest.raises(authsec.UnavailableError) as e:
        client.get_token()
    assert e.value.code == "workload_api_unavailable" and e.value.retryable


def test_spiffe_settings_are_checked() -> None:
    with pytest.raises(authsec.ConfigError):  # spiffe_* without auth_method spiffe_jwt
        authsec.ClientCredentials(client_id="a", client_secret="s", token_url="http://127.0.0.1:1/t", spiffe_id="spiffe://example.org/a")
    with pytest.raises(authsec.ConfigError):
        authsec.ClientCredentials(auth_method="spiffe_jwt", token_url="http://127.0.0.1:1/t", spiffe_grant="password")
    with pytest.raises(authsec.ConfigError):
        authsec.ClientCredentials(auth_method="spiffe_jwt", token_url="http://127.0.0.1:1/t", client_secret="s")
    with pytest.raises(authsec.ConfigError):
        authsec.ClientCredentials(auth_method="spiffe_jwt", token_url="http://127.0.0.1:1/t", spiffe_id="not-an-id")


# ----- against the local authorization server (its `spiffe` section) -----

JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"


def spiffe_server(agent: FakeWorkloadApi, bundle_file: Any, **client: Any) -> LocalAuthServer:
    """The local server trusting the fake's trust domain from a bundle file, with one client for
    `spiffe://example.org/agents/*` (skips when this server has no SPIFFE support yet)."""
    agent.write_jwt_bundle(bundle_file)
    spec = {"client_id": "ml-agents", "spiffe_id": "spiffe://example.org/agents/*", "allowed_scopes": ["read:data"],
            "grant_types": ["client_credentials", JWT_BEARER], **client}
    spiffe = {"trust_domains": {"example.org": {"bundle_file": str(bundle_file)}}}
    server = LocalAuthServer(clients=[spec], config={"spiffe": spiffe})
    try:
        server.start()
    except authsec.ConfigError as e:
        if "spiffe" in str(e):
            pytest.skip(f"the local server has no SPIFFE support yet: {e}")
        raise
    return server


@pytest.mark.parametrize("grant", ["client_assertion", "jwt_bearer"])
def test_secretless_token_from_the_local_server(fake_workload_api: FakeWorkloadApi, tmp_path: Any, grant: str) -> None:
    agent = fake_workload_api
    agent.set_spiffe_id("spiffe://example.org/agents/ml-training")
    with spiffe_server(agent, tmp_path / "bundle.json") as server:
        client = authsec.ClientCredentials(
            auth_method="spiffe_jwt", token_url=server.token_endpoint, spiffe_audience=server.issuer,
            spiffe_endpoint_socket=agent.endpoint, spiffe_id="spiffe://example.org/agents/ml-training",
            spiffe_grant=grant, scopes=["read:data"],
        )
        claims = server.verifier().verify(client.get_token().access_token, ["read:data"])
        assert claims.client_id == "ml-agents"
        # A rotated key reaches the server through its bundle file, without a restart.
        agent.rotate_jwt_key()
        agent.write_jwt_bundle(tmp_path / "bundle.json")
        fresh = authsec.ClientCredentials(
            auth_method="spiffe_jwt", issuer=server.issuer, spiffe_endpoint_socket=agent.endpoint,
            spiffe_grant=grant, scopes=["read:data"], spiffe_reuse_svid=False,
        )
        token = None

        def gets_one() -> bool:
            nonlocal token
            try:
                token = fresh.get_token()
                return True
            except authsec.TokenRequestError:
                return False  # the server reads the file again at most once a second

        wait_for(gets_one)
        assert server.verifier().verify(token.access_token).client_id == "ml-agents"
        # An identity outside the client's pattern is refused.
        agent.set_spiffe_id("spiffe://example.org/tools/x")
        other = authsec.ClientCredentials(
            auth_method="spiffe_jwt", issuer=server.issuer, spiffe_endpoint_socket=agent.endpoint, spiffe_grant=grant,
        )
        with pytest.raises(authsec.TokenRequestError):
            other.get_token()


def test_the_example_runs(fake_workload_api: FakeWorkloadApi, tmp_path: Any) -> None:
    spiffe_server(fake_workload_api, tmp_path / "bundle.json").stop()  # skips without server support
    import subprocess
    import sys

    from conftest import ROOT

    env = {k: v for k, v in os.environ.items() if not k.startswith(("AUTHSEC_", "SPIFFE_"))}
    r = subprocess.run([sys.executable, "-B", "spiffe_agent.py"], cwd=ROOT / "examples" / "python",
                       capture_output=True, text=True, timeout=60, env=env)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "workload identity: spiffe://example.org/agents/ml-training" in r.stdout
    assert '-> 200 {"client_id":"ml-agents","scopes":["read:data"]}' in r.stdout, r.stdout
    assert r.stdout.rstrip().endswith("done: spiffe_agent")


def test_the_constructor_waits_for_the_first_bundles_without_the_gil(fake_workload_api: FakeWorkloadApi) -> None:
    import threading

    agent = fake_workload_api
    agent.deny_next(1)  # not attested yet: the watch retries (after about a second)
    ticks = [0]
    done = threading.Event()

    def tick() -> None:
        while not done.is_set():
            ticks[0] += 1
            time.sleep(0.001)

    ticker = threading.Thread(target=tick)
    ticker.start()
    try:
        t0 = time.monotonic()
        verifier = authsec.JwtSvidVerifier(audience=AUD, workload_api=agent.endpoint)
        waited = time.monotonic() - t0
    finally:
        done.set()
        ticker.join(timeout=5)
    assert agent.calls >= 2 and waited > 0.3
    assert ticks[0] > 50, "the thread did not run while the constructor waited"
    token = authsec.WorkloadApiClient(agent.endpoint).fetch_jwt_svid(AUD).token
    assert verifier.verify(token).spiffe_id == agent.spiffe_id
