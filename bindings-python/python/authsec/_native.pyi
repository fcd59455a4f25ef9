# Type stubs for the native module `authsec._native` (Rust, pyo3).
# tests/test_stubs.py fails when this file and the module drift apart.

import asyncio
import os
from authsec.client import Token
from authsec.delegation import Actor
from typing import Any, Dict, ItemsView, Iterator, KeysView, List, Mapping, Optional, Sequence, Tuple, Union, ValuesView, final
from authsec.options import TokenOptions
from authsec.resource import Accepted, Refusal
from authsec.spiffe import JwtSvid, WorkloadJwtSvid, X509Svid
from typing_extensions import Self, Unpack, disjoint_base

__version__: str
__all__ = [
    "__version__",
    "ClientCredentials",
    "Verifier",
    "Claims",
    "RequestVerifier",
    "ManualClock",
    "Management",
    "McpServerAuth",
    "McpClient",
    "JwtSvidVerifier",
    "WorkloadApiClient",
    "spiffe_id_matches",
    "MCP_MAX_BODY_BYTES",
    "error_codes",
    "error_classes",
    "bearer_token",
    "challenge",
    "actor_id",
    "actor_refused",
    "check_scopes",
    "_shutdown",
]

_Scopes = Union[str, Sequence[str]]
_Reply = Tuple[int, List[Tuple[str, str]], str]
_Path = Union[str, os.PathLike[str]]

@disjoint_base
class ClientCredentials:
    """The core's token client; `authsec.ClientCredentials` (authsec/client.py) is its public face."""

    def __new__(
        cls, *, _clock: Optional[ManualClock] = None, _env: bool = False, _file: Optional[_Path] = None, **settings: Any
    ) -> Self: ...
    def get_token(self, **options: Unpack[TokenOptions]) -> Token: ...
    def get_token_async(self, **options: Unpack[TokenOptions]) -> asyncio.Future[Token]: ...
    def _exchange(self, options: Dict[str, Any], downstream: bool) -> Token:
        """A token exchange (RFC 8693) with `authsec.ClientCredentials.exchange_token`'s options
        (`downstream`: `downstream_token`'s), read by the core."""
    def _exchange_async(self, options: Dict[str, Any], downstream: bool) -> asyncio.Future[Token]: ...
    def invalidate(self) -> None:
        """Drop every cached token (the next call fetches a new one)."""
    def invalidate_token(self, access_token: str) -> None:
        """Drop the cached token only if it is `access_token` (after a 401 for it)."""
    def on_unauthorized(self, access_token: str, www_authenticate: Optional[str] = None, retries: int = 0) -> bool:
        """A 401 for `access_token`: True to get a token again and resend (the token is dropped)."""
    def _authorize(self, access_token: str, token_type: str, method: str, url: str) -> List[Tuple[str, str]]:
        """The headers that authorize a request with this token (`Authorization`, a DPoP proof)."""
    def on_resource_response(
        self, url: str, access_token: str, status: int, headers: Sequence[Tuple[str, str]], retries: int = 0
    ) -> bool:
        """A resource's answer to a request with `access_token`: True to resend (fresh headers)."""
    @property
    def dpop_thumbprint(self) -> Optional[str]:
        """The RFC 7638 thumbprint of the client's DPoP key; None without DPoP."""
    @property
    def _settings(self) -> Dict[str, Any]: ...
    @property
    def _request_count(self) -> int: ...

@final
class Management:
    """The core's management client; `authsec.Management` (authsec/management.py) is its public face."""

    def __new__(cls, **settings: Any) -> Self: ...
    def call(self, operation: str, args: Optional[Dict[str, Any]] = None) -> Any:
        """Run a management operation (`clients.create`, ...) with its arguments; its answer."""
    def call_async(self, operation: str, args: Optional[Dict[str, Any]] = None) -> asyncio.Future[Any]: ...
    @staticmethod
    def operations() -> List[str]:
        """Every operation's name."""
    @property
    def admin_url(self) -> str:
        """The management API's URL, `{base_url}/admin`."""

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
    @property
    def delegation(self) -> Tuple[Actor, ...]:
        """The delegation chain (RFC 8693 `act`), current actor first; empty when not delegated."""
    @property
    def actor(self) -> Optional[Actor]:
        """The party acting for the subject now (the outermost `act`), or None."""

@disjoint_base
class Verifier:
    """The core's verifier; `authsec.Verifier` (authsec/verifier.py) is its public face."""

    def __new__(cls, *, _clock: Optional[ManualClock] = None, **options: Any) -> Self: ...
    def verify(self, token: str, required_scopes: Optional[_Scopes] = None, *, any_scopes: Optional[_Scopes] = None) -> Claims: ...
    def verify_async(
        self, token: str, required_scopes: Optional[_Scopes] = None, *, any_scopes: Optional[_Scopes] = None
    ) -> asyncio.Future[Claims]: ...
    @property
    def _settings(self) -> Dict[str, Any]: ...
    @property
    def _cached_tokens(self) -> int: ...

@disjoint_base
class RequestVerifier:
    """The core's request checks; `authsec.RequestVerifier` (authsec/resource.py) is its public face."""

    def __new__(cls, verifier: Verifier, **options: Any) -> Self: ...
    def verify(
        self,
        method: str,
        target: str,
        scheme: str,
        headers: Sequence[Tuple[str, str]],
        peer: Optional[str] = None,
        client_certificate: Optional[bytes] = None,
        required_scopes: Optional[_Scopes] = None,
        any_scopes: Optional[_Scopes] = None,
    ) -> Union[Accepted, Refusal]:
        """The request's outcome: `authsec.resource.Accepted` or `Refusal`."""
    def verify_async(
        self,
        method: str,
        target: str,
        scheme: str,
        headers: Sequence[Tuple[str, str]],
        peer: Optional[str] = None,
        client_certificate: Optional[bytes] = None,
        required_scopes: Optional[_Scopes] = None,
        any_scopes: Optional[_Scopes] = None,
    ) -> asyncio.Future[Union[Accepted, Refusal]]: ...
    def _refuse_actor(
        self, actor: str, scheme: str, required_scopes: Optional[_Scopes] = None, any_scopes: Optional[_Scopes] = None
    ) -> Refusal:
        """The core's refusal of an accepted request whose current actor was refused."""

@final
class ManualClock:
    """Test-only clock that moves when told to (public as `authsec.testing.ManualClock`)."""

    def __new__(cls, now: Optional[float] = None) -> ManualClock: ...
    def now(self) -> float: ...
    def set(self, now: float) -> None: ...
    def advance(self, seconds: float) -> None: ...
    def _state_address(self) -> int: ...

MCP_MAX_BODY_BYTES: int

@disjoint_base
class McpServerAuth:
    """An MCP server as an OAuth protected resource; `authsec.mcp.McpServerAuth` is its public face."""

    def __new__(cls, **options: Any) -> Self: ...
    def begin(self, method: str, path: str, authorization: Optional[str]) -> Tuple[Optional[str], Optional[_Reply]]:
        """`(token, None)` to verify, or `(None, (status, headers, body))` to answer with."""
    def decide(
        self, verified: Union[_Scopes, BaseException], body: Optional[bytes]
    ) -> Tuple[Optional[List[Tuple[str, Optional[str]]]], Optional[_Reply]]:
        """`(operations, None)` when allowed, else `(None, (status, headers, body))`."""
    def filter_list(self, method: str, result: Mapping[str, Any], granted: _Scopes) -> Tuple[Dict[str, Any], int]:
        """The list result cut to what `granted` may use, and the number of items removed."""
    def allows(self, method: str, target: Optional[str], granted: _Scopes) -> bool: ...
    @property
    def _settings(self) -> Dict[str, Any]: ...

@disjoint_base
class McpClient:
    """The agent side of MCP authorization; `authsec.mcp.McpClient` is its public face."""

    def __new__(cls, server_url: str, *, _clock: Optional[ManualClock] = None, **settings: Any) -> Self: ...
    def authorization(self) -> asyncio.Future[Optional[str]]:
        """The `Authorization` header for the next request (`None` before discovery)."""
    def on_response(
        self, status: int, www_authenticate: Optional[str], sent_token: Optional[str], attempt: int
    ) -> asyncio.Future[Tuple[bool, int]]:
        """After a response: `(retry, attempt)`."""
    def discover(self) -> asyncio.Future[None]: ...
    @property
    def server_url(self) -> str: ...
    @property
    def resource(self) -> Optional[str]: ...
    @property
    def scopes(self) -> List[str]: ...

@disjoint_base
class JwtSvidVerifier:
    """The core's JWT-SVID verifier; `authsec.JwtSvidVerifier` (authsec/spiffe.py) is its public face."""

    def __new__(cls, *, _clock: Optional[ManualClock] = None, **options: Any) -> Self: ...
    def verify(self, token: str) -> JwtSvid: ...
    def verify_async(self, token: str) -> asyncio.Future[JwtSvid]: ...
    @property
    def audience(self) -> List[str]:
        """The audiences accepted."""

@final
class WorkloadApiClient:
    """A SPIFFE Workload API client: `endpoint` (`unix:///path`, `tcp://IP:PORT`), else
    `SPIFFE_ENDPOINT_SOCKET`'s."""

    def __new__(cls, endpoint: Optional[str] = None) -> WorkloadApiClient: ...
    @property
    def endpoint(self) -> str: ...
    def fetch_jwt_svid(self, audience: Union[str, Sequence[str]], *, spiffe_id: Optional[str] = None) -> WorkloadJwtSvid:
        """The workload's JWT-SVID for `audience`: its default identity's, or `spiffe_id`'s."""
    def fetch_jwt_svid_async(
        self, audience: Union[str, Sequence[str]], *, spiffe_id: Optional[str] = None
    ) -> asyncio.Future[WorkloadJwtSvid]: ...
    def fetch_jwt_bundles(self) -> Dict[str, Dict[str, Any]]:
        """The JWT bundles: trust domain name -> its JWKS document."""
    def fetch_jwt_bundles_async(self) -> asyncio.Future[Dict[str, Dict[str, Any]]]: ...
    def fetch_x509_svid(self) -> X509Svid:
        """The workload's default X.509-SVID, its key and its trust domain's CA certificates (PEM)."""
    def fetch_x509_svid_async(self) -> asyncio.Future[X509Svid]: ...

def spiffe_id_matches(spiffe_id: str, patterns: Sequence[str]) -> bool:
    """Whether `spiffe_id` matches one of `patterns` (the core's SpiffeIdMatcher; a bad pattern
    raises ConfigError)."""
def error_codes() -> List[Tuple[str, str, str, str, bool]]: ...
def error_classes() -> List[Tuple[str, str]]: ...
def challenge(
    realm: Optional[str] = None,
    code: Optional[str] = None,
    message: str = "",
    missing_scopes: Optional[_Scopes] = None,
    required_scopes: Optional[_Scopes] = None,
    resource_metadata: Optional[str] = None,
) -> Tuple[int, Optional[str], Optional[str]]: ...
def bearer_token(authorization: Optional[str]) -> Optional[str]: ...
def _shutdown() -> None: ...
def actor_id(sub: Optional[str] = None, client_id: Optional[str] = None, iss: Optional[str] = None) -> str:
    """The core's id of an actor: `client_id`, else `sub` (for `authsec.Actor`)."""
def actor_refused(id: str) -> BaseException:
    """The core's `delegation_not_allowed` error for the current actor `id` (a `DelegationError`)."""
def check_scopes(claims: Claims, required_scopes: Optional[_Scopes] = None, any_scopes: Optional[_Scopes] = None) -> None:
    """The core's scope check of verified claims (`InsufficientScopeError`)."""
