"""(6) Proof of possession: a DPoP-bound token (RFC 9449) that is useless to whoever copies it.

    python dpop.py

The agent holds a key of its own (generated in memory) and proves it with every request: a signed
`DPoP` proof for that method and URL. The authorization server binds the token to the key
(`cnf.jkt`) and the API checks the proof, refuses a replayed one, and asks for its own nonce
first. A thief with the token alone gets nowhere: sent as Bearer it is refused, and a proof by
another key does not match the binding. The local authorization server (in-process, on
127.0.0.1) requires proofs from this client and demands its nonces too.
"""

from __future__ import annotations

import secrets

import authsec
import httpx
from authsec.fastapi import RequireToken
from authsec.testing import LocalAuthServer
from fastapi import Depends, FastAPI, Request

from _local import API_AUDIENCE, serve


# [START dpop]
def create_api(issuer: str, jwks_uri: str) -> FastAPI:
    verifier = authsec.Verifier(issuer=issuer, audience=API_AUDIENCE, jwks_uri=jwks_uri)
    # dpop "required": only DPoP-bound tokens, each with a proof by its key; dpop_nonce: the API
    # hands out nonces (401 use_dpop_nonce + DPoP-Nonce) and accepts proofs that carry a current one.
    api = authsec.RequestVerifier(verifier, dpop="required", dpop_nonce=True)
    app = FastAPI()

    @app.get("/data")
    async def data(request: Request, claims: authsec.Claims = Depends(RequireToken(api, scopes=["read:data"]))) -> dict:
        return {"scheme": request.state.authsec.scheme, "key": request.state.authsec.dpop_jkt}

    return app


def call_api(token_url: str, client_id: str, client_secret: str, url: str) -> None:
    # dpop=True makes a key for this client: every token request carries a proof, the tokens are
    # bound to the key, and client.auth() signs a proof for each request (answering the API's
    # nonce challenge with one retry).
    agent = authsec.ClientCredentials(
        client_id=client_id, client_secret=client_secret, token_url=token_url, scopes=["read:data"], dpop=True
    )
    with httpx.Client(auth=agent.auth()) as http:
        r = http.get(url)
        print(f"agent: {r.status_code} {r.text} (its key: {agent.dpop_thumbprint})")

    # Someone who copied the token from a log: as Bearer, and with a proof by their own key.
    token = agent.get_token()
    r = httpx.get(url, headers={"authorization": f"Bearer {token.access_token}"})
    print(f"stolen token as Bearer: {r.status_code} {r.headers['www-authenticate']}")
    thief = authsec.ClientCredentials(client_id="nobody", client_secret="x", token_url=token_url, dpop=True)
    r = httpx.get(url, headers=thief.authorize(token, "GET", url))
    print(f"stolen token with another key's proof: {r.status_code} {r.headers['www-authenticate']}")
# [END dpop]


def main() -> None:
    secret = secrets.token_urlsafe(24)
    agent = {
        "client_id": "example-agent",
        "client_secret": secret,
        "allowed_scopes": ["read:data"],
        "audiences": [API_AUDIENCE],
        "dpop_bound_access_tokens": True,  # the server refuses this client's token requests without a proof
    }
    # ... and asks for its own nonce in them.
    with LocalAuthServer(clients=[agent], audience=API_AUDIENCE, config={"dpop": {"nonce": True}}) as server:
        print(f"authorization server: {server.issuer} (local, in-process)")
        with serve(create_api(server.issuer, server.jwks_uri)) as base:
            call_api(server.token_endpoint, "example-agent", secret, f"{base}/data")
    print("done: dpop")


if __name__ == "__main__":
    main()
