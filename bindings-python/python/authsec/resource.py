"""``RequestVerifier``: the whole check of a request to a protected resource by the Rust core
(``authsec._native.RequestVerifier``): the credential (``Authorization: Bearer`` or ``DPoP`` with
its ``DPoP`` proof, RFC 9449), the token, its binding to a DPoP key or a client certificate
(RFC 8705), the resource's DPoP nonces and replay cache, and the scopes. The answer is an
``Accepted`` (the claims, and headers to add to the response) or a ``Refusal`` (the status, the
error and the headers to answer with: a ``WWW-Authenticate`` challenge per scheme, ``DPoP-Nonce``).

::

    verifier = authsec.Verifier(issuer=..., audience=..., jwks_uri=...)
    requests = authsec.RequestVerifier(verifier, dpop="allowed", dpop_nonce=True)
    outcome = await requests.verify_asgi(scope, ["read:data"])     # or verify(method, target, ...)
    if isinstance(outcome, authsec.Refusal):
        ...  # answer outcome.status with outcome.headers
    outcome.claims, outcome.scheme, outcome.dpop_jkt

``authsec.fastapi.RequireToken`` uses it. This module converts and presents; every rule is the core's.
"""

from __future__ import annotations

import ssl
from typing import TYPE_CHECKING, Any, List, Mapping, Optional, Sequence, Tuple, Union

from . import _native

if TYPE_CHECKING:
    import asyncio

    from typing_extensions import Unpack

    from ._native import Claims
    from .errors import AuthsecError
    from .options import RequestOptions
    from .verifier import Verifier

    _Scopes = Union[str, Sequence[str], None]

__all__ = ["RequestVerifier", "Accepted", "Refusal"]

Headers = List[Tuple[str, str]]


class Accepted:
    """An accepted request."""

    __slots__ = ("claims", "scheme", "dpop_jkt", "certificate_thumbprint", "headers")

    claims: Claims
    scheme: str
    """How the token came: ``"Bearer"`` or ``"DPoP"``."""
    dpop_jkt: Optional[str]
    """The thumbprint of the DPoP key that signed the request's proof (the token's ``cnf.jkt``)."""
    certificate_thumbprint: Optional[str]
    """The ``x5t#S256`` of the client certificate the token is bound to (``cnf``)."""
    headers: Headers
    """Headers to add to the response (a renewed ``DPoP-Nonce``)."""

    def __init__(
        self, claims: Claims, scheme: str, dpop_jkt: Optional[str], certificate_thumbprint: Optional[str], headers: Headers
    ) -> None:
        self.claims, self.scheme, self.headers = claims, scheme, headers
        self.dpop_jkt, self.certificate_thumbprint = dpop_jkt, certificate_thumbprint

    def __repr__(self) -> str:
        return f"Accepted(scheme={self.scheme!r}, subject={self.claims.subject!r}, dpop_jkt={self.dpop_jkt!r})"


class Refusal:
    """A refused request: answer with ``status`` and ``headers`` (each ``WWW-Authenticate``
    challenge its own header line)."""

    __slots__ = ("status", "error", "headers")

    status: int
    error: Optional[AuthsecError]
    """What was wrong; ``None`` when the request had no credential."""
    headers: Headers

    def __init__(self, status: int, error: Optional[AuthsecError], headers: Headers) -> None:
        self.status, self.error, self.headers = status, error, headers

    def __repr__(self) -> str:
        code = None if self.error is None else self.error.code
        return f"Refusal(status={self.status}, error={code!r})"


class RequestVerifier(_native.RequestVerifier):
    """Checks requests to a protected resource with ``verifier`` (see the module documentation).
    Options (read by the core; ``authsec.options.RequestOptions``): ``dpop`` (``"allowed"``, the
    default: Bearer and DPoP tokens; ``"required"``; ``"disabled"``), ``dpop_algorithms``,
    ``dpop_max_age``, ``dpop_leeway``, ``dpop_nonce`` (require the resource's nonces; with
    ``dpop_nonce_key``, shared by every instance that has the key), ``dpop_nonce_lifetime``,
    ``replay_capacity``, ``public_url``, ``trust_forwarded``, ``client_cert_header`` (a header a
    TLS-terminating proxy sets: ``x-forwarded-client-cert``, ``client-cert``, ...; both need
    ``trusted_proxies``), ``client_cert_header_format``, ``require_certificate_binding``, ``realm``,
    and ``resource_metadata`` (the URL of the RFC 9728 metadata, named in every challenge).
    Share one across the routes of a service: it holds the nonces and the replay cache.

    The verifier's ``allowed_actors`` callable, if it has one, is asked about an accepted
    delegated token (after the core's checks, scopes included).
    """

    __slots__ = ("_allowed_actors",)

    _allowed_actors: Any

    def __new__(cls, verifier: Verifier, **options: Unpack[RequestOptions]) -> RequestVerifier:
        self = super().__new__(cls, verifier, **options)
        self._allowed_actors = getattr(verifier, "_allowed_actors", None)
        return self

    def verify(  # type: ignore[override]
        self,
        method: str,
        target: str,
        *,
        scheme: str = "http",
        headers: Union[Mapping[str, str], Sequence[Tuple[str, str]]] = (),
        peer: Optional[str] = None,
        client_certificate: Optional[bytes] = None,
        required_scopes: _Scopes = None,
        any_scopes: _Scopes = None,
    ) -> Union[Accepted, Refusal]:
        """Check a request: ``method``, ``target`` (path and query as received), ``scheme`` of the
        connection (``http``/``https``), every header (repeated ones repeated), the ``peer``
        address, the TLS client certificate (DER); every scope of ``required_scopes`` and one of
        ``any_scopes``."""
        pairs = list(headers.items() if isinstance(headers, Mapping) else headers)
        outcome = super().verify(method, target, scheme, pairs, peer, client_certificate, required_scopes, any_scopes)
        return self._admitted(outcome, required_scopes, any_scopes)

    async def verify_async(  # type: ignore[override]
        self,
        method: str,
        target: str,
        *,
        scheme: str = "http",
        headers: Union[Mapping[str, str], Sequence[Tuple[str, str]]] = (),
        peer: Optional[str] = None,
        client_certificate: Optional[bytes] = None,
        required_scopes: _Scopes = None,
        any_scopes: _Scopes = None,
    ) -> Union[Accepted, Refusal]:
        """``verify()`` without blocking the event loop."""
        pairs = list(headers.items() if isinstance(headers, Mapping) else headers)
        outcome = await super().verify_async(
            method, target, scheme, pairs, peer, client_certificate, required_scopes, any_scopes
        )
        return self._admitted(outcome, required_scopes, any_scopes)

    async def verify_asgi(
        self, scope: Mapping[str, Any], required_scopes: _Scopes = None, any_scopes: _Scopes = None
    ) -> Union[Accepted, Refusal]:
        """``verify_async()`` for an ASGI ``http`` request's ``scope``: the raw path and query, the
        scheme, every header, the client address, and the client certificate of the ASGI TLS
        extension (``scope["extensions"]["tls"]["client_cert_chain"]``) when the server sets it."""
        method, target, scheme, headers, peer, certificate = asgi_request(scope)
        outcome = await _native.RequestVerifier.verify_async(
            self, method, target, scheme, headers, peer, certificate, required_scopes, any_scopes
        )
        return self._admitted(outcome, required_scopes, any_scopes)

    def _admitted(self, outcome: Any, required_scopes: _Scopes, any_scopes: _Scopes) -> Union[Accepted, Refusal]:
        """``outcome``, unless the verifier's ``allowed_actors`` callable refuses its actor."""
        check = self._allowed_actors
        if check is None or not isinstance(outcome, Accepted):
            return outcome
        actor = outcome.claims.actor
        if actor is None or check(actor):
            return outcome
        return self._refuse_actor(actor.id, outcome.scheme, required_scopes, any_scopes)


def asgi_request(scope: Mapping[str, Any]) -> Tuple[str, str, str, Headers, Optional[str], Optional[bytes]]:
    """``(method, target, scheme, headers, peer, client certificate DER)`` of an ASGI ``http``
    scope, as ``RequestVerifier.verify`` takes them."""
    target = (scope.get("raw_path") or scope["path"].encode()).decode("latin-1")
    if scope.get("query_string"):
        target += "?" + scope["query_string"].decode("latin-1")
    headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in scope["headers"]]
    client = scope.get("client")
    chain = ((scope.get("extensions") or {}).get("tls") or {}).get("client_cert_chain") or ()
    certificate = ssl.PEM_cert_to_DER_cert(chain[0]) if chain else None
    return scope["method"], target, scope.get("scheme", "http"), headers, client[0] if client else None, certificate
