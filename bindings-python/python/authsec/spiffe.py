"""SPIFFE workload identity: verify JWT-SVIDs, and get SVIDs and bundles from the Workload API.

::

    verifier = authsec.JwtSvidVerifier(audience="https://api.example.com", workload_api=True,
                                       allowed_ids=["spiffe://example.org/agents/*"])
    svid = verifier.verify(token)            # authsec.JwtSvid; or: await verifier.verify_async(token)
    svid.spiffe_id, svid.trust_domain, svid.audience, svid.expires_at, svid.claims

    workload = authsec.WorkloadApiClient()   # SPIFFE_ENDPOINT_SOCKET, or an endpoint
    jwt = workload.fetch_jwt_svid("https://api.example.com")   # WorkloadJwtSvid(spiffe_id, token, hint)
    workload.fetch_jwt_bundles()             # {"example.org": {"keys": [...]}}
    workload.fetch_x509_svid()               # X509Svid(spiffe_id, cert_chain_pem, private_key_pem, bundle_pem)

Every rule (the JWT-SVID checks, which bundle verifies which SVID, SPIFFE ID patterns) is the Rust
core's; this module is the typed signatures and the result classes. A token client authenticates
with the workload's JWT-SVIDs, no secret anywhere, with ``auth_method="spiffe_jwt"`` (see
``authsec.options.ClientOptions``).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Dict, List, Mapping, Optional, Sequence, Union

from . import _native
from ._native import WorkloadApiClient, spiffe_id_matches

if TYPE_CHECKING:
    from ._native import ManualClock

__all__ = ["JwtSvidVerifier", "JwtSvid", "WorkloadApiClient", "WorkloadJwtSvid", "X509Svid", "spiffe_id_matches"]

TrustDomainSource = Mapping[str, Any]
"""One trust domain's bundle: ``{"bundle": <JWKS dict or JSON text>}``, ``{"bundle_file": path}``
or ``{"bundle_endpoint": url}``."""


@dataclass(frozen=True)
class JwtSvid:
    """A verified JWT-SVID."""

    spiffe_id: str
    """``sub``: the workload's SPIFFE ID."""
    trust_domain: str
    """The SPIFFE ID's trust domain (``example.org``)."""
    audience: List[str]
    """``aud`` as a list."""
    expires_at: int
    """``exp``, Unix seconds."""
    issued_at: Optional[int]
    """``iat``, Unix seconds, when present."""
    alg: str
    kid: Optional[str]
    claims: Dict[str, Any]
    """Every claim, as sent."""


@dataclass(frozen=True, repr=False)
class WorkloadJwtSvid:
    """A JWT-SVID from the Workload API (``repr()`` never shows the token)."""

    spiffe_id: str
    token: str
    """The JWT-SVID (compact JWS): present it to the service it is for."""
    hint: str = ""
    """The operator's hint for choosing among several identities (often empty)."""

    def __repr__(self) -> str:
        return f"WorkloadJwtSvid(spiffe_id={self.spiffe_id!r}, token='***', hint={self.hint!r})"

    __str__ = __repr__


@dataclass(frozen=True, repr=False)
class X509Svid:
    """An X.509-SVID from the Workload API, with its private key and its trust domain's CA
    certificates, all PEM (``repr()`` never shows the key)."""

    spiffe_id: str
    cert_chain_pem: str
    """The certificate chain, the leaf first."""
    private_key_pem: str
    """The leaf's private key (PKCS#8)."""
    bundle_pem: str
    """The trust domain's CA certificates."""
    hint: str = ""

    def __repr__(self) -> str:
        return f"X509Svid(spiffe_id={self.spiffe_id!r}, private_key_pem='***', hint={self.hint!r})"

    __str__ = __repr__


class JwtSvidVerifier(_native.JwtSvidVerifier):
    """Verifies JWT-SVIDs (the SPIFFE JWT-SVID standard): the signature with the bundle of the
    trust domain the SVID's ``sub`` names, ``alg`` (RS/PS/ES), ``exp``, ``aud``, and optionally
    which SPIFFE IDs are accepted. Safe to share across threads.

    Args:
        audience: the audience(s) this service answers to (required).
        trust_domains: ``{"example.org": {"bundle": jwks} | {"bundle_file": path} |
            {"bundle_endpoint": url}}``: bundles given here, read from a file, or fetched (and
            refreshed) from a SPIFFE bundle endpoint.
        workload_api: ``True`` (``SPIFFE_ENDPOINT_SOCKET``), an endpoint
            (``unix:///run/spire/agent.sock``) or a ``WorkloadApiClient``: the bundles the
            Workload API streams, followed as they change. The constructor waits (the GIL
            released) for the first ones.
        allowed_ids: SPIFFE ID patterns (``spiffe://td/path``, ``spiffe://td``,
            ``spiffe://td/path/*``); another ID raises ``InsufficientScopeError``
            (``spiffe_id_not_allowed``).
        sole_audience: require ``aud`` to be exactly one value.
        algorithms, leeway (seconds or a timedelta; 30 s), max_token_bytes, allow_insecure_http.
        _clock: an ``authsec.testing.ManualClock`` (tests).

    A bad option raises ``ConfigError`` naming it.
    """

    __slots__ = ()

    def __new__(
        cls,
        *,
        audience: Union[str, Sequence[str]],
        trust_domains: Optional[Mapping[str, TrustDomainSource]] = None,
        workload_api: Union[bool, str, WorkloadApiClient, None] = None,
        allowed_ids: Optional[Sequence[str]] = None,
        sole_audience: bool = False,
        algorithms: Optional[Sequence[str]] = None,
        leeway: Union[int, float, datetime.timedelta, None] = None,
        max_token_bytes: Optional[int] = None,
        allow_insecure_http: Optional[bool] = None,
        _clock: Optional[ManualClock] = None,
    ) -> JwtSvidVerifier:
        if isinstance(workload_api, WorkloadApiClient):
            workload_api = workload_api.endpoint
        options = {
            "audience": audience,
            "trust_domains": trust_domains,
            "workload_api": workload_api,
            "allowed_ids": allowed_ids,
            "sole_audience": sole_audience,
            "algorithms": algorithms,
            "leeway": leeway,
            "max_token_bytes": max_token_bytes,
            "allow_insecure_http": allow_insecure_http,
        }
        return super().__new__(cls, _clock=_clock, **{k: v for k, v in options.items() if v is not None})

    def __repr__(self) -> str:
        return f"JwtSvidVerifier(audience={self.audience!r})"

