"""Exceptions raised by authsec.

Every error carries the core's stable ``code`` (the same codes in every authsec language), its
``category`` and whether it is ``retryable``, and a message that says what was wrong and what to
do. Messages never contain a secret or a token.

The classes are the core's error class tree, with the same names in every language::

    AuthsecError
    ├ ConfigError                 (also a ValueError)
    ├ TokenRequestError
    │ ├ InvalidClientError
    │ └ InvalidScopeError
    ├ UnavailableError
    │ ├ NetworkError
    │ │ └ TimeoutError
    │ ├ ServerError
    │ └ RateLimitedError
    ├ InvalidTokenError
    │ ├ TokenExpiredError
    │ └ DelegationError
    ├ InsufficientScopeError
    ├ InternalError
    └ ManagementError             (not_found, conflict, invalid_client_metadata, access_denied)

Catch the family you care about::

    try:
        claims = verifier.verify(token, ["read:data"])
    except authsec.InsufficientScopeError as e:   # valid token, missing scope -> 403
        ...
    except authsec.InvalidTokenError as e:        # expired, bad signature, wrong audience, ... -> 401
        ...
"""

from __future__ import annotations

from typing import Dict, NamedTuple, Optional, Sequence, Tuple, Type, Union

from . import _native

__all__ = [
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
]

#: Every stable error code, in the core's order. A test keeps this equal to the core's list.
ERROR_CODES: Tuple[str, ...] = (
    "invalid_request",
    "invalid_client",
    "invalid_grant",
    "unauthorized_client",
    "unsupported_grant_type",
    "invalid_scope",
    "invalid_target",
    "oauth_error",
    "rate_limited",
    "server_error",
    "invalid_response",
    "network_error",
    "timeout",
    "insecure_transport",
    "config_error",
    "invalid_key",
    "invalid_jwks",
    "jwks_unavailable",
    "workload_api_unavailable",
    "malformed_token",
    "token_too_large",
    "unsupported_algorithm",
    "algorithm_mismatch",
    "key_not_found",
    "invalid_signature",
    "token_expired",
    "token_not_yet_valid",
    "invalid_issuer",
    "invalid_audience",
    "invalid_token_type",
    "unsupported_critical_header",
    "invalid_claim",
    "invalid_delegation",
    "delegation_not_allowed",
    "invalid_dpop_proof",
    "use_dpop_nonce",
    "invalid_spiffe_id",
    "unknown_trust_domain",
    "insufficient_scope",
    "spiffe_id_not_allowed",
    "internal_error",
    "not_found",
    "conflict",
    "invalid_client_metadata",
    "access_denied",
)


class CodeInfo(NamedTuple):
    """What the core says about an error code."""

    category: str
    class_name: str
    description: str
    retryable: bool


#: The core's facts about every code (``_native.error_codes()``).
CODE_INFO: Dict[str, CodeInfo] = {
    code: CodeInfo(category, class_name, description, retryable)
    for code, category, class_name, description, retryable in _native.error_codes()
}


class AuthsecError(Exception):
    """Base class of every authsec error.

    Attributes:
        code: the stable error code (see ``authsec.ERROR_CODES``).
        message: what was wrong and what to do (never a secret or a token).
        status: the HTTP status of the server answer this error came from, if any.
        retry_after: seconds the server asked to wait (HTTP 429/503), if any.
        missing_scopes: for ``insufficient_scope``, the scopes the token lacks.
        oauth_error: for errors from the token endpoint, the OAuth ``error`` as sent.
        category: the code's family (``token_request``, ``unavailable``, ``config``,
            ``invalid_token``, ``insufficient_scope``, ``internal``, ``management``).
        retryable: whether the same request may succeed later (network errors, 5xx, 429).
    """

    code: str
    message: str
    status: Optional[int]
    retry_after: Optional[float]
    missing_scopes: Tuple[str, ...]
    oauth_error: Optional[str]

    def __init__(
        self,
        message: str,
        *,
        code: str = "internal_error",
        status: Optional[int] = None,
        retry_after: Optional[float] = None,
        missing_scopes: Sequence[str] = (),
        oauth_error: Optional[str] = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status
        self.retry_after = retry_after
        self.missing_scopes = tuple(missing_scopes)
        self.oauth_error = oauth_error

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"

    def __repr__(self) -> str:
        return f"{type(self).__name__}(code={self.code!r}, message={self.message!r})"

    def __reduce__(self):  # keep every field through pickle (multiprocessing, logging handlers)
        kwargs = {
            "code": self.code,
            "status": self.status,
            "retry_after": self.retry_after,
            "missing_scopes": self.missing_scopes,
            "oauth_error": self.oauth_error,
        }
        return (_rebuild, (type(self), self.message, kwargs))

    @property
    def category(self) -> str:
        """The code's family: ``token_request``, ``unavailable``, ``config``, ``invalid_token``,
        ``insufficient_scope``, ``internal`` or ``management``."""
        return _info(self.code).category

    @property
    def retryable(self) -> bool:
        """Whether the same request may succeed later (network errors, 5xx, 429)."""
        return _info(self.code).retryable

    @property
    def description(self) -> str:
        """The code's one-line description."""
        return _info(self.code).description

    @property
    def http_status(self) -> int:
        """The status a protected resource answers with: 401, 403, 400, 503 or 500."""
        return self.challenge()[0]

    def www_authenticate(
        self,
        realm: Optional[str] = None,
        required_scopes: Union[str, Sequence[str]] = (),
        resource_metadata: Optional[str] = None,
    ) -> Optional[str]:
        """The ``WWW-Authenticate: Bearer ...`` value for this error (RFC 6750 §3); ``None`` for
        errors a resource answers with a 5xx (keys unavailable), which carry no challenge."""
        return self.challenge(realm, required_scopes, resource_metadata)[2]

    def challenge(
        self,
        realm: Optional[str] = None,
        required_scopes: Union[str, Sequence[str]] = (),
        resource_metadata: Optional[str] = None,
    ) -> Tuple[int, Optional[str], Optional[str]]:
        """What a protected resource answers for this error (RFC 6750 §3):
        ``(status, error, www_authenticate)``, e.g. ``(403, "insufficient_scope", 'Bearer ...')``.
        ``resource_metadata``: the URL of the resource's RFC 9728 metadata, named in the
        challenge. The error and the challenge are ``None`` for 5xx answers (keys unavailable)."""
        return _native.challenge(
            realm, self.code, self.message, self.missing_scopes, required_scopes, resource_metadata
        )


def _info(code: str) -> CodeInfo:
    return CODE_INFO.get(code) or CODE_INFO["internal_error"]


def _rebuild(cls: Type[AuthsecError], message: str, kwargs: dict) -> AuthsecError:
    return cls(message, **kwargs)


class ConfigError(AuthsecError, ValueError):
    """Missing or invalid configuration, keys or key sets (also a ``ValueError``)."""


class TokenRequestError(AuthsecError):
    """The authorization server refused the token request (an OAuth error)."""


class InvalidClientError(TokenRequestError):
    """Client authentication failed: wrong client_id, secret or assertion."""


class InvalidScopeError(TokenRequestError):
    """A requested scope is unknown or not allowed for the client."""


class UnavailableError(AuthsecError):
    """No usable answer could be had: network, timeouts, 5xx, 429, an answer that could not be
    understood, no key set, no SPIFFE Workload API (``workload_api_unavailable``). Retrying later
    may help."""


class NetworkError(UnavailableError):
    """Connection, DNS or TLS failure, or no JWKS could be fetched."""


class TimeoutError(NetworkError):  # noqa: A001 - the core's class name, the same in every language
    """A connect or read timeout, or the retry budget ran out. (Not the builtin ``TimeoutError``.)"""


class ServerError(UnavailableError):
    """The server answered HTTP 5xx, or something that could not be understood."""


class RateLimitedError(UnavailableError):
    """HTTP 429: the server asked the client to slow down (``retry_after`` says how long)."""


class InvalidTokenError(AuthsecError):
    """The token is not acceptable: malformed, bad signature, expired, wrong issuer/audience, ...
    (for JWT-SVIDs also ``invalid_spiffe_id`` and ``unknown_trust_domain``)."""


class TokenExpiredError(InvalidTokenError):
    """The token's ``exp`` is in the past (beyond the leeway)."""


class DelegationError(InvalidTokenError):
    """The token's delegation chain (RFC 8693 ``act``) is malformed (``invalid_delegation``) or
    not accepted here (``delegation_not_allowed``: ``forbid_delegation``,
    ``max_delegation_depth``, ``allowed_actors``)."""


class InsufficientScopeError(AuthsecError):
    """The token is valid but lacks a required scope (``missing_scopes`` names them); or a valid
    JWT-SVID's SPIFFE ID is not one the verifier accepts (``spiffe_id_not_allowed``)."""


class InternalError(AuthsecError):
    """A bug or an impossible state; please report it."""


class ManagementError(AuthsecError):
    """The management API refused an operation: ``not_found`` (no such client, scope, role or
    secret), ``conflict`` (it exists already, or is still in use), ``invalid_client_metadata`` (a
    client field is unknown or invalid; the message names it) or ``access_denied`` (the
    credentials are not accepted)."""


#: Every class of the tree by name, the root included (a test checks it against the core's tree).
CLASSES: Dict[str, Type[AuthsecError]] = {
    cls.__name__: cls
    for cls in (
        AuthsecError, ConfigError, TokenRequestError, InvalidClientError, InvalidScopeError,
        UnavailableError, NetworkError, TimeoutError, ServerError, RateLimitedError,
        InvalidTokenError, TokenExpiredError, DelegationError, InsufficientScopeError, InternalError,
        ManagementError,
    )
}

#: The exception class for every code, as the core assigns them.
CLASS_BY_CODE: Dict[str, Type[AuthsecError]] = {
    code: CLASSES[info.class_name] for code, info in CODE_INFO.items()
}


def _from_native(
    code: str,
    message: str,
    status: Optional[int] = None,
    retry_after: Optional[float] = None,
    missing_scopes: Sequence[str] = (),
    oauth_error: Optional[str] = None,
) -> AuthsecError:
    """Build the exception for a core error (called by the native modules)."""
    cls = CLASS_BY_CODE.get(code, AuthsecError)
    return cls(
        message,
        code=code,
        status=status,
        retry_after=retry_after,
        missing_scopes=missing_scopes,
        oauth_error=oauth_error,
    )
