"""RFC 8693 token exchange against the local server over real sockets: an orchestrator's token is
exchanged by a sub-agent, whose token a tool exchanges again; every token is verified with
`authsec.Verifier` and its chain checked, and every widening is refused with the server's error."""

from __future__ import annotations

import asyncio
import json
import secrets
import urllib.request
from typing import Any, Dict, Iterator, List

import pytest

import authsec
from authsec.testing import LocalAuthServer

SUBAGENT_API = "https://sub-agent.example.test"
TOOL_API = "https://tool.example.test"
EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange"
ACCESS_TOKEN = "urn:ietf:params:oauth:token-type:access_token"
ADMIN_TOKEN = secrets.token_urlsafe(24)


def client(client_id: str, **spec: Any) -> Dict[str, Any]:
    return {"client_id": client_id, "client_secret": secrets.token_urlsafe(24), **spec}


CLIENTS: List[Dict[str, Any]] = [
    # a and b are its own scopes, c comes with the role `planner`; its tokens may be exchanged by
    # the sub-agent only (may_act).
    client(
        "orchestrator",
        allowed_scopes=["a", "b"],
        roles=["planner"],
        audiences=[SUBAGENT_API, TOOL_API],
        may_act=["sub-agent"],
    ),
    client(
        "sub-agent",
        allowed_scopes=["a", "b", "c"],
        audiences=[SUBAGENT_API, TOOL_API],
        grant_types=[EXCHANGE],
        may_act=["tool"],
    ),
    client(
        "tool",
        allowed_scopes=["a", "b", "c"],
        audiences=[TOOL_API],
        grant_types=[EXCHANGE],
        may_act=["auditor", "sub-agent"],
    ),
    # Named by the tool's may_act, but a third actor is past the server's depth limit (2).
    client("auditor", allowed_scopes=["a"], audiences=[TOOL_API], grant_types=[EXCHANGE]),
    # May exchange, but the orchestrator's may_act does not name it.
    client("stranger", allowed_scopes=["a", "b", "c"], audiences=[SUBAGENT_API, TOOL_API], grant_types=[EXCHANGE]),
    # Named by nobody and without the token-exchange grant.
    client("plain", allowed_scopes=["a"], audiences=[TOOL_API]),
]
CONFIG = {
    "admin_token": ADMIN_TOKEN,
    "roles": {"planner": {"scopes": ["c"]}},
    "token_exchange": {"max_delegation_depth": 2},
}


@pytest.fixture(scope="module")
def server() -> Iterator[LocalAuthServer]:
    with LocalAuthServer(clients=CLIENTS, audience=SUBAGENT_API, config=CONFIG) as s:
        yield s


def ids(claims: authsec.Claims) -> List[str]:
    return [actor.id for actor in claims.delegation]


class Chain:
    """orchestrator -> sub-agent -> tool, each token verified."""

    def __init__(self, server: LocalAuthServer) -> None:
        # The orchestrator asks for both APIs and, naming no scopes, gets all it may: a b c.
        self.orchestrator = server.client("orchestrator", audience=SUBAGENT_API, resource=[TOOL_API])
        self.sub_agent = server.client("sub-agent")
        self.tool = server.client("tool")
        self.t0 = self.orchestrator.get_token()
        self.t1 = self.sub_agent.exchange_token(self.t0, scopes=["a", "b"], audience=TOOL_API)
        self.t2 = self.tool.exchange_token(self.t1.access_token, scopes="a")
        self.subagent_api = server.verifier(SUBAGENT_API)
        self.tool_api = server.verifier(TOOL_API)


@pytest.fixture(scope="module")
def chain(server: LocalAuthServer) -> Chain:
    return Chain(server)


def test_orchestrator_to_sub_agent_to_tool(chain: Chain) -> None:
    c0 = chain.subagent_api.verify(chain.t0.access_token, ["a", "b", "c"])
    assert (c0.subject, c0.actor, c0.delegation) == ("orchestrator", None, ())
    assert sorted(c0.audience) == [SUBAGENT_API, TOOL_API]
    assert chain.t0.issued_token_type is None  # client credentials

    c1 = chain.tool_api.verify(chain.t1.access_token, ["a", "b"])
    assert chain.t1.issued_token_type == ACCESS_TOKEN
    assert "issued_token_type='urn:ietf:params:oauth:token-type:access_token'" in repr(chain.t1)
    assert (c1.subject, c1.client_id, ids(c1)) == ("orchestrator", "sub-agent", ["sub-agent"])
    assert c1.actor == authsec.Actor(sub="sub-agent", client_id="sub-agent")
    assert sorted(c1.scopes) == ["a", "b"] == sorted(chain.t1.scopes)
    assert c1.audience == [TOOL_API]
    assert c1.expires_at <= chain.t0.expires_at
    with pytest.raises(authsec.InvalidTokenError) as info:
        chain.subagent_api.verify(chain.t1.access_token)  # narrowed to the tool API
    assert info.value.code == "invalid_audience"

    c2 = chain.tool_api.verify(chain.t2.access_token, "a")
    assert (c2.subject, ids(c2)) == ("orchestrator", ["tool", "sub-agent"])
    assert c2.actor is not None and c2.actor.id == "tool"
    assert c2.scopes == ["a"] and c2.audience == [TOOL_API]
    assert c2["act"]["act"]["client_id"] == "sub-agent"


def test_exchanges_are_cached_per_subject_token(chain: Chain) -> None:
    sent = chain.tool._request_count
    again = chain.tool.exchange_token(chain.t1, scopes=["a"])  # the same request: from the cache
    assert again.access_token == chain.t2.access_token
    assert chain.tool._request_count == sent
    other = chain.tool.exchange_token(chain.t1, scopes=["b"])  # another request: another entry
    assert other.access_token != chain.t2.access_token
    assert chain.tool._request_count == sent + 1


@pytest.mark.parametrize(
    "who,subject,kwargs,cls,code,says",
    [
        # A scope the subject token does not hold.
        ("tool", "t1", {"scopes": ["c"]}, authsec.InvalidScopeError, "invalid_scope", "subject token's scope"),
        # An audience outside the subject token's.
        ("tool", "t1", {"audience": SUBAGENT_API}, authsec.TokenRequestError, "invalid_target", SUBAGENT_API),
        # An actor the subject token's may_act does not name.
        ("stranger", "t0", {}, authsec.TokenRequestError, "invalid_grant", "may_act"),
        # A third actor: beyond the server's max_delegation_depth (2).
        ("auditor", "t2", {"scopes": ["a"]}, authsec.TokenRequestError, "invalid_grant", "max_delegation_depth"),
        # A client without the token-exchange grant.
        ("plain", "t0", {"audience": TOOL_API}, authsec.TokenRequestError, "unauthorized_client", "grant"),
        # An actor already in the chain.
        ("sub-agent", "t2", {}, authsec.TokenRequestError, "invalid_grant", "only once"),
    ],
)
def test_every_widening_is_refused(
    server: LocalAuthServer,
    chain: Chain,
    who: str,
    subject: str,
    kwargs: Dict[str, Any],
    cls: type,
    code: str,
    says: str,
) -> None:
    with pytest.raises(cls) as info:
        server.client(who).exchange_token(getattr(chain, subject), **kwargs)
    assert type(info.value) is cls
    assert (info.value.code, info.value.oauth_error) == (code, code)
    assert says in info.value.message


def test_the_chain_is_kept_when_exchanged_again(server: LocalAuthServer, chain: Chain) -> None:
    # The tool exchanges the sub-agent's token again, asking for nothing in particular and for
    # another token type: the chain comes along; there is no way to shed `act`.
    t = chain.tool.exchange_token(chain.t1, requested_token_type="jwt")
    assert t.issued_token_type == "urn:ietf:params:oauth:token-type:jwt"
    claims = chain.tool_api.verify(t.access_token)
    assert (claims.subject, ids(claims)) == ("orchestrator", ["tool", "sub-agent"])
    assert sorted(claims.scopes) == ["a", "b"]


def test_downstream_helper(server: LocalAuthServer, chain: Chain) -> None:
    sent = chain.sub_agent._request_count
    with pytest.raises(authsec.ConfigError) as info:
        chain.sub_agent.downstream_token(chain.t0.access_token)  # which API? refused before sending
    assert "audience" in info.value.message
    assert chain.sub_agent._request_count == sent
    t = chain.sub_agent.downstream_token(chain.t0.access_token, audience=TOOL_API, scopes=["a"])
    claims = chain.tool_api.verify(t.access_token, ["a"])
    assert (claims.subject, ids(claims), claims.scopes) == ("orchestrator", ["sub-agent"], ["a"])
    by_resource = chain.sub_agent.downstream_token(chain.t0, resource=TOOL_API, scopes="a b")
    assert sorted(chain.tool_api.verify(by_resource.access_token).scopes) == ["a", "b"]


def test_async_twins(server: LocalAuthServer, chain: Chain) -> None:
    async def main() -> None:
        t1 = await chain.sub_agent.exchange_token_async(chain.t0, scopes="a", audience=TOOL_API)
        assert ids(chain.tool_api.verify(t1.access_token)) == ["sub-agent"]
        t = await chain.sub_agent.downstream_token_async(chain.t0, audience=TOOL_API, scopes=["b"])
        assert chain.tool_api.verify(t.access_token).scopes == ["b"]
        with pytest.raises(authsec.InvalidScopeError):
            await chain.tool.exchange_token_async(chain.t1, scopes=["c"])
        with pytest.raises(authsec.ConfigError):
            await chain.sub_agent.downstream_token_async(chain.t0)

    asyncio.run(main())


def test_options_are_read_by_the_core(chain: Chain) -> None:
    with pytest.raises(authsec.ConfigError) as info:
        chain.tool.exchange_token(chain.t1, subject_token_type="saml")
    assert "subject_token_type" in info.value.message
    with pytest.raises(authsec.ConfigError) as info:
        chain.tool.exchange_token(chain.t1, scopes=5)  # type: ignore[arg-type]
    assert "scopes" in info.value.message
    with pytest.raises(authsec.ConfigError) as info:
        chain.tool.exchange_token(chain.t1, actor_token_type="jwt")  # without actor_token
    assert "actor_token_type" in info.value.message
    with pytest.raises(authsec.ConfigError):
        chain.tool.exchange_token("")


def test_verifier_policies_refuse_the_tools_token(chain: Chain, server: LocalAuthServer) -> None:
    token = chain.t2.access_token
    for options in ({"max_delegation_depth": 1}, {"allowed_actors": ["sub-agent"]}, {"forbid_delegation": True}):
        with pytest.raises(authsec.DelegationError) as info:
            server.verifier(TOOL_API, **options).verify(token)
        assert info.value.code == "delegation_not_allowed", options
    seen: List[str] = []
    v = server.verifier(TOOL_API, allowed_actors=lambda actor: seen.append(actor.id) or actor.id == "tool")
    assert v.verify(token).actor.id == "tool"
    with pytest.raises(authsec.DelegationError):
        v.verify(chain.t1.access_token)
    assert seen == ["tool", "sub-agent"]
    assert server.verifier(TOOL_API, max_delegation_depth=2, allowed_actors=["tool"]).verify(token)


def admin(server: LocalAuthServer, method: str, path: str, body: Any = None) -> Any:
    req = urllib.request.Request(
        server.issuer + path,
        data=None if body is None else json.dumps(body).encode(),
        method=method,
        headers={"Authorization": f"Bearer {ADMIN_TOKEN}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.loads(r.read() or b"null")


def test_a_role_removed_through_the_admin_api_is_missing_from_the_next_token(server: LocalAuthServer) -> None:
    orchestrator = server.client("orchestrator")
    verifier = server.verifier(SUBAGENT_API)
    assert sorted(verifier.verify(orchestrator.get_token().access_token).scopes) == ["a", "b", "c"]
    admin(server, "PATCH", "/admin/clients/orchestrator", {"roles": []})
    try:
        orchestrator.invalidate()
        assert sorted(verifier.verify(orchestrator.get_token().access_token).scopes) == ["a", "b"]
    finally:
        admin(server, "PATCH", "/admin/clients/orchestrator", {"roles": ["planner"]})
