"""(2) A long-running agent: many API calls on one cached token, refreshed before it expires.

    python agent.py

The local authorization server issues tokens that last only 10 seconds, so within
8 seconds the agent's 30 calls show the cache at work: most calls reuse the cached token, and the
Rust core gets a new one `refresh_buffer` (4 s) before the old one expires, so no call ever
carries an expired token. Each new token is one request to the token endpoint; the last line
counts them.
"""

from __future__ import annotations

import time

import authsec
import httpx

from _local import local_auth_server, serve
from protected_api import create_app

TOKEN_LIFETIME = 10  # seconds; real tokens usually last an hour


# [START agent]
def run_agent(token_url: str, client_id: str, client_secret: str, api_url: str, calls: int = 30) -> None:
    client = authsec.ClientCredentials(
        token_url=token_url,
        client_id=client_id,
        client_secret=client_secret,
        scopes=["read:data"],
        audience="https://api.example.test",
        refresh_buffer=4,  # seconds before expiry (default 300, at most half the token's lifetime)
    )
    started = time.monotonic()
    previous = None
    tokens = 0
    with httpx.Client() as http:
        for call in range(1, calls + 1):
            token = client.get_token()  # from the cache, unless it is time to refresh
            if previous is None:
                tokens += 1
                note = f"token #{tokens} (new, expires in {token.expires_at - time.time():.1f} s)"
            elif token.access_token != previous.access_token:
                tokens += 1
                note = f"token #{tokens} (refreshed; #{tokens - 1} had {previous.expires_at - time.time():.1f} s left)"
            else:
                note = f"token #{tokens} (cached)"
            previous = token

            response = http.get(f"{api_url}/data", headers={"Authorization": token.authorization})
            response.raise_for_status()
            print(f"call {call:2d}  t={time.monotonic() - started:4.1f}s  {response.status_code}  {note}")
            time.sleep(0.25)
    print(f"calls: {calls}, token requests: {tokens}, calls on a cached token: {calls - tokens}")
# [END agent]


def main() -> None:
    with local_auth_server(token_lifetime=TOKEN_LIFETIME) as auth:
        with serve(create_app(auth.issuer, auth.jwks_uri)) as api_url:
            print(f"protected API: {api_url}; tokens last {TOKEN_LIFETIME} s")
            run_agent(auth.token_url, auth.client_id, auth.client_secret, api_url)
    print("done: agent")


if __name__ == "__main__":
    main()
