"""authsec.testing: the local server as a context manager and as a pytest fixture."""

from __future__ import annotations

import sys

import pytest

import authsec
from authsec.testing import DEFAULT_SCOPES, LocalAuthServer, ManualClock


def test_context_manager_starts_and_stops() -> None:
    with LocalAuthServer() as server:
        assert server.running
        assert server.issuer.startswith("http://127.0.0.1:")
        assert server.token_endpoint == server.issuer + "/oauth/token"
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


def test_manual_clock_is_public_and_shared_with_the_server() -> None:
    clock = ManualClock(1_000_000)
    assert clock.now() == 1_000_000
    assert repr(clock) == "ManualClock(now=1000000)"
    with pytest.raises(ValueError):
        clock.advance(-1)
    with LocalAuthServer(token_lifetime=60, _clock=clock) as server:
        claims = server.verifier().verify(server.token())
        assert claims.issued_at == 1_000_000  # the server's clock is this one
        clock.advance(30)
        assert server.verifier().verify(server.token()).issued_at == 1_000_030
    with pytest.raises(TypeError):
        LocalAuthServer(_clock=object()).start()


def test_without_the_testing_package(monkeypatch: pytest.MonkeyPatch) -> None:
    # authsec-testing (the native module authsec_testing) is a separate distribution.
    monkeypatch.setitem(sys.modules, "authsec_testing", None)
    with pytest.raises(ImportError) as info:
        LocalAuthServer()
    assert "pip install authsec-testing" in str(info.value)
    assert ManualClock().now() > 0  # the clock is in the authsec package itself


def test_the_authsec_package_does_not_carry_the_server() -> None:
    import authsec_testing

    from authsec import _native

    assert not hasattr(_native, "LocalServer")
    assert authsec_testing.__version__ == authsec.__version__
