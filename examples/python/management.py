"""(8) Client management: register an AI agent, rotate its secret, read failed authentications.

    python management.py

`manage` is an operator's script against an authsec server's management API (`{issuer}/admin`):
the server's bootstrap admin token creates a management client once, and from then on the
management client's own credentials do the work (the admin token is refused as soon as a
management client exists). `main` starts the local authorization server with an admin token so
that there is a server to manage.
"""

from __future__ import annotations

import datetime
import secrets

import authsec
from authsec.testing import LocalAuthServer


# [START management]
def manage(base_url: str, admin_token: str) -> None:
    # Once, to bootstrap: the server's admin token creates a management client.
    admin = authsec.Management(base_url=base_url, admin_token=admin_token)
    ops = admin.clients.create(client_id="ops", allowed_scopes=["clients:read", "clients:write", "logs:read"])
    m = authsec.Management(base_url=base_url, client_id=ops.client_id, client_secret=ops.client_secret)
    print(f"management client: {ops.client_id} ({' '.join(ops.allowed_scopes)})")

    # Register an AI agent: the generated secret is shown in this answer only.
    agent = m.clients.create(
        type="ai_agent",
        name="Research agent",
        allowed_scopes=["search:read"],
        rate_limits={"requests_per_minute": 60},
    )
    print(f"registered: {agent.type} {agent.client_id}, scopes {' '.join(agent.allowed_scopes)}, "
          f"{agent.rate_limits['requests_per_minute']} requests/minute")
    token_url = f"{base_url}/oauth/token"
    old = authsec.ClientCredentials(token_url=token_url, client_id=agent.client_id,
                                    client_secret=agent.client_secret, scopes=["search:read"])
    token = old.get_token()
    print(f"token with the first secret: {token.token_type}, scopes {' '.join(token.scopes)}")

    # Rotate: the old secret keeps working for the overlap (a day by default) ...
    new = m.clients.rotate_secret(agent.client_id)
    expires = datetime.datetime.fromtimestamp(new.old_secrets_expire_at, datetime.timezone.utc)
    print(f"rotated: new secret {new.secret_id}, the old one valid until {expires:%Y-%m-%dT%H:%M:%SZ}")
    # ... unless revoked now, once every agent has the new one.
    m.clients.revoke_secret(agent.client_id)
    old.invalidate()
    try:
        old.get_token()
    except authsec.InvalidClientError as e:
        print(f"old secret after revoke_secret: {e.code}")

    for event in m.logs.list(client_id=agent.client_id, outcome="failure"):
        print(f"failed authentication: {event.event} at {event.time:%H:%M:%S} ({event.extra.get('error', 'refused')})")
# [END management]


def main() -> None:
    admin_token = secrets.token_urlsafe(24)
    with LocalAuthServer(config={"admin_token": admin_token}) as server:
        print(f"authorization server: {server.issuer} (local, in-process)")
        manage(server.issuer, admin_token)
    print("done: management")


if __name__ == "__main__":
    main()
