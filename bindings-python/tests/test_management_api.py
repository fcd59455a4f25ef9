"""authsec.Management's Python layer without an authsec server: every core operation has a method,
the arguments each method hands the core, typed results (unknown fields kept, secrets out of
repr), lazy pagination, asyncio, and the core's checks and error mapping through the native call
against a fake management API on 127.0.0.1. tests/test_management.py runs it against the real
server."""

from __future__ import annotations

import asyncio
import datetime
import json
from typing import Any, Dict, List, Tuple

import pytest

import authsec
from authsec import management as mg

from conftest import http_server, json_response

SECRET = "s3cret-value-never-shown"


class Recorder:
    """A stand-in for `_native.Management.call`: records (operation, args), answers from `answers`."""

    def __init__(self, answers: Dict[str, Any]) -> None:
        self.calls: List[Tuple[str, Dict[str, Any]]] = []
        self.answers = answers

    def __call__(self, operation: str, args: Dict[str, Any]) -> Any:
        self.calls.append((operation, dict(args)))
        answer = self.answers.get(operation)
        return answer(args) if callable(answer) else answer


CLIENT = {"client_id": "c1", "type": "ai_agent", "secrets": [{"id": "sid_a", "created_at": 1}], "future_field": 7}
ANSWERS: Dict[str, Any] = {
    "clients.create": dict(CLIENT, client_secret=SECRET, secret_id="sid_a"),
    "clients.get": CLIENT,
    "clients.list": {"items": [CLIENT], "next_cursor": None},
    "clients.update": CLIENT,
    "clients.delete": None,
    "clients.rotate_secret": {"client_id": "c1", "client_secret": SECRET, "secret_id": "sid_b",
                              "old_secrets_expire_at": 5, "secrets": [{"id": "sid_b"}]},
    "clients.revoke_secret": {"client_id": "c1", "secrets": [{"id": "sid_b"}]},
    "scopes.create": {"name": "a:b", "description": "d"},
    "scopes.list": {"items": [{"name": "a:b", "clients": ["c1"], "roles": []}], "next_cursor": None},
    "scopes.delete": None,
    "roles.create": {"name": "r", "scopes": ["a:b"], "audiences": []},
    "roles.get": {"name": "r", "scopes": ["a:b"]},
    "roles.list": {"items": [{"name": "r"}], "next_cursor": None},
    "roles.update": {"name": "r", "scopes": ["x"]},
    "roles.delete": None,
    "logs.list": {"items": [{"id": 3, "ts": 1.5, "event": "token", "outcome": "failure", "error": "invalid_client"}],
                  "next_cursor": None},
    "keys.list": {"items": [{"kid": "k1", "alg": "ES256", "status": "active"}], "next_cursor": None},
    "keys.rotate": {"kid": "k2", "alg": "ES256", "active_from": 10, "keys": []},
}


def every_method(m: Any) -> List[Any]:
    """One call of every method (lists drained)."""
    return [
        m.clients.create(type="ai_agent", rate_limits={"requests_per_minute": 3}),
        m.clients.get("c1"),
        list(m.clients.list(type="ai_agent", page_size=10)),
        m.clients.update("c1", name="new name"),
        m.clients.delete("c1"),
        m.clients.rotate_secret("c1", overlap=datetime.timedelta(hours=1)),
        m.clients.revoke_secret("c1", "sid_a"),
        m.scopes.create("a:b", "d"),
        list(m.scopes.list()),
        m.scopes.delete("a:b"),
        m.roles.create("r", scopes="a:b c:d"),
        m.roles.get("r"),
        list(m.roles.list()),
        m.roles.update("r", scopes=["x"]),
        m.roles.delete("r"),
        list(m.logs.list(client_id="c1", event=("token", "client_created"), outcome="failure",
                         since=datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc), until=1800000000)),
        list(m.keys.list()),
        m.keys.rotate(alg="ES256", activate_in=60),
    ]


def recorded(recorder: Recorder, cls: type = authsec.Management) -> Any:
    m = object.__new__(cls)
    m._bind(recorder)
    return m


def test_every_core_operation_has_a_method_and_gets_its_arguments() -> None:
    rec = Recorder(ANSWERS)
    every_method(recorded(rec))
    assert [op for op, _ in rec.calls] == authsec.Management.operations()
    args = dict(rec.calls)
    assert args["clients.create"] == {"type": "ai_agent", "rate_limits": {"requests_per_minute": 3}}
    assert args["clients.list"] == {"type": "ai_agent", "limit": 10}
    assert args["clients.update"] == {"client_id": "c1", "name": "new name"}
    assert args["clients.rotate_secret"] == {"client_id": "c1", "overlap": 3600}
    assert args["clients.revoke_secret"] == {"client_id": "c1", "secret_id": "sid_a"}
    assert args["roles.create"] == {"name": "r", "scopes": "a:b c:d"}  # the core splits it
    assert args["logs.list"] == {"client_id": "c1", "event": ["token", "client_created"], "outcome": "failure",
                                 "since": 1767225600.0, "until": 1800000000}
    assert args["keys.rotate"] == {"alg": "ES256", "activate_in": 60}


def test_async_management_has_the_same_methods() -> None:
    rec = Recorder(ANSWERS)

    async def call(operation: str, args: Dict[str, Any]) -> Any:
        await asyncio.sleep(0)
        return rec(operation, args)

    async def main() -> List[str]:
        m = recorded(call, authsec.AsyncManagement)  # type: ignore[arg-type]
        c = await m.clients.create(type="m2m")
        assert isinstance(c, authsec.ManagedClient)
        await m.clients.get("c1")
        assert [x.client_id async for x in m.clients.list(page_size=5)] == ["c1"]
        await m.clients.update("c1", name="n")
        assert await m.clients.delete("c1") is None
        assert isinstance(await m.clients.rotate_secret("c1", overlap=0), authsec.NewSecret)
        assert [s.id for s in await m.clients.revoke_secret("c1")] == ["sid_b"]
        await m.scopes.create("a:b")
        assert [s.name async for s in m.scopes.list()] == ["a:b"]
        await m.scopes.delete("a:b")
        await m.roles.create("r")
        await m.roles.get("r")
        assert [r.name async for r in m.roles.list()] == ["r"]
        await m.roles.update("r", audiences=["https://a"])
        await m.roles.delete("r")
        assert [e.id async for e in m.logs.list(since=datetime.datetime.fromtimestamp(5, datetime.timezone.utc))] == [3]
        assert [k.kid async for k in m.keys.list()] == ["k1"]
        assert (await m.keys.rotate()).kid == "k2"
        return [op for op, _ in rec.calls]

    assert asyncio.run(main()) == authsec.Management.operations()
    assert dict(rec.calls)["clients.revoke_secret"] == {"client_id": "c1"}  # every secret but the newest
    assert dict(rec.calls)["logs.list"] == {"since": 5.0}


def test_typed_results_keep_unknown_fields_and_hide_secrets() -> None:
    results = every_method(recorded(Recorder(ANSWERS)))
    created, got, new = results[0], results[1], results[5]
    assert created.client_id == "c1" and created.type == "ai_agent"
    assert created.client_secret == SECRET and created.secret_id == "sid_a"
    assert created.secrets == (authsec.ClientSecretInfo(id="sid_a", created_at=1),)
    assert created.extra == {"future_field": 7}
    assert got.client_secret is None and got.extra == {"future_field": 7}
    assert new.client_secret == SECRET and new.secret_id == "sid_b" and new.old_secrets_expire_at == 5
    for r in (created, new):
        assert SECRET not in repr(r) and SECRET not in str(r)
    assert "client_secret" not in repr(created)
    event = results[15][0]
    assert (event.id, event.event, event.outcome, event.extra) == (3, "token", "failure", {"error": "invalid_client"})
    assert event.time == datetime.datetime(1970, 1, 1, 0, 0, 1, 500000, tzinfo=datetime.timezone.utc)
    scope = results[8][0]
    assert scope == authsec.Scope(name="a:b", clients=("c1",), roles=())
    assert len({created, got, created}) == 2 and len(set(results[6])) == 1  # hashable (dicts not hashed)
    with pytest.raises(dataclasses_frozen_error()):
        created.client_id = "x"  # type: ignore[misc]
    assert isinstance(results[17], authsec.SigningKeyInfo) and results[17].extra == {"keys": []}


def test_an_answer_without_a_required_field_is_invalid_response() -> None:
    rec = Recorder({"clients.get": {"client_id": "c1", "secrets": [{"created_at": 1}]}})
    with pytest.raises(authsec.ServerError) as e:
        recorded(rec).clients.get("c1")
    assert e.value.code == "invalid_response" and "ClientSecretInfo without id" in e.value.message


def dataclasses_frozen_error() -> type:
    import dataclasses

    return dataclasses.FrozenInstanceError


def test_lists_fetch_pages_lazily_and_follow_the_cursor() -> None:
    def page(args: Dict[str, Any]) -> Dict[str, Any]:
        n = int(args.get("cursor") or 0)
        ids = [f"c{i}" for i in range(n, min(n + 2, 5))]
        return {"items": [{"client_id": i} for i in ids], "next_cursor": str(n + 2) if n + 2 < 5 else None}

    rec = Recorder({"clients.list": page})
    it = recorded(rec).clients.list(page_size=2)
    assert rec.calls == []  # nothing fetched before the first item is asked for
    assert next(it).client_id == "c0"
    assert len(rec.calls) == 1
    assert [c.client_id for c in it] == ["c1", "c2", "c3", "c4"]
    assert rec.calls == [("clients.list", {"limit": 2}), ("clients.list", {"limit": 2, "cursor": "2"}),
                         ("clients.list", {"limit": 2, "cursor": "4"})]


# ----- through the native module, against a fake management API -----


def test_settings_are_read_by_the_core() -> None:
    with pytest.raises(authsec.ConfigError, match="base_url"):
        authsec.Management(client_id="a", client_secret="b")
    with pytest.raises(authsec.ConfigError, match="admin_token is for bootstrapping"):
        authsec.Management(base_url="http://127.0.0.1:1", admin_token="t", client_id="a")
    with pytest.raises(authsec.ConfigError, match="insecure|https"):
        authsec.Management(base_url="http://auth.example.com", client_id="a", client_secret="b")
    m = authsec.Management(domain="auth.example.com", client_id="ops", client_secret=SECRET)
    assert m.admin_url == "https://auth.example.com/admin"
    assert repr(m) == "Management('https://auth.example.com/admin', client_id='ops')"
    assert "t0ken" not in repr(authsec.Management(base_url="http://127.0.0.1:1", admin_token="t0ken"))


def test_requests_errors_and_answers_through_the_core() -> None:
    seen: List[Tuple[str, str, Dict[str, str], bytes]] = []

    def handle(method: str, path: str, headers: Dict[str, str], body: bytes) -> Any:
        seen.append((method, path, headers, body))
        if path == "/admin/clients/no%2Fsuch":
            return json_response(404, {"error": "not_found", "error_description": "no client no/such"})
        if method == "POST" and path == "/admin/clients":
            return json_response(400, {"error": "invalid_client_metadata",
                                       "error_description": f"client_secret: a mobile app cannot keep a secret ({SECRET})"})
        if path == "/admin/scopes/a%3Ab":
            return json_response(409, {"error": "conflict", "error_description": "in use by clients c1"})
        if path == "/admin/clients/c1/secrets/old":
            return json_response(200, {"client_id": "c1", "secrets": [{"id": "sid_b", "created_at": 2}]})
        if path.startswith("/admin/logs"):
            return json_response(403, {"error": "insufficient_scope", "error_description": "needs logs:read"},
                                 {"WWW-Authenticate": 'Bearer error="insufficient_scope", scope="logs:read"'})
        return json_response(500, {"error": "server_error"})

    with http_server(handle) as url:
        m = authsec.Management(base_url=url, admin_token="bootstrap-token")
        with pytest.raises(authsec.ManagementError) as e:
            m.clients.get("no/such")
        assert (e.value.code, e.value.status) == ("not_found", 404)
        with pytest.raises(authsec.ManagementError) as e:
            m.clients.create(type="mobile", client_secret=SECRET, callbacks=["com.example.app:/cb"])
        assert e.value.code == "invalid_client_metadata" and "client_secret" in e.value.message
        assert SECRET not in str(e.value) and SECRET not in repr(e.value)
        with pytest.raises(authsec.ManagementError) as e:
            m.scopes.delete("a:b")
        assert e.value.code == "conflict" and "c1" in e.value.message
        assert m.clients.revoke_secret("c1") == (authsec.ClientSecretInfo(id="sid_b", created_at=2),)
        with pytest.raises(authsec.InsufficientScopeError) as e:
            list(m.logs.list(outcome="failure"))
        assert e.value.missing_scopes == ("logs:read",)
        # Checked by the core before anything is sent.
        before = len(seen)
        with pytest.raises(authsec.ConfigError, match="limit"):
            list(m.clients.list(page_size=500))
        with pytest.raises(authsec.ConfigError, match="outcome"):
            list(m.logs.list(outcome="maybe"))
        with pytest.raises(authsec.ConfigError, match="unknown argument `colour`"):
            m.clients.create(colour="blue")
        assert len(seen) == before
    create = next(s for s in seen if s[0] == "POST")
    assert {k.lower(): v for k, v in create[2].items()}["authorization"] == "Bearer bootstrap-token"
    assert json.loads(create[3]) == {"type": "mobile", "client_secret": SECRET, "callbacks": ["com.example.app:/cb"]}


def test_async_calls_do_not_block_the_loop() -> None:
    def handle(method: str, path: str, headers: Dict[str, str], body: bytes) -> Any:
        if path.startswith("/admin/clients?"):
            cursor = "next" if "cursor" not in path else None
            ids = ["a", "b"] if cursor else ["c"]
            return json_response(200, {"clients": [{"client_id": i} for i in ids], "next_cursor": cursor})
        return json_response(404, {"error": "not_found"})

    async def main(url: str) -> List[str]:
        m = authsec.AsyncManagement(base_url=url, admin_token="bootstrap-token")
        ticks = 0

        async def tick() -> None:
            nonlocal ticks
            while True:
                ticks += 1
                await asyncio.sleep(0)

        ticker = asyncio.ensure_future(tick())
        ids = [c.client_id async for c in m.clients.list(page_size=2)]
        with pytest.raises(authsec.ManagementError):
            await m.clients.get("zzz")
        ticker.cancel()
        assert ticks > 0
        return ids

    with http_server(handle) as url:
        assert asyncio.run(main(url)) == ["a", "b", "c"]
