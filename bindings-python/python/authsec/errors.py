"""Exceptions raised by authsec.

Every error carries the core's stable ``code`` (the same codes in every authsec language) and a
message that says what was wrong and what to do. Messages never contain a secret or a token.

Catch the family you care about::

    try:
        claims = verifier.verify(token, ["read:data"])
    except authsec.InsufficientScope as e:   # valid token, missing scope -> 403
        ...
    except authsec.InvalidToken as e:        # expired, bad signature, wrong audience, ... -> 401
        ...
"""

from __future__ import annotations

from typing import Dict, Optional, Sequence, Tuple, Type, Union

from . import _native

__all__ = [
    "ERROR_CODES",
    "AuthsecError",
    "ConfigError",
    "TokenRequestError",
    "InvalidClient",
    "InvalidScope",
    "UnavailableError",
    "NetworkError",
    "ServerError",
    "InvalidToken",
    "TokenExpired",
    "InsufficientScope",
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
    "insufficient_scope",
    "internal_error",
)

_DESCRIPTIONS: Dict[str, str] = {code: desc for code, desc, _, _ in _native.error_codes()}


class AuthsecError(Exception):
    """Base class of every authsec error.

    Attributes:
        code: the stable error code (see ``authsec.ERROR_CODES``).
        message: what was wrong and what to do (never a secret or a token).
        status: the HTTP status of the server answer this error came from, if any.
        retry_after: seconds the server asked to wait (HTTP 429/503), if any.
        missing_scopes: for ``insufficient_scope``, the scopes the token lacks.
        oauth_error: for errors from the token endpoint, the OAuth ``error`` as sent.
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
    def description(self) -> str:
        """The code's one-line description."""
        return _DESCRIPTIONS.get(self.code, "")

    @property
    def retryable(self) -> bool:
        """Whether the same request may succeed later (network errors, 5xx, 429)."""
        return _RETRYABLE.get(self.code, False)

    @property
    def http_status(self) -> int:
        """The status a protected resource answers with: 401, 403, 400, 503 or 500."""
        return _native.http_status(self.code)

    def www_authenticate(
        self, realm: Optional[str] = None, required_scopes: Union[str, Sequence[str]] = ()
    ) -> str:
        """The ``WWW-Authenticate: Bearer ...`` value for this error (RFC 6750 §3)."""
        return _native.www_authenticate(
            realm, self.code, self.message, self.missing_scopes, required_scopes
        )


    def challenge(
        self, realm: Optional[str] = None, required_scopes: Union[str, Sequence[str]] = ()
    ) -> Tuple[int, Optional[str], Optional[str]]:
        """What a protected resource answers for this error (RFC 6750 §3):
        ``(status, error, www_authenticate)``, e.g. ``(403, "insufficient_scope", 'Bearer ...')``.
        The challenge is ``None`` for 5xx answers (keys unavailable)."""
        return _native.challenge(realm, self.code, self.message, self.missing_scopes, required_scopes)


def _rebuild(cls: Type[AuthsecError], message: str, kwargs: dict) -> AuthsecError:
    return cls(message, **kwargs)


class ConfigError(AuthsecError, ValueError):
    """Missing or invalid configuration, keys or key sets (also a ``ValueError``)."""


class TokenRequestError(AuthsecError):
    """The authorization server refused the token request (an OAuth error)."""


class InvalidClient(TokenRequestError):
    """Client authentication failed: wrong client_id, secret or assertion."""


class InvalidScope(TokenRequestError):
    """A requested scope is unknown or not allowed for the client."""


class UnavailableError(AuthsecError):
    """No answer could be had: network, timeout, server errors, rate limits. Retry later."""


class NetworkError(UnavailableError):
    """Connection, DNS, TLS or timeout failure, or no JWKS could be fetched."""


class ServerError(UnavailableError):
    """The server answered HTTP 5xx or 429, or something that could not be understood."""


class InvalidToken(AuthsecError):
    """The token is not acceptable: malformed, bad signature, expired, wrong issuer/audience, ..."""


class TokenExpired(InvalidToken):
    """The token's ``exp`` is in the past (beyond the leeway)."""


class InsufficientScope(AuthsecError):
    """The token is valid but lacks a required scope (``missing_scopes`` names them)."""


_RETRYABLE: Dict[str, bool] = {code: retryable for code, _, _, retryable in _native.error_codes()}

#: The exception class for every code. Token-verification codes map to ``InvalidToken`` (or a
#: subclass); a test checks that this set is exactly the core's token-error set.
CLASS_BY_CODE: Dict[str, Type[AuthsecError]] = {
    "invalid_request": TokenRequestError,
    "invalid_client": InvalidClient,
    "invalid_grant": TokenRequestError,
    "unauthorized_client": TokenRequestError,
    "unsupported_grant_type": TokenRequestError,
    "invalid_scope": InvalidScope,
    "invalid_target": TokenRequestError,
    "oauth_error": TokenRequestError,
    "rate_limited": ServerError,
    "server_error": ServerError,
    "invalid_response": ServerError,
    "network_error": NetworkError,
    "timeout": NetworkError,
    "insecure_transport": ConfigError,
    "config_error": ConfigError,
    "invalid_key": ConfigError,
    "invalid_jwks": ConfigError,
    "jwks_unavailable": NetworkError,
    "malformed_token": InvalidToken,
    "token_too_large": InvalidToken,
    "unsupported_algorithm": InvalidToken,
    "algorithm_mismatch": InvalidToken,
    "key_not_found": InvalidToken,
    "invalid_signature": InvalidToken,
    "token_expired": TokenExpired,
    "token_not_yet_valid": InvalidToken,
    "invalid_issuer": InvalidToken,
    "invalid_audience": InvalidToken,
    "invalid_token_type": InvalidToken,
    "unsupported_critical_header": InvalidToken,
    "invalid_claim": InvalidToken,
    "insufficient_scope": InsufficientScope,
    "internal_error": AuthsecError,
}


def _from_native(
    code: str,
    message: str,
    status: Optional[int],
    retry_after: Optional[float],
    missing_scopes: Sequence[str],
    oauth_error: Optional[str],
) -> AuthsecError:
    """Build the exception for a core error (called by the native module)."""
    cls = CLASS_BY_CODE.get(code, AuthsecError)
    return cls(
        message,
        code=code,
        status=status,
        retry_after=retry_after,
        missing_scopes=missing_scopes,
        oauth_error=oauth_error,
    )
