"""The keyword options of ``ClientCredentials``, ``ClientCredentials.get_token`` and ``Verifier``,
as ``TypedDict``\\ s for type checkers and IDEs. The Rust core reads them (the same names as the
config file and every other authsec language; camelCase spellings are accepted too): an unknown
option, or one of the wrong type, raises ``authsec.ConfigError`` naming it; ``None`` is the same as
leaving an option out.
"""

from __future__ import annotations

import datetime
import os
from typing import Any, Callable, Mapping, Optional, Sequence, TypedDict, Union

from .delegation import Actor

__all__ = ["ClientOptions", "TokenOptions", "VerifierOptions", "McpServerOptions"]

Scopes = Union[str, Sequence[str]]
"""A list of scopes or one space-separated string."""
StrOrList = Union[str, Sequence[str]]
Seconds = Union[int, float, datetime.timedelta]
Json = Union[str, bytes, Mapping[str, Any]]
Path = Union[str, "os.PathLike[str]"]


class ClientOptions(TypedDict, total=False):
    """``ClientCredentials(client_id=..., **options)``."""

    client_secret: Optional[str]
    client_secret_file: Optional[Path]
    token_url: Optional[str]
    domain: Optional[str]  # https://{domain}/oauth/token
    issuer: Optional[str]  # the token endpoint from the issuer's metadata
    scopes: Optional[Scopes]
    scope: Optional[Scopes]
    audience: Optional[str]
    resource: Optional[StrOrList]
    auth_method: Optional[str]  # client_secret_basic (default), client_secret_post, private_key_jwt
    private_key: Optional[Json]  # PEM, or a private JWK (text or dict)
    private_key_file: Optional[Path]
    private_key_alg: Optional[str]
    private_key_id: Optional[str]
    refresh_buffer: Optional[Union[Seconds, str]]  # seconds, a timedelta, or "5m"
    allow_insecure_http: Optional[bool]
    max_attempts: Optional[int]
    jwks_uri: Optional[str]


class TokenOptions(TypedDict, total=False):
    """``client.get_token(**options)``: a token for other parameters (cached separately)."""

    scopes: Optional[Scopes]
    audience: Optional[str]
    resource: Optional[StrOrList]


class VerifierOptions(TypedDict, total=False):
    """``Verifier(issuer, audience, **options)``: one of ``jwks_uri``, ``jwks``, ``discover``."""

    jwks_uri: Optional[str]
    jwks: Optional[Json]
    discover: Optional[bool]
    algorithms: Optional[Sequence[str]]
    leeway: Optional[Seconds]
    typ: Optional[str]  # "default" or "strict" (at+jwt)
    required_claims: Optional[Sequence[str]]
    max_token_bytes: Optional[int]
    skip_issuer_check: Optional[bool]
    skip_audience_check: Optional[bool]
    verified_cache_size: Optional[int]
    allow_insecure_http: Optional[bool]
    # How `aud` must match `audience`: "exact" (default; RFC 9728 §3.3), "trailing_slash" (a
    # trailing slash aside) or "path_prefix" (the audience is the token's resource or below it).
    # A token without `aud` always fails.
    audience_match: Optional[str]
    # Delegated tokens (RFC 8693 `act`; `claims.delegation`). Refusals raise DelegationError
    # (delegation_not_allowed).
    forbid_delegation: Optional[bool]  # refuse every token that carries `act`
    max_delegation_depth: Optional[int]  # the most actors a chain may hold, 0 to 16
    # The current actor's id (`client_id`, else `sub`) must be one of these; or a callable that
    # takes the current `authsec.Actor` and returns whether it may act, asked after every
    # successful verification of a delegated token (never for an undelegated one), on the
    # calling thread (`verify_async`: the event loop's).
    allowed_actors: Optional[Union[Sequence[str], Callable[[Actor], bool]]]


class McpServerOptions(TypedDict, total=False):
    """``authsec.mcp.McpServerAuth(**options)``: an MCP server as an OAuth protected resource."""

    resource: str  # required: the server's URL as clients reach it, the tokens' audience
    authorization_servers: Sequence[str]  # required: issuer URLs, at least one
    metadata: Optional[Mapping[str, Any]]  # more RFC 9728 fields: scopes_supported, resource_name, ...
    verifier: Optional[Mapping[str, Any]]  # VerifierOptions plus issuer and audience
    required_scopes: Optional[Scopes]  # every request
    # {"tools/call:write_file": "files:write", "tools/call:read_*": ["files:read"],
    #  "resources/read:file:///private/*": "private", "prompts/get:review": "review"}
    operation_scopes: Optional[Mapping[str, Scopes]]
    filter_lists: Optional[bool]  # default True
    realm: Optional[str]
    allow_insecure_http: Optional[bool]
