"""DPoP (RFC 9449) and certificate-bound tokens (RFC 8705) end to end: agents (requests, httpx sync
and async, through `client.auth()`) get DPoP-bound tokens from an authorization server and call a
FastAPI resource behind `RequireToken`, served by uvicorn on 127.0.0.1; the nonce dance, replays,
stolen tokens, downgrades, and certificate binding through a proxy header and the ASGI TLS
extension. Every decision is the core's: these tests pin that the Python integrations drive it."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import json
import ssl
import time
from typing import Any, Dict, Iterator, List, Optional, Tuple

import httpx
import pytest
import requests
from fastapi import Depends, FastAPI, Request
from fastapi.testclient import TestClient

import authsec
from authsec.fastapi import RequireToken
from authsec.testing import LocalAuthServer, ManualClock, sign_token
from conftest import KEYS, asgi_server, http_server, json_response

AUDIENCE = "https://api.example.test"
ISSUER_KEY = KEYS["p256-a"]


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class AuthServer:
    """An authorization server on 127.0.0.1 that issues tokens bound to the requesting client's
    DPoP key (`cnf.jkt`, read from the token request's proof), Bearer tokens to clients that send
    no proof, and, with `downgrade`, DPoP-bound tokens typed Bearer."""

    def __init__(self, url: str) -> None:
        self.issuer = url
        self.downgrade = False
        self.proofs: List[str] = []

    def handle(self, method: str, path: str, headers: Dict[str, str], body: bytes) -> Tuple[int, Dict[str, str], bytes]:
        proof = next((v for k, v in headers.items() if k.lower() == "dpop"), None)
        cnf: Optional[Dict[str, str]] = None
        if proof is not None:
            self.proofs.append(proof)
            cnf = {"jkt": jwk_thumbprint(json.loads(b64decode(proof.split(".")[0]))["jwk"])}
        token_type = "DPoP" if proof is not None and not self.downgrade else "Bearer"
        return json_response(200, {"access_token": self.sign(cnf), "token_type": token_type, "expires_in": 600})

    def sign(self, cnf: Optional[Dict[str, str]], **claims: Any) -> str:
        now = int(time.time())
        body = {"iss": self.issuer, "aud": AUDIENCE, "sub": "agent", "client_id": "agent", "iat": now,
                "exp": now + 600, "scope": "read:data", "jti": b64url(hashlib.sha256(str(time.perf_counter_ns()).encode()).digest())}
        if cnf is not None:
            body["cnf"] = cnf
        body.update(claims)
        return sign_token(body, ISSUER_KEY["private_pem"], kid="p256-a")

    def verifier(self) -> authsec.Verifier:
        return authsec.Verifier(self.issuer, AUDIENCE, jwks={"keys": [ISSUER_KEY["public_jwk"]]})

    def client(self, **options: Any) -> authsec.ClientCredentials:
        return authsec.ClientCredentials(client_id="agent", client_secret="s3cret", token_url=self.issuer + "/token", **options)


def b64decode(s: str) -> bytes:
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def jwk_thumbprint(jwk: Dict[str, str]) -> str:
    """RFC 7638, for the EC keys the clients here generate."""
    members = {k: jwk[k] for k in ("crv", "kty", "x", "y")}
    return b64url(hashlib.sha256(json.dumps(members, separators=(",", ":"), sort_keys=True).encode()).digest())


@contextlib.contextmanager
def auth_server() -> Iterator[AuthServer]:
    holder: List[AuthServer] = []
    with http_server(lambda *a: holder[0].handle(*a)) as url:
        holder.append(AuthServer(url))
        yield holder[0]


def app_for(dependency: RequireToken) -> FastAPI:
    app = FastAPI()

    @app.get("/data")
    async def data(request: Request, claims: authsec.Claims = Depends(dependency)) -> Dict[str, Any]:
        accepted = request.state.authsec
        return {"sub": claims.subject, "scheme": accepted.scheme, "jkt": accepted.dpop_jkt,
                "x5t": accepted.certificate_thumbprint}

    return app


SECRET = "agent-secret"


@contextlib.contextmanager
def world(server_config: Optional[Dict[str, Any]] = None, **options: Any) -> Iterator[Tuple[LocalAuthServer, str]]:
    """The local authorization server (it issues DPoP-bound tokens to clients that send a proof)
    and the resource's URL (`/data`, needs read:data, behind `RequireToken(**options)`)."""
    clients = [{"client_id": "agent", "client_secret": SECRET, "allowed_scopes": ["read:data"]}]
    with LocalAuthServer(clients=clients, config=server_config) as server:
        with asgi_server(app_for(RequireToken(server.verifier(), ["read:data"], **options))) as url:
            yield server, url + "/data"


def call_with_each(client: authsec.ClientCredentials, url: str) -> List[Tuple[int, List[int], Dict[str, Any]]]:
    """(status, statuses of the history, JSON body) for a GET through requests, httpx, httpx async."""
    out = []
    r = requests.get(url, auth=client.auth(), timeout=10)
    out.append((r.status_code, [h.status_code for h in r.history], r.json()))
    with httpx.Client(auth=client.auth(), timeout=10) as http:
        x = http.get(url)
        out.append((x.status_code, [h.status_code for h in x.history], x.json()))

    async def main() -> httpx.Response:
        async with httpx.AsyncClient(auth=client.auth(), timeout=10) as http:
            return await http.get(url)

    a = asyncio.run(main())
    out.append((a.status_code, [h.status_code for h in a.history], a.json()))
    return out


def test_an_agent_calls_a_dpop_api_through_each_integration() -> None:
    with world() as (server, url):
        client = server.client(dpop=True)
        assert client.dpop and client.dpop_thumbprint
        for status, history, body in call_with_each(client, url):
            assert (status, history) == (200, []), body
            assert body == {"sub": "agent", "scheme": "DPoP", "jkt": client.dpop_thumbprint, "x5t": None}
        assert client._request_count == 1  # one token, for all three
        token = client.get_token()
        assert token.token_type == "DPoP"
        assert server.verifier().verify(token.access_token)["cnf"] == {"jkt": client.dpop_thumbprint}
        # A Bearer client of the same resource is unaffected.
        bearer = server.client()
        assert bearer.dpop_thumbprint is None and bearer.get_token().token_type == "Bearer"
        r = requests.get(url, auth=bearer.auth(), timeout=10)
        assert r.status_code == 200 and r.json()["scheme"] == "Bearer"


def test_the_resources_nonce_dance_takes_one_retry() -> None:
    # The authorization server wants its nonces too: the client's token request does that dance
    # inside the core.
    with world({"dpop": {"nonce": True}}, dpop_nonce=True) as (server, url):
        client = server.client(dpop=True)
        results = call_with_each(client, url)
        # The first call gets 401 use_dpop_nonce and the one retry, with the nonce, succeeds; the
        # nonce is kept for the origin, so the next integrations need no retry.
        assert [(s, h) for s, h, _ in results] == [(200, [401]), (200, []), (200, [])]
        assert client._request_count == 2  # the token endpoint's nonce: one retry; one token for all
        # Without the integration, a client with no nonce yet gets the challenge and a nonce.
        fresh = server.client(dpop=True)
        r = httpx.get(url, headers=dict(fresh.authorize(fresh.get_token(), "GET", url)), timeout=10)
        assert r.status_code == 401
        assert 'error="use_dpop_nonce"' in r.headers.get_list("www-authenticate")[1]
        assert r.headers["dpop-nonce"]


def test_a_replayed_proof_is_refused() -> None:
    with world() as (server, url):
        client = server.client(dpop=True)
        sent: List[httpx.Request] = []
        with httpx.Client(auth=client.auth(), timeout=10, event_hooks={"request": [sent.append]}) as http:
            assert http.get(url).status_code == 200
        replay = {k: sent[0].headers[k] for k in ("authorization", "dpop")}
        r = httpx.get(url, headers=replay, timeout=10)
        assert r.status_code == 401
        assert "already used" in r.json()["detail"] and "invalid_dpop_proof" in r.json()["detail"]
        challenges = r.headers.get_list("www-authenticate")
        assert challenges[0] == 'Bearer scope="read:data"'  # the error goes with the scheme used
        assert challenges[1].startswith("DPoP algs=") and 'error="invalid_dpop_proof"' in challenges[1]


def test_a_stolen_token_without_the_key_is_refused() -> None:
    with world() as (server, url):
        victim = server.client(dpop=True)
        stolen = victim.get_token()
        assert stolen.token_type == "DPoP" and stolen.authorization.startswith("DPoP ")
        # With a proof by the thief's own key.
        thief = server.client(dpop=True)
        r = httpx.get(url, headers=dict(thief.authorize(stolen, "GET", url)), timeout=10)
        assert r.status_code == 401 and "invalid_dpop_proof" in r.json()["detail"]
        assert "cnf.jkt" in r.json()["detail"]
        # As a plain bearer token (RFC 9449 section 7.2).
        r = httpx.get(url, headers={"Authorization": f"Bearer {stolen.access_token}"}, timeout=10)
        assert r.status_code == 401
        challenges = r.headers.get_list("www-authenticate")
        assert challenges[0].startswith('Bearer error="invalid_token"') and challenges[1].startswith("DPoP algs=")


def test_a_token_downgraded_to_bearer_is_refused_by_the_client() -> None:
    # The local server never downgrades; this one answers a proof with a token typed Bearer.
    with auth_server() as auth, asgi_server(app_for(RequireToken(auth.verifier(), ["read:data"]))) as url:
        auth.downgrade = True
        client = auth.client(dpop=True)
        with pytest.raises(authsec.AuthsecError) as info:
            client.get_token()
        assert info.value.code == "invalid_response" and "downgrade" in str(info.value)
        with pytest.raises(authsec.AuthsecError):
            requests.get(url + "/data", auth=client.auth(), timeout=10)
        with pytest.raises(authsec.AuthsecError), httpx.Client(auth=client.auth(), timeout=10) as http:
            http.get(url + "/data")


def test_required_mode_and_the_challenges() -> None:
    with world(dpop="required", realm="api") as (server, url):
        r = httpx.get(url, timeout=10)
        assert r.status_code == 401
        algs = "RS256 RS384 RS512 PS256 PS384 PS512 ES256 ES384 EdDSA"
        assert r.headers.get_list("www-authenticate") == [f'DPoP algs="{algs}", realm="api", scope="read:data"']
        bearer = server.client()
        assert requests.get(url, auth=bearer.auth(), timeout=10).status_code == 401
        assert requests.get(url, auth=server.client(dpop=True).auth(), timeout=10).status_code == 200


@contextlib.contextmanager
def signed_world(**options: Any) -> Iterator[Tuple[AuthServer, str]]:
    """`world()` with tokens the test signs (certificate-bound ones: the local server binds tokens
    to the certificate of an mTLS token request, over HTTPS)."""
    with auth_server() as auth:
        with asgi_server(app_for(RequireToken(auth.verifier(), ["read:data"], **options))) as url:
            yield auth, url + "/data"


FAKE_CERT_DER = b"0\x82\x01\x0atest client certificate, as DER"
"""The core hashes the certificate's DER (`x5t#S256`) and never parses it."""


def x5t(der: bytes) -> str:
    return b64url(hashlib.sha256(der).digest())


def test_certificate_binding_through_the_proxy_header() -> None:
    options = {"client_cert_header": "x-forwarded-client-cert", "trusted_proxies": ["127.0.0.1"]}
    with signed_world(**options) as (auth, url):
        token = auth.sign({"x5t#S256": x5t(FAKE_CERT_DER)})
        h = {"Authorization": f"Bearer {token}"}
        xfcc = f"By=spiffe://api;Hash={hashlib.sha256(FAKE_CERT_DER).hexdigest()};Subject=\"CN=agent\""
        r = httpx.get(url, headers={**h, "X-Forwarded-Client-Cert": xfcc}, timeout=10)
        assert r.status_code == 200, r.text
        assert r.json()["x5t"] == x5t(FAKE_CERT_DER)
        # Without the certificate, or with another one: refused.
        assert httpx.get(url, headers=h, timeout=10).status_code == 401
        other = f"Hash={hashlib.sha256(b'another').hexdigest()}"
        r = httpx.get(url, headers={**h, "X-Forwarded-Client-Cert": other}, timeout=10)
        assert r.status_code == 401 and "invalid_token" in r.headers["www-authenticate"]
    # From a peer that is not a trusted proxy, the header is not believed.
    with signed_world(client_cert_header="x-forwarded-client-cert", trusted_proxies=["10.0.0.0/8"]) as (auth, url):
        token = auth.sign({"x5t#S256": x5t(FAKE_CERT_DER)})
        h = {"Authorization": f"Bearer {token}", "X-Forwarded-Client-Cert": f"Hash={hashlib.sha256(FAKE_CERT_DER).hexdigest()}"}
        assert httpx.get(url, headers=h, timeout=10).status_code == 401


def test_certificate_binding_from_the_asgi_tls_extension() -> None:
    # uvicorn does not implement the ASGI TLS extension; a server that does puts the peer's chain
    # (PEM) in the scope, as this wrapper does.
    with auth_server() as auth:
        app = app_for(RequireToken(auth.verifier(), ["read:data"], require_certificate_binding=True))

        async def tls_server(scope: Dict[str, Any], receive: Any, send: Any) -> None:
            if scope["type"] == "http":
                pem = ssl.DER_cert_to_PEM_cert(FAKE_CERT_DER)
                scope = dict(scope, extensions={**scope.get("extensions", {}), "tls": {"client_cert_chain": [pem]}})
            await app(scope, receive, send)

        with TestClient(tls_server) as http:
            token = auth.sign({"x5t#S256": x5t(FAKE_CERT_DER)})
            r = http.get("/data", headers={"Authorization": f"Bearer {token}"})
            assert r.status_code == 200 and r.json()["x5t"] == x5t(FAKE_CERT_DER)
            unbound = auth.sign(None)
            r = http.get("/data", headers={"Authorization": f"Bearer {unbound}"})
            assert r.status_code == 401
        with TestClient(app) as http:  # no certificate at all
            assert http.get("/data", headers={"Authorization": f"Bearer {token}"}).status_code == 401


def test_request_verifier_directly() -> None:
    with auth_server() as auth:
        verifier = auth.verifier()
        rv = authsec.RequestVerifier(verifier, dpop_nonce=True, public_url="https://api.example.test")
        client = auth.client(dpop=True)
        token = client.get_token()
        url = "https://api.example.test/data?x=1"
        headers = client.authorize(token, "POST", url)
        assert [n for n, _ in headers] == ["Authorization", "DPoP"]
        out = rv.verify("POST", "/data?x=1", scheme="http", headers=headers, peer="127.0.0.1", required_scopes="read:data")
        assert isinstance(out, authsec.Refusal) and out.status == 401
        assert isinstance(out.error, authsec.InvalidTokenError) and out.error.code == "use_dpop_nonce"
        names = [n for n, _ in out.headers]
        assert names == ["WWW-Authenticate", "WWW-Authenticate", "DPoP-Nonce"]
        # The client keeps the nonce and says: resend once with the same token.
        assert client.on_resource_response(url, token, out.status, out.headers) is True
        again = client.authorize(client.get_token(), "POST", url)
        out = asyncio.run(rv.verify_async("POST", "/data?x=1", headers=dict(again), required_scopes=["read:data"]))
        assert isinstance(out, authsec.Accepted), out
        assert (out.scheme, out.dpop_jkt, out.claims.subject) == ("DPoP", client.dpop_thumbprint, "agent")
        assert client.on_resource_response(url, token, 200, out.headers) is False
        # No credential: a challenge per scheme and no error.
        out = rv.verify("GET", "/data", headers={})
        assert isinstance(out, authsec.Refusal) and (out.status, out.error) == (401, None)
        assert [v.split(" ")[0] for n, v in out.headers if n == "WWW-Authenticate"] == ["Bearer", "DPoP"]
        # A Bearer token's headers: only Authorization.
        bearer = auth.client().get_token()
        assert auth.client().authorize(bearer, "GET", url) == [("Authorization", f"Bearer {bearer.access_token}")]
        with pytest.raises(authsec.ConfigError, match="dpop"):
            authsec.RequestVerifier(verifier, dpop="sometimes")
        with pytest.raises(authsec.ConfigError, match="unknown"):
            authsec.RequestVerifier(verifier, dpop_nonces=True)
        with pytest.raises(authsec.ConfigError, match="trusted_proxies"):  # who may set the header
            authsec.RequestVerifier(verifier, client_cert_header="x-forwarded-client-cert")


def test_the_verifiers_allowed_actors_callable_still_decides() -> None:
    with auth_server() as auth:
        verifier = authsec.Verifier(auth.issuer, AUDIENCE, jwks={"keys": [ISSUER_KEY["public_jwk"]]},
                                    allowed_actors=lambda actor: actor.id == "good")
        rv = authsec.RequestVerifier(verifier)
        for actor, ok in (("good", True), ("evil", False)):
            token = auth.sign(None, act={"sub": actor})
            out = rv.verify("GET", "/data", headers={"Authorization": f"Bearer {token}", "Host": "api.test"})
            assert isinstance(out, authsec.Accepted) is ok, out
            if not ok:
                assert isinstance(out, authsec.Refusal) and out.status == 401
                assert isinstance(out.error, authsec.DelegationError) and out.error.code == "delegation_not_allowed"
                assert 'error="invalid_token"' in out.headers[0][1]


def test_client_settings_for_dpop_and_mtls() -> None:
    key = KEYS["dpop-p256"]
    client = authsec.ClientCredentials(client_id="a", client_secret="s", token_url="https://as.example/token",
                                       dpop=True, dpop_key=key["private_pem"])
    assert client.dpop and client.dpop_thumbprint == jwk_thumbprint(key["public_jwk"])
    bad = [
        (dict(dpop=True, dpop_key="junk"), "PEM private key"),
        (dict(dpop=True, dpop_alg="HS256"), "dpop_alg"),
        (dict(tls_client_cert="junk"), "needs its key"),
        (dict(tls_client_cert="junk", tls_client_key="junk"), "TLS client certificate"),
        (dict(auth_method="tls_client_auth"), "tls_client_auth needs"),
    ]
    for settings, message in bad:
        with pytest.raises(authsec.ConfigError, match=message):
            authsec.ClientCredentials(client_id="a", client_secret="s", token_url="https://as.example/token", **settings)


def test_an_accepted_answer_carries_the_renewed_nonce() -> None:
    clock = ManualClock()
    with auth_server() as auth:
        verifier = authsec.Verifier(auth.issuer, AUDIENCE, jwks={"keys": [ISSUER_KEY["public_jwk"]]}, _clock=clock)
        app = app_for(RequireToken(verifier, ["read:data"], dpop_nonce=True, dpop_nonce_lifetime=60))
        client = auth.client(dpop=True)
        with asgi_server(app) as url, httpx.Client(base_url=url, auth=client.auth(), timeout=10) as http:
            r = http.get("/data")
            assert r.status_code == 200 and [h.status_code for h in r.history] == [401]
            first = r.history[0].headers["dpop-nonce"]
            assert "dpop-nonce" not in r.headers
            clock.advance(31)  # past half the nonce's life: still accepted, and a new one comes along
            r = http.get("/data")
            assert r.status_code == 200 and r.history == []
            assert r.headers["dpop-nonce"] != first
            clock.advance(31)  # the first nonce has expired; the client sends the renewed one
            r = http.get("/data")
            assert r.status_code == 200 and r.history == []


def _openssl_certificate(directory: Any, name: str, cn: str, *extra: str) -> Tuple[str, str]:
    """A self-signed P-256 certificate and key (PEM) made with the openssl command."""
    import subprocess

    key, cert = directory / f"{name}.key", directory / f"{name}.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "2",
         "-subj", f"/CN={cn}", *extra, "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True, timeout=30,
    )
    return cert.read_text(), key.read_text()


def test_a_token_over_https_with_a_client_certificate(tmp_path: Any) -> None:
    import shutil

    if shutil.which("openssl") is None:
        pytest.skip("no openssl command to make the test certificates")
    # The server's certificate is its own trust anchor: CA:FALSE, or webpki refuses a CA as an end entity.
    server_pem, _ = _openssl_certificate(
        tmp_path, "server", "127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
        "-addext", "basicConstraints=critical,CA:FALSE",
    )
    client_pem, client_key = _openssl_certificate(tmp_path, "client", "agent")
    other_pem, _ = _openssl_certificate(tmp_path, "other", "thief")
    client_der = ssl.PEM_cert_to_DER_cert(client_pem)
    clients = [{
        "client_id": "mtls-agent", "allowed_scopes": ["read:data"], "audiences": ["https://api.example.test"],
        "token_endpoint_auth_method": "self_signed_tls_client_auth",
        "tls_client_certificate_sha256": x5t(client_der),
        "tls_client_certificate_bound_access_tokens": True,
    }]
    tls = {"cert_file": str(tmp_path / "server.pem"), "key_file": str(tmp_path / "server.key")}
    with LocalAuthServer(clients=clients, audience="https://api.example.test", config={"tls": tls}) as server:
        assert server.issuer.startswith("https://127.0.0.1:")
        agent = authsec.ClientCredentials(
            client_id="mtls-agent", token_url=server.token_endpoint, auth_method="self_signed_tls_client_auth",
            tls_client_cert=client_pem, tls_client_key=client_key, tls_ca_cert=server_pem,
        )
        token = agent.get_token()
        payload = json.loads(base64.urlsafe_b64decode(token.access_token.split(".")[1] + "=="))
        assert payload["cnf"] == {"x5t#S256": x5t(client_der)}
        # The API: its verifier takes the server's key set (read over HTTPS, trusting its certificate).
        context = ssl.create_default_context(cadata=server_pem)
        jwks = httpx.get(server.jwks_uri, verify=context, timeout=10).json()
        verifier = authsec.Verifier(issuer=server.issuer, audience="https://api.example.test", jwks=jwks)
        api = authsec.RequestVerifier(verifier, require_certificate_binding=True)
        headers = [("host", "api.example.test"), ("authorization", f"Bearer {token.access_token}")]
        ok = api.verify("GET", "/data", scheme="https", headers=headers, client_certificate=client_der)
        assert isinstance(ok, authsec.Accepted) and ok.certificate_thumbprint == x5t(client_der)
        for cert in (ssl.PEM_cert_to_DER_cert(other_pem), None):
            refused = api.verify("GET", "/data", scheme="https", headers=headers, client_certificate=cert)
            assert isinstance(refused, authsec.Refusal) and refused.status == 401, refused
