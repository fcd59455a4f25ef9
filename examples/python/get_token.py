"""(1) Get a token with client credentials and call a protected API with it.

    python get_token.py

`call_api` is the agent's side: an `authsec.ClientCredentials` gets an OAuth 2.0 access token from
the token endpoint (client_secret_basic) and keeps it in the Rust core's cache; `client.auth()`
puts it in the `Authorization: Bearer` header of httpx (or requests) calls. `main` starts the
local authorization server and the example API (protected_api.py) so that there is something to
call.
"""

from __future__ import annotations

import time

import authsec
import httpx

from _local import local_auth_server, serve
from protected_api import create_app


# [START get_token]
def call_api(token_url: str, client_id: str, client_secret: str, api_url: str) -> None:
    # Create the client once and share it: it caches the token and refreshes it before expiry.
    client = authsec.ClientCredentials(
        token_url=token_url,
        client_id=client_id,
        client_secret=client_secret,
        scopes=["read:data"],
        audience="https://api.example.test",
    )

    token = client.get_token()
    expires_in = round(token.expires_at - time.time())
    print(f"token: {token.token_type}, scopes {token.scopes}, expires in {expires_in} s")

    # Sends "Authorization: Bearer <token>"; on a 401 it gets a fresh token and retries once.
    with httpx.Client(auth=client.auth()) as http:
        response = http.get(f"{api_url}/data")
    print(f"GET /data -> {response.status_code} {response.text}")
# [END get_token]


def main() -> None:
    with local_auth_server() as auth, serve(create_app(auth.issuer, auth.jwks_uri)) as api_url:
        print(f"protected API: {api_url}")
        call_api(auth.token_url, auth.client_id, auth.client_secret, api_url)
    print("done: get_token")


if __name__ == "__main__":
    main()
