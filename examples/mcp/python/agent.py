"""An agent that calls the MCP server's tools with the SDK's own client (mcp 2.x over httpx2) and
authsec's ``McpClient`` as its HTTP auth: it starts without a token, and the server's 401 tells it
where to get one (RFC 9728 metadata, then the authorization server's); a 403 for a tool whose
scope its token lacks makes it ask once for that scope too.
"""

from __future__ import annotations

import httpx2
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from authsec.mcp import McpClient


# [START mcp_agent]
async def run_agent(url: str, issuer: str, client_id: str, client_secret: str) -> None:
    agent = McpClient(url, issuer=issuer, client_id=client_id, client_secret=client_secret, scopes=["files:read"])
    async with httpx2.AsyncClient(auth=agent.auth()) as http:
        async with Client(streamable_http_client(url, http_client=http)) as mcp:
            tools = await mcp.list_tools()
            print(f"agent: tools {', '.join(t.name for t in tools.tools)} (token for {agent.resource})")
            result = await mcp.call_tool("read_file", {"name": "notes.txt"})
            print(f"agent: call read_file -> {result.content[0].text}")
            # write_file needs files:write: a 403 names it, the agent asks for it once, and resends.
            result = await mcp.call_tool("write_file", {"name": "todo.txt", "text": "ship it"})
            print(f"agent: step-up write_file -> {result.content[0].text} (scopes {' '.join(agent.scopes)})")
# [END mcp_agent]


async def show_refusals(url: str, read_only_token: str) -> None:
    """What the server answers without a token, and to a token that may not call write_file."""
    call = {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "write_file", "arguments": {}}}
    accept = {"Accept": "application/json, text/event-stream"}
    async with httpx2.AsyncClient() as http:
        r = await http.post(url, json=call, headers=accept)
        print(f"agent: no token -> {r.status_code} WWW-Authenticate: {r.headers['www-authenticate']}")
        r = await http.post(url, json=call, headers={**accept, "Authorization": f"Bearer {read_only_token}"})
        print(f"agent: refused write_file -> {r.status_code} {r.json()['error']} WWW-Authenticate: {r.headers['www-authenticate']}")
