"""(3) A protected API: FastAPI verifies bearer tokens with authsec and requires scopes.

    python protected_api.py

`create_app` is the API: `GET /data` needs a token with `read:data`, `POST /data` one with
`write:data`. `authsec.fastapi.RequireToken` verifies the token (signature against the issuer's
JWKS, issuer, audience, expiry) and its scopes in the Rust core, and answers refusals itself:
401 without a token or with a bad one, 403 when a scope is missing, each with an RFC 6750
`WWW-Authenticate` challenge. `main` starts the local authorization server, serves the API on
127.0.0.1 and calls it four times to show each answer.
"""

from __future__ import annotations

import base64
import json

import authsec
import httpx
from authsec.fastapi import RequireToken
from fastapi import Depends, FastAPI

from _local import API_AUDIENCE, local_auth_server, serve


# [START protected_api]
def create_app(issuer: str, jwks_uri: str) -> FastAPI:
    # One verifier for the whole app: it caches the issuer's signing keys (JWKS) and every token
    # it has verified, so a repeated token is answered without a signature check.
    verifier = authsec.Verifier(issuer=issuer, audience="https://api.example.test", jwks_uri=jwks_uri)
    can_read = RequireToken(verifier, scopes=["read:data"], realm="example-api")
    can_write = RequireToken(verifier, scopes=["write:data"], realm="example-api")

    app = FastAPI()

    @app.get("/data")
    async def read_data(claims: authsec.Claims = Depends(can_read)) -> dict:
        return {"client_id": claims.client_id, "scopes": claims.scopes}

    @app.post("/data")
    async def write_data(claims: authsec.Claims = Depends(can_write)) -> dict:
        return {"stored_by": claims.client_id}

    return app
# [END protected_api]


def tamper(token: str) -> str:
    """The same token with its payload edited to claim `write:data` too: the signature no longer
    matches, so the API must refuse it."""
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["scope"] = "read:data write:data"
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    return f"{header}.{forged}.{signature}"


def show(what: str, response: httpx.Response) -> None:
    if response.status_code == 200:
        print(f"{what} -> 200 {response.text}")
    else:
        print(f"{what} -> {response.status_code} WWW-Authenticate: {response.headers.get('www-authenticate')}")


def main() -> None:
    with local_auth_server() as auth, serve(create_app(auth.issuer, auth.jwks_uri)) as api_url:
        print(f"protected API: {api_url} (GET /data needs read:data, POST /data needs write:data)")

        # An agent that asked only for read:data.
        client = authsec.ClientCredentials(
            token_url=auth.token_url,
            client_id=auth.client_id,
            client_secret=auth.client_secret,
            scopes=["read:data"],
            audience=API_AUDIENCE,
        )
        token = client.get_token()
        bearer = {"Authorization": token.authorization}

        with httpx.Client(base_url=api_url) as http:
            show("GET /data with a read:data token", http.get("/data", headers=bearer))
            show("GET /data without a token", http.get("/data"))
            forged = {"Authorization": f"Bearer {tamper(token.access_token)}"}
            show("GET /data with a tampered token", http.get("/data", headers=forged))
            show("POST /data with a read:data token", http.post("/data", headers=bearer))
    print("done: protected_api")


if __name__ == "__main__":
    main()
