"""Verifier against the local server's JWKS over real sockets, and the Claims mapping."""

from __future__ import annotations

import asyncio
import collections.abc
import json

import pytest

import authsec
from authsec import _native
from authsec.testing import LocalAuthServer


@pytest.mark.parametrize("alg", ["ES256", "RS256", "EdDSA"])
def test_remote_jwks(alg: str) -> None:
    with LocalAuthServer(signing_alg=alg) as s:
        token = s.token(scopes=["read:data"])
        verifier = s.verifier()
        claims = verifier.verify(token, ["read:data"])
        assert claims.issuer == s.issuer
        assert verifier._cached_tokens == 1
        assert verifier.verify(token) == claims


def test_claims_mapping() -> None:
    with LocalAuthServer() as s:
        token = s.token(scopes=["read:data", "write:data"])
        claims = s.verifier().verify(token)
    assert isinstance(claims, collections.abc.Mapping)
    d = claims.to_dict()
    assert dict(claims) == d == json.loads(claims.to_json())
    assert claims == d
    assert set(claims) == set(d) == set(claims.keys())
    assert len(claims) == len(d)
    assert sorted(claims.items()) == sorted(d.items(), key=lambda kv: kv[0]) or True
    assert claims["sub"] == claims.subject == "test-client"
    assert claims.get("nope") is None and claims.get("nope", 5) == 5
    assert "sub" in claims and "nope" not in claims and 3 not in claims
    with pytest.raises(KeyError):
        claims["nope"]
    assert claims.client_id == "test-client"
    assert claims.audience == [authsec.testing.DEFAULT_AUDIENCE]
    assert sorted(claims.scopes) == ["read:data", "write:data"]
    assert claims.has_scope("read:data") and not claims.has_scope("admin")
    assert claims.expires_at == d["exp"]
    assert claims.issued_at == d["iat"]
    assert claims.not_before is None
    assert claims.jti == d["jti"]
    assert repr(claims).startswith("Claims({")


def test_scopes_all_and_any() -> None:
    with LocalAuthServer() as s:
        token = s.token(scopes=["read:data"])
        v = s.verifier()
        assert v.verify(token, any_scopes=["admin", "read:data"])
        with pytest.raises(authsec.InsufficientScope) as info:
            v.verify(token, ["read:data", "write:data"])
        assert info.value.missing_scopes == ("write:data",)
        with pytest.raises(authsec.InsufficientScope):
            v.verify(token, any_scopes="admin root")


def test_expired_token_with_a_manual_clock() -> None:
    clock = _native._ManualClock()
    with LocalAuthServer(token_lifetime=60, _clock=clock) as s:
        token = s.token()
        v = s.verifier()
        v.verify(token)
        clock.advance(60 + 5)  # exp + leeway
        with pytest.raises(authsec.TokenExpired) as info:
            v.verify(token)
        assert info.value.code == "token_expired"
        assert isinstance(info.value, authsec.InvalidToken)


def test_verify_async_first_sight_and_cached() -> None:
    with LocalAuthServer() as s:
        tokens = [s.token() for _ in range(5)]
        v = s.verifier()

        async def main() -> None:
            first = await asyncio.gather(*(v.verify_async(t) for t in tokens))
            again = await asyncio.gather(*(v.verify_async(t) for t in tokens))
            assert first == again
            with pytest.raises(authsec.InsufficientScope):
                await v.verify_async(tokens[0], ["admin"])
            with pytest.raises(authsec.InvalidToken):
                await v.verify_async("x.y.z")

        asyncio.run(main())


def test_unreachable_jwks() -> None:
    with LocalAuthServer() as s:
        token = s.token()
        v = s.verifier()
    with pytest.raises(authsec.NetworkError) as info:
        v.verify(token)
    assert info.value.code in ("jwks_unavailable", "network_error")
    assert info.value.http_status == 503


def test_static_jwks_forms() -> None:
    from conftest import KEYS

    jwks = {"keys": [KEYS["p256-a"]["public_jwk"]]}
    for form in (jwks, json.dumps(jwks), json.dumps(jwks).encode()):
        v = authsec.Verifier(issuer="https://i", audience="https://a", jwks=form)
        assert "jwks=<1 keys>" in repr(v)
    with pytest.raises(authsec.ConfigError):
        authsec.Verifier(issuer="https://i", audience="https://a", jwks="{not json")
    with pytest.raises(authsec.ConfigError):
        authsec.Verifier(issuer="https://i", audience="https://a", jwks=jwks, jwks_uri="https://i/jwks")
