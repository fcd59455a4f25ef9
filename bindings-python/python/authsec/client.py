"""``ClientCredentials`` and ``Token``: OAuth 2.0 client-credentials tokens, cached and refreshed
by the Rust core (``authsec._native.ClientCredentials``). This module is their Python face:
the keyword signature, properties, ``repr()`` and ``auth()``; every rule is the core's.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any, Dict, List, Mapping, Optional, Sequence, Tuple, Union

from . import _native

if TYPE_CHECKING:
    from typing_extensions import Unpack

    import asyncio

    from ._native import ManualClock
    from .auth import BearerAuth
    from .options import ClientOptions

__all__ = ["ClientCredentials", "Token"]


class Token:
    """An access token from the cache. ``repr()`` and ``str()`` never show the token itself; it is
    neither a tuple nor a mapping, so a serializer cannot write it out by accident
    (``json.dumps(token)`` raises). Read ``access_token`` or ``authorization`` to use it."""

    __slots__ = ("access_token", "token_type", "expires_at", "issued_at", "scopes", "authorization", "issued_token_type")

    access_token: str
    """The access token (send it as ``Authorization: Bearer <access_token>``)."""
    token_type: str
    """``Bearer`` or ``DPoP`` (bound to the client's DPoP key: send it with ``authorize()``'s headers)."""
    expires_at: int
    """When the token expires, in Unix seconds."""
    issued_at: int
    """When the client received the token, in Unix seconds."""
    scopes: List[str]
    """The granted scopes."""
    authorization: str
    """The ``Authorization`` header value: ``Bearer <access_token>`` (``DPoP <access_token>``
    for a DPoP token, which also needs a proof: ``ClientCredentials.authorize()``)."""
    issued_token_type: Optional[str]
    """What a token exchange issued (RFC 8693 ``issued_token_type``, e.g.
    ``urn:ietf:params:oauth:token-type:access_token``); ``None`` when the server did not say
    (client credentials)."""

    def __init__(
        self,
        access_token: str,
        token_type: str,
        expires_at: int,
        issued_at: int,
        scopes: List[str],
        authorization: str,
        issued_token_type: Optional[str] = None,
    ) -> None:
        init = object.__setattr__
        init(self, "access_token", access_token)
        init(self, "token_type", token_type)
        init(self, "expires_at", expires_at)
        init(self, "issued_at", issued_at)
        init(self, "scopes", scopes)
        init(self, "authorization", authorization)
        init(self, "issued_token_type", issued_token_type)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("a Token is immutable")

    def __delattr__(self, name: str) -> None:
        raise AttributeError("a Token is immutable")

    def __repr__(self) -> str:
        issued = "" if self.issued_token_type is None else f", issued_token_type={self.issued_token_type!r}"
        return (
            f"Token(token_type={self.token_type!r}, access_token='***', "
            f"expires_at={self.expires_at}, scopes={self.scopes!r}{issued})"
        )

    __str__ = __repr__


class ClientCredentials(_native.ClientCredentials):
    """OAuth 2.0 client credentials with the core's token cache: one request in flight however
    many threads or tasks ask, refreshed before expiry. Safe to share across threads.

    The keyword arguments are the config file's settings, read by the core (see
    ``authsec.options.ClientOptions``): ``client_secret``, ``token_url`` (or ``domain``, or
    ``issuer`` to discover it), ``scopes``, ``audience``, ``resource``, ``auth_method``,
    ``private_key``, ``refresh_buffer``, ``max_attempts``, ``dpop`` (DPoP-bound tokens, RFC 9449;
    ``dpop_key``, ``dpop_alg``), ``tls_client_cert`` / ``tls_client_key`` (mutual TLS, RFC 8705),
    ``tls_ca_cert``, ``auth_method="spiffe_jwt"`` (the workload's JWT-SVIDs from the SPIFFE
    Workload API, no secret; ``spiffe_endpoint_socket``, ``spiffe_id``, ``spiffe_audience``,
    ``spiffe_reuse_svid``, ``spiffe_grant``), ... An unknown or ill-typed one raises
    ``ConfigError`` naming it. ``_clock`` takes an ``authsec.testing.ManualClock`` (tests).

    ``exchange_token(subject_token, ...)`` and ``downstream_token(inbound_token, audience=...)``
    (and their ``_async`` twins) get tokens by RFC 8693 token exchange: this client acts for the
    subject token's subject, with at most its rights; cached per subject token, never past its
    expiry.
    """

    __slots__ = ()

    def __new__(
        cls, *, client_id: Optional[str] = None, _clock: Optional[ManualClock] = None, **options: Unpack[ClientOptions]
    ) -> ClientCredentials:
        # client_id is required, except with auth_method="spiffe_jwt" (the SVID's SPIFFE ID is used)
        settings: Dict[str, Any] = dict(options)
        if client_id is not None:
            settings["client_id"] = client_id
        return super().__new__(cls, _clock=_clock, **settings)

    @classmethod
    def from_env(cls, *, _clock: Optional[ManualClock] = None) -> ClientCredentials:
        """Settings from the ``AUTHSEC_*`` environment variables."""
        return _native.ClientCredentials.__new__(cls, _clock=_clock, _env=True)

    @classmethod
    def from_config(
        cls, path: Union[str, os.PathLike[str]], *, _clock: Optional[ManualClock] = None
    ) -> ClientCredentials:
        """Settings from a YAML file (an ``authsec:`` mapping; ``${VAR}`` from the environment)."""
        return _native.ClientCredentials.__new__(cls, _clock=_clock, _file=os.fspath(path))

    def exchange_token(
        self,
        subject_token: Union[str, Token],
        *,
        scopes: Union[str, Sequence[str], None] = None,
        audience: Optional[str] = None,
        resource: Union[str, Sequence[str], None] = None,
        actor_token: Union[str, Token, None] = None,
        actor_token_type: Optional[str] = None,
        subject_token_type: Optional[str] = None,
        requested_token_type: Optional[str] = None,
    ) -> Token:
        """RFC 8693 token exchange: trade ``subject_token`` (a token this client holds, typically
        the access token its caller sent) for one for ``scopes`` / ``audience`` / ``resource``
        (only these: not the configured ones), acting for its subject. Cached per subject token
        (and the other arguments), never past the subject's ``exp``; the response's
        ``issued_token_type`` must be ``requested_token_type``. Token types: ``access_token``,
        ``jwt``, ``id_token``, ``refresh_token`` or a ``urn:ietf:params:oauth:token-type:*`` URN."""
        return self._exchange(_options(locals()), False)

    def exchange_token_async(
        self,
        subject_token: Union[str, Token],
        *,
        scopes: Union[str, Sequence[str], None] = None,
        audience: Optional[str] = None,
        resource: Union[str, Sequence[str], None] = None,
        actor_token: Union[str, Token, None] = None,
        actor_token_type: Optional[str] = None,
        subject_token_type: Optional[str] = None,
        requested_token_type: Optional[str] = None,
    ) -> asyncio.Future[Token]:
        """``await client.exchange_token_async(...)``: like ``exchange_token()``, without blocking
        the event loop. Returns an ``asyncio.Future``."""
        return self._exchange_async(_options(locals()), False)

    def downstream_token(
        self,
        inbound_token: Union[str, Token],
        *,
        audience: Optional[str] = None,
        resource: Union[str, Sequence[str], None] = None,
        scopes: Union[str, Sequence[str], None] = None,
    ) -> Token:
        """The downstream-token helper: this service received ``inbound_token`` and calls another
        API on its caller's behalf; exchange it for a token for that API, named by ``audience``
        and/or ``resource`` (required: ``ConfigError`` without one), with ``scopes`` (none: what
        the server grants there). Never forward the inbound token itself."""
        return self._exchange(_options(locals()), True)

    def downstream_token_async(
        self,
        inbound_token: Union[str, Token],
        *,
        audience: Optional[str] = None,
        resource: Union[str, Sequence[str], None] = None,
        scopes: Union[str, Sequence[str], None] = None,
    ) -> asyncio.Future[Token]:
        """``await client.downstream_token_async(...)``: like ``downstream_token()``, without
        blocking the event loop. Returns an ``asyncio.Future``."""
        return self._exchange_async(_options(locals()), True)

    def invalidate_token(self, access_token: Union[str, Token]) -> None:
        """Drop the cached token only if it is ``access_token`` (after a 401 for it), so a newer
        token another caller already fetched is kept."""
        super().invalidate_token(_access_token(access_token))

    def on_unauthorized(
        self, access_token: Union[str, Token], www_authenticate: Optional[str] = None, retries: int = 0
    ) -> bool:
        """A resource answered 401 to a request that carried ``access_token``, with this
        ``WWW-Authenticate`` value, after ``retries`` retries of the request: ``True`` to get a
        token again and resend it (the rejected token is already dropped), ``False`` to give up."""
        return super().on_unauthorized(_access_token(access_token), www_authenticate, retries)

    def authorize(self, token: Token, method: str, url: str) -> List[Tuple[str, str]]:
        """The headers that authorize a request with ``token`` to ``method url``:
        ``Authorization`` with the token's scheme (``Bearer`` or ``DPoP``) and, for a DPoP token, a
        fresh ``DPoP`` proof (for this method and URL, the token's hash and the server's latest
        nonce). Build them anew for every request and every retry."""
        return self._authorize(token.access_token, token.token_type, method, url)

    def on_resource_response(
        self,
        url: str,
        access_token: Union[str, Token],
        status: int,
        headers: Union[Mapping[str, str], Sequence[Tuple[str, str]]],
        retries: int = 0,
    ) -> bool:
        """A resource at ``url`` answered a request that carried ``access_token`` with ``status``
        and ``headers`` (every response: its ``DPoP-Nonce`` is kept), after ``retries`` retries of
        the request. ``True``: resend it once with fresh ``authorize()`` headers and the token
        ``get_token()`` gives then (the same one after a DPoP nonce challenge; the rejected one is
        already dropped otherwise)."""
        pairs = list(headers.items() if isinstance(headers, Mapping) else headers)
        return super().on_resource_response(url, _access_token(access_token), status, pairs, retries)

    def auth(self) -> BearerAuth:
        """An auth object for ``requests`` and ``httpx`` (sync and async) that sends the cached
        token with the headers ``authorize()`` gives and, for each answer, does what
        ``on_resource_response`` says: ``requests.get(url, auth=client.auth())``."""
        from .auth import BearerAuth

        return BearerAuth(self)

    @property
    def client_id(self) -> str:
        return self._settings["client_id"]

    @property
    def token_url(self) -> Optional[str]:
        """The token endpoint; ``None`` while it is to be discovered from ``issuer``."""
        return self._settings["token_url"]

    @property
    def issuer(self) -> Optional[str]:
        return self._settings["issuer"]

    @property
    def scopes(self) -> List[str]:
        return self._settings["scopes"]

    @property
    def audience(self) -> Optional[str]:
        return self._settings["audience"]

    @property
    def resource(self) -> List[str]:
        return self._settings["resource"]

    @property
    def auth_method(self) -> str:
        """``client_secret_basic``, ``client_secret_post``, ``private_key_jwt``, ``tls_client_auth``,
        ``self_signed_tls_client_auth``, ``spiffe_jwt`` or ``spiffe_x509``."""
        return self._settings["auth_method"]

    @property
    def dpop(self) -> bool:
        """Whether tokens are DPoP-bound to this client's key (``dpop_thumbprint``)."""
        return self._settings["dpop"]

    @property
    def refresh_buffer(self) -> float:
        """Seconds before expiry at which the token is refreshed (capped at half its lifetime)."""
        return self._settings["refresh_buffer"]

    def __repr__(self) -> str:
        s = self._settings
        if s["token_url"] is None and s["issuer"] is not None:
            endpoint = f"issuer={s['issuer']!r}"
        else:
            endpoint = f"token_url={s['token_url']!r}"
        if s["auth_method"] in ("spiffe_jwt", "spiffe_x509"):  # no secret: the workload's SVIDs
            credential = f"spiffe_id={s['spiffe_id']!r}"
        else:
            credential = ("private_key" if s["auth_method"] == "private_key_jwt" else "client_secret") + "='***'"
        return (
            f"ClientCredentials(client_id={s['client_id']!r}, {endpoint}, scopes={s['scopes']!r}, "
            f"auth_method={s['auth_method']!r}, {credential})"
        )


_TOKENS = ("subject_token", "actor_token", "inbound_token")


def _access_token(token: Union[str, Token]) -> str:
    """The access token of a ``Token`` or a ``str``."""
    return token if isinstance(token, str) else token.access_token


def _options(arguments: Dict[str, Any]) -> Dict[str, Any]:
    """An exchange's arguments as the one options dict the core reads: those that are not
    ``None``, the tokens (``Token`` or ``str``) as their access tokens."""
    options = {}
    for name, value in arguments.items():
        if name in _TOKENS and value is not None:
            options[name] = _access_token(value)
        elif name != "self" and value is not None:
            options[name] = value
    return options
