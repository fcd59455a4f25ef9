"""Set-up shared by the examples: the local authorization server and a way to serve an app.

None of this is needed in production, where your identity provider issues the tokens and your API
runs under its own server. The examples start both in-process, on 127.0.0.1 and ephemeral ports,
so that each one runs with a single command and stops by itself.
"""

from __future__ import annotations

import contextlib
import dataclasses
import secrets
import socket
import threading
import time
from typing import Any, Iterator

import uvicorn
from authsec.testing import LocalAuthServer

# The audience of the example API: tokens are issued for it and the API accepts only those.
API_AUDIENCE = "https://api.example.test"
# The client (an agent) registered with the local authorization server.
AGENT_ID = "example-agent"


@dataclasses.dataclass(frozen=True)
class LocalAuth:
    """Where the local authorization server is, and the agent's credentials."""

    issuer: str
    token_url: str
    jwks_uri: str
    client_id: str
    client_secret: str


@contextlib.contextmanager
def local_auth_server(token_lifetime: int = 3600) -> Iterator[LocalAuth]:
    """Run the local authorization server with one client, `example-agent`, which may ask for
    `read:data` and `write:data` tokens for API_AUDIENCE lasting `token_lifetime` seconds."""
    secret = secrets.token_urlsafe(24)
    agent = {
        "client_id": AGENT_ID,
        "client_secret": secret,
        "allowed_scopes": ["read:data", "write:data"],
        "audiences": [API_AUDIENCE],
        "token_lifetime": token_lifetime,
    }
    with LocalAuthServer(clients=[agent], audience=API_AUDIENCE, token_lifetime=token_lifetime) as server:
        print(f"authorization server: {server.issuer} (local, in-process)")
        yield LocalAuth(server.issuer, server.token_endpoint, server.jwks_uri, AGENT_ID, secret)


@contextlib.contextmanager
def serve(app: Any) -> Iterator[str]:
    """Serve an ASGI app with uvicorn on 127.0.0.1 (an ephemeral port) in a background thread;
    yields its base URL and stops the server on exit."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the API server did not start")
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
