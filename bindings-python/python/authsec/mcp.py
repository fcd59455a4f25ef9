"""MCP authorization (the Model Context Protocol's 2025-06-18 and later revisions) for the official
Python SDKs: an MCP server as an OAuth protected resource, and an agent that calls one.

Server (``mcp`` 2.x; ``fastmcp`` below)::

    from mcp.server.mcpserver import MCPServer
    from authsec.mcp import McpServerAuth

    auth = McpServerAuth(
        resource="https://files.example.com/mcp",           # this server's URL: the tokens' audience
        authorization_servers=["https://auth.example.com"],
        required_scopes=["mcp"],                             # every request
        operation_scopes={"tools/call:write_file": "files:write"},
    )
    server = MCPServer("files", middleware=[auth.server_middleware()])   # lists cut to the token
    app = auth.asgi(server.streamable_http_app())                        # serve with uvicorn

``auth.asgi(app)`` serves the RFC 9728 metadata at both well-known paths, answers a request
without a token, with a refused token, or for a tool the token lacks the scopes of with the
core's 401 / 403 / 400 and ``WWW-Authenticate`` challenge before the SDK runs (it reads the
JSON-RPC body, then hands it on unchanged), and gives the SDK an ``AccessToken`` (client id,
scopes, expiry, resource, subject, every claim with the ``act`` delegation chain):
``get_access_token()`` works in tools. Every decision is the Rust core's.

``fastmcp``::

    server = FastMCP("files", auth=auth.fastmcp_auth(), middleware=[auth.fastmcp_middleware()])

For authors who keep the SDK's own bearer gate: ``MCPServer(token_verifier=auth.token_verifier(),
auth=auth.auth_settings(), middleware=[auth.server_middleware()])`` (the SDK's challenges, which
lack ``scope``; per-tool refusals are then JSON-RPC errors, code ``REFUSED``).

Agent (machine to machine, with client credentials)::

    import httpx2
    from mcp import Client
    from mcp.client.streamable_http import streamable_http_client
    from authsec.mcp import McpClient

    agent = McpClient("https://files.example.com/mcp", issuer="https://auth.example.com",
                      client_id="agent", client_secret=secret)
    async with httpx2.AsyncClient(auth=agent.auth()) as http:
        async with Client(streamable_http_client(agent.server_url, http_client=http)) as mcp:
            await mcp.call_tool("read_file", {"path": "a.txt"})

On a 401 it reads ``resource_metadata`` from the challenge, fetches the metadata, checks that the
server names the agent's ``issuer``, gets a token for the server's ``resource`` and resends; on a
403 ``insufficient_scope`` it asks once for the scopes the challenge names and resends.

The SDKs are imported when used: ``authsec`` itself needs none of them.
"""

from __future__ import annotations

import contextlib
import functools
import json
from typing import TYPE_CHECKING, Any, AsyncGenerator, Awaitable, Callable, Dict, Generator, List, Literal, Optional, Tuple

from . import _native
from .errors import AuthsecError
from .verifier import Verifier

if TYPE_CHECKING:
    from typing_extensions import Unpack

    from ._native import Claims, ManualClock
    from .options import ClientOptions, McpServerOptions

__all__ = ["McpServerAuth", "McpAuthMiddleware", "McpClient", "McpAuth", "REFUSED"]

REFUSED = -32010
"""The JSON-RPC error code of an operation refused inside the SDK (``server_middleware()``,
``fastmcp_middleware()``): in the implementation-defined range and used by none of the SDKs."""

_Reply = Tuple[int, List[Tuple[str, str]], str]
_Scope = Dict[str, Any]
_Receive = Callable[[], Awaitable[Dict[str, Any]]]
_Send = Callable[[Dict[str, Any]], Awaitable[None]]


class McpServerAuth(_native.McpServerAuth):
    """An MCP server as an OAuth protected resource. Options (the core reads them):

    - ``resource``: the server's URL as clients reach it (``https://host/mcp``); tokens must be
      issued for it (their ``aud``). Required.
    - ``authorization_servers``: issuer URLs (at least one).
    - ``metadata``: more RFC 9728 fields (``scopes_supported``, ``resource_name``, ...).
    - ``verifier``: ``authsec.Verifier`` options; ``issuer`` defaults to the sole authorization
      server, ``audience`` to ``resource`` (``audience_match``: ``exact``, ``trailing_slash``,
      ``path_prefix``), the keys to the issuer's discovered ``jwks_uri``.
    - ``required_scopes``: scopes every request needs; ``operation_scopes``: per-operation
      scopes, ``{"tools/call:write_file": "files:write", "tools/call:read_*": ["files:read"],
      "resources/read:file:///private/*": "private", "prompts/get:review": "review"}``.
    - ``filter_lists`` (default True): cut ``tools/list``, ``prompts/list`` and
      ``resources/list`` to what the token may use.
    - ``realm``, ``allow_insecure_http`` (plain http to hosts other than this machine).

    ``verifier`` is the ``authsec.Verifier`` built from them. ``_clock`` takes an
    ``authsec.testing.ManualClock`` (tests).
    """

    __slots__ = ("verifier", "_config")

    verifier: Verifier
    """The verifier of this server's tokens (issuer, audience = ``resource``, keys)."""
    _config: Dict[str, Any]

    def __new__(cls, *, _clock: Optional[ManualClock] = None, **options: Unpack[McpServerOptions]) -> McpServerAuth:
        given: Dict[str, Any] = dict(options)
        verifier_options = dict(given.get("verifier") or {})
        actors = verifier_options.get("allowed_actors")
        if callable(actors):  # the caller's own check: kept out of the core's options, as Verifier does
            del verifier_options["allowed_actors"]
            given["verifier"] = verifier_options
        self = super().__new__(cls, **given)
        self._config = self._settings
        built = dict(self._config["verifier"])
        if callable(actors):
            built["allowed_actors"] = actors
        self.verifier = Verifier(_clock=_clock, **built)
        return self

    @property
    def resource(self) -> str:
        """The canonical resource URL (the tokens' audience)."""
        return self._config["resource"]

    @property
    def metadata_url(self) -> str:
        """The URL of the RFC 9728 metadata (``resource_metadata`` in challenges)."""
        return self._config["metadata_url"]

    @property
    def well_known_paths(self) -> List[str]:
        """The paths the metadata is served at: the path-aware one, then the root one."""
        return self._config["well_known_paths"]

    @property
    def authorization_servers(self) -> List[str]:
        return self._config["authorization_servers"]

    @property
    def required_scopes(self) -> List[str]:
        """The scopes every request needs."""
        return self._config["required_scopes"]

    @property
    def metadata(self) -> Dict[str, Any]:
        """The RFC 9728 metadata document."""
        return json.loads(self._config["metadata"])

    def __repr__(self) -> str:
        return f"McpServerAuth(resource={self.resource!r}, authorization_servers={self.authorization_servers!r})"

    # ----- the SDK's token type -----

    def access_token(self, token: str, claims: Claims, cls: Any = None) -> Any:
        """The SDK's ``AccessToken`` (``mcp.server.auth.provider.AccessToken``, or ``cls``) for a
        verified token: client id (``client_id``, else ``sub``), scopes, expiry, this resource,
        subject, and every claim (``act`` included)."""
        if cls is None:
            from mcp.server.auth.provider import AccessToken as cls
        return cls(
            token=token,
            client_id=claims.client_id or claims.subject or "",
            scopes=list(claims.scopes),
            expires_at=claims.expires_at,
            resource=self.resource,
            subject=claims.subject,
            claims=claims.to_dict(),
        )

    async def _verify(self, token: str) -> Tuple[Optional[Claims], Any]:
        """The verifier's answer: ``(claims, scopes)``, or ``(None, the AuthsecError)``."""
        try:
            claims = await self.verifier.verify_async(token)
        except AuthsecError as e:
            return None, e
        return claims, claims.scopes

    async def _token_or_none(self, token: str, cls: Any, unavailable: Any) -> Any:
        """A verifier adapter's answer: the SDK's token, ``None`` for a refused token (401), and
        ``unavailable`` raised when it cannot be verified now (5xx)."""
        claims, verified = await self._verify(token)
        if claims is not None:
            return self.access_token(token, claims, cls)
        if verified.http_status < 500:
            return None
        raise unavailable(str(verified)) from verified

    # ----- mcp -----

    def asgi(self, app: Any) -> McpAuthMiddleware:
        """``app`` (the SDK's Starlette app) behind this server's authorization."""
        return McpAuthMiddleware(app, self)

    def token_verifier(self) -> Any:
        """An ``mcp`` ``TokenVerifier`` (``verify_token(token) -> AccessToken | None``) for
        ``MCPServer(token_verifier=...)``; keys unavailable raise ``authsec.UnavailableError``."""
        return _TokenVerifier(self)

    def auth_settings(self, **settings: Any) -> Any:
        """``mcp``'s ``AuthSettings`` for this resource (more fields as keyword arguments)."""
        from mcp.server.auth.settings import AuthSettings

        values: Dict[str, Any] = {
            "issuer_url": self.authorization_servers[0],
            "resource_server_url": self.resource,
            "required_scopes": self.required_scopes or None,
            "validate_token_resource": True,
        }
        values.update(settings)
        return AuthSettings(**values)

    def server_middleware(self) -> Callable[[Any, Any], Awaitable[Any]]:
        """An ``mcp`` 2.x ``ServerMiddleware`` (``MCPServer(middleware=[...])``): refuses an
        operation the token lacks the scopes of (JSON-RPC error ``REFUSED``; the HTTP layer of
        ``asgi()`` has answered 403 before) and cuts ``tools/list``, ``prompts/list`` and
        ``resources/list`` to what the token may use. No token (stdio): no scopes."""
        auth = self

        async def authsec_mcp(ctx: Any, call_next: Callable[[Any], Awaitable[Any]]) -> Any:
            from mcp.server.auth.middleware.auth_context import get_access_token

            token = get_access_token()
            granted = list(token.scopes) if token is not None else []
            if ctx.request_id is not None:
                auth._check(ctx.method, ctx.params, granted)
            result = await call_next(ctx)
            if ctx.method in _LISTS and result is not None:
                if not isinstance(result, dict):
                    result = result.model_dump(by_alias=True, mode="json", exclude_none=True)
                result, _ = auth.filter_list(ctx.method, result, granted)
            return result

        return authsec_mcp

    def _check(self, method: str, params: Any, granted: List[str]) -> None:
        """The core's decision on one JSON-RPC request inside the SDK; a refusal raises the SDK's
        ``MCPError`` (code ``REFUSED``)."""
        body = {"jsonrpc": "2.0", "id": 0, "method": method, "params": dict(params or {})}
        _, refusal = self.decide(granted, json.dumps(body).encode())
        if refusal is not None:
            from mcp.shared.exceptions import MCPError

            status, headers, text = refusal
            doc = json.loads(text)
            challenge = dict(headers).get("www-authenticate")
            message = f"{doc.get('error', 'refused')}: {doc.get('error_description', '')}"
            raise MCPError(REFUSED, message, {"status": status, "www_authenticate": challenge})

    # ----- fastmcp -----

    def fastmcp_auth(self) -> Any:
        """A ``fastmcp`` auth provider (``FastMCP(auth=...)``): its HTTP middleware is ``asgi()``'s
        (metadata, the core's challenges, per-tool 403), and ``get_access_token()`` gives
        fastmcp's ``AccessToken``."""
        return _fastmcp_classes()[0](self)

    def fastmcp_middleware(self) -> Any:
        """A ``fastmcp`` ``Middleware`` (``FastMCP(middleware=[...])``): refuses an operation the
        token lacks the scopes of (JSON-RPC error ``REFUSED``) and cuts the tool, prompt and
        resource lists to what the token may use."""
        return _fastmcp_classes()[1](self)


_LISTS = ("tools/list", "prompts/list", "resources/list")
"""The list methods (only their results are handed to the core's ``filter_list``)."""


class _TokenVerifier:
    """``mcp``'s ``TokenVerifier`` protocol over ``McpServerAuth``'s verifier."""

    def __init__(self, auth: McpServerAuth) -> None:
        self.auth = auth

    async def verify_token(self, token: str) -> Any:
        from .errors import UnavailableError

        return await self.auth._token_or_none(token, None, UnavailableError)


class McpAuthMiddleware:
    """ASGI middleware: an MCP server app behind ``McpServerAuth`` (see ``McpServerAuth.asgi``).
    Also ``starlette.middleware.Middleware(McpAuthMiddleware, auth=auth)``. It protects every
    path of the app it wraps (serve other routes beside it). ``access_token``: the SDK's token
    class (``mcp``'s ``AccessToken`` by default)."""

    def __init__(self, app: Any, auth: McpServerAuth, access_token: Any = None) -> None:
        self.app = app
        self.auth = auth
        self.access_token = access_token

    async def __call__(self, scope: _Scope, receive: _Receive, send: _Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        authorization = next((v.decode("latin-1") for k, v in scope["headers"] if k == b"authorization"), None)
        token, reply = self.auth.begin(scope["method"], scope["path"], authorization)
        if token is None:
            await _respond(send, reply)  # type: ignore[arg-type]
            return
        body, complete = await _read_body(receive)
        if not complete:
            return  # the client went away
        claims, verified = await self.auth._verify(token)
        operations, reply = self.auth.decide(verified, body)
        if reply is not None or claims is None:
            await _respond(send, reply)  # type: ignore[arg-type]
            return
        scope = dict(scope, **{"authsec.claims": claims, "authsec.operations": operations})
        with _authenticated(scope, self.auth.access_token(token, claims, self.access_token)):
            await self.app(scope, _replay(body, receive), send)


async def _respond(send: _Send, reply: _Reply) -> None:
    status, headers, body = reply
    data = body.encode()
    raw = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in headers]
    raw.append((b"content-length", str(len(data)).encode()))
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": data})


async def _read_body(receive: _Receive) -> Tuple[Optional[bytes], bool]:
    """The request body (``None`` when empty) and whether the request is still there. Reading
    stops past the core's limit: the core then refuses the body as too large."""
    chunks: List[bytes] = []
    size = 0
    while size <= _native.MCP_MAX_BODY_BYTES:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None, False
        chunk = message.get("body", b"")
        chunks.append(chunk)
        size += len(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks) or None, True


def _replay(body: Optional[bytes], receive: _Receive) -> _Receive:
    """``receive`` for the app: the body read, then what the server says next (a disconnect)."""
    pending = [{"type": "http.request", "body": body or b"", "more_body": False}]

    async def replay() -> Dict[str, Any]:
        return pending.pop() if pending else await receive()

    return replay


@contextlib.contextmanager
def _authenticated(scope: _Scope, access_token: Any) -> Generator[None, None, None]:
    """The verified token where the SDKs look for it: ``scope["user"]`` / ``scope["auth"]``
    (Starlette's authentication, which ``mcp`` binds sessions to) and ``mcp``'s context variable
    (``get_access_token()``)."""
    from mcp.server.auth.middleware.auth_context import auth_context_var
    from mcp.server.auth.middleware.bearer_auth import AuthenticatedUser
    from starlette.authentication import AuthCredentials

    user = AuthenticatedUser(access_token)
    scope["user"], scope["auth"] = user, AuthCredentials(list(access_token.scopes))
    reset = auth_context_var.set(user)
    try:
        yield
    finally:
        auth_context_var.reset(reset)


@functools.lru_cache(maxsize=None)
def _fastmcp_classes() -> Tuple[Any, Any]:
    """fastmcp's auth provider and middleware, made when first asked for (fastmcp imported then)."""
    from fastmcp.server.auth import TokenVerifier
    from fastmcp.server.auth.auth import AccessToken, TokenVerificationError
    from fastmcp.server.dependencies import get_access_token
    from fastmcp.server.middleware import Middleware
    from starlette.middleware import Middleware as AsgiMiddleware

    class AuthsecAuth(TokenVerifier):  # type: ignore[misc]
        """authsec's MCP authorization as a fastmcp auth provider."""

        def __init__(self, auth: McpServerAuth) -> None:
            super().__init__()
            self.authsec = auth

        @property
        def scopes_supported(self) -> List[str]:
            return list(self.authsec.metadata.get("scopes_supported", []))

        async def verify_token(self, token: str) -> Any:
            return await self.authsec._token_or_none(token, AccessToken, TokenVerificationError)

        def get_middleware(self) -> List[Any]:
            return [AsgiMiddleware(McpAuthMiddleware, auth=self.authsec, access_token=AccessToken)]

    def granted() -> List[str]:
        token = get_access_token()
        return list(token.scopes) if token is not None else []

    class AuthsecMiddleware(Middleware):  # type: ignore[misc]
        """authsec's per-operation scopes and list filtering as fastmcp middleware."""

        def __init__(self, auth: McpServerAuth) -> None:
            self.authsec = auth

        async def _checked(self, context: Any, call_next: Any) -> Any:
            params = context.message.model_dump(by_alias=True, mode="json", exclude_none=True)
            self.authsec._check(context.method, params, granted())
            return await call_next(context)

        on_call_tool = on_read_resource = on_get_prompt = _checked

        async def _kept(self, context: Any, call_next: Any, operation: str, target: Callable[[Any], str]) -> Any:
            items = await call_next(context)
            scopes = granted()
            return [i for i in items if self.authsec.allows(operation, target(i), scopes)]

        async def on_list_tools(self, context: Any, call_next: Any) -> Any:
            return await self._kept(context, call_next, "tools/call", lambda t: t.name)

        async def on_list_prompts(self, context: Any, call_next: Any) -> Any:
            return await self._kept(context, call_next, "prompts/get", lambda p: p.name)

        async def on_list_resources(self, context: Any, call_next: Any) -> Any:
            return await self._kept(context, call_next, "resources/read", lambda r: str(r.uri))

    return AuthsecAuth, AuthsecMiddleware


# ----- the agent side -----


class McpClient(_native.McpClient):
    """An agent's access to one MCP server, machine to machine: discovery from the server's 401
    (RFC 9728 metadata, then the authorization server's), client-credentials tokens for the
    server's ``resource`` (cached and refreshed by the core), one step-up on a 403
    ``insufficient_scope``. ``issuer`` (the authorization server the credentials belong to) is
    required: credentials and tokens never go to another one; or, without it,
    ``issuer_policy="first_in_metadata"`` uses the first authorization server the MCP server's
    metadata names, pinned for the client's lifetime (trust on first use: the server's URL must
    be trusted). The other settings are ``ClientCredentials``' (``client_secret``,
    ``private_key``, ``scopes``, ``token_url``, ...).

    ``auth()`` plugs it into the SDKs' HTTP clients (``httpx2``, ``httpx``).
    """

    __slots__ = ()

    def __new__(
        cls,
        server_url: str,
        *,
        client_id: str,
        issuer_policy: Literal["configured", "first_in_metadata"] = "configured",
        _clock: Optional[ManualClock] = None,
        **options: Unpack[ClientOptions],
    ) -> McpClient:
        return super().__new__(
            cls, server_url, _clock=_clock, client_id=client_id, issuer_policy=issuer_policy, **options
        )

    def auth(self) -> McpAuth:
        """An auth for ``httpx2.AsyncClient(auth=...)`` (``mcp`` 2.x, ``fastmcp``) and
        ``httpx.AsyncClient(auth=...)`` (``mcp`` 1.x)."""
        return McpAuth(self)

    def __repr__(self) -> str:
        return f"McpClient(server_url={self.server_url!r}, resource={self.resource!r})"


def _auth_bases() -> Tuple[type, ...]:
    bases: List[type] = []
    for module in ("httpx2", "httpx"):
        try:
            bases.append(__import__(module).Auth)
        except ImportError:
            pass
    return tuple(bases) or (object,)


class McpAuth(*_auth_bases()):  # type: ignore[misc]
    """The ``McpClient`` loop as an ``httpx2`` / ``httpx`` auth (async clients): the header from
    ``authorization()``, then what ``on_response()`` says (resend at most as often as the core
    allows). The request body is buffered so it can be sent again."""

    requires_request_body = True
    requires_response_body = False

    def __init__(self, client: McpClient) -> None:
        self.client = client

    def __repr__(self) -> str:
        return f"McpAuth({self.client!r})"

    def sync_auth_flow(self, request: Any) -> Generator[Any, Any, None]:
        raise TypeError("authsec.mcp.McpAuth works with async clients (httpx2.AsyncClient, httpx.AsyncClient)")
        yield request  # a generator, as the clients expect

    def auth_flow(self, request: Any) -> Generator[Any, Any, None]:
        return self.sync_auth_flow(request)

    async def async_auth_flow(self, request: Any) -> AsyncGenerator[Any, Any]:
        await request.aread()
        attempt, retry = 0, True
        while retry:
            header = await self.client.authorization()
            if header is not None:
                request.headers["Authorization"] = header
            response = yield request
            sent = _native.bearer_token(header) if header is not None else None
            www_authenticate = response.headers.get("www-authenticate")
            retry, attempt = await self.client.on_response(response.status_code, www_authenticate, sent, attempt)
