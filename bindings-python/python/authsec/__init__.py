"""authsec: machine-to-machine OAuth for Python agents and services.

Get tokens (OAuth 2.0 client credentials, cached and refreshed by the Rust core)::

    client = authsec.ClientCredentials(
        token_url="https://auth.example.com/oauth/token",
        client_id="agent-1",
        client_secret=os.environ["AUTHSEC_CLIENT_SECRET"],
        scopes=["read:data"],
    )
    token = client.get_token()                 # or: await client.get_token_async()
    requests.get(url, auth=client.auth())      # on a 401, a fresh token and one retry

Verify them (JWT access tokens, RFC 9068)::

    verifier = authsec.Verifier(
        issuer="https://auth.example.com",
        audience="https://api.example.com",
        jwks_uri="https://auth.example.com/.well-known/jwks.json",
    )
    claims = verifier.verify(token, required_scopes=["read:data"])
    claims.subject, claims.scopes, claims["client_id"]
    claims.actor, claims.delegation            # who acts for the subject (RFC 8693), if anyone

Check whole requests, DPoP-bound (RFC 9449) and certificate-bound (RFC 8705) tokens included::

    requests = authsec.RequestVerifier(verifier, dpop_nonce=True)
    outcome = requests.verify("GET", "/data", scheme="https", headers=headers, peer=address)
    # authsec.Accepted (claims, headers to add) or authsec.Refusal (status, error, headers)

SPIFFE workload identity: JWT-SVIDs verified against the Workload API's bundles (or given ones),
and token clients with no secret at all (``auth_method="spiffe_jwt"``)::

    svids = authsec.JwtSvidVerifier(audience="https://api.example.com", workload_api=True)
    svid = svids.verify(token)                 # svid.spiffe_id, svid.trust_domain, svid.claims
    svid = authsec.WorkloadApiClient().fetch_jwt_svid("https://api.example.com")

Manage the server's clients, scopes, roles and secrets, and read its audit log::

    m = authsec.Management(base_url="https://auth.example.com", client_id="ops", client_secret=secret)
    agent = m.clients.create(type="ai_agent", allowed_scopes=["search:read"])
    m.clients.rotate_secret(agent.client_id)   # or: authsec.AsyncManagement(...) and await
"""

from __future__ import annotations

import atexit
import collections.abc

from . import _native
from ._native import Claims, __version__
from .client import ClientCredentials, Token
from .delegation import Actor
from .errors import (
    ERROR_CODES,
    AuthsecError,
    ConfigError,
    DelegationError,
    InsufficientScopeError,
    InternalError,
    InvalidClientError,
    InvalidScopeError,
    InvalidTokenError,
    ManagementError,
    NetworkError,
    RateLimitedError,
    ServerError,
    TimeoutError,
    TokenExpiredError,
    TokenRequestError,
    UnavailableError,
)
from .management import (
    AsyncManagement,
    AuditEvent,
    ClientSecretInfo,
    ManagedClient,
    Management,
    NewSecret,
    Role,
    Scope,
    SigningKeyInfo,
)
from .resource import Accepted, Refusal, RequestVerifier
from .spiffe import JwtSvid, JwtSvidVerifier, WorkloadApiClient, WorkloadJwtSvid, X509Svid, spiffe_id_matches
from .verifier import Verifier

__all__ = [
    "__version__",
    "ClientCredentials",
    "Token",
    "Verifier",
    "RequestVerifier",
    "Accepted",
    "Refusal",
    "Claims",
    "Actor",
    "Management",
    "AsyncManagement",
    "ManagedClient",
    "ClientSecretInfo",
    "NewSecret",
    "Scope",
    "Role",
    "AuditEvent",
    "SigningKeyInfo",
    "JwtSvidVerifier",
    "JwtSvid",
    "WorkloadApiClient",
    "WorkloadJwtSvid",
    "X509Svid",
    "spiffe_id_matches",
    "ERROR_CODES",
    "AuthsecError",
    "ConfigError",
    "TokenRequestError",
    "InvalidClientError",
    "InvalidScopeError",
    "UnavailableError",
    "NetworkError",
    "TimeoutError",
    "ServerError",
    "RateLimitedError",
    "InvalidTokenError",
    "TokenExpiredError",
    "DelegationError",
    "InsufficientScopeError",
    "InternalError",
    "ManagementError",
    "error_codes",
]

collections.abc.Mapping.register(Claims)
atexit.register(_native._shutdown)


def error_codes() -> "list[tuple[str, str]]":
    """Every stable error code with its one-line description, in the core's order."""
    return [(code, description) for code, _, _, description, _ in _native.error_codes()]
