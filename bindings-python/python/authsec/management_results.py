"""The Management SDK's typed results (``authsec.management``): frozen dataclasses built from the
management API's answers. Fields the server sends that a class does not name are kept in
``extra``; a client secret is readable by name and never in ``repr``.
"""

from __future__ import annotations

import dataclasses
import datetime
from typing import Any, Callable, Dict, Mapping, Optional, Sequence, Tuple, Type, TypeVar

from .errors import ServerError

__all__ = ["ManagedClient", "ClientSecretInfo", "NewSecret", "Scope", "Role", "AuditEvent", "SigningKeyInfo"]

_T = TypeVar("_T")


def _from_wire(cls: Type[_T], doc: Mapping[str, Any], **nested: Callable[[Any], Any]) -> _T:
    """``cls`` from a JSON object: its fields by name (lists as tuples, ``nested`` converted), every
    other member kept in ``extra``."""
    fields = dataclasses.fields(cls)  # type: ignore[arg-type]
    names = {f.name for f in fields} - {"extra"}
    known: Dict[str, Any] = {}
    extra: Dict[str, Any] = {}
    for key, value in doc.items():
        if key not in names:
            extra[key] = value
        elif key in nested and value is not None:
            known[key] = nested[key](value)
        else:
            known[key] = tuple(value) if isinstance(value, list) else value
    no_default = dataclasses.MISSING
    required = [f.name for f in fields if f.default is no_default and f.default_factory is no_default]
    missing = [name for name in required if name not in known]
    if missing:
        raise ServerError(
            f"the management API answered a {cls.__name__} without {', '.join(missing)}; "
            "is the server older than this SDK?",
            code="invalid_response",
        )
    return cls(**known, extra=extra)  # type: ignore[call-arg]


@dataclasses.dataclass(frozen=True)
class ClientSecretInfo:
    """One of a client's secrets, as the server shows it (never the secret or its hash)."""

    id: str
    """``sid_...``: what ``revoke_secret(client_id, secret_id)`` takes."""
    created_at: Optional[int] = None
    """Unix seconds."""
    expires_at: Optional[int] = None
    """Unix seconds; ``None``: until rotated away."""
    last_used_at: Optional[int] = None
    """Unix seconds of the last token request it authenticated; ``None``: never used."""
    extra: Dict[str, Any] = dataclasses.field(default_factory=dict, hash=False)
    """Fields this version of the SDK does not know, as the server sent them."""

    @classmethod
    def _from(cls, doc: Mapping[str, Any]) -> "ClientSecretInfo":
        return _from_wire(cls, doc)


def _secrets(items: Sequence[Mapping[str, Any]]) -> Tuple[ClientSecretInfo, ...]:
    return tuple(ClientSecretInfo._from(s) for s in items)


@dataclasses.dataclass(frozen=True)
class ManagedClient:
    """A client as the management API shows it: every field that is set, what the server derives
    (``auth_methods``, ``effective_scopes``, ``effective_audiences``), its ``secrets`` (metadata
    only), and, from ``clients.create`` only, the generated ``client_secret`` (never in ``repr``)."""

    client_id: str
    type: str = "m2m"
    """``m2m``, ``ai_agent``, ``mcp_server``, ``web`` or ``mobile``."""
    name: Optional[str] = None
    description: Optional[str] = None
    grant_types: Tuple[str, ...] = ()
    token_endpoint_auth_method: Optional[str] = None
    auth_methods: Tuple[str, ...] = ()
    allowed_scopes: Tuple[str, ...] = ()
    default_scopes: Tuple[str, ...] = ()
    roles: Tuple[str, ...] = ()
    audiences: Tuple[str, ...] = ()
    may_act: Tuple[str, ...] = ()
    effective_scopes: Tuple[str, ...] = ()
    effective_audiences: Tuple[str, ...] = ()
    token_lifetime: Optional[int] = None
    jwks: Optional[Dict[str, Any]] = dataclasses.field(default=None, hash=False)
    jwks_uri: Optional[str] = None
    callbacks: Tuple[str, ...] = ()
    web_origins: Tuple[str, ...] = ()
    logo: Optional[str] = None
    website: Optional[str] = None
    rate_limits: Optional[Dict[str, int]] = dataclasses.field(default=None, hash=False)
    """``ai_agent`` only: ``requests_per_minute``, ``tokens_per_day``."""
    rate_limit: Optional[int] = None
    resource: Optional[str] = None
    """``mcp_server`` only: its canonical resource URL."""
    dpop_bound_access_tokens: Optional[bool] = None
    tls_client_certificate_bound_access_tokens: Optional[bool] = None
    tls_client_certificate_sha256: Optional[str] = None
    spiffe_id: Optional[str] = None
    secrets: Tuple[ClientSecretInfo, ...] = ()
    created_at: Optional[int] = None
    updated_at: Optional[int] = None
    client_secret: Optional[str] = dataclasses.field(default=None, repr=False)
    """The secret the server generated: only in ``clients.create``'s answer, only that once."""
    secret_id: Optional[str] = None
    """The id of that secret (``clients.create`` only)."""
    extra: Dict[str, Any] = dataclasses.field(default_factory=dict, hash=False)
    """Fields this version of the SDK does not know (``tls_client_auth_*``, newer ones)."""

    @property
    def is_public(self) -> bool:
        """Whether the client authenticates with nothing (``token_endpoint_auth_method: none``)."""
        return self.token_endpoint_auth_method == "none"

    @classmethod
    def _from(cls, doc: Mapping[str, Any]) -> "ManagedClient":
        return _from_wire(cls, doc, secrets=_secrets)


@dataclasses.dataclass(frozen=True)
class NewSecret:
    """The answer to ``rotate_secret``: the new secret (shown this once; never in ``repr``), its
    id, when the old secrets stop working, and every secret of the client now."""

    client_id: str
    client_secret: str = dataclasses.field(repr=False)
    secret_id: str
    old_secrets_expire_at: int
    """Unix seconds (now, with ``overlap=0``)."""
    secrets: Tuple[ClientSecretInfo, ...] = ()
    extra: Dict[str, Any] = dataclasses.field(default_factory=dict, hash=False)

    @classmethod
    def _from(cls, doc: Mapping[str, Any]) -> "NewSecret":
        return _from_wire(cls, doc, secrets=_secrets)


@dataclasses.dataclass(frozen=True)
class Scope:
    """A registered scope, and who uses it."""

    name: str
    description: Optional[str] = None
    clients: Tuple[str, ...] = ()
    """The ids of the clients that name it."""
    roles: Tuple[str, ...] = ()
    """The roles that name it."""
    extra: Dict[str, Any] = dataclasses.field(default_factory=dict, hash=False)

    @classmethod
    def _from(cls, doc: Mapping[str, Any]) -> "Scope":
        return _from_wire(cls, doc)


@dataclasses.dataclass(frozen=True)
class Role:
    """A role: scopes and audiences its clients get."""

    name: str
    scopes: Tuple[str, ...] = ()
    audiences: Tuple[str, ...] = ()
    clients: Tuple[str, ...] = ()
    """The ids of the clients that have it."""
    extra: Dict[str, Any] = dataclasses.field(default_factory=dict, hash=False)

    @classmethod
    def _from(cls, doc: Mapping[str, Any]) -> "Role":
        return _from_wire(cls, doc)


@dataclasses.dataclass(frozen=True)
class AuditEvent:
    """One event of the server's audit log (token issued, authentication failed, client created,
    secret rotated, ...). The event's own fields (``auth_method``, ``secret_id``, ``error``,
    ``scopes``, ...) are in ``extra``; never a secret or a whole token."""

    id: int
    ts: float
    """Unix seconds."""
    event: str
    """``token``, ``client_created``, ``secret_rotated``, ..."""
    outcome: str
    """``success`` or ``failure``."""
    client_id: Optional[str] = None
    actor: Optional[str] = None
    """Who made a management call: a management client's id, or ``admin_token``."""
    extra: Dict[str, Any] = dataclasses.field(default_factory=dict, hash=False)

    @property
    def time(self) -> datetime.datetime:
        """``ts`` as an aware ``datetime`` (UTC)."""
        return datetime.datetime.fromtimestamp(self.ts, tz=datetime.timezone.utc)

    @classmethod
    def _from(cls, doc: Mapping[str, Any]) -> "AuditEvent":
        return _from_wire(cls, doc)


@dataclasses.dataclass(frozen=True)
class SigningKeyInfo:
    """One of the server's signing keys (public facts only). ``keys.rotate()`` answers the new
    key's ``kid``, ``alg`` and ``active_from``, with every key in ``extra["keys"]``."""

    kid: str
    alg: str
    status: Optional[str] = None
    created_at: Optional[int] = None
    active_from: Optional[int] = None
    retired_at: Optional[int] = None
    remove_after: Optional[int] = None
    extra: Dict[str, Any] = dataclasses.field(default_factory=dict, hash=False)

    @classmethod
    def _from(cls, doc: Mapping[str, Any]) -> "SigningKeyInfo":
        return _from_wire(cls, doc)
