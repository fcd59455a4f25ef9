"""ClientCredentials against the local authorization server over real sockets: every client
authentication method, caching, invalidation, per-request parameters, configuration sources."""

from __future__ import annotations

import asyncio
import datetime
import json
import textwrap

import pytest

import authsec
from authsec.testing import DEFAULT_AUDIENCE, LocalAuthServer
from conftest import KEYS

SECRET = "a-client-secret-for-tests"


def spec(client_id: str = "agent", **extra: object) -> dict:
    s = {"client_id": client_id, "client_secret": SECRET, "allowed_scopes": ["read:data", "write:data"]}
    s.update(extra)
    return s


@pytest.fixture
def server():
    key_clients = [
        {"client_id": f"keyed-{name}", "jwks": {"keys": [KEYS[name]["public_jwk"]]}, "allowed_scopes": ["read:data"]}
        for name in ("p256-a", "rsa-a", "ed25519-a")
    ]
    with LocalAuthServer(clients=[spec(audiences=[DEFAULT_AUDIENCE])] + key_clients) as s:
        yield s


@pytest.mark.parametrize("method", ["client_secret_basic", "client_secret_post"])
def test_secret_methods(server: LocalAuthServer, method: str) -> None:
    client = server.client("agent", scopes=["read:data"], auth_method=method)
    assert client.auth_method == method
    token = client.get_token()
    assert token.token_type == "Bearer"
    assert token.scopes == ["read:data"]
    assert token.authorization == "Bearer " + token.access_token
    claims = server.verifier().verify(token.access_token, ["read:data"])
    assert claims.client_id == "agent"
    assert server.audit_events()[-1]["auth_method"] == method


@pytest.mark.parametrize("key", ["p256-a", "rsa-a", "ed25519-a"])
def test_private_key_jwt(server: LocalAuthServer, key: str) -> None:
    client = authsec.ClientCredentials(
        client_id=f"keyed-{key}",
        token_url=server.token_endpoint,
        private_key=KEYS[key]["private_pem"],
        private_key_id=key,
        scopes=["read:data"],
    )
    assert client.auth_method == "private_key_jwt"  # inferred: a key and no secret
    token = client.get_token()
    claims = server.verifier().verify(token.access_token)
    assert claims.subject == f"keyed-{key}"
    assert server.audit_events()[-1]["auth_method"] == "private_key_jwt"


def test_wrong_private_key_is_invalid_client(server: LocalAuthServer) -> None:
    client = authsec.ClientCredentials(
        client_id="keyed-p256-a",
        token_url=server.token_endpoint,
        private_key=KEYS["attacker-p256"]["private_pem"],
        private_key_id="p256-a",
        auth_method="private_key_jwt",
    )
    with pytest.raises(authsec.InvalidClientError) as info:
        client.get_token()
    assert info.value.code == "invalid_client"
    assert info.value.status == 401


def test_private_key_as_a_jwk_dict_is_parsed_as_a_jwk() -> None:
    # A dict is sent to the core's key parser as JSON: a JWK without its private part is refused.
    with pytest.raises(authsec.ConfigError) as info:
        authsec.ClientCredentials(
            client_id="a", token_url="https://auth.example.com/token", private_key=KEYS["p256-a"]["public_jwk"]
        )
    assert info.value.code in ("invalid_key", "config_error")


def test_cache_and_invalidate(server: LocalAuthServer) -> None:
    client = server.client("agent", scopes=["read:data"])
    t1 = client.get_token()
    assert client.get_token() is t1  # the same object straight from the cache
    assert client._request_count == 1
    client.invalidate_token("not-the-cached-token")
    assert client.get_token() is t1
    client.invalidate_token(t1)
    t2 = client.get_token()
    assert t2.access_token != t1.access_token
    assert client._request_count == 2
    client.invalidate()
    assert client.get_token().access_token != t2.access_token
    assert client._request_count == 3


def test_per_request_parameters_are_cached_separately(server: LocalAuthServer) -> None:
    client = server.client("agent", scopes=["read:data"])
    read = client.get_token()
    write = client.get_token(scopes=["write:data"])
    assert write.scopes == ["write:data"]
    assert client.get_token(scopes="write:data").access_token == write.access_token
    assert client.get_token() is read
    assert client._request_count == 2


def test_invalid_scope(server: LocalAuthServer) -> None:
    client = server.client("agent", scopes=["admin"])
    with pytest.raises(authsec.InvalidScopeError) as info:
        client.get_token()
    assert info.value.code == "invalid_scope"
    assert info.value.oauth_error == "invalid_scope"


def test_wrong_secret(server: LocalAuthServer) -> None:
    with pytest.raises(authsec.InvalidClientError):
        server.client("agent", client_secret="wrong").get_token()


def test_network_error_is_typed() -> None:
    with LocalAuthServer() as s:
        client = s.client()
    # The server is gone: connection refused.
    with pytest.raises(authsec.NetworkError) as info:
        client.get_token()
    assert info.value.code == "network_error"
    assert info.value.retryable


def test_discovery_from_issuer(server: LocalAuthServer) -> None:
    client = authsec.ClientCredentials(client_id="agent", client_secret=SECRET, issuer=server.issuer)
    assert client.token_url is None
    assert client.get_token().access_token


def test_from_env(server: LocalAuthServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AUTHSEC_CLIENT_ID", "agent")
    monkeypatch.setenv("AUTHSEC_CLIENT_SECRET", SECRET)
    monkeypatch.setenv("AUTHSEC_TOKEN_URL", server.token_endpoint)
    monkeypatch.setenv("AUTHSEC_SCOPES", "read:data write:data")
    monkeypatch.setenv("AUTHSEC_REFRESH_BUFFER", "2m")
    client = authsec.ClientCredentials.from_env()
    assert client.scopes == ["read:data", "write:data"]
    assert client.refresh_buffer == 120
    assert sorted(client.get_token().scopes) == ["read:data", "write:data"]
    monkeypatch.delenv("AUTHSEC_CLIENT_SECRET")
    with pytest.raises(authsec.ConfigError) as info:
        authsec.ClientCredentials.from_env()
    assert "AUTHSEC_CLIENT_SECRET" in info.value.message


def test_from_config(server: LocalAuthServer, tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MY_AGENT_SECRET", SECRET)
    path = tmp_path / "authsec.yaml"
    path.write_text(
        textwrap.dedent(
            f"""\
            authsec:
              client_id: agent
              client_secret: ${{MY_AGENT_SECRET}}
              token_url: {server.token_endpoint}
              scopes: [read:data]
            """
        )
    )
    client = authsec.ClientCredentials.from_config(path)
    assert client.get_token().scopes == ["read:data"]
    assert authsec.ClientCredentials.from_config(str(path)).client_id == "agent"
    path.write_text("authsec:\n  client_id: agent\n  clientsecret: x\n")
    with pytest.raises(authsec.ConfigError) as info:
        authsec.ClientCredentials.from_config(path)
    assert "clientsecret" in info.value.message


def test_constructor_options(server: LocalAuthServer) -> None:
    client = authsec.ClientCredentials(
        client_id="agent",
        client_secret=SECRET,
        token_url=server.token_endpoint,
        scopes="read:data write:data",
        audience=server.audience,
        refresh_buffer=datetime.timedelta(minutes=1),
    )
    assert client.scopes == ["read:data", "write:data"]
    assert client.audience == server.audience
    assert client.refresh_buffer == 60
    assert client.get_token().access_token
    with pytest.raises(ValueError):
        authsec.ClientCredentials(client_id="a", client_secret="s", token_url=server.token_endpoint, refresh_buffer=-1)


def test_async(server: LocalAuthServer) -> None:
    client = server.client("agent", scopes=["read:data"])

    async def main() -> None:
        t1 = await client.get_token_async()
        t2 = await client.get_token_async()
        assert t1 is t2
        assert isinstance(client.get_token_async(), asyncio.Future)
        write = await client.get_token_async(scopes=["write:data"])
        assert write.scopes == ["write:data"]
        bad = server.client("agent", client_secret="wrong")
        with pytest.raises(authsec.InvalidClientError):
            await bad.get_token_async()
        assert client._request_count == 2

    asyncio.run(main())


def test_async_needs_a_running_loop(server: LocalAuthServer) -> None:
    with pytest.raises(RuntimeError):
        server.client().get_token_async()


@pytest.mark.parametrize("alg", ["ES256", "RS256", "EdDSA"])
def test_each_signing_alg_verifies(alg: str) -> None:
    with LocalAuthServer(signing_alg=alg) as s:
        token = s.client().get_token().access_token
        header = json.loads(__import__("base64").urlsafe_b64decode(token.split(".")[0] + "=="))
        assert header["alg"] == alg
        assert s.verifier(algorithms=[alg]).verify(token).client_id == "test-client"


def test_options_are_read_by_the_core(server: LocalAuthServer) -> None:
    # `domain` (https://{domain}/oauth/token; a domain with a scheme is the base as it is).
    base = server.issuer
    client = authsec.ClientCredentials(client_id="agent", client_secret=SECRET, domain=base, max_attempts=1)
    assert client.token_url == server.token_endpoint
    assert client.get_token().access_token
    assert authsec.ClientCredentials(client_id="a", client_secret="s", domain="auth.example.com").token_url == (
        "https://auth.example.com/oauth/token"
    )
    # Unknown or ill-typed options are errors that name them.
    with pytest.raises(authsec.ConfigError) as info:
        authsec.ClientCredentials(client_id="a", client_secret="s", token_url=server.token_endpoint, scopez=["x"])
    assert "`scopez`" in info.value.message
    with pytest.raises(authsec.ConfigError) as info:
        authsec.ClientCredentials(client_id="a", client_secret="s", token_url=server.token_endpoint, max_attempts="3")
    assert "max_attempts" in info.value.message
    with pytest.raises(authsec.ConfigError) as info:
        client.get_token(scope=["read:data"])
    assert "`scope`" in info.value.message
    with pytest.raises(authsec.ConfigError):
        client.get_token(resource=5)


def test_refresh_buffer_forms(server: LocalAuthServer) -> None:
    for given, seconds in ((90, 90), (2.5, 2.5), ("2m", 120), (datetime.timedelta(seconds=30), 30)):
        client = authsec.ClientCredentials(
            client_id="agent", client_secret=SECRET, token_url=server.token_endpoint, refresh_buffer=given
        )
        assert client.refresh_buffer == seconds
