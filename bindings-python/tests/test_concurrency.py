"""Many callers at once: 200 threads and 200 asyncio tasks asking for a token at expiry cause
exactly one token request (the core's single flight); the interpreter lock is released while
waiting for the network; the event loop is never blocked."""

from __future__ import annotations

import asyncio
import threading
import time
from typing import List

import pytest

import authsec
from authsec.testing import LocalAuthServer, ManualClock
from conftest import http_server, json_response

N = 200
LIFETIME = 3600


@pytest.fixture
def clocked():
    clock = ManualClock()
    with LocalAuthServer(token_lifetime=LIFETIME, _clock=clock) as server:
        yield server, clock


def run_threads(fn, n: int = N) -> List[object]:
    barrier = threading.Barrier(n)
    results: List[object] = [None] * n
    errors: List[BaseException] = []

    def worker(i: int) -> None:
        try:
            barrier.wait(timeout=30)
            results[i] = fn()
        except BaseException as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors, errors[:3]
    assert all(not t.is_alive() for t in threads)
    return results


def issued(server: LocalAuthServer) -> int:
    return sum(1 for e in server.audit_events() if e.get("event") == "token" and e.get("outcome") == "success")


def test_threads_at_expiry_cause_one_request(clocked) -> None:
    server, clock = clocked
    client = server.client()
    first = client.get_token()
    assert client._request_count == 1
    clock.advance(LIFETIME + 1)  # expired: nobody may be handed the old token
    tokens = run_threads(client.get_token)
    assert client._request_count == 2, "200 threads at expiry must cause exactly one token request"
    assert issued(server) == 2
    assert len({t.access_token for t in tokens}) == 1
    assert tokens[0].access_token != first.access_token
    assert all(t is tokens[0] for t in tokens)


def test_threads_in_the_refresh_window_cause_one_request(clocked) -> None:
    server, clock = clocked
    client = server.client()  # refresh buffer 300 s: refresh from exp - 300 s on
    first = client.get_token()
    clock.advance(LIFETIME - 200)
    tokens = run_threads(client.get_token)
    # The refresh runs in the background; callers meanwhile get the still-valid token at once.
    deadline = time.monotonic() + 10
    while client.get_token().access_token == first.access_token and time.monotonic() < deadline:
        time.sleep(0.01)
    fresh = client.get_token().access_token
    assert fresh != first.access_token
    assert client._request_count == 2, "200 threads in the refresh window must cause exactly one request"
    assert {t.access_token for t in tokens} <= {first.access_token, fresh}


def test_tasks_at_expiry_cause_one_request(clocked) -> None:
    server, clock = clocked
    client = server.client()
    client.get_token()
    clock.advance(LIFETIME + 1)

    async def main() -> list:
        return await asyncio.gather(*(client.get_token_async() for _ in range(N)))

    tokens = asyncio.run(main())
    assert client._request_count == 2, "200 tasks at expiry must cause exactly one token request"
    assert len({t.access_token for t in tokens}) == 1


def test_threads_and_tasks_together(clocked) -> None:
    server, clock = clocked
    client = server.client()
    client.get_token()
    clock.advance(LIFETIME + 1)

    async def tasks() -> list:
        return await asyncio.gather(*(client.get_token_async() for _ in range(50)))

    results: list = []
    loop_thread = threading.Thread(target=lambda: results.extend(asyncio.run(tasks())))
    loop_thread.start()
    results.extend(run_threads(client.get_token, 50))
    loop_thread.join(timeout=60)
    assert client._request_count == 2
    assert len({t.access_token for t in results}) == 1


def slow_token_endpoint(delay: float):
    def handle(method, path, headers, body):
        time.sleep(delay)
        return json_response(200, {"access_token": "opaque-token-value", "token_type": "Bearer", "expires_in": 3600})

    return http_server(handle)


def test_the_gil_is_released_while_waiting_for_the_network() -> None:
    # The token endpoint is Python code in this process: it can only answer if get_token()
    # released the interpreter lock while waiting for it.
    with slow_token_endpoint(0.3) as url:
        client = authsec.ClientCredentials(client_id="a", client_secret="s", token_url=url + "/token")
        ticks = 0
        stop = threading.Event()

        def count() -> None:
            nonlocal ticks
            while not stop.is_set():
                ticks += 1
                time.sleep(0.005)

        counter = threading.Thread(target=count)
        counter.start()
        try:
            assert client.get_token().access_token == "opaque-token-value"
        finally:
            stop.set()
            counter.join()
        assert ticks >= 20


def test_async_never_blocks_the_event_loop() -> None:
    with slow_token_endpoint(0.3) as url:
        client = authsec.ClientCredentials(client_id="a", client_secret="s", token_url=url + "/token")

        async def main() -> int:
            ticks = 0
            done = False

            async def ticker() -> None:
                nonlocal ticks
                while not done:
                    ticks += 1
                    await asyncio.sleep(0.005)

            t = asyncio.ensure_future(ticker())
            token = await asyncio.wait_for(client.get_token_async(), timeout=10)
            done = True
            await t
            assert token.access_token == "opaque-token-value"
            return ticks

        assert asyncio.run(main()) >= 20


def test_cancelled_await_leaves_the_client_usable() -> None:
    with slow_token_endpoint(0.3) as url:
        client = authsec.ClientCredentials(client_id="a", client_secret="s", token_url=url + "/token")

        async def main() -> None:
            with pytest.raises(asyncio.TimeoutError):
                await asyncio.wait_for(client.get_token_async(), timeout=0.05)
            token = await asyncio.wait_for(client.get_token_async(), timeout=10)
            assert token.access_token == "opaque-token-value"

        asyncio.run(main())
        assert client._request_count == 1  # the cancelled wait did not start a second request


def test_verifier_and_client_shared_across_threads(authsec_server) -> None:
    client = authsec_server.client(scopes=["read:data"])
    verifier = authsec_server.verifier()
    fresh = [authsec_server.token() for _ in range(8)]

    def work() -> str:
        token = client.get_token().access_token
        for t in fresh:
            assert verifier.verify(t, ["read:data"]).subject == "test-client"
        return verifier.verify(token, "read:data").subject

    assert set(run_threads(work, 16)) == {"test-client"}
    assert client._request_count == 1
