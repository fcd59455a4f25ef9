"""``BearerAuth``: an auth for ``requests`` and ``httpx`` (sync and async clients).

It sends the client's cached token with the headers ``ClientCredentials.authorize`` gives
(``Authorization: Bearer <token>``; for a DPoP-bound token ``Authorization: DPoP <token>`` and a
fresh ``DPoP`` proof, RFC 9449), and hands every answer to
``ClientCredentials.on_resource_response`` (the core's rule: keep the server's ``DPoP-Nonce``; on a
401 resend once, with the same token after a nonce challenge, else with a fresh one, unless the
resource says a scope is missing, which a fresh token would not fix)::

    auth = client.auth()
    requests.get(url, auth=auth)
    httpx.get(url, auth=auth)
    async with httpx.AsyncClient(auth=auth) as http: await http.get(url)

``requests`` and ``httpx`` are optional: install ``authsec[requests]`` or ``authsec[httpx]``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, AsyncGenerator, Generator, List, Tuple

if TYPE_CHECKING:
    from .client import ClientCredentials, Token

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
    """Token auth for ``requests`` and ``httpx``: each attempt carries the headers
    ``ClientCredentials.authorize`` gives (``Bearer``, or ``DPoP`` with a fresh proof), each answer
    goes to ``ClientCredentials.on_resource_response`` (the core's rule), and the request is sent
    again at most once when it says so."""

    requires_request_body = False
    requires_response_body = False

    def __init__(self, client: "ClientCredentials") -> None:
        self._client = client

    def __repr__(self) -> str:
        return f"BearerAuth({self._client!r})"

    def _authorize(self, token: "Token", request: Any) -> None:
        for name, value in self._client.authorize(token, request.method, str(request.url)):
            request.headers[name] = value

    # ----- requests -----

    def __call__(self, r: Any) -> Any:
        token = self._client.get_token()
        self._authorize(token, r)
        r._authsec_token = token.access_token
        r._authsec_retries = 0
        try:
            r._authsec_body_pos = r.body.tell()
        except AttributeError:
            r._authsec_body_pos = None
        r.register_hook("response", self._requests_on_response)
        return r

    def _requests_answered(self, response: Any) -> bool:
        """The core's answer about a ``requests`` response: whether to resend."""
        request = response.request
        token = getattr(request, "_authsec_token", "")
        retries = getattr(request, "_authsec_retries", 0)
        return self._client.on_resource_response(
            request.url, token, response.status_code, response.headers.items(), retries
        )

    def _requests_on_response(self, response: Any, **kwargs: Any) -> Any:
        if not self._requests_answered(response):
            return response
        request = response.request
        body = request.body
        position = getattr(request, "_authsec_body_pos", None)
        if position is None and body is not None and not isinstance(body, (bytes, str)):
            return response  # a one-shot stream cannot be sent twice
        if position is not None:
            body.seek(position)  # a file body: rewind it for the retry
        token = self._client.get_token()
        response.content  # read and release the connection for reuse
        response.close()
        retry = request.copy()
        self._authorize(token, retry)
        retry._authsec_token = token.access_token
        retry._authsec_retries = request._authsec_retries + 1
        retry._authsec_body_pos = position
        again = response.connection.send(retry, **kwargs)
        again.history.append(response)
        again.request = retry
        self._requests_answered(again)  # its DPoP-Nonce; never a second retry
        return again

    # ----- httpx -----

    def sync_auth_flow(self, request: Any) -> Generator[Any, Any, None]:
        token = self._client.get_token()
        self._authorize(token, request)
        response = yield request
        retries = 0
        while self._httpx_answered(token, response, retries):
            retries += 1
            token = self._client.get_token()
            self._authorize(token, request)
            response = yield request

    async def async_auth_flow(self, request: Any) -> AsyncGenerator[Any, Any]:
        token = await self._client.get_token_async()
        self._authorize(token, request)
        response = yield request
        retries = 0
        while self._httpx_answered(token, response, retries):
            retries += 1
            token = await self._client.get_token_async()
            self._authorize(token, request)
            response = yield request

    def _httpx_answered(self, token: "Token", response: Any, retries: int) -> bool:
        """The core's answer about an ``httpx`` response: whether to resend."""
        url = str(response.request.url)
        return self._client.on_resource_response(
            url, token.access_token, response.status_code, response.headers.multi_items(), retries
        )
