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

__all__ = ["ClientOptions", "TokenOptions", "VerifierOptions", "RequestOptions", "McpServerOptions"]

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
    # client_secret_basic (default), client_secret_post, private_key_jwt, tls_client_auth,
    # self_signed_tls_client_auth (RFC 8705: the TLS client certificate below authenticates),
    # spiffe_jwt (the workload's JWT-SVID from the SPIFFE Workload API: no secret at all),
    # spiffe_x509 (its X.509-SVID as the TLS client certificate, tls_client_auth on the wire)
    auth_method: Optional[str]
    private_key: Optional[Json]  # PEM, or a private JWK (text or dict)
    private_key_file: Optional[Path]
    private_key_alg: Optional[str]
    private_key_id: Optional[str]
    refresh_buffer: Optional[Union[Seconds, str]]  # seconds, a timedelta, or "5m"
    allow_insecure_http: Optional[bool]
    max_attempts: Optional[int]
    jwks_uri: Optional[str]
    # DPoP (RFC 9449): tokens bound to a key of the client's (generated unless dpop_key is given),
    # a proof with each token request and, through authorize() / auth(), each resource request.
    dpop: Optional[bool]
    dpop_key: Optional[Json]  # PEM, or a private JWK (text or dict)
    dpop_key_file: Optional[Path]
    dpop_alg: Optional[str]  # ES256 (default for a generated key), RS256, PS256, EdDSA, ...
    # Mutual TLS (RFC 8705): the client certificate for token requests (certificate-bound
    # tokens; tls_client_auth), and extra CA certificates to trust. PEM text or files.
    tls_client_cert: Optional[str]
    tls_client_cert_file: Optional[Path]
    tls_client_key: Optional[str]
    tls_client_key_file: Optional[Path]
    tls_ca_cert: Optional[str]
    tls_ca_file: Optional[Path]
    # auth_method spiffe_jwt (and spiffe_x509): the Workload API (else SPIFFE_ENDPOINT_SOCKET), which of the
    # workload's identities (a SPIFFE ID), the SVID's audience (default: issuer, else token_url),
    # whether an SVID is reused while it has half its lifetime left (default True), and how it is
    # presented: "client_assertion" (default; jwt-spiffe client assertion) or "jwt_bearer"
    # (RFC 7523 grant). client_id is optional: the SVID's SPIFFE ID is used.
    spiffe_endpoint_socket: Optional[str]
    spiffe_id: Optional[str]
    spiffe_audience: Optional[str]
    spiffe_reuse_svid: Optional[bool]
    spiffe_grant: Optional[str]


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


class RequestOptions(TypedDict, total=False):
    """``RequestVerifier(verifier, **options)`` and ``authsec.fastapi.RequireToken(..., **options)``:
    how a protected resource checks requests (DPoP, certificate-bound tokens, its public URL)."""

    dpop: Optional[str]  # "allowed" (default: Bearer and DPoP tokens), "required", "disabled"
    dpop_algorithms: Optional[Sequence[str]]  # the proofs' algorithms (default: every asymmetric one)
    dpop_max_age: Optional[Seconds]  # how old a proof may be (its iat)
    dpop_leeway: Optional[Seconds]
    dpop_nonce: Optional[bool]  # require this resource's nonces in proofs (RFC 9449 section 9)
    dpop_nonce_key: Optional[str]  # base64url, >= 32 bytes: nonces valid on every instance with the key
    dpop_nonce_lifetime: Optional[Seconds]
    replay_capacity: Optional[int]  # proofs remembered against replay
    public_url: Optional[str]  # the resource's URL as clients reach it (proofs sign it)
    trust_forwarded: Optional[bool]  # believe Forwarded / X-Forwarded-* (needs trusted_proxies)
    # The proxies (addresses or CIDR ranges) believed about forwarded and certificate headers;
    # required with trust_forwarded and client_cert_header (["0.0.0.0/0", "::/0"]: every peer).
    trusted_proxies: Optional[StrOrList]
    # A header a TLS-terminating proxy sets with the client certificate, instead of the TLS
    # connection's: x-forwarded-client-cert (Envoy), client-cert (RFC 9440), or a PEM one
    # (needs trusted_proxies).
    client_cert_header: Optional[str]
    client_cert_header_format: Optional[str]  # "xfcc", "rfc9440", "pem" (default: by the name)
    require_certificate_binding: Optional[bool]  # refuse tokens not bound to a certificate
    realm: Optional[str]
    resource_metadata: Optional[str]  # the URL of the RFC 9728 metadata, named in challenges


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
