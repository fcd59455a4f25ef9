#!/usr/bin/env bash
# The shared benchmark corpus: every benchmark in every language verifies the same tokens.
# Writes target/bench/corpus.json (or $AUTHSEC_BENCH_CORPUS) when it is missing or older than
# 6 hours (its tokens are valid for a day from generation) and prints its path.
#
#   {"issuer", "audience", "generated_at",
#    "jwks": {"keys": [public JWKs, kid "bench-<alg>"]},
#    "algs": {"RS256" | "ES256" | "EdDSA": {"kid", "public_pem", "private_pem",
#             "tokens": [2000 distinct access tokens], "repeated": "<one more token>"}}}
#
# Tokens: header {alg, typ: "at+jwt", kid}; claims iss, aud (a string), sub and client_id
# "bench-agent", scope "read:data write:logs", iat = generated_at - 60, exp = generated_at + 1 day,
# a unique jti.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${AUTHSEC_BENCH_CORPUS:-$PWD/target/bench/corpus.json}
if [ -z "$(find "$out" -mmin -360 2>/dev/null)" ]; then
  cargo build --release --locked -q -p authsec-tools --bin gen-bench-corpus >&2
  "${CARGO_TARGET_DIR:-target}/release/gen-bench-corpus" "$out" --count "${COUNT:-2000}"
fi
echo "$out"
