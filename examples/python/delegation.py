"""(5) Delegation: an orchestrator agent hands a task to a sub-agent, which hands it on to a tool.

    python delegation.py

No agent forwards the token it was given. Each one trades it for a token of its own (RFC 8693
token exchange) that acts for the same subject with at most the same rights, so the last token
says who is acting for whom: `claims.delegation`. The local authorization server (in-process, on
127.0.0.1) knows the three clients: the role `planner` gives them their scopes, and each client's
`may_act` names the only client that may exchange its tokens.
"""

from __future__ import annotations

import secrets
from typing import Any, Dict, List

import authsec
from authsec.testing import LocalAuthServer

SUB_AGENT_API = "https://sub-agent.example.test"
TOOL_API = "https://tool.example.test"
TOKEN_EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange"


def agent(client_id: str, **settings: Any) -> Dict[str, Any]:
    return {"client_id": client_id, "client_secret": secrets.token_urlsafe(24), "roles": ["planner"], **settings}


CLIENTS: List[Dict[str, Any]] = [
    agent("orchestrator", audiences=[SUB_AGENT_API, TOOL_API], may_act=["sub-agent"]),
    agent("sub-agent", audiences=[TOOL_API], grant_types=[TOKEN_EXCHANGE], may_act=["tool"]),
    agent("tool", audiences=[TOOL_API], grant_types=[TOKEN_EXCHANGE]),
]
ROLES = {"planner": {"scopes": ["tasks:read", "tasks:write", "reports:read"]}}


def show(who: str, claims: authsec.Claims) -> None:
    chain = " <- ".join(actor.id for actor in claims.delegation) or "none"
    print(
        f"{who}: token for {' '.join(claims.audience)}, scopes {' '.join(sorted(claims.scopes))}, "
        f"subject {claims.subject}, acting {chain}"
    )


# [START delegation]
def delegate(server: LocalAuthServer) -> None:
    orchestrator = server.client("orchestrator", audience=SUB_AGENT_API, resource=[TOOL_API])
    sub_agent = server.client("sub-agent")
    tool = server.client("tool")
    verifier = authsec.Verifier(issuer=server.issuer, audience=[SUB_AGENT_API, TOOL_API], jwks_uri=server.jwks_uri)

    # The orchestrator calls the sub-agent with its own token.
    task = orchestrator.get_token()
    show("orchestrator", verifier.verify(task.access_token))

    # The sub-agent calls the tool: a token for the tool's API only, with fewer scopes.
    for_tool = sub_agent.downstream_token(task.access_token, audience=TOOL_API, scopes=["tasks:read", "tasks:write"])
    show("sub-agent", verifier.verify(for_tool.access_token))

    # The tool works on the task with a token of its own that needs only tasks:read.
    own = tool.exchange_token(for_tool.access_token, scopes=["tasks:read"])
    show("tool", verifier.verify(own.access_token))

    # An exchange can only narrow: reports:read is not in the sub-agent's token.
    try:
        tool.exchange_token(for_tool.access_token, scopes=["reports:read"])
    except authsec.InvalidScopeError as e:
        print(f"refused: the tool asks for reports:read -> {e.code}: {e.message}")
# [END delegation]


def main() -> None:
    config = {"roles": ROLES}
    with LocalAuthServer(clients=CLIENTS, audience=SUB_AGENT_API, config=config) as server:
        print(f"authorization server: {server.issuer} (local, in-process)")
        delegate(server)
    print("done: delegation")


if __name__ == "__main__":
    main()
