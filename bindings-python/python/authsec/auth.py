"""``BearerAuth``: an auth for ``requests`` and ``httpx`` (sync and async clients).

It sends ``Authorization: Bearer <token>`` with the client's cached token and, when the resource
answers 401, drops that token from the cache and retries the request once with a fresh one::

    auth = client.auth()
    requests.get(url, auth=auth)
    httpx.get(url, auth=auth)
    async with httpx.AsyncClient(auth=auth) as http: await http.get(url)

``requests`` and ``httpx`` are optional: install ``authsec[requests]`` or ``authsec[httpx]``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, AsyncGenerator, Generator, List, Tuple

if TYPE_CHECKING:
    from ._native import ClientCredentials

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
    """Bearer-token auth for ``requests`` and ``httpx``, retrying once on 401."""

    requires_request_body = False
    requires_response_body = False

    def __init__(self, client: "ClientCredentials") -> None:
        self._client = client

    def __repr__(self) -> str:
        return f"BearerAuth({self._client!r})"

    # ----- requests -----

    def __call__(self, r: Any) -> Any:
        token = self._client.get_token()
        r.headers["Authorization"] = token.authorization
        r._authsec_token = token.access_token
        try:
            r._authsec_body_pos = r.body.tell()
        except AttributeError:
            r._authsec_body_pos = None
        r.register_hook("response", self._requests_retry_on_401)
        return r

    def _requests_retry_on_401(self, response: Any, **kwargs: Any) -> Any:
        request = response.request
        if response.status_code != 401 or getattr(request, "_authsec_retried", False):
            return response
        body = request.body
        position = getattr(request, "_authsec_body_pos", None)
        if position is not None:
            body.seek(position)  # a file body: rewind it for the retry
        elif body is not None and not isinstance(body, (bytes, str)):
            return response  # a one-shot stream cannot be sent twice
        self._client.invalidate_token(getattr(request, "_authsec_token", ""))
        token = self._client.get_token()
        response.content  # read and release the connection for reuse
        response.close()
        retry = request.copy()
        retry.headers["Authorization"] = token.authorization
        retry._authsec_token = token.access_token
        retry._authsec_retried = True
        again = response.connection.send(retry, **kwargs)
        again.history.append(response)
        again.request = retry
        return again

    # ----- httpx -----

    def sync_auth_flow(self, request: Any) -> Generator[Any, Any, None]:
        token = self._client.get_token()
        request.headers["Authorization"] = token.authorization
        response = yield request
        if response.status_code == 401:
            self._client.invalidate_token(token.access_token)
            token = self._client.get_token()
            request.headers["Authorization"] = token.authorization
            yield request

    async def async_auth_flow(self, request: Any) -> AsyncGenerator[Any, Any]:
        token = await self._client.get_token_async()
        request.headers["Authorization"] = token.authorization
        response = yield request
        if response.status_code == 401:
            self._client.invalidate_token(token.access_token)
            token = await self._client.get_token_async()
            request.headers["Authorization"] = token.authorization
            yield request
