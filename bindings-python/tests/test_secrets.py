"""A secret never appears in `repr`, `str` or an error: client secrets, private keys, tokens."""

from __future__ import annotations

import json
import secrets
import traceback

import pytest

import authsec
from authsec.testing import LocalAuthServer
from conftest import KEYS, http_server, json_response

SECRET = "s3cr3t-" + secrets.token_urlsafe(16)


def leaks(text: str, *values: str) -> bool:
    return any(v and v in text for v in values)


def everything_about(e: BaseException) -> str:
    return "\n".join(
        [str(e), repr(e), getattr(e, "message", ""), repr(e.args), "".join(traceback.format_exception(type(e), e, e.__traceback__))]
    )


def test_client_and_token_reprs() -> None:
    with LocalAuthServer(clients=[{"client_id": "agent", "client_secret": SECRET, "allowed_scopes": ["read:data"]}]) as s:
        client = s.client("agent")
        token = client.get_token()
        for text in (repr(client), str(client), repr(token), str(token), repr(client.auth()), repr(s)):
            assert not leaks(text, SECRET, token.access_token), text
        assert "'***'" in repr(client)
        assert "access_token='***'" in repr(token)
        # Not a tuple or a mapping: serializers and f-strings cannot write the token out.
        with pytest.raises(TypeError):
            json.dumps(token)
        with pytest.raises(TypeError):
            tuple(token)  # type: ignore[arg-type]
        assert not leaks(f"{token}", token.access_token)
        with pytest.raises(AttributeError):
            token.access_token = "x"  # type: ignore[misc]
        for event in s.audit_events():
            assert not leaks(repr(event), SECRET, token.access_token)


def test_private_key_repr() -> None:
    pem = KEYS["p256-a"]["private_pem"]
    client = authsec.ClientCredentials(client_id="a", private_key=pem, token_url="https://auth.example.com/token")
    body = pem.splitlines()[1]
    assert not leaks(repr(client) + str(client), body)
    assert "private_key='***'" in repr(client)


def test_wrong_secret_error() -> None:
    with LocalAuthServer(clients=[{"client_id": "agent", "client_secret": "right-" + SECRET}]) as s:
        with pytest.raises(authsec.InvalidClientError) as info:
            s.client("agent", client_secret=SECRET).get_token()
        assert not leaks(everything_about(info.value), SECRET)


def test_server_echoing_the_secret_is_scrubbed() -> None:
    def handle(method, path, headers, body):
        return json_response(400, {"error": "invalid_client", "error_description": f"secret {SECRET} is wrong"})

    with http_server(handle) as url:
        for method in ("client_secret_basic", "client_secret_post"):
            client = authsec.ClientCredentials(
                client_id="a", client_secret=SECRET, token_url=url + "/token", auth_method=method
            )
            with pytest.raises(authsec.InvalidClientError) as info:
                client.get_token()
            text = everything_about(info.value)
            assert not leaks(text, SECRET), text
            assert "***" in info.value.message


def test_bad_private_key_error() -> None:
    junk = "-----BEGIN PRIVATE KEY-----\n" + SECRET + "\n-----END PRIVATE KEY-----\n"
    with pytest.raises(authsec.ConfigError) as info:
        authsec.ClientCredentials(client_id="a", private_key=junk, token_url="https://auth.example.com/token")
    assert not leaks(everything_about(info.value), SECRET)


def test_token_never_in_verify_errors() -> None:
    with LocalAuthServer() as s:
        token = s.token()
        verifier = s.verifier(audience="https://another.example")
        with pytest.raises(authsec.InvalidTokenError) as info:
            verifier.verify(token)
        assert info.value.code == "invalid_audience"
        assert not leaks(everything_about(info.value), token, token.split(".")[1], token.split(".")[2])
        with pytest.raises(authsec.InvalidTokenError) as info:
            s.verifier().verify(token[:-4] + "AAAA")
        assert not leaks(everything_about(info.value), token.split(".")[2][:-4])


def test_unset_variable_in_config_is_named_not_echoed(tmp_path, monkeypatch) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("authsec:\n  client_id: a\n  client_secret: ${AUTHSEC_TEST_UNSET_VAR}\n  token_url: https://a/t\n")
    monkeypatch.delenv("AUTHSEC_TEST_UNSET_VAR", raising=False)
    with pytest.raises(authsec.ConfigError) as info:
        authsec.ClientCredentials.from_config(path)
    assert "AUTHSEC_TEST_UNSET_VAR" in info.value.message
