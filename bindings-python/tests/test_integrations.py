"""requests, httpx (sync and async) and FastAPI integrations, over real sockets."""

import asyncio
import threading
from typing import List

import httpx
import pytest
import requests
from fastapi import Depends, FastAPI
from fastapi.testclient import TestClient

import authsec
from authsec import _native
from authsec.auth import BearerAuth
from authsec.fastapi import RequireToken
from authsec.testing import LocalAuthServer, ManualClock
from conftest import http_server, json_response


class Resource:
    """A protected resource on 127.0.0.1 that answers 401 to the first token it ever sees."""

    def __init__(self, verifier: authsec.Verifier) -> None:
        self.verifier = verifier
        self.seen: List[str] = []
        self.lock = threading.Lock()

    def handle(self, method, path, headers, body):
        token = _native.bearer_token(headers.get("Authorization"))
        with self.lock:
            first = not self.seen
            self.seen.append(token or "")
        if token is None or first:
            return json_response(401, {"error": "invalid_token"}, {"WWW-Authenticate": 'Bearer error="invalid_token"'})
        claims = self.verifier.verify(token)
        return json_response(200, {"sub": claims.subject, "body": body.decode()})


@pytest.fixture
def setup():
    with LocalAuthServer() as server:
        resource = Resource(server.verifier())
        with http_server(resource.handle) as url:
            yield server.client(scopes=["read:data"]), resource, url + "/data"


def test_auth_object(setup) -> None:
    client, _, _ = setup
    auth = client.auth()
    assert isinstance(auth, BearerAuth)
    assert isinstance(auth, httpx.Auth)
    assert isinstance(auth, requests.auth.AuthBase)


def test_requests_retries_once_on_401(setup) -> None:
    client, resource, url = setup
    r = requests.post(url, data=b"payload", auth=client.auth(), timeout=10)
    assert r.status_code == 200, r.text
    assert r.json() == {"sub": "test-client", "body": "payload"}
    assert [h.status_code for h in r.history] == [401]
    assert client._request_count == 2  # the rejected token was dropped and a new one fetched
    assert resource.seen[0] != resource.seen[1]
    with requests.Session() as session:
        session.auth = client.auth()
        assert session.get(url, timeout=10).status_code == 200
    assert client._request_count == 2  # served from the cache


def test_requests_does_not_retry_twice(authsec_server) -> None:
    def always_401(method, path, headers, body):
        return json_response(401, {"error": "invalid_token"})

    client = authsec_server.client()
    with http_server(always_401) as url:
        r = requests.get(url, auth=client.auth(), timeout=10)
    assert r.status_code == 401
    assert len(r.history) == 1
    assert client._request_count == 2


def test_a_401_for_a_missing_scope_is_not_retried(authsec_server) -> None:
    # The core's rule (ClientCredentials.on_unauthorized): a fresh token for the same scopes would
    # not help, so the 401 goes to the caller and the cached token is kept.
    def lacks_scope(method, path, headers, body):
        return json_response(401, {}, {"WWW-Authenticate": 'Bearer error="insufficient_scope", scope="admin"'})

    client = authsec_server.client()
    with http_server(lacks_scope) as url:
        assert requests.get(url, auth=client.auth(), timeout=10).status_code == 401
        with httpx.Client(auth=client.auth(), timeout=10) as http:
            r = http.get(url)
            assert r.status_code == 401 and r.history == []
    assert client._request_count == 1


def test_on_unauthorized(authsec_server) -> None:
    client = authsec_server.client()
    token = client.get_token()
    assert client.on_unauthorized(token, 'Bearer error="insufficient_scope"') is False
    assert client.get_token() is token
    assert client.on_unauthorized(token.access_token, None, retries=1) is False
    assert client.on_unauthorized(token, 'Bearer error="invalid_token"') is True
    assert client.get_token().access_token != token.access_token  # the rejected token was dropped


def test_httpx_sync_retries_once_on_401(setup) -> None:
    client, resource, url = setup
    with httpx.Client(auth=client.auth(), timeout=10) as http:
        r = http.post(url, content=b"payload")
        assert r.status_code == 200, r.text
        assert r.json()["body"] == "payload"
        assert [h.status_code for h in r.history] == [401]
        assert http.get(url).status_code == 200
    assert client._request_count == 2


def test_httpx_async_retries_once_on_401(setup) -> None:
    client, resource, url = setup

    async def main() -> None:
        async with httpx.AsyncClient(auth=client.auth(), timeout=10) as http:
            r = await http.post(url, content=b"payload")
            assert r.status_code == 200, r.text
            assert [h.status_code for h in r.history] == [401]
            results = await asyncio.gather(*(http.get(url) for _ in range(20)))
            assert all(x.status_code == 200 for x in results)

    asyncio.run(main())
    assert client._request_count == 2


@pytest.fixture
def api():
    clock = ManualClock()
    with LocalAuthServer(_clock=clock) as server:
        verifier = server.verifier()
        app = FastAPI()

        @app.get("/read")
        async def read(claims: authsec.Claims = Depends(RequireToken(verifier, scopes=["read:data"], realm="api"))):
            return {"sub": claims.subject, "scopes": claims.scopes}

        @app.get("/either")
        async def either(claims: authsec.Claims = Depends(RequireToken(verifier, any_scopes="admin write:data"))):
            return {"sub": claims.subject}

        with TestClient(app) as http:
            yield server, http, clock


def test_fastapi_accepts_a_good_token(api) -> None:
    server, http, _ = api
    token = server.token(scopes=["read:data"])
    r = http.get("/read", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200
    assert r.json() == {"sub": "test-client", "scopes": ["read:data"]}


def test_fastapi_no_token_is_401_without_error(api) -> None:
    _, http, _ = api
    r = http.get("/read")
    assert r.status_code == 401
    # A challenge per scheme the resource takes (DPoP since issue 16), each its own header line.
    algs = "RS256 RS384 RS512 PS256 PS384 PS512 ES256 ES384 EdDSA"
    assert r.headers.get_list("www-authenticate") == [
        'Bearer realm="api", scope="read:data"',
        f'DPoP algs="{algs}", realm="api", scope="read:data"',
    ]
    r = http.get("/read", headers={"Authorization": "Basic YTpi"})
    assert r.status_code == 401


def test_fastapi_bad_token_is_401_invalid_token(api) -> None:
    _, http, _ = api
    r = http.get("/read", headers={"Authorization": "Bearer not.a.token"})
    assert r.status_code == 401
    assert r.headers["www-authenticate"].startswith('Bearer realm="api", error="invalid_token"')
    assert "malformed_token" in r.json()["detail"]


def test_fastapi_expired_token_is_401(api) -> None:
    server, http, clock = api
    token = server.token(scopes=["read:data"])
    clock.advance(3600 + 10)
    r = http.get("/read", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 401
    assert "token_expired" in r.json()["detail"]
    assert 'error="invalid_token"' in r.headers["www-authenticate"]


def test_fastapi_missing_scope_is_403(api) -> None:
    server, http, _ = api
    token = server.token(scopes=["write:data"])
    r = http.get("/read", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 403
    h = r.headers["www-authenticate"]
    assert 'error="insufficient_scope"' in h and 'scope="read:data"' in h
    assert http.get("/either", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    token = server.token(scopes=["read:data"])
    assert http.get("/either", headers={"Authorization": f"Bearer {token}"}).status_code == 403


def test_fastapi_empty_bearer_is_400(api) -> None:
    _, http, _ = api
    r = http.get("/read", headers={"Authorization": "Bearer "})
    assert r.status_code == 400
    assert 'error="invalid_request"' in r.headers["www-authenticate"]


def test_fastapi_openapi_declares_bearer(api) -> None:
    _, http, _ = api
    schemes = http.get("/openapi.json").json()["components"]["securitySchemes"]
    assert any(s.get("scheme", "").lower() == "bearer" for s in schemes.values())
