"""FastAPI integration: a dependency that checks the request's token and scopes.

::

    from fastapi import Depends, FastAPI
    from authsec.fastapi import RequireToken

    verifier = authsec.Verifier(issuer=..., audience=..., jwks_uri=...)
    app = FastAPI()

    @app.get("/data")
    async def data(claims: authsec.Claims = Depends(RequireToken(verifier, scopes=["read:data"]))):
        return {"hello": claims.subject}

It takes Bearer tokens and DPoP-bound tokens (``Authorization: DPoP`` with a ``DPoP`` proof,
RFC 9449) and checks certificate-bound tokens (RFC 8705), as ``authsec.RequestVerifier`` does: the
request options (``dpop="required"``, ``dpop_nonce=True``, ``public_url``, ``trust_forwarded``,
``client_cert_header``, ...) go with it. A request without a token gets 401 with a
``WWW-Authenticate`` challenge per scheme (``Bearer realm=...`` and ``DPoP algs=...``); a bad or
expired token 401 with ``error="invalid_token"``; a DPoP proof that lacks the resource's nonce
401 with ``error="use_dpop_nonce"`` and a ``DPoP-Nonce``; a valid token without the scopes 403
with ``error="insufficient_scope"`` (RFC 6750 §3). Install ``authsec[fastapi]``.
"""

from typing import TYPE_CHECKING, Optional, Sequence, Union

from fastapi import HTTPException, Request, Response, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.datastructures import Headers

from ._native import Claims
from .resource import Refusal, RequestVerifier
from .verifier import Verifier

if TYPE_CHECKING:
    from typing_extensions import Unpack

    from .options import RequestOptions

__all__ = ["RequireToken"]

Scopes = Union[str, Sequence[str]]

# Declares the bearer scheme in the OpenAPI document; the header itself is read by the core.
_bearer_scheme = HTTPBearer(auto_error=False)


class RequireToken:
    """A FastAPI dependency returning the verified ``Claims``.

    Args:
        verifier: the ``authsec.Verifier`` to use, or an ``authsec.RequestVerifier`` (share one
            across routes: it holds the DPoP nonces and the replay cache).
        scopes: scopes the token must all have (a list or a space-separated string).
        any_scopes: scopes of which the token must have at least one.
        **options: with a ``Verifier``, the request options (``authsec.options.RequestOptions``):
            ``realm`` (in ``WWW-Authenticate`` challenges), ``resource_metadata`` (the URL of this
            API's RFC 9728 protected-resource metadata, named in every challenge so clients can
            discover where to get a token), ``dpop``, ``dpop_nonce``, ``public_url``,
            ``trust_forwarded``, ``trusted_proxies``, ``client_cert_header``,
            ``require_certificate_binding``, ...

    The route gets the claims; ``request.state.authsec`` is the whole ``authsec.Accepted``
    (``scheme``, ``dpop_jkt``, ``certificate_thumbprint``). The TLS client certificate comes from the ASGI TLS extension when the server provides it
    (uvicorn does not); behind a proxy that terminates TLS, name its header in
    ``client_cert_header``.
    """

    def __init__(
        self,
        verifier: Union[Verifier, RequestVerifier],
        scopes: Scopes = (),
        *,
        any_scopes: Scopes = (),
        **options: "Unpack[RequestOptions]",
    ) -> None:
        if isinstance(verifier, RequestVerifier):
            if options:
                raise TypeError("RequireToken: give the request options to the RequestVerifier")
            self.requests = verifier
        else:
            self.requests = RequestVerifier(verifier, **options)
        self.verifier = verifier
        self.scopes = scopes
        self.any_scopes = any_scopes
        self.realm = options.get("realm")
        self.resource_metadata = options.get("resource_metadata")

    def __repr__(self) -> str:
        return f"RequireToken(scopes={self.scopes!r}, any_scopes={self.any_scopes!r}, realm={self.realm!r})"

    async def __call__(
        self,
        request: Request,
        response: Response,
        _credentials: Optional[HTTPAuthorizationCredentials] = Security(_bearer_scheme),
    ) -> Claims:
        outcome = await self.requests.verify_asgi(request.scope, self.scopes or None, self.any_scopes or None)
        if isinstance(outcome, Refusal):
            detail = str(outcome.error) if outcome.error is not None else "an access token is required"
            # Headers with repeated names (a challenge per scheme): FastAPI's handler passes them on.
            headers = Headers(raw=[(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in outcome.headers])
            raise HTTPException(status_code=outcome.status, detail=detail, headers=headers)  # type: ignore[arg-type]
        for name, value in outcome.headers:
            response.headers.append(name, value)
        request.state.authsec = outcome
        return outcome.claims
