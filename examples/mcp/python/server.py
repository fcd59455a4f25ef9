"""A protected MCP server: the official SDK's ``MCPServer`` (mcp 2.x) behind authsec.

authsec serves the RFC 9728 protected-resource metadata, answers a request without a token (401),
with a refused token (401) or for a tool the token lacks the scope of (403) with the right
``WWW-Authenticate`` challenge before the SDK sees it, and hides the tools a token may not call.
``main.py`` runs it with an agent against the local authorization server.

Standalone (for the MCP conformance suite, or to try it with your own authorization server)::

    MCP_PORT=3000 MCP_ISSUER=http://127.0.0.1:9797 python server.py

configured by the environment: ``MCP_PORT`` (it listens on 127.0.0.1), ``MCP_RESOURCE`` (its URL,
the audience of its tokens; default ``http://127.0.0.1:$MCP_PORT/mcp``), ``MCP_ISSUER`` (the
authorization server), ``MCP_JWKS_URI`` (optional: else the issuer's metadata names it) and
``MCP_AUDIENCE_MATCH`` (optional: ``exact``, ``trailing_slash`` or ``path_prefix``). Tools that
name no scope need none: ``initialize`` and ``tools/list`` take any valid token for this server.
"""

from __future__ import annotations

import os
from typing import Any, Dict, Optional

from mcp.server.auth.middleware.auth_context import get_access_token
from mcp.server.mcpserver import MCPServer

from authsec.mcp import McpServerAuth


# [START mcp_server]
def create_app(resource: str, issuer: str, jwks_uri: Optional[str] = None, audience_match: Optional[str] = None) -> Any:
    auth = McpServerAuth(
        resource=resource,  # this server's URL: tokens must be issued for it
        authorization_servers=[issuer],
        operation_scopes={"tools/call:read_file": "files:read", "tools/call:write_file": "files:write"},
        metadata={"scopes_supported": ["files:read", "files:write"], "resource_name": "Example files"},
        verifier={"jwks_uri": jwks_uri, "audience_match": audience_match},  # None: discovered, exact
    )
    server = MCPServer("example-files", middleware=[auth.server_middleware()], log_level="WARNING")
    files: Dict[str, str] = {"notes.txt": "hello from the MCP server"}

    @server.tool()
    def read_file(name: str) -> str:
        return files.get(name, "")

    @server.tool()
    def write_file(name: str, text: str) -> str:
        files[name] = text
        return f"wrote {len(text)} bytes to {name}"

    @server.tool()
    def whoami() -> str:
        token = get_access_token()  # the SDK's AccessToken, filled from the verified claims
        assert token is not None
        return f"client {token.client_id}, scopes {' '.join(sorted(token.scopes))}"

    return auth.asgi(server.streamable_http_app())  # serve it with uvicorn
# [END mcp_server]


def main() -> None:
    import uvicorn

    port = int(os.environ["MCP_PORT"])
    resource = os.environ.get("MCP_RESOURCE") or f"http://127.0.0.1:{port}/mcp"
    issuer = os.environ["MCP_ISSUER"]
    app = create_app(resource, issuer, os.environ.get("MCP_JWKS_URI"), os.environ.get("MCP_AUDIENCE_MATCH"))
    print(f"server: {resource} (protected by authsec; tokens from {issuer})", flush=True)
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning")


if __name__ == "__main__":
    main()
