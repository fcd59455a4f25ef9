"""The Python packages as a user installs them (tests/install/run.sh): the local authorization server
(authsec-testing) issues a token to a ClientCredentials client, and a Verifier verifies it. Fails
when authsec was imported from anywhere but the venv's site-packages."""

import sys
import sysconfig

import authsec
from authsec.testing import LocalAuthServer

site = sysconfig.get_paths()["purelib"]
for module in (authsec, authsec._native):
    if not module.__file__.startswith(site):
        sys.exit(f"python: {module.__name__} came from {module.__file__}, not the venv's {site}")

with LocalAuthServer(clients=[{"client_id": "agent", "client_secret": "s3cret", "allowed_scopes": ["read:data"]}]) as server:
    client = server.client("agent", scopes=["read:data"])
    token = client.get_token()
    claims = server.verifier().verify(token.access_token, required_scopes=["read:data"])
    assert claims.subject == "agent", claims.subject
    print(f"python: token for {claims.subject} verified, scopes {sorted(claims.scopes)} (authsec {authsec.__version__})")
