# Type stubs for the native module `authsec._native` (Rust, pyo3).
# tests/test_stubs.py fails when this file and the module drift apart.

import asyncio
import datetime
import os
from authsec.auth import BearerAuth
from typing import Any, Dict, ItemsView, Iterator, KeysView, List, Mapping, Optional, Sequence, Tuple, Union, ValuesView, final

__version__: str
__all__ = [
    "__version__",
    "ClientCredentials",
    "Token",
    "Verifier",
    "Claims",
    "LocalServer",
    "_ManualClock",
    "error_codes",
    "http_status",
    "www_authenticate",
    "bearer_token",
    "challenge",
    "_shutdown",
]

_Scopes = Union[str, Sequence[str]]
_StrOrList = Union[str, Sequence[str]]
_Seconds = Union[int, float, datetime.timedelta]
_Json = Union[str, bytes, Mapping[str, Any]]

@final
class Token:
    """An access token from the cache. `repr()` and `str()` never show the token itself."""

    @property
    def access_token(self) -> str: ...
    @property
    def token_type(self) -> str: ...
    @property
    def expires_at(self) -> int: ...
    @property
    def issued_at(self) -> int: ...
    @property
    def scopes(self) -> List[str]: ...
    @property
    def authorization(self) -> str: ...

@final
class ClientCredentials:
    """OAuth 2.0 client credentials with the core's token cache. Safe to share across threads."""

    def __new__(
        cls,
        *,
        client_id: str,
        client_secret: Optional[str] = None,
        token_url: Optional[str] = None,
        scopes: Optional[_Scopes] = None,
        audience: Optional[str] = None,
        resource: Optional[_StrOrList] = None,
        auth_method: Optional[str] = None,
        private_key: Optional[_Json] = None,
        refresh_buffer: Optional[_Seconds] = None,
        issuer: Optional[str] = None,
        private_key_alg: Optional[str] = None,
        private_key_id: Optional[str] = None,
        allow_insecure_http: bool = False,
        _clock: Optional[_ManualClock] = None,
    ) -> ClientCredentials: ...
    @staticmethod
    def from_env(*, _clock: Optional[_ManualClock] = None) -> ClientCredentials: ...
    @staticmethod
    def from_config(path: Union[str, os.PathLike[str]], *, _clock: Optional[_ManualClock] = None) -> ClientCredentials: ...
    def get_token(
        self, *, scopes: Optional[_Scopes] = None, audience: Optional[str] = None, resource: Optional[_StrOrList] = None
    ) -> Token: ...
    def get_token_async(
        self, *, scopes: Optional[_Scopes] = None, audience: Optional[str] = None, resource: Optional[_StrOrList] = None
    ) -> asyncio.Future[Token]: ...
    def invalidate(self) -> None: ...
    def invalidate_token(self, access_token: Union[str, Token]) -> None: ...
    def auth(self) -> BearerAuth:
        """An `authsec.auth.BearerAuth` for `requests` and `httpx`."""
    @property
    def client_id(self) -> str: ...
    @property
    def token_url(self) -> Optional[str]: ...
    @property
    def issuer(self) -> Optional[str]: ...
    @property
    def scopes(self) -> List[str]: ...
    @property
    def audience(self) -> Optional[str]: ...
    @property
    def resource(self) -> List[str]: ...
    @property
    def auth_method(self) -> str: ...
    @property
    def refresh_buffer(self) -> float: ...
    @property
    def _request_count(self) -> int: ...

@final
class Claims(Mapping[str, Any]):
    """The claims of a verified token: a read-only mapping with typed helpers."""

    def __getitem__(self, key: str, /) -> Any: ...
    def __len__(self) -> int: ...
    def __iter__(self) -> Iterator[str]: ...
    def __contains__(self, key: object, /) -> bool: ...
    def get(self, key: str, default: Any = None) -> Any: ...
    def keys(self) -> KeysView[str]: ...
    def values(self) -> ValuesView[Any]: ...
    def items(self) -> ItemsView[str, Any]: ...
    def to_dict(self) -> Dict[str, Any]: ...
    def to_json(self) -> str: ...
    def has_scope(self, scope: str) -> bool: ...
    @property
    def subject(self) -> Optional[str]: ...
    @property
    def issuer(self) -> Optional[str]: ...
    @property
    def client_id(self) -> Optional[str]: ...
    @property
    def jti(self) -> Optional[str]: ...
    @property
    def audience(self) -> List[str]: ...
    @property
    def scopes(self) -> List[str]: ...
    @property
    def expires_at(self) -> int: ...
    @property
    def issued_at(self) -> Optional[int]: ...
    @property
    def not_before(self) -> Optional[int]: ...

@final
class Verifier:
    """Verifies JWT access tokens against a JWKS. Safe to share across threads."""

    def __new__(
        cls,
        issuer: Optional[str] = None,
        audience: Optional[_StrOrList] = None,
        *,
        jwks_uri: Optional[str] = None,
        jwks: Optional[_Json] = None,
        algorithms: Optional[_StrOrList] = None,
        leeway: Optional[_Seconds] = None,
        typ: Optional[str] = None,
        required_claims: Optional[_StrOrList] = None,
        max_token_bytes: Optional[int] = None,
        skip_issuer_check: bool = False,
        skip_audience_check: bool = False,
        cache_size: Optional[int] = None,
        allow_insecure_http: bool = False,
        _clock: Optional[_ManualClock] = None,
    ) -> Verifier: ...
    def verify(self, token: str, required_scopes: Optional[_Scopes] = None, *, any_scopes: Optional[_Scopes] = None) -> Claims: ...
    def verify_async(
        self, token: str, required_scopes: Optional[_Scopes] = None, *, any_scopes: Optional[_Scopes] = None
    ) -> asyncio.Future[Claims]: ...
    @property
    def issuer(self) -> Optional[str]: ...
    @property
    def audience(self) -> List[str]: ...
    @property
    def algorithms(self) -> List[str]: ...
    @property
    def _cached_tokens(self) -> int: ...

@final
class LocalServer:
    """The local authorization server, in-process (use `authsec.testing.LocalAuthServer`)."""

    def __new__(
        cls,
        config: Optional[str] = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        capture_audit: bool = False,
        _clock: Optional[_ManualClock] = None,
    ) -> LocalServer: ...
    def stop(self) -> None: ...
    def audit_events(self) -> List[Dict[str, Any]]: ...
    @property
    def running(self) -> bool: ...
    @property
    def issuer(self) -> str: ...
    @property
    def token_url(self) -> str: ...
    @property
    def jwks_uri(self) -> str: ...
    @property
    def host(self) -> str: ...
    @property
    def port(self) -> int: ...

@final
class _ManualClock:
    """Test-only clock that moves when told to."""

    def __new__(cls, now: Optional[float] = None) -> _ManualClock: ...
    def now(self) -> float: ...
    def set(self, now: float) -> None: ...
    def advance(self, seconds: float) -> None: ...

def error_codes() -> List[Tuple[str, str, bool, bool]]: ...
def http_status(code: str) -> int: ...
def www_authenticate(
    realm: Optional[str] = None,
    code: Optional[str] = None,
    message: str = "",
    missing_scopes: Optional[_Scopes] = None,
    required_scopes: Optional[_Scopes] = None,
) -> str: ...
def challenge(
    realm: Optional[str] = None,
    code: Optional[str] = None,
    message: str = "",
    missing_scopes: Optional[_Scopes] = None,
    required_scopes: Optional[_Scopes] = None,
) -> Tuple[int, Optional[str], Optional[str]]: ...
def bearer_token(authorization: Optional[str]) -> Optional[str]: ...
def _shutdown() -> None: ...
