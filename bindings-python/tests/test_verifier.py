"""Verifier against the local server's JWKS over real sockets, and the Claims mapping."""

from __future__ import annotations

import asyncio
import collections.abc
import json

import pytest

import authsec
from authsec.testing import LocalAuthServer, ManualClock


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
        with pytest.raises(authsec.InsufficientScopeError) as info:
            v.verify(token, ["read:data", "write:data"])
        assert info.value.missing_scopes == ("write:data",)
        with pytest.raises(authsec.InsufficientScopeError):
            v.verify(token, any_scopes="admin root")


def test_expired_token_with_a_manual_clock() -> None:
    clock = ManualClock()
    with LocalAuthServer(token_lifetime=60, _clock=clock) as s:
        token = s.token()
        v = s.verifier()
        v.verify(token)
        clock.advance(60 + 5)  # exp + leeway
        with pytest.raises(authsec.TokenExpiredError) as info:
            v.verify(token)
        assert info.value.code == "token_expired"
        assert isinstance(info.value, authsec.InvalidTokenError)


def test_verify_async_first_sight_and_cached() -> None:
    with LocalAuthServer() as s:
        tokens = [s.token() for _ in range(5)]
        v = s.verifier()

        async def main() -> None:
            first = await asyncio.gather(*(v.verify_async(t) for t in tokens))
            again = await asyncio.gather(*(v.verify_async(t) for t in tokens))
            assert first == again
            with pytest.raises(authsec.InsufficientScopeError):
                await v.verify_async(tokens[0], ["admin"])
            with pytest.raises(authsec.InvalidTokenError):
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


def test_discovered_jwks() -> None:
    with LocalAuthServer() as s:
        token = s.token()
        v = authsec.Verifier.discover(s.issuer, s.audience)
        assert "discovered from" in repr(v)
        assert v.verify(token).client_id == "test-client"
        same = authsec.Verifier(issuer=s.issuer, audience=s.audience, discover=True)
        assert same.verify(token).client_id == "test-client"
    with pytest.raises(authsec.ConfigError):
        authsec.Verifier(audience="https://a", discover=True)  # discovery needs the issuer
    with pytest.raises(authsec.ConfigError):
        authsec.Verifier.discover("https://i", "https://a", jwks_uri="https://i/jwks")


def test_verifier_options_are_read_by_the_core() -> None:
    from conftest import KEYS

    jwks = {"keys": [KEYS["p256-a"]["public_jwk"]]}
    v = authsec.Verifier("https://i", ["https://a", "https://b"], jwks=jwks, algorithms=["ES256"], verified_cache_size=0)
    assert (v.issuer, v.audience, v.algorithms) == ("https://i", ["https://a", "https://b"], ["ES256"])
    with pytest.raises(authsec.ConfigError) as info:
        authsec.Verifier("https://i", "https://a", jwks=jwks, cache_size=10)
    assert "`cache_size`" in info.value.message and "verified_cache_size" in info.value.message
    with pytest.raises(authsec.ConfigError) as info:
        authsec.Verifier("https://i", "https://a", jwks=jwks, leeway="5")
    assert "leeway" in info.value.message
    with pytest.raises(TypeError):
        v.verify("x.y.z", any_scopes=5)  # scopes: a list or a space-separated string
