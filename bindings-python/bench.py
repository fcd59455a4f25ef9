#!/usr/bin/env python3
"""authsec benchmarks, in one run with the same keys and tokens as every other language.

Every library verifies the shared corpus (``scripts/bench-corpus.sh``: 2,000 first-sight tokens per
algorithm, signed by one key per algorithm; the same tokens the core's ``bench-core`` and the
Node.js and Go benchmarks use), checking the signature (algorithm pinned), ``exp``, ``iss``,
``aud`` and the ``read:data`` scope:

* ``first``: each token verified once, one at a time (authsec: a fresh verifier per round, so
  every token really is new to it);
* ``first_concurrent``: the same with 2 threads (wall time ÷ tokens);
* ``repeated``: one token again and again (authsec answers from its verified-token cache);
* against PyJWT (the public key parsed once, as its docs recommend), PyJWT with ``PyJWKClient``
  (keys from a ``jwks_uri``, as a resource server gets them; authsec with ``jwks_uri`` beside it),
  joserfc and ``authlib.jose``;
* a cached ``get_token()`` against the docs' ``TokenManager`` pattern (a lock and ``time.time()``)
  and Authlib's ``OAuth2Session`` (``ensure_active_token()`` then ``token["access_token"]``).

Run it from a virtual environment with the release build of authsec and the bench extras::

    python3 -m venv /tmp/bench && /tmp/bench/bin/pip install "./bindings-python[bench]" ./bindings-python/testing
    /tmp/bench/bin/python bindings-python/bench.py            # --quick for a fast, noisier run

Timings are the best of several rounds (the usual microbenchmark convention: the minimum is the
run least disturbed by the rest of the machine). When the core's ``bench-core`` is built
(``target/release``), one of its rounds on the same tokens runs after each of authsec's
first-sight rounds, so "authsec ÷ core" compares timings from the same minutes. Besides the tables
it prints ``RESULT`` lines that ``scripts/bench-report.py`` reads.
"""

from __future__ import annotations

import argparse
import http.server
import json
import os
import pathlib
import platform
import subprocess
import threading
import time
import warnings
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import authlib
import authsec
import cryptography
import joserfc
import jwt as pyjwt
from authlib.integrations.requests_client import OAuth2Session
from authlib.jose import JsonWebKey as AuthlibJWK
from authlib.jose import JsonWebToken as AuthlibJWT
from authsec.testing import LocalAuthServer
from cryptography.hazmat.primitives import serialization
from joserfc import jwt as jose_jwt
from joserfc.jwk import KeySet as JoseKeySet

ROOT = pathlib.Path(__file__).resolve().parents[1]
ALGS = ("RS256", "ES256", "EdDSA")
SCOPE = "read:data"


def load_corpus() -> dict:
    path = subprocess.run(
        [str(ROOT / "scripts" / "bench-corpus.sh")], check=True, capture_output=True, text=True
    ).stdout.strip()
    corpus = json.loads(pathlib.Path(path).read_text())
    corpus["path"] = path
    return corpus


CORE = ROOT / "target" / "release" / "bench-core"


def core_round(corpus: dict, alg: str, n: int) -> Optional[Callable[[], float]]:
    """One first-sight round of the core's native verify on the same tokens (``bench-core --round``,
    seconds per token), or None when ``bench-core`` isn't built."""
    if not CORE.exists() or os.environ.get("AUTHSEC_BENCH_NO_CORE"):
        return None
    cmd = [str(CORE), corpus["path"], "--round", alg, "--tokens", str(n)]
    return lambda: float(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout) / 1e6


def best_paired(run: Callable[[], int], rounds: int, core: Optional[Callable[[], float]]) -> Tuple[float, Optional[float]]:
    """`best_per_op(run, rounds)`, with one of the core's rounds after each of `run`'s: both bests
    come from the same minutes, so their ratio doesn't follow the machine's drift."""
    best, core_best = float("inf"), float("inf")
    for _ in range(rounds):
        best = min(best, best_per_op(run, 1))
        if core is not None:
            core_best = min(core_best, core())
    return best, (core_best if core is not None else None)


def best_per_op(run: Callable[[], int], rounds: int) -> float:
    """Seconds per operation: `run()` does some operations and returns how many; best round."""
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        n = run()
        best = min(best, (time.perf_counter() - start) / n)
    return best


def in_threads(tokens: Sequence[str], verify: Callable[[str], object], threads: int = 2) -> int:
    """Verify `tokens` split across `threads` threads; returns how many."""
    parts = [tokens[i::threads] for i in range(threads)]
    workers = [threading.Thread(target=lambda p=p: [verify(t) for t in p]) for p in parts]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    return len(tokens)


class JwksServer:
    """The corpus's JWKS on 127.0.0.1, for the ``jwks_uri`` regime (authsec and PyJWKClient)."""

    def __init__(self, jwks: dict) -> None:
        body = json.dumps(jwks).encode()

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self._httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.uri = f"http://127.0.0.1:{self._httpd.server_address[1]}/jwks.json"
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    def __enter__(self) -> "JwksServer":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)


def bench_verify(corpus: dict, alg: str, jwks_uri: str, n_first: int, n_repeat: int, rounds: int) -> Dict[str, float]:
    case = corpus["algs"][alg]
    tokens: List[str] = case["tokens"][:n_first]
    one: str = case["repeated"]
    iss, aud, jwks = corpus["issuer"], corpus["audience"], corpus["jwks"]

    def has_scope(claims: dict) -> None:
        if SCOPE not in str(claims.get("scope", "")).split():
            raise AssertionError("scope missing")

    # authsec with the key set given (jwks) and fetched (jwks_uri, fetched before timing).
    def authsec_verifier(uri: bool) -> "authsec.Verifier":
        if uri:
            v = authsec.Verifier(issuer=iss, audience=aud, jwks_uri=jwks_uri, algorithms=[alg], allow_insecure_http=True)
            v.verify(one, [SCOPE])  # the JWKS fetch, outside the timing
            return v
        return authsec.Verifier(issuer=iss, audience=aud, jwks=jwks, algorithms=[alg])

    def authsec_first(uri: bool, threads: int = 1) -> Callable[[], int]:
        def run() -> int:
            verify = authsec_verifier(uri).verify
            if threads > 1:
                return in_threads(tokens, lambda t: verify(t, [SCOPE]), threads)
            for t in tokens:
                verify(t, [SCOPE])
            return len(tokens)

        return run

    cached = authsec_verifier(False)
    cached.verify(one, [SCOPE])

    def authsec_repeat() -> int:
        verify = cached.verify
        for _ in range(n_repeat):
            verify(one, [SCOPE])
        return n_repeat

    # PyJWT with cryptography: the public key parsed once, as its docs recommend.
    public = serialization.load_pem_public_key(case["public_pem"].encode())
    opts = {"require": ["exp", "iss", "aud"]}

    def pyjwt_verify(t: str) -> None:
        has_scope(pyjwt.decode(t, public, algorithms=[alg], audience=aud, issuer=iss, options=opts))

    # PyJWT with PyJWKClient: the key set fetched once and cached, the key found by kid per token.
    def pyjwk_client() -> "pyjwt.PyJWKClient":
        c = pyjwt.PyJWKClient(jwks_uri, cache_jwk_set=True, lifespan=3600)
        c.get_signing_key_from_jwt(one)  # the JWKS fetch, outside the timing
        return c

    def pyjwk_verify(client: "pyjwt.PyJWKClient", t: str) -> None:
        key = client.get_signing_key_from_jwt(t)
        has_scope(pyjwt.decode(t, key.key, algorithms=[alg], audience=aud, issuer=iss, options=opts))

    # joserfc: the key set imported once; claims validated with its registry.
    keyset = JoseKeySet.import_key_set(jwks)
    registry = jose_jwt.JWTClaimsRegistry(
        iss={"essential": True, "value": iss}, aud={"essential": True, "value": aud}, exp={"essential": True}
    )

    def joserfc_verify(t: str) -> None:
        claims = jose_jwt.decode(t, keyset, algorithms=[alg]).claims
        registry.validate(claims)
        has_scope(claims)

    # authlib.jose: the key set imported once, claims validated with claims_options.
    authlib_keys = AuthlibJWK.import_key_set(jwks)
    authlib_jwt = AuthlibJWT([alg])
    claims_options = {"iss": {"essential": True, "value": iss}, "aud": {"essential": True, "value": aud}, "exp": {"essential": True}}

    def authlib_verify(t: str) -> None:
        claims = authlib_jwt.decode(t, authlib_keys, claims_options=claims_options)
        claims.validate()
        has_scope(claims)

    def loop(verify: Callable[[str], None], threads: int = 1) -> Callable[[], int]:
        def run() -> int:
            if threads > 1:
                return in_threads(tokens, verify, threads)
            for t in tokens:
                verify(t)
            return len(tokens)

        return run

    def repeat(verify: Callable[[str], None]) -> Callable[[], int]:
        m = max(1, n_first // 2)

        def run() -> int:
            for _ in range(m):
                verify(one)
            return m

        return run

    # Sanity: every library accepts the tokens and agrees on the subject.
    assert cached.verify(one).subject == "bench-agent"
    client = pyjwk_client()
    for verify in (pyjwt_verify, lambda t: pyjwk_verify(client, t), joserfc_verify, authlib_verify):
        verify(one)
    assert authsec_verifier(True).verify(one).subject == "bench-agent"

    first, core_first = best_paired(authsec_first(False), rounds, core_round(corpus, alg, len(tokens)))
    r: Dict[str, float] = {
        "authsec:first": first,
        "authsec:first_concurrent": best_per_op(authsec_first(False, threads=2), rounds),
        "authsec:repeated": best_per_op(authsec_repeat, rounds),
        "authsec-jwks-uri:first": best_per_op(authsec_first(True), rounds),
        "pyjwt:first": best_per_op(loop(pyjwt_verify), rounds),
        "pyjwt:first_concurrent": best_per_op(loop(pyjwt_verify, threads=2), rounds),
        "pyjwt:repeated": best_per_op(repeat(pyjwt_verify), rounds),
        "joserfc:first": best_per_op(loop(joserfc_verify), rounds),
        "joserfc:first_concurrent": best_per_op(loop(joserfc_verify, threads=2), rounds),
        "authlib:first": best_per_op(loop(authlib_verify), rounds),
        "authlib:first_concurrent": best_per_op(loop(authlib_verify, threads=2), rounds),
    }

    def pyjwk_first(threads: int = 1) -> Callable[[], int]:
        def run() -> int:
            c = pyjwk_client()
            return loop(lambda t: pyjwk_verify(c, t), threads)()

        return run

    r["pyjwt-jwkclient:first"] = best_per_op(pyjwk_first(), rounds)
    r["pyjwt-jwkclient:first_concurrent"] = best_per_op(pyjwk_first(threads=2), rounds)
    if core_first is not None:
        r["core-paired:first"] = core_first
    return r


class TokenManager:
    """The product docs' pattern: a lock, `time.time()`, refresh 300 s before expiry."""

    def __init__(self, fetch: Callable[[], Dict[str, object]], buffer: float = 300) -> None:
        self._fetch = fetch
        self._buffer = buffer
        self._lock = threading.Lock()
        self._token = None
        self._expires_at = 0.0

    def get_token(self) -> str:
        with self._lock:
            if self._token is None or time.time() >= self._expires_at - self._buffer:
                response = self._fetch()
                self._token = response["access_token"]
                self._expires_at = time.time() + float(response["expires_in"])
            return self._token


def bench_get_token(n: int, rounds: int) -> Dict[str, float]:
    spec = {"client_id": "bench-agent", "client_secret": "bench-secret", "allowed_scopes": ["read:data"]}
    with LocalAuthServer(clients=[spec]) as server:
        client = server.client()
        client.get_token()
        # Authlib's client-credentials session: the token fetched once, then ensure_active_token()
        # checks its expiry (and would fetch a new one) before each use.
        session = OAuth2Session(
            spec["client_id"],
            spec["client_secret"],
            token_endpoint=server.token_endpoint,
            scope="read:data",
            grant_type="client_credentials",
        )
        session.fetch_token(grant_type="client_credentials")

        first = client.get_token()
        manager = TokenManager(lambda: {"access_token": first.access_token, "expires_in": 3600})
        manager.get_token()

        def authsec_get() -> int:
            get = client.get_token
            for _ in range(n):
                get()
            return n

        def authsec_get_str() -> int:
            get = client.get_token
            for _ in range(n):
                get().access_token
            return n

        def manager_get() -> int:
            get = manager.get_token
            for _ in range(n):
                get()
            return n

        def authlib_get() -> int:
            ensure, sess = session.ensure_active_token, session
            for _ in range(n):
                ensure()
                sess.token["access_token"]
            return n

        def empty_loop() -> int:
            for _ in range(n):
                pass
            return n

        return {
            "authsec": best_per_op(authsec_get, rounds),
            "authsec_access_token": best_per_op(authsec_get_str, rounds),
            "token_manager": best_per_op(manager_get, rounds),
            "authlib": best_per_op(authlib_get, rounds),
            "loop": best_per_op(empty_loop, rounds),
        }


def fmt(seconds: float) -> str:
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.2f} ms"
    if seconds >= 1e-6:
        return f"{seconds * 1e6:.1f} µs"
    return f"{seconds * 1e9:.0f} ns"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="fewer tokens and rounds (noisier)")
    ap.add_argument("--json", type=pathlib.Path, help="also write the raw numbers here")
    args = ap.parse_args()
    n_first, n_repeat, rounds, n_get = (500, 20_000, 2, 200_000) if args.quick else (2000, 200_000, 5, 1_000_000)
    warnings.simplefilter("ignore")  # joserfc and authlib warn about EdDSA (RFC 9864) and authlib.jose

    corpus = load_corpus()
    print(
        f"authsec {authsec.__version__} | PyJWT {pyjwt.__version__} | cryptography {cryptography.__version__} | "
        f"joserfc {joserfc.__version__} | Authlib {authlib.__version__} | Python {platform.python_version()} | "
        f"{platform.machine()}, {os.cpu_count()} cores"
    )
    results: Dict[str, Dict[str, float]] = {}
    with JwksServer(corpus["jwks"]) as jwks_server:
        for alg in ALGS:
            results[alg] = bench_verify(corpus, alg, jwks_server.uri, n_first, n_repeat, rounds)
    results["get_token"] = bench_get_token(n_get, rounds)

    peers = ("pyjwt", "pyjwt-jwkclient", "joserfc", "authlib")
    print()
    print("First sight, one at a time (2 threads in brackets); peer ÷ authsec, so above 1 means authsec is faster:")
    print()
    print("| alg | authsec | authsec (jwks_uri) | PyJWT | PyJWT + PyJWKClient | joserfc | authlib.jose | slowest ratio |")
    print("|---|---|---|---|---|---|---|---|")
    for alg in ALGS:
        r = results[alg]
        ours = r["authsec:first"]
        cells = [f"{fmt(r[p + ':first'])} ({r[p + ':first'] / ours:.1f}×)" for p in peers]
        worst = min(r[p + ":first"] / ours for p in peers)
        print(
            f"| {alg} | {fmt(ours)} [{fmt(r['authsec:first_concurrent'])}] | {fmt(r['authsec-jwks-uri:first'])} "
            f"| {' | '.join(cells)} | {worst:.1f}× |"
        )
    paired = [(alg, results[alg]["authsec:first"], results[alg].get("core-paired:first")) for alg in ALGS]
    if all(core for _, _, core in paired):
        print("\nauthsec ÷ the core's native verify, rounds interleaved: "
              + ", ".join(f"{alg} {fmt(ours)} ÷ {fmt(core)} = {ours / core:.2f}×" for alg, ours, core in paired))
    print()
    print("| alg | authsec repeated | PyJWT repeated | ratio |")
    print("|---|---|---|---|")
    for alg in ALGS:
        r = results[alg]
        print(f"| {alg} | {fmt(r['authsec:repeated'])} | {fmt(r['pyjwt:repeated'])} | {r['pyjwt:repeated'] / r['authsec:repeated']:.0f}× |")
    g = results["get_token"]
    print()
    print("| cached token | per call | vs TokenManager | vs Authlib |")
    print("|---|---|---|---|")
    print(f"| authsec `client.get_token()` | {fmt(g['authsec'])} | {g['token_manager'] / g['authsec']:.1f}× | {g['authlib'] / g['authsec']:.1f}× |")
    print(
        f"| authsec `client.get_token().access_token` | {fmt(g['authsec_access_token'])} "
        f"| {g['token_manager'] / g['authsec_access_token']:.1f}× | {g['authlib'] / g['authsec_access_token']:.1f}× |"
    )
    print(f"| docs' `TokenManager.get_token()` (lock + `time.time()`) | {fmt(g['token_manager'])} | 1.0× | |")
    print(f"| Authlib `OAuth2Session.ensure_active_token()` + `token['access_token']` | {fmt(g['authlib'])} | | 1.0× |")
    print(f"\n(an empty Python loop iteration costs {fmt(g['loop'])}; it is included in every figure)")

    print()
    for alg in ALGS:
        for key, seconds in results[alg].items():
            lib, regime = key.split(":")
            print(f"RESULT lang=python lib={lib} regime={regime} alg={alg} value={seconds * 1e6:.4f} unit=us")
    for lib, key in (("authsec", "authsec"), ("token-manager", "token_manager"), ("authlib", "authlib")):
        print(f"RESULT lang=python lib={lib} regime=cached_token alg=- value={g[key] * 1e9:.1f} unit=ns")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
