"""The client the MCP conformance suite runs (tests/mcp-conformance/run.sh): an agent on the mcp SDK's
own client with authsec's ``McpClient`` as its HTTP auth, for the client-credentials scenarios.

The suite passes the MCP server's URL as the last argument and the credentials in
``MCP_CONFORMANCE_CONTEXT`` (``client_id`` with ``client_secret``, or with ``private_key_pem`` and
``signing_algorithm``). It names no authorization server, so the agent takes the one the server's
metadata names (``issuer_policy="first_in_metadata"``).
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from typing import Any, Dict

import httpx2
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from authsec.mcp import McpClient


def credentials(context: Dict[str, Any]) -> Dict[str, Any]:
    if "private_key_pem" in context:
        return {
            "auth_method": "private_key_jwt",
            "private_key": context["private_key_pem"],
            "private_key_alg": context.get("signing_algorithm", "ES256"),
        }
    return {"client_secret": context["client_secret"]}


async def main(url: str) -> None:
    context = json.loads(os.environ.get("MCP_CONFORMANCE_CONTEXT", "{}"))
    agent = McpClient(
        url, client_id=context["client_id"], issuer_policy="first_in_metadata", **credentials(context)
    )
    async with httpx2.AsyncClient(auth=agent.auth(), timeout=30) as http:
        async with Client(streamable_http_client(url, http_client=http)) as mcp:
            tools = await mcp.list_tools()
            print(f"tools: {', '.join(t.name for t in tools.tools)} (resource {agent.resource})")


if __name__ == "__main__":
    asyncio.run(main(sys.argv[-1]))
