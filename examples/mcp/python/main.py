"""(6) MCP: a protected MCP server and an agent that calls its tools, in one command.

    python main.py

Starts the local authorization server (in-process), which knows the MCP server as an
``mcp_server`` client whose ``resource`` is its URL, and two agents: ``example-agent`` may get
``files:read`` and ``files:write`` tokens for it, ``example-reader`` only ``files:read``. Then it
serves ``server.py``'s app on 127.0.0.1 and runs ``agent.py``'s agent, and stops by itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.metadata
import secrets
import socket
import threading
import time
from typing import Any, Iterator

import uvicorn

from agent import run_agent, show_refusals
from authsec import ClientCredentials
from authsec.testing import LocalAuthServer
from server import create_app


@contextlib.contextmanager
def serve(app: Any, sock: socket.socket) -> Iterator[None]:
    """Serve an ASGI app with uvicorn on `sock` in a background thread; stop it on exit."""
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", timeout_graceful_shutdown=2))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the MCP server did not start")
        time.sleep(0.01)
    try:
        yield
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


def main() -> None:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    url = f"http://127.0.0.1:{sock.getsockname()[1]}/mcp"
    secret = {name: secrets.token_urlsafe(24) for name in ("files-mcp", "example-agent", "example-reader")}
    clients = [
        {"client_id": "files-mcp", "client_secret": secret["files-mcp"], "type": "mcp_server", "resource": url},
        {"client_id": "example-agent", "client_secret": secret["example-agent"], "type": "ai_agent",
         "allowed_scopes": ["files:read", "files:write"], "audiences": ["files-mcp"]},
        {"client_id": "example-reader", "client_secret": secret["example-reader"], "type": "ai_agent",
         "allowed_scopes": ["files:read"], "audiences": ["files-mcp"]},
    ]
    with LocalAuthServer(clients=clients) as auth_server:
        print(f"authorization server: {auth_server.issuer} (local, in-process)")
        with serve(create_app(url, auth_server.issuer), sock):
            prm = url.replace("/mcp", "/.well-known/oauth-protected-resource/mcp")
            print(f"server: {url} (mcp {importlib.metadata.version('mcp')}, protected by authsec; metadata at {prm})")
            asyncio.run(run_agent(url, auth_server.issuer, "example-agent", secret["example-agent"]))
            reader = ClientCredentials(client_id="example-reader", client_secret=secret["example-reader"],
                                       token_url=auth_server.token_endpoint, resource=url, scopes=["files:read"])
            asyncio.run(show_refusals(url, reader.get_token().access_token))
    print("done: mcp")


if __name__ == "__main__":
    main()
