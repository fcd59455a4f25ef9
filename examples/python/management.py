"""(8) Client management: register an AI agent, rotate its secret, read failed authentications.

    python management.py

`manage` is an operator's script against an authsec server's management API (`{issuer}/admin`):
the server's bootstrap admin token registers a management client once, and from then on the
management client's own credentials do the work (the admin token is refused as soon as a
management client exists). It prints the same lines as examples/node/management.mjs and
examples/go/management. `main` starts the local authorization server with an admin token so
that there is a server to manage.
"""

from __future__ import annotations

import datetime
import secrets
import time

import authsec
from authsec.testing import LocalAuthServer


def manage(base_url: str, admin_token: str) -> None:
    # Once per server: the bootstrap admin token registers a management client.
    bootstrap = authsec.Management(base_url=base_url, admin_token=admin_token)
    ops = bootstrap.clients.create(client_id="ops-admin", allowed_scopes=["clients:read", "clients:write", "logs:read"])
    print(f"bootstrap: management client {ops.client_id} created with the admin token")
    try:
        bootstrap.clients.get("ops-admin")
    except authsec.ManagementError as e:
        print(f"admin token after bootstrap: {e.code}")

    # [START management]
    management = authsec.Management(
        base_url=base_url,  # or domain="auth.example.com"
        client_id=ops.client_id,
        client_secret=ops.client_secret,
    )

    # Register an AI agent; the server generates its secret (shown only in this answer).
    agent = management.clients.create(
        name="Research agent",
        type="ai_agent",
        allowed_scopes=["read:data"],
        rate_limits={"requests_per_minute": 60},
    )
    per_minute = (agent.rate_limits or {}).get("requests_per_minute")
    print(f"registered {agent.type} {agent.client_id} (secret {agent.secret_id}, {per_minute} requests per minute)")

    # Rotate its secret: the old one keeps working for an hour, then revoke it.
    rotated = management.clients.rotate_secret(agent.client_id, overlap=datetime.timedelta(hours=1))
    left = round(rotated.old_secrets_expire_at - time.time())
    print(f"rotated: new secret {rotated.secret_id}, the old one works for {left} s more")
    # ... deploy rotated.client_secret to the agent, then:
    management.clients.revoke_secret(agent.client_id, agent.secret_id)

    # An agent still using the revoked secret is refused, and the audit log shows it.
    token_url = f"{base_url}/oauth/token"
    stale = authsec.ClientCredentials(token_url=token_url, client_id=agent.client_id, client_secret=agent.client_secret)
    try:
        stale.get_token()
    except authsec.InvalidClientError as e:
        print(f"old secret after revoking: {e.code}")
    for event in management.logs.list(client_id=agent.client_id, outcome="failure"):
        print(f"failed authentication: {event.event} by {event.client_id} at {event.time:%Y-%m-%dT%H:%M:%SZ}")
    # [END management]

    fresh = authsec.ClientCredentials(token_url=token_url, client_id=agent.client_id, client_secret=rotated.client_secret)
    token = fresh.get_token()
    print(f"new secret: token {token.token_type}, scopes {' '.join(token.scopes)}")


def main() -> None:
    admin_token = secrets.token_urlsafe(24)
    with LocalAuthServer(config={"admin_token": admin_token}) as server:
        print(f"authorization server: {server.issuer} (local, in-process)")
        manage(server.issuer, admin_token)
    print("done: management")


if __name__ == "__main__":
    main()
