"""FastAPI integration: a dependency that verifies the bearer token and checks scopes.

::

    from fastapi import Depends, FastAPI
    from authsec.fastapi import RequireToken

    verifier = authsec.Verifier(issuer=..., audience=..., jwks_uri=...)
    app = FastAPI()

    @app.get("/data")
    async def data(claims: authsec.Claims = Depends(RequireToken(verifier, scopes=["read:data"]))):
        return {"hello": claims.subject}

A request without a bearer token gets 401 with ``WWW-Authenticate: Bearer realm=...``; a bad or
expired token 401 with ``error="invalid_token"``; a valid token without the scopes 403 with
``error="insufficient_scope"`` (RFC 6750 §3). Install ``authsec[fastapi]``.
"""

from typing import Optional, Sequence, Union

from fastapi import HTTPException, Request, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from . import _native
from ._native import Claims
from .verifier import Verifier
from .errors import AuthsecError

__all__ = ["RequireToken"]

Scopes = Union[str, Sequence[str]]

# Declares the bearer scheme in the OpenAPI document; the header itself is parsed by the core.
_bearer_scheme = HTTPBearer(auto_error=False)


class RequireToken:
    """A FastAPI dependency returning the verified ``Claims``.

    Args:
        verifier: the ``authsec.Verifier`` to use.
        scopes: scopes the token must all have (a list or a space-separated string).
        any_scopes: scopes of which the token must have at least one.
        realm: the ``realm`` in ``WWW-Authenticate`` challenges.
        resource_metadata: the URL of this API's RFC 9728 protected-resource metadata, named in
            every challenge (``resource_metadata="..."``) so clients can discover where to get
            a token.
    """

    def __init__(
        self,
        verifier: Verifier,
        scopes: Scopes = (),
        *,
        any_scopes: Scopes = (),
        realm: Optional[str] = None,
        resource_metadata: Optional[str] = None,
    ) -> None:
        self.verifier = verifier
        self.scopes = scopes
        self.any_scopes = any_scopes
        self.realm = realm
        self.resource_metadata = resource_metadata

    def __repr__(self) -> str:
        return f"RequireToken(scopes={self.scopes!r}, any_scopes={self.any_scopes!r}, realm={self.realm!r})"

    async def __call__(
        self,
        request: Request,
        _credentials: Optional[HTTPAuthorizationCredentials] = Security(_bearer_scheme),
    ) -> Claims:
        try:
            token = _native.bearer_token(request.headers.get("authorization"))
        except AuthsecError as e:
            raise self._reject(e) from None
        if token is None:
            status, _, challenge = _native.challenge(
                self.realm, None, "", None, self.scopes or None, self.resource_metadata
            )
            headers = {"WWW-Authenticate": challenge} if challenge else None
            raise HTTPException(status_code=status, detail="a bearer token is required", headers=headers)
        try:
            return await self.verifier.verify_async(
                token, self.scopes or None, any_scopes=self.any_scopes or None
            )
        except AuthsecError as e:
            raise self._reject(e) from None

    def _reject(self, e: AuthsecError) -> HTTPException:
        status, _, challenge = e.challenge(self.realm, self.scopes, self.resource_metadata)
        headers = {"WWW-Authenticate": challenge} if challenge else None
        return HTTPException(status_code=status, detail=str(e), headers=headers)
