"""MCP authorization with the real SDKs from PyPI: ``mcp`` 2.x (``MCPServer``, its client over
``httpx2``) and ``fastmcp`` 4, each server protected by ``authsec.mcp.McpServerAuth`` and called
by agents using ``authsec.mcp.McpClient``, tokens from the local authorization server (which
knows the MCP server as an ``mcp_server`` client with its URL as ``resource``), all over
127.0.0.1. The challenges are compared parameter for parameter; a refused tool's handler must
never run."""

from __future__ import annotations

import asyncio
import collections
import contextlib
import json
import re
import secrets
import socket
import threading
import time
from typing import Any, Callable, Dict, Iterator, List, Optional

import pytest

pytest.importorskip("mcp.server.mcpserver", reason="mcp 2.x needs Python 3.10+")

import httpx
import httpx2
import uvicorn
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.server.auth.middleware.auth_context import get_access_token
from mcp.server.auth.provider import AccessToken
from mcp.server.mcpserver import MCPServer
from mcp.shared.exceptions import MCPError

import authsec
from authsec.mcp import REFUSED, McpAuth, McpClient, McpServerAuth
from authsec.testing import LocalAuthServer, ManualClock

SCOPES = ["mcp", "files:read", "files:write", "secrets"]
OPERATION_SCOPES = {
    "tools/call:write_file": "files:write",
    "tools/call:read_*": ["files:read"],
    "resources/read:file:///secret/*": "secrets",
    "prompts/get:audit": "secrets",
}
TOKEN_EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange"
ACCEPT = {"Accept": "application/json, text/event-stream"}


def call(tool: str, **arguments: Any) -> Dict[str, Any]:
    return {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": tool, "arguments": arguments}}


PING = {"jsonrpc": "2.0", "id": 1, "method": "ping"}
INIT = {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
    "protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "test", "version": "1"}}}


def issued(server: LocalAuthServer, client_id: str) -> List[Dict[str, Any]]:
    """The tokens the authorization server issued to `client_id` (its audit log; issue 18's
    contract: a token event's `outcome` is `success` or `failure`)."""
    return [e for e in server.audit_events() if e.get("event") == "token" and e.get("outcome") == "success" and e.get("client_id") == client_id]


# ----- the servers -----


def token_info(token: Any) -> str:
    """What a tool saw of its caller's token (the SDK's AccessToken)."""
    return json.dumps(
        {
            "type": f"{type(token).__module__}.{type(token).__name__}",
            "client_id": token.client_id,
            "subject": token.subject,
            "scopes": token.scopes,
            "resource": token.resource,
            "expires_at": token.expires_at,
            "claims": token.claims,
        }
    )


def register(server: Any, ran: collections.Counter, current_token: Callable[[], Any]) -> None:
    """The same tools, resources and prompts on an mcp MCPServer or a FastMCP; `ran` counts the
    handlers that ran."""

    @server.tool()
    def read_file(path: str) -> str:
        ran["read_file"] += 1
        return f"contents of {path}"

    @server.tool()
    def write_file(path: str, text: str) -> str:
        ran["write_file"] += 1
        return f"wrote {len(text)} bytes to {path}"

    @server.tool()
    def whoami() -> str:
        ran["whoami"] += 1
        return token_info(current_token())

    @server.resource("file:///public/readme")
    def readme() -> str:
        ran["readme"] += 1
        return "hello"

    @server.resource("file:///secret/key")
    def key() -> str:
        ran["key"] += 1
        return "s3cret"

    @server.prompt()
    def summarize() -> str:
        return "summarize"

    @server.prompt()
    def audit() -> str:
        ran["audit"] += 1
        return "audit"


def mcp_app(auth: McpServerAuth, ran: collections.Counter) -> Any:
    """mcp 2.x: authsec in front of the SDK's app (the one-liner)."""
    server = MCPServer("files", middleware=[auth.server_middleware()])
    register(server, ran, get_access_token)
    return auth.asgi(server.streamable_http_app())


def mcp_sdk_gate_app(auth: McpServerAuth, ran: collections.Counter) -> Any:
    """mcp 2.x with the SDK's own bearer gate: authsec's TokenVerifier and AuthSettings."""
    # [START mcp_sdk_gate]
    server = MCPServer(
        "files",
        token_verifier=auth.token_verifier(),  # verify_token(token) -> AccessToken | None
        auth=auth.auth_settings(),  # issuer, resource_server_url, required_scopes
        middleware=[auth.server_middleware()],  # per-tool refusals as JSON-RPC errors; lists cut
    )
    app = server.streamable_http_app()
    # [END mcp_sdk_gate]
    register(server, ran, get_access_token)
    return app


def fastmcp_app(auth: McpServerAuth, ran: collections.Counter) -> Any:
    from fastmcp import FastMCP
    from fastmcp.server.dependencies import get_access_token as fastmcp_token

    # [START fastmcp_server]
    server = FastMCP("files", auth=auth.fastmcp_auth(), middleware=[auth.fastmcp_middleware()])
    app = server.http_app()  # in a tool, fastmcp's get_access_token() has the claims
    # [END fastmcp_server]
    register(server, ran, fastmcp_token)
    return app


APPS = {"mcp": mcp_app, "mcp_sdk_gate": mcp_sdk_gate_app, "fastmcp": fastmcp_app}


@contextlib.contextmanager
def serve(app: Any, sock: socket.socket) -> Iterator[None]:
    """uvicorn on `sock` in a thread; stopped on exit."""
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", timeout_graceful_shutdown=2))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the MCP server did not start"
        time.sleep(0.01)
    try:
        yield
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


class World:
    """An MCP server behind authsec, its authorization server, and the agents' credentials."""

    def __init__(self, server: LocalAuthServer, auth: McpServerAuth, url: str, ran: collections.Counter, secret: Dict[str, str]):
        self.server, self.auth, self.url, self.ran, self.secret = server, auth, url, ran, secret
        self.prm = url.replace("/mcp", "/.well-known/oauth-protected-resource/mcp")

    def agent(self, client_id: str = "agent", **options: Any) -> McpClient:
        options.setdefault("scopes", ["mcp", "files:read"])
        return McpClient(self.url, issuer=self.server.issuer, client_id=client_id, client_secret=self.secret[client_id], **options)

    def token(self, client_id: str, scopes: List[str]) -> str:
        return self.server.token(client_id, scopes)

    def post(self, body: Any, token: Optional[str] = None, **headers: str) -> httpx.Response:
        h = dict(ACCEPT, **headers)
        if token is not None:
            h["Authorization"] = f"Bearer {token}"
        content = body if isinstance(body, bytes) else json.dumps(body).encode()
        return httpx.post(self.url, content=content, headers={**h, "Content-Type": "application/json"}, timeout=30)


@contextlib.contextmanager
def world(kind: str, clock: Optional[ManualClock] = None) -> Iterator[World]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    url = f"http://127.0.0.1:{sock.getsockname()[1]}/mcp"
    secret = {name: secrets.token_urlsafe(24) for name in ("files-mcp", "agent", "reader", "other", "delegate")}
    clients = [
        {"client_id": "files-mcp", "client_secret": secret["files-mcp"], "type": "mcp_server", "resource": url},
        # allowed every scope, but configured below for fewer (step-up)
        {"client_id": "agent", "client_secret": secret["agent"], "type": "ai_agent", "allowed_scopes": SCOPES,
         "audiences": ["files-mcp"], "may_act": ["delegate"]},
        {"client_id": "reader", "client_secret": secret["reader"], "allowed_scopes": ["mcp", "files:read"],
         "audiences": ["files-mcp"]},
        {"client_id": "other", "client_secret": secret["other"], "allowed_scopes": SCOPES,
         "audiences": ["https://other.example.test/mcp"]},
        {"client_id": "delegate", "client_secret": secret["delegate"], "allowed_scopes": ["mcp", "files:read"],
         "audiences": ["files-mcp"], "grant_types": [TOKEN_EXCHANGE]},
    ]
    with LocalAuthServer(clients=clients, _clock=clock) as server:
        auth = McpServerAuth(
            resource=url,
            authorization_servers=[server.issuer],
            required_scopes="mcp",
            operation_scopes=OPERATION_SCOPES,
            metadata={"scopes_supported": SCOPES, "resource_name": "Files"},
            _clock=clock,
        )
        ran: collections.Counter = collections.Counter()
        with serve(APPS[kind](auth, ran), sock):
            yield World(server, auth, url, ran, secret)


@pytest.fixture(scope="module", params=["mcp", "fastmcp"])
def w(request: Any) -> Iterator[World]:
    """The one-liners: mcp 2.x behind auth.asgi(), and fastmcp with auth.fastmcp_auth()."""
    if request.param == "fastmcp":
        pytest.importorskip("fastmcp", reason="fastmcp 4 needs Python 3.11+")
    with world(request.param) as built:
        yield built


@pytest.fixture(autouse=True)
def _fresh_counts(request: Any) -> None:
    if "w" in request.fixturenames:
        request.getfixturevalue("w").ran.clear()


def challenge(r: httpx.Response) -> str:
    return r.headers.get("www-authenticate", "")


def bearer(token: str) -> Callable[[Any], Any]:
    """A fixed-token auth for httpx2 (a callable: httpx2 refuses httpx.Auth instances)."""

    def add(request: Any) -> Any:
        request.headers["Authorization"] = f"Bearer {token}"
        return request

    return add


class Recorder(httpx2.Auth):
    """A fixed-token httpx2 auth that records each response's status and challenge."""

    def __init__(self, token: str) -> None:
        self.token = token
        self.seen: List[Any] = []

    async def async_auth_flow(self, request: Any) -> Any:
        request.headers["Authorization"] = f"Bearer {self.token}"
        response = yield request
        self.seen.append((response.status_code, response.headers.get("www-authenticate")))


async def session(url: str, auth: Any, work: Callable[[Any], Any]) -> Any:
    """Run `work(client)` in an mcp SDK client session over httpx2 with `auth`."""
    async with httpx2.AsyncClient(auth=auth, timeout=30) as http:
        async with Client(streamable_http_client(url, http_client=http)) as client:
            return await work(client)


async def fastmcp_session(url: str, auth: Any, work: Callable[[Any], Any]) -> Any:
    from fastmcp import Client as FastMCPClient

    async with FastMCPClient(url, auth=auth) as client:
        return await work(client)


# ----- the HTTP layer: metadata and challenges, before the SDK runs -----


def test_metadata_at_both_well_known_paths(w: World) -> None:
    base = w.url[: -len("/mcp")]
    assert w.auth.well_known_paths == ["/.well-known/oauth-protected-resource/mcp", "/.well-known/oauth-protected-resource"]
    assert w.auth.metadata_url == w.prm
    for path in w.auth.well_known_paths:
        r = httpx.get(base + path, timeout=10)
        assert r.status_code == 200, (path, r.text)
        assert r.headers["access-control-allow-origin"] == "*"
        assert r.json() == {
            "resource": w.url,
            "authorization_servers": [w.server.issuer],
            "scopes_supported": SCOPES,
            "resource_name": "Files",
            "bearer_methods_supported": ["header"],
        }
    assert httpx.options(base + w.auth.well_known_paths[0], timeout=10).status_code == 204


def test_no_token_is_401_without_an_error_code(w: World) -> None:
    for headers in ({}, {"Authorization": "Basic YWdlbnQ6cw=="}):
        r = w.post(call("whoami"), **headers)
        assert r.status_code == 401
        assert challenge(r) == f'Bearer scope="mcp", resource_metadata="{w.prm}"'
        assert "error" not in r.json()
    assert w.ran == {}


def test_bearer_without_a_token_is_400(w: World) -> None:
    r = w.post(PING, Authorization="Bearer")
    assert r.status_code == 400
    assert re.fullmatch(rf'Bearer error="invalid_request", error_description="[^"]+", scope="mcp", resource_metadata="{re.escape(w.prm)}"', challenge(r))


def refused_token(w: World, r: httpx.Response, says: str) -> None:
    assert r.status_code == 401, r.text
    m = re.fullmatch(r'Bearer error="invalid_token", error_description="([^"]+)", scope="mcp", resource_metadata="(.+)"', challenge(r))
    assert m, challenge(r)
    assert m.group(2) == w.prm
    assert says in m.group(1), m.group(1)
    assert r.json()["error"] == "invalid_token"


def test_wrong_audience_is_401(w: World) -> None:
    token = w.token("other", ["mcp", "files:read"])
    refused_token(w, w.post(call("read_file", path="a"), token), "audience")
    assert w.ran == {}


def test_foreign_issuer_is_401(w: World) -> None:
    # Another authorization server issues a token for this very MCP server.
    foreign = [{"client_id": "agent", "client_secret": "s", "allowed_scopes": SCOPES, "audiences": [w.url]}]
    with LocalAuthServer(clients=foreign) as elsewhere:
        token = elsewhere.token("agent", ["mcp", "files:read"])
    r = w.post(call("read_file", path="a"), token)
    refused_token(w, r, "no key with kid")  # signed by another issuer's keys
    assert w.ran == {}


def test_garbage_is_401(w: World) -> None:
    refused_token(w, w.post(PING, "not-a-jwt"), "dot-separated segments")


def test_expired_token_is_401() -> None:
    clock = ManualClock()
    with world("mcp", clock) as w:
        token = w.token("reader", ["mcp", "files:read"])
        assert w.post(INIT, token).status_code == 200
        clock.advance(3600 + 600)
        refused_token(w, w.post(call("read_file", path="a"), token), "expired")
        assert w.ran == {}


def test_missing_base_scope_is_403_for_everything(w: World) -> None:
    token = w.token("reader", ["files:read"])
    for body in (PING, call("read_file", path="a")):
        r = w.post(body, token)
        assert r.status_code == 403
        scope = "mcp" if body is PING else "mcp files:read"
        assert re.fullmatch(
            rf'Bearer error="insufficient_scope", error_description="[^"]+", scope="{scope}", resource_metadata="{re.escape(w.prm)}"',
            challenge(r),
        ), challenge(r)
    assert w.ran == {}


def test_a_tool_outside_the_token_is_403_naming_every_scope_it_needs(w: World) -> None:
    token = w.token("reader", ["mcp", "files:read"])
    r = w.post(call("write_file", path="a", text="x"), token)
    assert r.status_code == 403
    assert challenge(r) == (
        'Bearer error="insufficient_scope", error_description="tools/call write_file needs the scope(s) files:write, '
        f'which the token lacks; get a token with them", scope="mcp files:write", resource_metadata="{w.prm}"'
    )
    assert r.json()["error"] == "insufficient_scope"
    # A resource and a prompt outside the token's scopes.
    r = w.post({"jsonrpc": "2.0", "id": 2, "method": "resources/read", "params": {"uri": "file:///secret/key"}}, token)
    assert (r.status_code, 'scope="mcp secrets"' in challenge(r)) == (403, True)
    r = w.post({"jsonrpc": "2.0", "id": 3, "method": "prompts/get", "params": {"name": "audit"}}, token)
    assert (r.status_code, 'scope="mcp secrets"' in challenge(r)) == (403, True)
    assert w.ran == {}


def test_an_unreadable_or_oversized_body_is_400(w: World) -> None:
    token = w.token("reader", ["mcp", "files:read"])
    assert w.post(b"{not json", token).status_code == 400
    big = json.dumps(call("read_file", path="x" * (authsec._native.MCP_MAX_BODY_BYTES + 10))).encode()
    r = w.post(big, token)
    assert r.status_code == 400 and 'error="invalid_request"' in challenge(r)
    assert w.ran == {}


# ----- the SDKs' own clients with authsec's transport -----


def run_agent(w: World, kind: str, auth: Any, work: Callable[[Any], Any]) -> Any:
    opener = fastmcp_session if kind == "fastmcp" else session
    return asyncio.run(opener(w.url, auth, work))


def test_an_agent_discovers_gets_a_token_for_the_resource_and_calls_a_tool(w: World, request: Any) -> None:
    kind = request.node.callspec.params["w"]
    agent = w.agent()
    assert agent.resource is None  # nothing discovered yet
    before = len(issued(w.server, "agent"))

    async def work(client: Any) -> Any:
        tools = await client.list_tools()
        names = sorted(t.name for t in (tools.tools if hasattr(tools, "tools") else tools))
        read = await client.call_tool("read_file", {"path": "notes.txt"})
        me = await client.call_tool("whoami", {})
        return names, read.content[0].text, json.loads(me.content[0].text)

    names, read, me = run_agent(w, kind, agent.auth(), work)
    assert names == ["read_file", "whoami"]  # write_file needs files:write, which the token lacks
    assert read == "contents of notes.txt"  # the body reached the tool unchanged
    assert agent.resource == w.url  # discovered from the 401's resource_metadata
    assert agent.scopes == ["mcp", "files:read"]
    assert me["type"] == ("fastmcp.server.auth.auth.AccessToken" if kind == "fastmcp" else "mcp.server.auth.provider.AccessToken")
    assert (me["client_id"], me["subject"], me["resource"]) == ("agent", "agent", w.url)
    assert sorted(me["scopes"]) == ["files:read", "mcp"]
    assert me["claims"]["aud"] in (w.url, [w.url])  # the token was issued for this server's URL
    assert me["claims"]["iss"] == w.server.issuer
    assert me["expires_at"] == me["claims"]["exp"]
    tokens = issued(w.server, "agent")[before:]
    assert [(t["aud"], t["scope"]) for t in tokens] == [([w.url], "files:read mcp")]  # resource = the server's URL
    assert w.ran["write_file"] == 0


def test_a_tool_outside_the_token_is_not_listed_and_never_runs(w: World, request: Any) -> None:
    kind = request.node.callspec.params["w"]
    auth = Recorder(w.token("reader", ["mcp", "files:read"]))

    async def work(client: Any) -> Any:
        tools = await client.list_tools()
        names = sorted(t.name for t in (tools.tools if hasattr(tools, "tools") else tools))
        resources = await client.list_resources()
        uris = [str(r.uri) for r in (resources.resources if hasattr(resources, "resources") else resources)]
        prompts = await client.list_prompts()
        prompt_names = sorted(p.name for p in (prompts.prompts if hasattr(prompts, "prompts") else prompts))
        with pytest.raises(Exception) as refused:
            await client.call_tool("write_file", {"path": "a", "text": "x"})
        return names, uris, prompt_names, refused.value

    names, uris, prompts, refused = run_agent(w, kind, auth, work)
    assert names == ["read_file", "whoami"]
    assert uris == ["file:///public/readme"]
    assert prompts == ["summarize"]
    # The SDK's client reports the HTTP refusal as a generic error; the wire had authsec's 403.
    assert isinstance(refused, MCPError) and refused.message == "Server returned an error response"
    assert (403, 'Bearer error="insufficient_scope", error_description="tools/call write_file needs the scope(s) '
            f'files:write, which the token lacks; get a token with them", scope="mcp files:write", resource_metadata="{w.prm}"') in auth.seen
    assert w.ran["write_file"] == 0


def test_step_up_after_one_403(w: World, request: Any) -> None:
    kind = request.node.callspec.params["w"]
    agent = w.agent()  # asks for mcp files:read; its client may also get files:write
    before = len(issued(w.server, "agent"))

    async def work(client: Any) -> Any:
        first = await client.call_tool("read_file", {"path": "a"})
        wrote = await client.call_tool("write_file", {"path": "a", "text": "hello"})
        return first.content[0].text, wrote.content[0].text

    read, wrote = run_agent(w, kind, agent.auth(), work)
    assert (read, wrote) == ("contents of a", "wrote 5 bytes to a")
    assert w.ran["write_file"] == 1
    assert agent.scopes == ["mcp", "files:read", "files:write"]  # the union the 403 named
    # The first token, then the stepped-up one; both for this server.
    assert [(t["aud"], t["scope"]) for t in issued(w.server, "agent")[before:]] == [
        ([w.url], "files:read mcp"), ([w.url], "files:read files:write mcp")]


def test_a_refused_step_up_leaves_the_agent_working(w: World) -> None:
    agent = w.agent("reader")  # its client may not get files:write

    async def work() -> Any:
        async with httpx2.AsyncClient(auth=agent.auth(), timeout=30) as http:
            assert (await http.post(w.url, json=INIT, headers=ACCEPT)).status_code == 200
            with pytest.raises(authsec.InvalidScopeError):  # the token endpoint refuses files:write
                await http.post(w.url, json=call("write_file", path="a", text="x"), headers=ACCEPT)
            return (await http.post(w.url, json=INIT, headers=ACCEPT)).status_code

    assert asyncio.run(work()) == 200
    assert w.ran["write_file"] == 0


# ----- mcp with the SDK's own gate: the TokenVerifier adapter, AuthSettings, ServerMiddleware -----


@pytest.fixture(scope="module")
def gate() -> Iterator[World]:
    with world("mcp_sdk_gate") as built:
        yield built


def test_token_verifier_gives_the_sdk_its_access_token(gate: World) -> None:
    verifier = gate.auth.token_verifier()
    delegate = gate.server.client("delegate")
    subject = gate.server.client("agent", scopes=["mcp", "files:read"]).get_token()
    exchanged = delegate.exchange_token(subject, resource=gate.url, scopes=["mcp", "files:read"])

    async def work() -> Any:
        return (
            await verifier.verify_token(exchanged.access_token),
            await verifier.verify_token(gate.token("other", ["mcp"])),
            await verifier.verify_token("garbage"),
        )

    token, wrong_audience, garbage = asyncio.run(work())
    assert isinstance(token, AccessToken)
    assert (token.client_id, token.subject, token.resource) == ("delegate", "agent", gate.url)
    assert sorted(token.scopes) == ["files:read", "mcp"]
    assert token.expires_at == token.claims["exp"]
    assert token.claims["act"]["client_id"] == "delegate"  # the delegation chain, as the token says
    assert token.token == exchanged.access_token
    assert (wrong_audience, garbage) == (None, None)


def test_auth_settings(gate: World) -> None:
    s = gate.auth.auth_settings()
    assert str(s.issuer_url).rstrip("/") == gate.server.issuer
    assert str(s.resource_server_url) == gate.url
    assert s.required_scopes == ["mcp"]
    assert s.validate_token_resource is True


def test_sdk_gate_agent_end_to_end_and_refusals_inside_the_sdk(gate: World) -> None:
    agent = gate.agent()

    async def work(client: Any) -> Any:
        names = sorted(t.name for t in (await client.list_tools()).tools)
        read = (await client.call_tool("read_file", {"path": "b"})).content[0].text
        return names, read

    names, read = asyncio.run(session(gate.url, agent.auth(), work))
    assert (names, read) == (["read_file", "whoami"], "contents of b")
    assert agent.resource == gate.url  # discovered from the SDK's own 401 and metadata

    # A tool outside the token: the SDK's gate lets the token in, authsec's ServerMiddleware
    # refuses the call with a JSON-RPC error; the handler never runs.
    token = gate.token("reader", ["mcp", "files:read"])

    async def refused(client: Any) -> Any:
        with pytest.raises(MCPError) as e:
            await client.call_tool("write_file", {"path": "a", "text": "x"})
        with pytest.raises(MCPError) as r:
            await client.read_resource("file:///secret/key")
        return e.value, r.value

    call_error, read_error = asyncio.run(session(gate.url, bearer(token), refused))
    for error, scope in ((call_error, "mcp files:write"), (read_error, "mcp secrets")):
        assert error.code == REFUSED
        assert error.message.startswith("insufficient_scope: ")
        assert error.data["status"] == 403
        assert f'scope="{scope}"' in error.data["www_authenticate"]
    assert gate.ran["write_file"] == 0 and gate.ran["key"] == 0


# ----- fastmcp without HTTP: the middleware refuses and hides without a token -----


def test_fastmcp_middleware_in_memory() -> None:
    pytest.importorskip("fastmcp")
    from fastmcp import Client as FastMCPClient
    from fastmcp import FastMCP
    from fastmcp.server.dependencies import get_access_token as fastmcp_token

    auth = McpServerAuth(resource="http://127.0.0.1:9/mcp", authorization_servers=["http://127.0.0.1:9"], operation_scopes=OPERATION_SCOPES)
    ran: collections.Counter = collections.Counter()
    server = FastMCP("files", middleware=[auth.fastmcp_middleware()])
    register(server, ran, fastmcp_token)

    async def work() -> Any:
        async with FastMCPClient(server) as client:
            names = sorted(t.name for t in await client.list_tools())
            with pytest.raises(MCPError) as e:
                await client.call_tool_mcp("write_file", {"path": "a", "text": "x"})
            return names, e.value

    names, error = asyncio.run(work())
    assert names == ["whoami"]  # no token, no scopes: only what needs none
    assert error.code == REFUSED and error.data["status"] == 403
    assert ran["write_file"] == 0


# ----- the agent side -----


def test_mcp_client_needs_an_issuer_and_plugs_into_httpx2_and_httpx() -> None:
    with pytest.raises(authsec.ConfigError, match="issuer"):
        McpClient("http://127.0.0.1:9/mcp", client_id="a", client_secret="s")
    agent = McpClient("http://127.0.0.1:9/mcp", issuer="http://127.0.0.1:9", client_id="a", client_secret="s")
    auth = agent.auth()
    assert isinstance(auth, McpAuth)
    assert isinstance(auth, httpx2.Auth) and isinstance(auth, httpx.Auth)
    assert agent.server_url == "http://127.0.0.1:9/mcp" and agent.resource is None and agent.scopes == []
    with pytest.raises(TypeError, match="async"):
        httpx.Client(auth=auth).get("http://127.0.0.1:9/mcp")


def test_httpx_async_client_drives_the_loop_too(w: World) -> None:
    # mcp 1.x's transport is an httpx.AsyncClient: the same auth works there.
    agent = w.agent()

    async def work() -> Any:
        async with httpx.AsyncClient(auth=agent.auth(), timeout=30) as http:
            return await http.post(w.url, json=INIT, headers=ACCEPT)

    r = asyncio.run(work())
    assert r.status_code == 200, r.text
    assert [h.status_code for h in r.history] == [401]
    assert agent.resource == w.url


def test_issuer_policy_first_in_metadata_pins_the_servers_first_issuer(w: World) -> None:
    # No issuer configured: the one the MCP server's metadata names is used, and only it.
    agent = McpClient(
        w.url, client_id="agent", client_secret=w.secret["agent"], scopes=["mcp", "files:read"],
        issuer_policy="first_in_metadata",
    )

    async def work() -> Any:
        async with httpx2.AsyncClient(auth=agent.auth(), timeout=30) as http:
            return await http.post(w.url, json=INIT, headers=ACCEPT)

    r = asyncio.run(work())
    assert r.status_code == 200, r.text
    assert agent.resource == w.url
    with pytest.raises(authsec.ConfigError, match="issuer_policy"):
        McpClient(w.url, client_id="a", client_secret="s", issuer_policy="tofu")  # type: ignore[arg-type]


def test_credentials_never_go_to_another_authorization_server(w: World) -> None:
    # An agent whose credentials belong to another issuer: the server names only its own, so no
    # token is requested anywhere and the 401 goes to the caller.
    others = [{"client_id": "agent", "client_secret": "s", "allowed_scopes": SCOPES, "audiences": [w.url]}]
    with LocalAuthServer(clients=others) as elsewhere:
        agent = McpClient(w.url, issuer=elsewhere.issuer, client_id="agent", client_secret="s")

        async def work() -> Any:
            async with httpx2.AsyncClient(auth=agent.auth(), timeout=30) as http:
                return await http.post(w.url, json=PING, headers=ACCEPT)

        with pytest.raises(authsec.AuthsecError, match="not .*issuer this client's credentials belong to"):
            asyncio.run(work())
        assert [e for e in elsewhere.audit_events() if e.get("event") == "token"] == []


# ----- options -----


def test_options_are_the_cores() -> None:
    auth = McpServerAuth(resource="HTTPS://Files.Example.com/mcp", authorization_servers=["https://as.example.com"],
                         required_scopes="mcp", verifier={"audience_match": "trailing_slash"})
    assert auth.resource == "https://files.example.com/mcp"
    assert auth.required_scopes == ["mcp"]
    assert auth.verifier.audience == ["https://files.example.com/mcp"]
    assert auth.verifier.issuer == "https://as.example.com"
    assert repr(auth) == "McpServerAuth(resource='https://files.example.com/mcp', authorization_servers=['https://as.example.com'])"
    with pytest.raises(authsec.ConfigError, match="cannot be skipped"):
        McpServerAuth(resource="https://f.example.com/mcp", authorization_servers=["https://as.example.com"],
                      verifier={"skip_audience_check": True})
    with pytest.raises(authsec.ConfigError, match="audience_match"):
        McpServerAuth(resource="https://f.example.com/mcp", authorization_servers=["https://as.example.com"],
                      verifier={"audience_match": "loose"})
    # An allowed_actors callable stays the caller's (the core reads a list of ids).
    seen: List[str] = []
    checked = McpServerAuth(resource="https://f.example.com/mcp", authorization_servers=["https://as.example.com"],
                            verifier={"allowed_actors": lambda actor: seen.append(actor.id) or False})
    assert checked.verifier._allowed_actors is not None


def test_resource_metadata_in_the_other_challenges(authsec_server: LocalAuthServer) -> None:
    from fastapi import Depends, FastAPI
    from fastapi.testclient import TestClient

    from authsec.fastapi import RequireToken

    prm = "https://api.example.test/.well-known/oauth-protected-resource"
    app = FastAPI()

    @app.get("/data")
    async def data(claims: authsec.Claims = Depends(RequireToken(authsec_server.verifier(), scopes="read:data", resource_metadata=prm))) -> Dict[str, Any]:
        return {"sub": claims.subject}

    with TestClient(app) as http:
        r = http.get("/data")
        assert r.status_code == 401
        # Since DPoP (issue 16), a challenge per scheme, each naming the metadata.
        challenges = r.headers.get_list("www-authenticate")
        assert challenges[0] == f'Bearer scope="read:data", resource_metadata="{prm}"'
        assert challenges[1].startswith("DPoP algs=") and challenges[1].endswith(f'resource_metadata="{prm}"')
        r = http.get("/data", headers={"Authorization": "Bearer nope"})
        assert r.headers.get_list("www-authenticate")[0].endswith(f'scope="read:data", resource_metadata="{prm}"')
    e = authsec.InsufficientScopeError("x", code="insufficient_scope", missing_scopes=["b"])
    assert e.challenge(None, ["a"], prm) == (
        403, "insufficient_scope", f'Bearer error="insufficient_scope", error_description="x", scope="a b", resource_metadata="{prm}"'
    )
