"""authsec.testing: the local server as a context manager and as a pytest fixture."""

from __future__ import annotations

import pytest

import authsec
from authsec.testing import DEFAULT_SCOPES, LocalAuthServer


def test_context_manager_starts_and_stops() -> None:
    with LocalAuthServer() as server:
        assert server.running
        assert server.issuer.startswith("http://127.0.0.1:")
        assert server.token_url == server.issuer + "/oauth/token"
        assert server.jwks_uri == server.issuer + "/.well-known/jwks.json"
        client = server.client()
        assert sorted(client.get_token().scopes) == sorted(DEFAULT_SCOPES)
    assert not server.running
    client.invalidate()
    with pytest.raises(authsec.NetworkError):
        client.get_token()


def test_custom_clients_and_audit() -> None:
    clients = [
        {"client_id": "agent-a", "client_secret": "sa", "allowed_scopes": ["x"], "audiences": ["https://x.example"]},
        {"client_id": "agent-b", "client_secret": "sb", "allowed_scopes": ["y"], "token_lifetime": 60},
    ]
    with LocalAuthServer(clients=clients) as server:
        a = server.verifier(audience="https://x.example").verify(server.token("agent-a"))
        assert a.client_id == "agent-a" and a.scopes == ["x"]
        b = server.verifier().verify(server.token("agent-b"))
        assert b.expires_at - b.issued_at == 60
        events = server.audit_events()
        assert [e["client_id"] for e in events] == ["agent-a", "agent-b"]
        with pytest.raises(ValueError):
            server.client("nobody")


def test_fixture(authsec_server) -> None:
    claims = authsec_server.verifier().verify(authsec_server.client().get_token().access_token)
    assert claims.client_id == "test-client"


@pytest.mark.parametrize("authsec_server", [{"signing_alg": "EdDSA"}], indirect=True)
def test_fixture_parametrized(authsec_server) -> None:
    token = authsec_server.token()
    assert authsec_server.verifier(algorithms=["EdDSA"]).verify(token)


def test_not_started() -> None:
    server = LocalAuthServer()
    with pytest.raises(RuntimeError):
        server.issuer
    server.start()
    try:
        assert server.port > 0
    finally:
        server.stop()
        server.stop()
