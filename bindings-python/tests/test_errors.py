"""Errors: the Python list of codes equals the core's, every code has its class, and errors carry
their code, status and details."""

from __future__ import annotations

import pickle

import pytest

import authsec
from authsec import _native, errors


def test_error_codes_match_the_core() -> None:
    core = [code for code, *_ in _native.error_codes()]
    assert list(authsec.ERROR_CODES) == core, "authsec.errors.ERROR_CODES drifted from the core's ErrorCode::ALL"
    assert [c for c, _ in authsec.error_codes()] == core
    assert all(desc for _, desc in authsec.error_codes())


def test_every_code_has_a_class() -> None:
    assert set(errors.CLASS_BY_CODE) == set(authsec.ERROR_CODES)
    for cls in errors.CLASS_BY_CODE.values():
        assert issubclass(cls, authsec.AuthsecError)


def test_invalid_token_family_is_the_cores_token_error_set() -> None:
    token_errors = {code for code, category, *_ in _native.error_codes() if category == "invalid_token"}
    mapped = {code for code, cls in errors.CLASS_BY_CODE.items() if issubclass(cls, authsec.InvalidTokenError)}
    assert mapped == token_errors


def test_the_class_tree_is_the_cores() -> None:
    # The classes are declared statically (IDEs, type checkers, docs); their names and parents
    # must be the core's ErrorClass tree, under the root AuthsecError.
    core = dict(_native.error_classes())
    static = {
        name: cls.__bases__[0].__name__ for name, cls in errors.CLASSES.items() if cls is not authsec.AuthsecError
    }
    assert static == core
    assert set(errors.CLASS_BY_CODE.values()) <= set(errors.CLASSES.values())
    for code, category, class_name, _, _ in _native.error_codes():
        assert errors.CLASS_BY_CODE[code].__name__ == class_name
    for name in errors.__all__:
        assert getattr(authsec, name) is getattr(errors, name), name
    assert set(errors.CLASSES) <= set(authsec.__all__)


def test_every_error_carries_code_category_and_retryable() -> None:
    for code, category, _, description, retryable in _native.error_codes():
        e = errors._from_native(code, "msg")
        assert (e.code, e.category, e.retryable, e.description) == (code, category, retryable, description)
    assert errors._from_native("rate_limited", "x").retryable
    assert not errors._from_native("jwks_unavailable", "x").retryable
    assert errors._from_native("timeout", "x").category == "unavailable"


@pytest.mark.parametrize(
    "code,cls,bases",
    [
        ("invalid_client", authsec.InvalidClientError, (authsec.TokenRequestError,)),
        ("invalid_scope", authsec.InvalidScopeError, (authsec.TokenRequestError,)),
        ("insufficient_scope", authsec.InsufficientScopeError, ()),
        ("token_expired", authsec.TokenExpiredError, (authsec.InvalidTokenError,)),
        ("invalid_signature", authsec.InvalidTokenError, ()),
        ("network_error", authsec.NetworkError, (authsec.UnavailableError,)),
        ("timeout", authsec.TimeoutError, (authsec.NetworkError, authsec.UnavailableError)),
        ("jwks_unavailable", authsec.NetworkError, (authsec.UnavailableError,)),
        ("server_error", authsec.ServerError, (authsec.UnavailableError,)),
        ("rate_limited", authsec.RateLimitedError, (authsec.UnavailableError,)),
        ("config_error", authsec.ConfigError, (ValueError,)),
        ("insecure_transport", authsec.ConfigError, ()),
        ("internal_error", authsec.InternalError, ()),
        ("not_found", authsec.ManagementError, ()),
        ("access_denied", authsec.ManagementError, ()),
    ],
)
def test_families(code: str, cls: type, bases: tuple) -> None:
    e = errors._from_native(code, "msg", None, None, [], None)
    assert type(e) is cls
    assert e.code == code
    for b in bases + (authsec.AuthsecError, Exception):
        assert isinstance(e, b)


def test_fields_str_repr_and_pickle() -> None:
    e = errors._from_native("rate_limited", "slow down", 429, 2.5, [], "temporarily_unavailable")
    assert str(e) == "rate_limited: slow down"
    assert repr(e) == "RateLimitedError(code='rate_limited', message='slow down')"
    assert (e.status, e.retry_after, e.oauth_error, e.retryable) == (429, 2.5, "temporarily_unavailable", True)
    assert e.description.startswith("HTTP 429")
    e2 = pickle.loads(pickle.dumps(e))
    assert type(e2) is authsec.RateLimitedError
    assert (e2.code, e2.message, e2.status, e2.retry_after) == ("rate_limited", "slow down", 429, 2.5)


def test_http_status_and_challenge() -> None:
    e = errors._from_native("insufficient_scope", "lacks admin", None, None, ["admin"], None)
    assert e.http_status == 403
    assert e.www_authenticate("api", ["read:data"]) == (
        'Bearer realm="api", error="insufficient_scope", error_description="lacks admin", scope="read:data admin"'
    )
    expired = errors._from_native("token_expired", "expired", None, None, [], None)
    assert expired.http_status == 401
    assert expired.www_authenticate() == 'Bearer error="invalid_token", error_description="expired"'
    down = errors._from_native("jwks_unavailable", "x", None, None, [], None)
    assert down.http_status == 503
    status, _, header = down.challenge("api")
    assert (status, header) == (503, None)  # no challenge for "keys unavailable"
    assert e.challenge("api", "read:data") == (403, "insufficient_scope", e.www_authenticate("api", ["read:data"]))
    assert _native.challenge("api", None, "", None, ["read:data"]) == (401, None, 'Bearer realm="api", scope="read:data"')
    assert _native.challenge("api", None, "", None, "read:data write:data")[2] == (
        'Bearer realm="api", scope="read:data write:data"'
    )
    assert down.www_authenticate("api") is None  # a 503 carries no challenge


def test_bearer_header_parsing() -> None:
    assert _native.bearer_token(None) is None
    assert _native.bearer_token("Basic YTpi") is None
    assert _native.bearer_token("Bearer a.b.c") == "a.b.c"
    assert _native.bearer_token("bearer  a.b.c ") == "a.b.c"
    with pytest.raises(authsec.TokenRequestError) as info:
        _native.bearer_token("Bearer ")
    assert info.value.code == "invalid_request"
    assert info.value.http_status == 400


def test_config_errors_are_value_errors() -> None:
    with pytest.raises(ValueError):
        authsec.ClientCredentials(client_id="a", client_secret="s", token_url="http://auth.example.com/token")
    with pytest.raises(authsec.ConfigError) as info:
        authsec.ClientCredentials(client_id="a", client_secret="s", token_url="http://auth.example.com/token")
    assert info.value.code == "insecure_transport"
    with pytest.raises(authsec.ConfigError) as info:
        authsec.ClientCredentials(client_id="a", token_url="https://auth.example.com/token")
    assert info.value.code == "config_error"
    assert "client secret" in info.value.message
    with pytest.raises(authsec.ConfigError) as info:
        authsec.ClientCredentials(client_id="a", client_secret="s", token_url="https://a/t", auth_method="magic")
    assert "auth_method" in info.value.message
    with pytest.raises(authsec.ConfigError):
        authsec.Verifier(issuer="https://i", audience="https://a")  # neither jwks nor jwks_uri
    with pytest.raises(authsec.ConfigError) as info:
        authsec.Verifier(audience="https://a", jwks={"keys": []})
    assert "issuer" in info.value.message
    with pytest.raises(authsec.ConfigError):
        authsec.Verifier(issuer="https://i", audience="https://a", jwks={"keys": []}, leeway=301)
    with pytest.raises(authsec.ConfigError) as info:
        authsec.Verifier(issuer="https://i", audience="https://a", jwks={"keys": []}, algorithms=["HS256"])
    assert "algorithms" in info.value.message
    with pytest.raises(authsec.ConfigError) as info:  # client_id is required (but with spiffe_jwt)
        authsec.ClientCredentials(client_secret="s", token_url="https://a/t")
    assert "client_id" in info.value.message
