"""Shared helpers: the repository's test vectors and keys, and tiny HTTP servers on 127.0.0.1."""

from __future__ import annotations

import contextlib
import json
import pathlib
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable, Dict, Iterator, Tuple

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
VECTORS = ROOT / "tests" / "vectors"
KEYS: Dict[str, dict] = json.loads((VECTORS / "keys.json").read_text())["keys"]

# (method, path, headers, body) -> (status, headers, body)
Handler = Callable[[str, str, Dict[str, str], bytes], Tuple[int, Dict[str, str], bytes]]


@contextlib.contextmanager
def http_server(handle: Handler) -> Iterator[str]:
    """A threaded HTTP server on 127.0.0.1 (ephemeral port) answering with `handle`; yields its URL."""

    class H(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            status, headers, payload = handle(self.command, self.path, dict(self.headers), body)
            self.send_response(status)
            for k, v in headers.items():
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), H)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()


def json_response(status: int, doc: object, headers: Dict[str, str] = None) -> Tuple[int, Dict[str, str], bytes]:
    h = {"Content-Type": "application/json", "Cache-Control": "no-store"}
    h.update(headers or {})
    return status, h, json.dumps(doc).encode()


@pytest.fixture
def keys() -> Dict[str, dict]:
    return KEYS


@contextlib.contextmanager
def asgi_server(app: object) -> Iterator[str]:
    """uvicorn serving `app` on 127.0.0.1 (ephemeral port) in a thread; yields its URL."""
    import socket
    import time

    import uvicorn

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", timeout_graceful_shutdown=2))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
