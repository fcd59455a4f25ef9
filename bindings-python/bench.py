#!/usr/bin/env python3
"""authsec benchmarks, in one run with the same keys and tokens.

* ``verify`` per algorithm (RS256, ES256, EdDSA): authsec first sight (a token it has not seen)
  and repeated (the same token again, from the verified-token cache), against PyJWT (with
  ``cryptography``) and joserfc. Every library checks the signature, ``exp``, ``iss`` and ``aud``.
* a cached ``get_token()`` against the docs' own ``TokenManager`` pattern (a lock and
  ``time.time()``).

Run it from a virtual environment with the release build of authsec and the bench extras::

    python3 -m venv /tmp/bench && /tmp/bench/bin/pip install "./bindings-python[bench]" ./bindings-python/testing
    /tmp/bench/bin/python bindings-python/bench.py            # --quick for a fast, noisier run

Timings are the best of several rounds (the usual microbenchmark convention: the minimum is the
run least disturbed by the rest of the machine).
"""

from __future__ import annotations

import argparse
import json
import pathlib
import platform
import threading
import time
import uuid
import warnings
from typing import Callable, Dict, List

import authsec
import cryptography
import joserfc
import jwt as pyjwt
from authsec.testing import LocalAuthServer
from cryptography.hazmat.primitives import serialization
from joserfc import jwt as jose_jwt
from joserfc.jwk import KeySet as JoseKeySet

ROOT = pathlib.Path(__file__).resolve().parents[1]
KEYS = json.loads((ROOT / "tests" / "vectors" / "keys.json").read_text())["keys"]
ISS = "https://issuer.example"
AUD = "https://api.example"
ALGS = {"RS256": "rsa-a", "ES256": "p256-a", "EdDSA": "ed25519-a"}


def best_per_op(run: Callable[[], int], rounds: int) -> float:
    """Seconds per operation: `run()` does some operations and returns how many; best round."""
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        n = run()
        best = min(best, (time.perf_counter() - start) / n)
    return best


def make_tokens(alg: str, n: int) -> List[str]:
    key = serialization.load_pem_private_key(KEYS[ALGS[alg]]["private_pem"].encode(), password=None)
    now = int(time.time())
    out = []
    for i in range(n):
        claims = {
            "iss": ISS,
            "aud": AUD,
            "sub": "svc-reporting",
            "client_id": "svc-reporting",
            "iat": now - 10,
            "exp": now + 3600,
            "jti": uuid.uuid4().hex,
            "scope": "read:data write:logs",
        }
        out.append(pyjwt.encode(claims, key, algorithm=alg, headers={"kid": ALGS[alg], "typ": "at+jwt"}))
    return out


def bench_verify(alg: str, n_first: int, n_repeat: int, rounds: int) -> Dict[str, float]:
    tokens = make_tokens(alg, n_first)
    jwks = {"keys": [KEYS[name]["public_jwk"] for name in ALGS.values()]}

    # authsec: a fresh verifier per round, so every token is seen for the first time.
    def authsec_first() -> int:
        v = authsec.Verifier(issuer=ISS, audience=AUD, jwks=jwks)
        for t in tokens:
            v.verify(t)
        return len(tokens)

    v = authsec.Verifier(issuer=ISS, audience=AUD, jwks=jwks)
    one = tokens[0]
    v.verify(one)

    def authsec_repeat() -> int:
        verify = v.verify
        for _ in range(n_repeat):
            verify(one)
        return n_repeat

    # PyJWT with cryptography: the public key parsed once, as its docs recommend.
    public = serialization.load_pem_public_key(KEYS[ALGS[alg]]["public_pem"].encode())
    opts = {"require": ["exp", "iss", "aud"]}

    def pyjwt_first() -> int:
        for t in tokens:
            pyjwt.decode(t, public, algorithms=[alg], audience=AUD, issuer=ISS, options=opts)
        return len(tokens)

    def pyjwt_repeat() -> int:
        m = max(1, n_first // 2)
        for _ in range(m):
            pyjwt.decode(one, public, algorithms=[alg], audience=AUD, issuer=ISS, options=opts)
        return m

    # joserfc: the key set imported once; claims validated with its registry.
    keyset = JoseKeySet.import_key_set(jwks)
    registry = jose_jwt.JWTClaimsRegistry(
        iss={"essential": True, "value": ISS}, aud={"essential": True, "value": AUD}, exp={"essential": True}
    )

    def jose_first() -> int:
        for t in tokens:
            registry.validate(jose_jwt.decode(t, keyset, algorithms=[alg]).claims)
        return len(tokens)

    # Sanity: all three accept the tokens and agree on the subject.
    assert v.verify(one).subject == "svc-reporting"
    assert pyjwt.decode(one, public, algorithms=[alg], audience=AUD, issuer=ISS)["sub"] == "svc-reporting"
    assert jose_jwt.decode(one, keyset, algorithms=[alg]).claims["sub"] == "svc-reporting"

    return {
        "authsec_first": best_per_op(authsec_first, rounds),
        "authsec_repeat": best_per_op(authsec_repeat, rounds),
        "pyjwt_first": best_per_op(pyjwt_first, rounds),
        "pyjwt_repeat": best_per_op(pyjwt_repeat, rounds),
        "joserfc_first": best_per_op(jose_first, rounds),
    }


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
    with LocalAuthServer() as server:
        client = server.client()
        client.get_token()
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

        def empty_loop() -> int:
            for _ in range(n):
                pass
            return n

        return {
            "authsec": best_per_op(authsec_get, rounds),
            "authsec_access_token": best_per_op(authsec_get_str, rounds),
            "token_manager": best_per_op(manager_get, rounds),
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
    n_first, n_repeat, rounds, n_get = (100, 20_000, 3, 200_000) if args.quick else (300, 200_000, 7, 1_000_000)
    warnings.simplefilter("ignore")  # joserfc warns that EdDSA is superseded by Ed25519 (RFC 9864)

    print(
        f"authsec {authsec.__version__} | PyJWT {pyjwt.__version__} | cryptography {cryptography.__version__} | "
        f"joserfc {joserfc.__version__} | Python {platform.python_version()} | {platform.machine()}"
    )
    results: Dict[str, Dict[str, float]] = {}
    for alg in ALGS:
        results[alg] = bench_verify(alg, n_first, n_repeat, rounds)
    results["get_token"] = bench_get_token(n_get, rounds)

    print()
    print("| alg | authsec first sight | PyJWT | joserfc | vs PyJWT | vs joserfc | authsec repeated | repeated vs PyJWT |")
    print("|---|---|---|---|---|---|---|---|")
    for alg in ALGS:
        r = results[alg]
        print(
            f"| {alg} | {fmt(r['authsec_first'])} | {fmt(r['pyjwt_first'])} | {fmt(r['joserfc_first'])} "
            f"| {r['pyjwt_first'] / r['authsec_first']:.1f}× | {r['joserfc_first'] / r['authsec_first']:.1f}× "
            f"| {fmt(r['authsec_repeat'])} | {r['pyjwt_repeat'] / r['authsec_repeat']:.0f}× |"
        )
    g = results["get_token"]
    print()
    print("| cached token | per call | vs TokenManager |")
    print("|---|---|---|")
    print(f"| authsec `client.get_token()` | {fmt(g['authsec'])} | {g['token_manager'] / g['authsec']:.1f}× |")
    print(
        f"| authsec `client.get_token().access_token` | {fmt(g['authsec_access_token'])} "
        f"| {g['token_manager'] / g['authsec_access_token']:.1f}× |"
    )
    print(f"| docs' `TokenManager.get_token()` (lock + `time.time()`) | {fmt(g['token_manager'])} | 1.0× |")
    print(f"\n(an empty Python loop iteration costs {fmt(g['loop'])}; it is included in every figure)")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
