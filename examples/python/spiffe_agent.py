"""An agent with no secret anywhere: its identity is the SPIFFE ID a SPIRE agent attests, and it
authenticates to the authorization server with the JWT-SVIDs the SPIFFE Workload API hands it.

    python spiffe_agent.py

`call_api` is the agent: its whole configuration comes from the environment, as a deployed
workload gets it (`AUTHSEC_AUTH_METHOD=spiffe_jwt`, `AUTHSEC_ISSUER`, `AUTHSEC_SCOPES`,
`AUTHSEC_AUDIENCE` and the Workload API in `SPIFFE_ENDPOINT_SOCKET`); no client id, no secret, no
key file. `main` provides what a platform would: a Workload API (the one `SPIFFE_ENDPOINT_SOCKET`
names, e.g. a real SPIRE agent under tests/spire/run.sh with its bundle in
`AUTHSEC_SPIRE_BUNDLE_FILE`; otherwise authsec.testing.FakeWorkloadApi), the local authorization
server trusting that trust domain's bundle and admitting `spiffe://example.org/agents/*`, and the
example API (protected_api.py).
"""

from __future__ import annotations

import contextlib
import os
import pathlib
import tempfile
import time
from typing import Iterator

import authsec
import httpx
from authsec.testing import FakeWorkloadApi, LocalAuthServer

from _local import API_AUDIENCE, serve
from protected_api import create_app

AGENT_SPIFFE_ID = "spiffe://example.org/agents/ml-training"


# [START spiffe_agent]
def call_api(api_url: str) -> None:
    # AUTHSEC_AUTH_METHOD=spiffe_jwt: every token request carries the workload's JWT-SVID (from the
    # Workload API, renewed before it expires) instead of a client secret.
    client = authsec.ClientCredentials.from_env()
    svid = authsec.WorkloadApiClient().fetch_jwt_svid(os.environ["AUTHSEC_ISSUER"])
    print(f"workload identity: {svid.spiffe_id}")

    token = client.get_token()
    expires_in = round(token.expires_at - time.time())
    print(f"token: {token.token_type}, scopes {token.scopes}, expires in {expires_in} s")

    with httpx.Client(auth=client.auth()) as http:
        response = http.get(f"{api_url}/data")
    print(f"GET /data -> {response.status_code} {response.text}")
# [END spiffe_agent]


@contextlib.contextmanager
def workload_api(bundle_file: pathlib.Path) -> Iterator[str]:
    """The Workload API's endpoint, with its trust domain's JWT bundle in `bundle_file` (SPIRE's,
    under tests/spire/run.sh; else a fake SPIRE agent's)."""
    if os.environ.get("SPIFFE_ENDPOINT_SOCKET") and os.environ.get("AUTHSEC_SPIRE_BUNDLE_FILE"):
        print("workload API: SPIRE agent at SPIFFE_ENDPOINT_SOCKET")
        bundle_file.write_text(pathlib.Path(os.environ["AUTHSEC_SPIRE_BUNDLE_FILE"]).read_text())
        yield os.environ["SPIFFE_ENDPOINT_SOCKET"]
        return
    with FakeWorkloadApi(spiffe_id=AGENT_SPIFFE_ID) as fake:
        print("workload API: authsec.testing.FakeWorkloadApi (local, in-process)")
        fake.write_jwt_bundle(bundle_file)
        yield fake.endpoint


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp, workload_api(pathlib.Path(tmp, "bundle.json")) as endpoint:
        agents = {
            "client_id": "ml-agents",
            "spiffe_id": "spiffe://example.org/agents/*",  # no secret: the SVID authenticates
            "allowed_scopes": ["read:data"],
            "audiences": [API_AUDIENCE],
        }
        spiffe = {"trust_domains": {"example.org": {"bundle_file": str(pathlib.Path(tmp, "bundle.json"))}}}
        with LocalAuthServer(clients=[agents], audience=API_AUDIENCE, config={"spiffe": spiffe}) as auth:
            print(f"authorization server: {auth.issuer} (local, in-process)")
            with serve(create_app(auth.issuer, auth.jwks_uri)) as api_url:
                print(f"protected API: {api_url}")
                os.environ.update(
                    AUTHSEC_AUTH_METHOD="spiffe_jwt",
                    AUTHSEC_ISSUER=auth.issuer,
                    AUTHSEC_SCOPES="read:data",
                    AUTHSEC_AUDIENCE=API_AUDIENCE,
                    SPIFFE_ENDPOINT_SOCKET=endpoint,
                )
                call_api(api_url)
    print("done: spiffe_agent")


if __name__ == "__main__":
    main()
