"""Delegated tokens (RFC 8693 `act`): the verifier's typed options, the `allowed_actors` callable,
`claims.delegation` / `claims.actor` and `DelegationError`. The tokens are the shared vectors'
(tests/vectors/verify_delegation.json), verified at the vectors' `now`."""

from __future__ import annotations

import asyncio
import contextvars
import json
import threading
from typing import Any, List

import pytest
from fastapi import Depends, FastAPI
from fastapi.testclient import TestClient

import authsec
from authsec import _native, errors
from authsec.fastapi import RequireToken
from authsec.testing import ManualClock
from conftest import VECTORS

FILE = json.loads((VECTORS / "verify_delegation.json").read_text())
CASES = {c["name"]: c for c in FILE["cases"]}
NOW = CASES["act_absent"]["options"]["now"]

PLAIN = CASES["act_absent"]["token"]  # no act
ONE = CASES["act_one_actor"]["token"]  # act: sub-agent
THREE = CASES["act_chain_of_three"]["token"]  # act: tool <- sub-agent <- orchestrator
SUB_ONLY = CASES["act_sub_and_iss_only"]["token"]  # act: {sub: agent@example, iss: ...}
CYCLE = CASES["act_cycle"]["token"]


def verifier(**options: Any) -> authsec.Verifier:
    o = CASES["act_absent"]["options"]
    return authsec.Verifier(o["issuer"], o["audience"], jwks=FILE["jwks"]["main"], _clock=ManualClock(NOW), **options)


# ----- claims -----


def test_claims_expose_the_chain_current_actor_first() -> None:
    claims = verifier().verify(THREE)
    chain = claims.delegation
    assert isinstance(chain, tuple) and all(isinstance(a, authsec.Actor) for a in chain)
    assert [a.id for a in chain] == ["tool", "sub-agent", "orchestrator"]
    assert claims.actor == chain[0] == authsec.Actor(sub="tool", client_id="tool")
    assert (claims.actor.sub, claims.actor.client_id, claims.actor.iss) == ("tool", "tool", None)
    assert [a.to_dict() for a in chain] == CASES["act_chain_of_three"]["expect"]["delegation"]
    assert claims.subject == "svc-reporting"  # the subject stays the top-level sub
    assert claims["act"]["client_id"] == "tool"  # the raw claim is still there


def test_actor_fields_when_absent() -> None:
    actor = verifier().verify(SUB_ONLY).actor
    assert actor is not None
    assert (actor.sub, actor.client_id, actor.iss, actor.id) == (
        "agent@example",
        None,
        "https://other-issuer.example",
        "agent@example",
    )
    assert actor.to_dict() == {"sub": "agent@example", "iss": "https://other-issuer.example"}
    assert repr(actor) == "Actor(sub='agent@example', client_id=None, iss='https://other-issuer.example')"
    # Equal actors are equal and hash alike; client_id names the actor before sub.
    assert {actor, authsec.Actor(sub="agent@example", iss="https://other-issuer.example")} == {actor}
    assert actor != authsec.Actor(sub="agent@example") and actor != "agent@example"
    assert authsec.Actor(sub="s", client_id="c").id == "c"


def test_undelegated_token_has_no_chain() -> None:
    claims = verifier().verify(PLAIN)
    assert claims.delegation == ()
    assert claims.actor is None
    assert "act" not in claims


# ----- typed options (read by the core) -----


def test_forbid_delegation() -> None:
    v = verifier(forbid_delegation=True)
    assert v.verify(PLAIN).actor is None
    with pytest.raises(authsec.DelegationError) as info:
        v.verify(ONE)
    assert info.value.code == "delegation_not_allowed"
    assert "sub-agent" in info.value.message


def test_max_delegation_depth() -> None:
    v = verifier(max_delegation_depth=1)
    assert v.verify(ONE).actor.id == "sub-agent"
    with pytest.raises(authsec.DelegationError) as info:
        v.verify(THREE)
    assert info.value.code == "delegation_not_allowed"
    assert "3 actors" in info.value.message
    with pytest.raises(authsec.ConfigError) as cfg:
        verifier(max_delegation_depth=17)
    assert "max_delegation_depth" in cfg.value.message
    with pytest.raises(authsec.ConfigError) as cfg:
        verifier(maxDelegationDepth=-1)  # the JavaScript spelling is read too
    assert "max_delegation_depth" in cfg.value.message


def test_allowed_actors_list_checks_the_current_actor_only() -> None:
    assert verifier(allowed_actors=["tool"]).verify(THREE).actor.id == "tool"
    assert verifier(allowed_actors=("tool",)).verify(PLAIN).actor is None  # nobody acts: no check
    with pytest.raises(authsec.DelegationError) as info:
        verifier(allowed_actors=["sub-agent", "orchestrator"]).verify(THREE)  # earlier actors do not count
    assert info.value.code == "delegation_not_allowed"
    with pytest.raises(authsec.ConfigError) as cfg:
        verifier(allowed_actors="tool")  # a list of ids (or a callable), not one string
    assert "allowed_actors" in cfg.value.message
    with pytest.raises(authsec.ConfigError):
        verifier(forbid_delegation="yes")


# ----- the allowed_actors callable -----


def test_callable_gets_the_current_actor() -> None:
    seen: List[authsec.Actor] = []

    def allow(actor: authsec.Actor) -> bool:
        seen.append(actor)
        return actor.id == "tool"

    v = verifier(allowed_actors=allow)
    assert v.verify(THREE).actor.id == "tool"
    assert seen == [authsec.Actor(sub="tool", client_id="tool")]
    v.verify(THREE)  # answered from the verified-token cache: asked again all the same
    assert len(seen) == 2
    with pytest.raises(authsec.DelegationError) as info:
        v.verify(ONE)
    assert seen[-1].id == "sub-agent"
    e = info.value
    assert (e.code, e.category, e.http_status) == ("delegation_not_allowed", "invalid_token", 401)
    assert isinstance(e, authsec.InvalidTokenError)
    assert "sub-agent" in e.message and "not allowed" in e.message


def test_callable_not_called_without_act() -> None:
    def never(actor: authsec.Actor) -> bool:
        raise AssertionError("called for an undelegated token")

    v = verifier(allowed_actors=never)
    assert v.verify(PLAIN).subject == "svc-reporting"

    async def main() -> None:
        assert (await v.verify_async(PLAIN)).subject == "svc-reporting"  # first sight
        assert (await v.verify_async(PLAIN)).subject == "svc-reporting"  # cached

    asyncio.run(main())


def test_callable_refusal_and_errors_are_the_callers() -> None:
    assert verifier(allowed_actors=lambda a: 1).verify(ONE)  # truthy admits
    with pytest.raises(authsec.DelegationError):
        verifier(allowed_actors=lambda a: None).verify(ONE)  # falsy refuses

    class Boom(Exception):
        pass

    def boom(actor: authsec.Actor) -> bool:
        raise Boom(actor.id)

    with pytest.raises(Boom, match="sub-agent"):
        verifier(allowed_actors=boom).verify(ONE)


def test_core_refusals_come_before_the_callable() -> None:
    # A token the core refuses is refused before the callable could see it.
    calls: List[authsec.Actor] = []
    v = verifier(allowed_actors=lambda a: calls.append(a) or True)
    with pytest.raises(authsec.DelegationError) as info:
        v.verify(CYCLE)
    assert info.value.code == "invalid_delegation"
    assert calls == []


def test_callable_refusal_comes_before_missing_scopes() -> None:
    # The core's order is the delegation policy, then the scopes; a callable keeps it.
    refuse, admit = verifier(allowed_actors=lambda a: False), verifier(allowed_actors=lambda a: True)

    async def verify_async(v: authsec.Verifier, scopes: List[str]) -> authsec.Claims:
        return await v.verify_async(ONE, scopes)

    for _ in range(2):  # first sight, then from the verified-token cache
        for call in (lambda v, s: v.verify(ONE, s), lambda v, s: asyncio.run(verify_async(v, s))):
            with pytest.raises(authsec.DelegationError):
                call(refuse, ["admin"])
            with pytest.raises(authsec.InsufficientScopeError) as info:
                call(admit, ["admin"])
            assert info.value.missing_scopes == ("admin",)
            assert call(admit, ["read:data"]).actor.id == "sub-agent"


def test_callable_async_runs_on_the_loop_thread_in_the_callers_context() -> None:
    request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id")
    calls: List[tuple] = []

    def allow(actor: authsec.Actor) -> bool:
        calls.append((actor.id, threading.get_ident(), request_id.get(None)))
        return actor.id == "tool"

    v = verifier(allowed_actors=allow)

    async def main() -> None:
        loop_thread = threading.get_ident()
        request_id.set("r1")
        first = await v.verify_async(THREE)  # first sight: verified on authsec's runtime
        again = await v.verify_async(THREE)  # cached: an already-resolved future
        assert first == again and first.actor.id == "tool"
        assert calls == [("tool", loop_thread, "r1")] * 2
        with pytest.raises(authsec.DelegationError) as info:
            await v.verify_async(ONE)
        assert info.value.code == "delegation_not_allowed"
        with pytest.raises(authsec.DelegationError):
            await v.verify_async(ONE)  # cached, refused again
        with pytest.raises(authsec.InvalidTokenError):
            await v.verify_async("x.y.z")  # the core's errors pass through untouched
        # Several at once, each settled by its own check.
        got = await asyncio.gather(*(v.verify_async(t) for t in (THREE, ONE, THREE)), return_exceptions=True)
        assert [type(g).__name__ for g in got] == ["Claims", "DelegationError", "Claims"]

    asyncio.run(main())


def test_callable_applies_in_the_fastapi_dependency() -> None:
    app = FastAPI()
    v = verifier(allowed_actors=lambda actor: actor.id == "tool")

    @app.get("/data")
    async def data(claims: authsec.Claims = Depends(RequireToken(v, realm="api"))) -> dict:
        return {"actor": claims.actor.id if claims.actor else None}

    with TestClient(app) as http:
        assert http.get("/data", headers={"Authorization": f"Bearer {THREE}"}).json() == {"actor": "tool"}
        assert http.get("/data", headers={"Authorization": f"Bearer {PLAIN}"}).json() == {"actor": None}
        r = http.get("/data", headers={"Authorization": f"Bearer {ONE}"})
        assert r.status_code == 401
        assert 'error="invalid_token"' in r.headers["WWW-Authenticate"]


# ----- errors -----


def test_delegation_error_class_and_codes() -> None:
    assert issubclass(authsec.DelegationError, authsec.InvalidTokenError)
    assert authsec.DelegationError.__bases__ == (authsec.InvalidTokenError,)
    assert dict(_native.error_classes())["DelegationError"] == "InvalidTokenError"
    for code in ("invalid_delegation", "delegation_not_allowed"):
        assert code in authsec.ERROR_CODES
        assert errors.CLASS_BY_CODE[code] is authsec.DelegationError
        e = errors._from_native(code, "msg")
        assert type(e) is authsec.DelegationError
        assert (e.category, e.retryable, e.http_status) == ("invalid_token", False, 401)
    with pytest.raises(authsec.DelegationError) as info:
        verifier().verify(CYCLE)
    assert info.value.code == "invalid_delegation"
    assert "twice" in info.value.message
