"""``BearerAuth``: an auth for ``requests`` and ``httpx`` (sync and async clients).

It sends ``Authorization: Bearer <token>`` with the client's cached token and, when the resource
answers 401, asks the client what to do (``ClientCredentials.on_unauthorized``, the core's rule:
drop that token and resend the request once with a fresh one, unless the resource says a scope is
missing, which a fresh token would not fix)::

    auth = client.auth()
    requests.get(url, auth=auth)
    httpx.get(url, auth=auth)
    async with httpx.AsyncClient(auth=auth) as http: await http.get(url)

``requests`` and ``httpx`` are optional: install ``authsec[requests]`` or ``authsec[httpx]``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, AsyncGenerator, Generator, List, Tuple

if TYPE_CHECKING:
    from .client import ClientCredentials

__all__ = ["BearerAuth"]


def _bases() -> Tuple[type, ...]:
    bases: List[type] = []
    try:
        import httpx

        bases.append(httpx.Auth)
    except ImportError:
        pass
    try:
        from requests.auth import AuthBase

        bases.append(AuthBase)
    except ImportError:
        pass
    return tuple(bases) or (object,)


class BearerAuth(*_bases()):  # type: ignore[misc]
    """Bearer-token auth for ``requests`` and ``httpx``; on a 401, what the core's
    ``on_unauthorized`` says (one retry with a fresh token)."""

    requires_request_body = False
    requires_response_body = False

    def __init__(self, client: "ClientCredentials") -> None:
        self._client = client

    def __repr__(self) -> str:
        return f"BearerAuth({self._client!r})"

    def _retry(self, token: str, response: Any, retries: int) -> bool:
        """Whether to resend after ``response`` (the token is then already dropped)."""
        if response.status_code != 401:
            return False
        return self._client.on_unauthorized(token, response.headers.get("WWW-Authenticate"), retries)

    # ----- requests -----

    def __call__(self, r: Any) -> Any:
        token = self._client.get_token()
        r.headers["Authorization"] = token.authorization
        r._authsec_token = token.access_token
        r._authsec_retries = 0
        try:
            r._authsec_body_pos = r.body.tell()
        except AttributeError:
            r._authsec_body_pos = None
        r.register_hook("response", self._requests_on_response)
        return r

    def _requests_on_response(self, response: Any, **kwargs: Any) -> Any:
        request = response.request
        body = request.body
        position = getattr(request, "_authsec_body_pos", None)
        if position is None and body is not None and not isinstance(body, (bytes, str)):
            return response  # a one-shot stream cannot be sent twice
        retries = getattr(request, "_authsec_retries", 0)
        if not self._retry(getattr(request, "_authsec_token", ""), response, retries):
            return response
        if position is not None:
            body.seek(position)  # a file body: rewind it for the retry
        token = self._client.get_token()
        response.content  # read and release the connection for reuse
        response.close()
        retry = request.copy()
        retry.headers["Authorization"] = token.authorization
        retry._authsec_token = token.access_token
        retry._authsec_retries = retries + 1
        retry._authsec_body_pos = position
        again = response.connection.send(retry, **kwargs)
        again.history.append(response)
        again.request = retry
        return again

    # ----- httpx -----

    def sync_auth_flow(self, request: Any) -> Generator[Any, Any, None]:
        token = self._client.get_token()
        request.headers["Authorization"] = token.authorization
        response = yield request
        retries = 0
        while self._retry(token.access_token, response, retries):
            retries += 1
            token = self._client.get_token()
            request.headers["Authorization"] = token.authorization
            response = yield request

    async def async_auth_flow(self, request: Any) -> AsyncGenerator[Any, Any]:
        token = await self._client.get_token_async()
        request.headers["Authorization"] = token.authorization
        response = yield request
        retries = 0
        while self._retry(token.access_token, response, retries):
            retries += 1
            token = await self._client.get_token_async()
            request.headers["Authorization"] = token.authorization
            response = yield request
