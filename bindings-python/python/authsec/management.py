"""The Management SDK: register and manage clients, scopes and roles, rotate client secrets and
read the audit log of an authsec server, through its management API (``{base_url}/admin``)::

    m = authsec.Management(base_url="https://auth.example.com", client_id="ops", client_secret=secret)
    agent = m.clients.create(type="ai_agent", name="Research agent", allowed_scopes=["search:read"],
                             rate_limits={"requests_per_minute": 60})
    agent.client_id, agent.client_secret          # the secret: only here, only once
    new = m.clients.rotate_secret(agent.client_id)   # the old secret keeps working for a day
    for event in m.logs.list(client_id=agent.client_id, outcome="failure"):
        print(event.time, event.event, event.extra.get("error"))

Every call goes through the Rust core (``authsec._native.Management.call``): it checks the
arguments (an unknown or ill-typed one is a ``ConfigError`` naming it), gets and caches a token for
the management API, retries once with a fresh token after a 401, honours ``Retry-After`` and maps
the server's errors (``ManagementError``: ``not_found``, ``conflict``, ``invalid_client_metadata``,
``access_denied``; ``InsufficientScopeError``; ``RateLimitedError``; ...). This module converts
types: keyword arguments to the core's, answers to frozen dataclasses, pages to lazy iterators.
``AsyncManagement`` is the same API for asyncio: coroutines, and ``async for`` over lists.
"""

from __future__ import annotations

import datetime
from typing import (
    Any,
    AsyncIterator,
    Awaitable,
    Callable,
    Dict,
    Iterator,
    Mapping,
    Optional,
    Sequence,
    Tuple,
    TypeVar,
    Union,
)

from . import _native
from .management_results import (
    AuditEvent,
    ClientSecretInfo,
    ManagedClient,
    NewSecret,
    Role,
    Scope,
    SigningKeyInfo,
    _secrets,
)

__all__ = [
    "Management",
    "AsyncManagement",
    "ManagedClient",
    "ClientSecretInfo",
    "NewSecret",
    "Scope",
    "Role",
    "AuditEvent",
    "SigningKeyInfo",
]

_T = TypeVar("_T")
_Time = Union[datetime.datetime, int, float, str]
_Strings = Union[str, Sequence[str]]
_Seconds = Union[int, datetime.timedelta]

# ----- argument conversion (types only: the core checks the values) -----


def _args(**given: Any) -> Dict[str, Any]:
    """The arguments that were given (``None`` means absent)."""
    return {k: v for k, v in given.items() if v is not None}


def _seconds(value: Optional[_Seconds]) -> Optional[int]:
    if isinstance(value, datetime.timedelta):
        return int(value.total_seconds())
    return value


def _time(value: Optional[_Time]) -> Optional[Union[int, float, str]]:
    """A ``datetime`` as Unix seconds (a naive one is local time, as ``datetime.timestamp()``)."""
    if isinstance(value, datetime.datetime):
        return value.timestamp()
    return value


def _list_args(
    page_size: Optional[int], cursor: Optional[str], args: Dict[str, Any]
) -> Dict[str, Any]:
    return {**args, **_args(limit=page_size, cursor=cursor)}


def _pages(
    call: Callable[[str, Dict[str, Any]], Any], operation: str, args: Dict[str, Any],
    page_size: Optional[int], wrap: Callable[[Any], _T],
) -> Iterator[_T]:
    cursor: Optional[str] = None
    while True:
        page = call(operation, _list_args(page_size, cursor, args))
        for item in page["items"]:
            yield wrap(item)
        cursor = page.get("next_cursor")
        if not cursor:
            return


async def _apages(
    call: Callable[[str, Dict[str, Any]], Awaitable[Any]], operation: str, args: Dict[str, Any],
    page_size: Optional[int], wrap: Callable[[Any], _T],
) -> AsyncIterator[_T]:
    cursor: Optional[str] = None
    while True:
        page = await call(operation, _list_args(page_size, cursor, args))
        for item in page["items"]:
            yield wrap(item)
        cursor = page.get("next_cursor")
        if not cursor:
            return


def _revoked(doc: Mapping[str, Any]) -> Tuple[ClientSecretInfo, ...]:
    return _secrets(doc.get("secrets") or ())


def _log_args(
    client_id: Optional[str], event: Optional[_Strings], outcome: Optional[str],
    since: Optional[_Time], until: Optional[_Time],
) -> Dict[str, Any]:
    events = list(event) if event is not None and not isinstance(event, str) else event
    return _args(client_id=client_id, event=events, outcome=outcome, since=_time(since), until=_time(until))


# ----- the synchronous API -----


class _Resource:
    __slots__ = ("_call",)

    def __init__(self, call: Callable[[str, Dict[str, Any]], Any]) -> None:
        self._call = call


class Clients(_Resource):
    """``management.clients``: the server's clients and their secrets (``clients:read`` /
    ``clients:write``)."""

    __slots__ = ()

    def create(self, **fields: Any) -> ManagedClient:
        """Register a client. ``fields``: ``client_id`` (else generated), ``type`` (``m2m``,
        ``ai_agent``, ``mcp_server``, ``web``, ``mobile``), ``name``, ``description``,
        ``allowed_scopes``, ``default_scopes``, ``roles``, ``audiences``, ``grant_types``,
        ``token_endpoint_auth_method``, ``client_secret`` (else generated when the client needs
        one), ``token_lifetime``, ``jwks`` / ``jwks_uri``, ``callbacks``, ``web_origins``,
        ``logo``, ``website``, ``rate_limits`` (``ai_agent``), ``rate_limit``, ``resource``
        (``mcp_server``), ``may_act``, ... A field the server refuses raises ``ManagementError``
        ``invalid_client_metadata`` naming it. The answer's ``client_secret`` is the only time the
        generated secret is shown."""
        return ManagedClient._from(self._call("clients.create", fields))

    def get(self, client_id: str) -> ManagedClient:
        """The client (``not_found`` when there is none)."""
        return ManagedClient._from(self._call("clients.get", {"client_id": client_id}))

    def list(self, type: Optional[str] = None, page_size: Optional[int] = None) -> Iterator[ManagedClient]:
        """Every client (of ``type``), ordered by ``client_id``: a lazy iterator that fetches
        ``page_size`` (1 to 200; server default 50) at a time."""
        return _pages(self._call, "clients.list", _args(type=type), page_size, ManagedClient._from)

    def update(self, client_id: str, **changes: Any) -> ManagedClient:
        """Change the fields given (``client_id``, ``type`` and ``client_secret`` cannot change);
        the client as it is now."""
        return ManagedClient._from(self._call("clients.update", {**changes, "client_id": client_id}))

    def delete(self, client_id: str) -> None:
        """Delete the client (its tokens stop being issued; issued ones live until they expire)."""
        self._call("clients.delete", {"client_id": client_id})

    def rotate_secret(self, client_id: str, overlap: Optional[_Seconds] = None) -> NewSecret:
        """A new secret; the old ones keep working for ``overlap`` (seconds or a ``timedelta``;
        default one day, 0 = they stop now, at most 30 days)."""
        args = _args(client_id=client_id, overlap=_seconds(overlap))
        return NewSecret._from(self._call("clients.rotate_secret", args))

    def revoke_secret(self, client_id: str, secret_id: Optional[str] = None) -> Tuple[ClientSecretInfo, ...]:
        """Revoke one secret now (``secret_id``), or every secret but the newest (none given); the
        client's secrets left. Revoking the last one is a ``conflict`` (rotate first)."""
        return _revoked(self._call("clients.revoke_secret", _args(client_id=client_id, secret_id=secret_id)))


class Scopes(_Resource):
    """``management.scopes``: the scope registry (``scopes:read`` / ``scopes:write``)."""

    __slots__ = ()

    def create(self, name: str, description: Optional[str] = None) -> Scope:
        """Register (describe) a scope; ``conflict`` if it exists."""
        return Scope._from(self._call("scopes.create", _args(name=name, description=description)))

    def list(self, page_size: Optional[int] = None) -> Iterator[Scope]:
        """Every registered scope, by name: a lazy iterator."""
        return _pages(self._call, "scopes.list", {}, page_size, Scope._from)

    def delete(self, name: str) -> None:
        """Remove a scope from the registry; ``conflict`` (naming them) while clients or roles use it."""
        self._call("scopes.delete", {"name": name})


class Roles(_Resource):
    """``management.roles`` (``roles:read`` / ``roles:write``)."""

    __slots__ = ()

    def create(self, name: str, scopes: Optional[_Strings] = None, audiences: Optional[_Strings] = None) -> Role:
        """A new role."""
        return Role._from(self._call("roles.create", _args(name=name, scopes=scopes, audiences=audiences)))

    def get(self, name: str) -> Role:
        return Role._from(self._call("roles.get", {"name": name}))

    def list(self) -> Iterator[Role]:
        """Every role."""
        return _pages(self._call, "roles.list", {}, None, Role._from)

    def update(self, name: str, scopes: Optional[_Strings] = None, audiences: Optional[_Strings] = None) -> Role:
        """Replace the role's ``scopes`` and/or ``audiences`` (what is not given is kept)."""
        return Role._from(self._call("roles.update", _args(name=name, scopes=scopes, audiences=audiences)))

    def delete(self, name: str) -> None:
        self._call("roles.delete", {"name": name})


class Logs(_Resource):
    """``management.logs``: the audit log (``logs:read``)."""

    __slots__ = ()

    def list(
        self,
        client_id: Optional[str] = None,
        event: Optional[_Strings] = None,
        outcome: Optional[str] = None,
        since: Optional[_Time] = None,
        until: Optional[_Time] = None,
        page_size: Optional[int] = None,
    ) -> Iterator[AuditEvent]:
        """Events, newest first: of ``client_id``, of ``event`` (a name or a list), with
        ``outcome`` (``success`` or ``failure``), from ``since`` to ``until`` (a ``datetime``, Unix
        seconds or an RFC 3339 string). A lazy iterator."""
        args = _log_args(client_id, event, outcome, since, until)
        return _pages(self._call, "logs.list", args, page_size, AuditEvent._from)


class Keys(_Resource):
    """``management.keys``: the server's signing keys (``keys:read`` / ``keys:write``)."""

    __slots__ = ()

    def list(self) -> Iterator[SigningKeyInfo]:
        return _pages(self._call, "keys.list", {}, None, SigningKeyInfo._from)

    def rotate(self, alg: Optional[str] = None, activate_in: Optional[_Seconds] = None) -> SigningKeyInfo:
        """A new signing key, used from ``activate_in`` seconds on (published at once)."""
        args = _args(alg=alg, activate_in=_seconds(activate_in))
        return SigningKeyInfo._from(self._call("keys.rotate", args))


class Management:
    """A client of an authsec server's management API. Safe to share across threads.

    Where: ``base_url`` (``https://auth.example.com``) or ``domain`` (``auth.example.com``).
    Who: a management client's ``client_id`` with ``client_secret`` (or ``client_secret_file``,
    read again when the server refuses it, or ``private_key`` / ``private_key_file`` with
    ``private_key_alg``, ``key_id``); or ``admin_token`` (``admin_token_file``), the server's
    bootstrap token, accepted only until the first management client exists. ``scopes``: the
    management scopes to ask for (default: every one the client holds); ``token_url`` (default
    ``{base_url}/oauth/token``), ``timeout`` (seconds or a ``timedelta``), ``allow_insecure_http``
    (loopback http is always allowed), ``max_attempts``.

    ``.clients``, ``.scopes``, ``.roles``, ``.logs``, ``.keys``: the operations; ``list`` methods
    return lazy iterators over every page.
    """

    __slots__ = ("_native", "_client_id", "clients", "scopes", "roles", "logs", "keys")
    _is_async = False
    clients: Clients
    scopes: Scopes
    roles: Roles
    logs: Logs
    keys: Keys

    def __init__(
        self,
        *,
        base_url: Optional[str] = None,
        domain: Optional[str] = None,
        client_id: Optional[str] = None,
        client_secret: Optional[str] = None,
        client_secret_file: Optional[str] = None,
        private_key: Union[str, Dict[str, Any], None] = None,
        private_key_file: Optional[str] = None,
        private_key_alg: Optional[str] = None,
        key_id: Optional[str] = None,
        admin_token: Optional[str] = None,
        admin_token_file: Optional[str] = None,
        scopes: Optional[_Strings] = None,
        token_url: Optional[str] = None,
        timeout: Union[float, datetime.timedelta, str, None] = None,
        allow_insecure_http: Optional[bool] = None,
        max_attempts: Optional[int] = None,
    ) -> None:
        settings = {k: v for k, v in locals().items() if k != "self" and v is not None}
        self._native = _native.Management(**settings)
        self._client_id = client_id
        self._bind(self._native.call_async if self._is_async else self._native.call)

    def _bind(self, call: Callable[[str, Dict[str, Any]], Any]) -> None:
        self.clients, self.scopes, self.roles = Clients(call), Scopes(call), Roles(call)
        self.logs, self.keys = Logs(call), Keys(call)

    @property
    def admin_url(self) -> str:
        """The management API's URL, ``{base_url}/admin``."""
        return self._native.admin_url

    @staticmethod
    def operations() -> "list[str]":
        """The core's operation names (``clients.create``, ...), each wrapped by a method here."""
        return _native.Management.operations()

    def __repr__(self) -> str:
        who = f"client_id={self._client_id!r}" if self._client_id else "admin_token='***'"
        return f"{type(self).__name__}({self.admin_url!r}, {who})"


# ----- asyncio -----


class AsyncClients(_Resource):
    """``AsyncManagement.clients``: ``Clients`` for asyncio."""

    __slots__ = ()

    async def create(self, **fields: Any) -> ManagedClient:
        """See ``Clients.create``."""
        return ManagedClient._from(await self._call("clients.create", fields))

    async def get(self, client_id: str) -> ManagedClient:
        return ManagedClient._from(await self._call("clients.get", {"client_id": client_id}))

    def list(self, type: Optional[str] = None, page_size: Optional[int] = None) -> AsyncIterator[ManagedClient]:
        """``async for client in management.clients.list(): ...``"""
        return _apages(self._call, "clients.list", _args(type=type), page_size, ManagedClient._from)

    async def update(self, client_id: str, **changes: Any) -> ManagedClient:
        return ManagedClient._from(await self._call("clients.update", {**changes, "client_id": client_id}))

    async def delete(self, client_id: str) -> None:
        await self._call("clients.delete", {"client_id": client_id})

    async def rotate_secret(self, client_id: str, overlap: Optional[_Seconds] = None) -> NewSecret:
        args = _args(client_id=client_id, overlap=_seconds(overlap))
        return NewSecret._from(await self._call("clients.rotate_secret", args))

    async def revoke_secret(self, client_id: str, secret_id: Optional[str] = None) -> Tuple[ClientSecretInfo, ...]:
        args = _args(client_id=client_id, secret_id=secret_id)
        return _revoked(await self._call("clients.revoke_secret", args))


class AsyncScopes(_Resource):
    __slots__ = ()

    async def create(self, name: str, description: Optional[str] = None) -> Scope:
        return Scope._from(await self._call("scopes.create", _args(name=name, description=description)))

    def list(self, page_size: Optional[int] = None) -> AsyncIterator[Scope]:
        return _apages(self._call, "scopes.list", {}, page_size, Scope._from)

    async def delete(self, name: str) -> None:
        await self._call("scopes.delete", {"name": name})


class AsyncRoles(_Resource):
    __slots__ = ()

    async def create(self, name: str, scopes: Optional[_Strings] = None, audiences: Optional[_Strings] = None) -> Role:
        return Role._from(await self._call("roles.create", _args(name=name, scopes=scopes, audiences=audiences)))

    async def get(self, name: str) -> Role:
        return Role._from(await self._call("roles.get", {"name": name}))

    def list(self) -> AsyncIterator[Role]:
        return _apages(self._call, "roles.list", {}, None, Role._from)

    async def update(self, name: str, scopes: Optional[_Strings] = None, audiences: Optional[_Strings] = None) -> Role:
        return Role._from(await self._call("roles.update", _args(name=name, scopes=scopes, audiences=audiences)))

    async def delete(self, name: str) -> None:
        await self._call("roles.delete", {"name": name})


class AsyncLogs(_Resource):
    __slots__ = ()

    def list(
        self,
        client_id: Optional[str] = None,
        event: Optional[_Strings] = None,
        outcome: Optional[str] = None,
        since: Optional[_Time] = None,
        until: Optional[_Time] = None,
        page_size: Optional[int] = None,
    ) -> AsyncIterator[AuditEvent]:
        """See ``Logs.list``: ``async for event in management.logs.list(...): ...``"""
        args = _log_args(client_id, event, outcome, since, until)
        return _apages(self._call, "logs.list", args, page_size, AuditEvent._from)


class AsyncKeys(_Resource):
    __slots__ = ()

    def list(self) -> AsyncIterator[SigningKeyInfo]:
        return _apages(self._call, "keys.list", {}, None, SigningKeyInfo._from)

    async def rotate(self, alg: Optional[str] = None, activate_in: Optional[_Seconds] = None) -> SigningKeyInfo:
        args = _args(alg=alg, activate_in=_seconds(activate_in))
        return SigningKeyInfo._from(await self._call("keys.rotate", args))


class AsyncManagement(Management):
    """``Management`` for asyncio: the same settings; every method is a coroutine (the work runs
    on authsec's Rust runtime, never blocking the event loop) and ``list`` methods return async
    iterators (``async for``)."""

    __slots__ = ()
    _is_async = True
    clients: AsyncClients  # type: ignore[assignment]
    scopes: AsyncScopes  # type: ignore[assignment]
    roles: AsyncRoles  # type: ignore[assignment]
    logs: AsyncLogs  # type: ignore[assignment]
    keys: AsyncKeys  # type: ignore[assignment]

    def _bind(self, call: Callable[[str, Dict[str, Any]], Any]) -> None:
        self.clients, self.scopes, self.roles = AsyncClients(call), AsyncScopes(call), AsyncRoles(call)
        self.logs, self.keys = AsyncLogs(call), AsyncKeys(call)
