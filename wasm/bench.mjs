#!/usr/bin/env node
// Benchmark: @authsec/wasm against jose (jwtVerify + createLocalJWKSet; jose verifies with
// WebCrypto) in one Node.js run, with the same keys and tokens: rs256_valid, es256_valid and
// eddsa_valid from tests/vectors/verify_algorithms.json, checked at the vectors' fixed "now" with the
// same issuer, audience, algorithm allow-list and 5 s clock tolerance on both sides.
//
//   node bench.mjs                       (after wasm/build.sh)
//   BENCH_ROUNDS=7 BENCH_OPS=4000 node bench.mjs
//
// first sight  authsec with verifiedCacheSize: 0, so every verification is a full one (parse,
//              header rules, WebCrypto signature check, claims): a fixed vector cannot be new each
//              time, and this is the same measure as bindings-node's and bindings-go's benchmarks.
// repeated     the same token again, verified-token cache on (authsec answers from its cache).
// jose         has no cache: each call is a full verification, so its one number is both columns'
//              baseline.
// Each number is the median over rounds of the mean time per verification, awaited one at a
// time, after a warm-up; the implementations take turns within each round.
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import * as jose from 'jose';
import { Verifier } from './index.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const OPS = Number(process.env.BENCH_OPS ?? 2000); // full verifications per round
const CACHED_OPS = Number(process.env.BENCH_CACHED_OPS ?? 50_000); // cache hits per round
const WARMUP = Number(process.env.BENCH_WARMUP ?? 1000);
const FIRST_SIGHT_TARGET = 1 / 1.5; // jose ÷ authsec: authsec within 1.5× of jose
const REPEATED_TARGET = 1; // jose ÷ authsec: faster than jose

const doc = JSON.parse(readFileSync(new URL('../tests/vectors/verify_algorithms.json', import.meta.url), 'utf8'));
const wasmFile = new URL('./dist/authsec_wasm_bg.wasm', import.meta.url);

async function perOp(n, fn) {
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) await fn();
  return Number(process.hrtime.bigint() - t0) / 1e3 / n;
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const fmt = (us) => (us >= 100 ? us.toFixed(0) : us >= 10 ? us.toFixed(1) : us >= 1 ? us.toFixed(2) : us.toFixed(3));
const canonical = (v) =>
  Array.isArray(v)
    ? `[${v.map(canonical).join(',')}]`
    : v && typeof v === 'object'
      ? `{${Object.keys(v).sort().map((k) => `${JSON.stringify(k)}:${canonical(v[k])}`).join(',')}}`
      : JSON.stringify(v);

async function main() {
  const rows = [];
  for (const [alg, name] of [['RS256', 'rs256_valid'], ['ES256', 'es256_valid'], ['EdDSA', 'eddsa_valid']]) {
    const c = doc.cases.find((x) => x.name === name);
    const jwks = doc.jwks[c.jwks];
    const { now, issuer, audience } = c.options;
    const token = c.token;
    const common = { issuer, audience, algorithms: [alg], leeway: 5 };
    const first = new Verifier({ ...common, jwks, verifiedCacheSize: 0 }, { nowMs: now * 1000 });
    const repeated = new Verifier({ ...common, jwks }, { nowMs: now * 1000 });
    const joseKeys = jose.createLocalJWKSet(jwks);
    const joseOpts = { issuer, audience, algorithms: [alg], clockTolerance: 5, currentDate: new Date(now * 1000), requiredClaims: ['exp'] };
    const impls = {
      first: () => first.verify(token),
      repeated: () => repeated.verify(token),
      jose: () => jose.jwtVerify(token, joseKeys, joseOpts),
    };

    // Same answer from all three.
    const want = canonical(c.expect.claims);
    for (const [k, fn] of Object.entries(impls)) {
      const got = await fn();
      const claims = k === 'jose' ? got.payload : got;
      if (canonical({ ...claims }) !== want) throw new Error(`${alg}: ${k} disagrees with the vector: ${canonical(claims)}`);
    }
    if (first.cachedTokens !== 0 || repeated.cachedTokens !== 1) throw new Error(`${alg}: unexpected cache state`);

    // Warm up every path (JIT, WebCrypto key imports).
    for (const fn of Object.values(impls)) await perOp(WARMUP, fn);

    const samples = { first: [], repeated: [], jose: [] };
    for (let r = 0; r < ROUNDS; r++) {
      samples.jose.push(await perOp(OPS, impls.jose));
      samples.first.push(await perOp(OPS, impls.first));
      samples.repeated.push(await perOp(CACHED_OPS, impls.repeated));
    }
    const m = Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, median(v)]));
    rows.push({ alg, ...m, firstRatio: m.jose / m.first, repeatedRatio: m.jose / m.repeated });
    first.free();
    repeated.free();
  }

  const raw = readFileSync(wasmFile);
  // The number wasm/build.sh checks against its budget (GNU gzip -9), and zlib's for reference.
  let gz;
  try {
    gz = execFileSync('gzip', ['-9', '-c', fileURLToPath(wasmFile)], { maxBuffer: 64 << 20 }).length;
  } catch {
    gz = undefined;
  }
  const zlibGz = gzipSync(raw, { level: 9 }).length;
  const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
  console.log(
    `\n@authsec/wasm benchmark — Node ${process.version}, jose ${joseVersion()} (${jose.cryptoRuntime ?? "?"}), ` +
      `${os.cpus().length} × ${cpu}; median of ${ROUNDS} rounds (${OPS} full verifications, ${CACHED_OPS} cache hits per round)\n`,
  );
  console.log('| alg | authsec first sight (µs) | authsec repeated (µs) | jose (µs) | jose ÷ authsec, first sight | jose ÷ authsec, repeated |');
  console.log('|---|---|---|---|---|---|');
  for (const r of rows) {
    console.log(`| ${r.alg} | ${fmt(r.first)} | ${fmt(r.repeated)} | ${fmt(r.jose)} | ${r.firstRatio.toFixed(2)}× | ${r.repeatedRatio.toFixed(1)}× |`);
  }
  console.log(
    `\ndist/authsec_wasm_bg.wasm: ${raw.length} bytes; gzipped ${gz ?? '?'} bytes (gzip -9, as wasm/build.sh counts), ${zlibGz} bytes (zlib level 9)\n`,
  );
  console.log('targets: first sight within 1.5× of jose (jose ÷ authsec ≥ 0.67); repeated faster than jose (> 1×)');
  let ok = true;
  for (const r of rows) {
    const f = r.firstRatio >= FIRST_SIGHT_TARGET;
    const p = r.repeatedRatio > REPEATED_TARGET;
    ok &&= f && p;
    console.log(`  ${r.alg}: first sight ${r.firstRatio.toFixed(2)}× ${f ? 'met' : 'MISSED'}; repeated ${r.repeatedRatio.toFixed(1)}× ${p ? 'met' : 'MISSED'}`);
  }
  if (!ok) process.exitCode = 1;
}

function joseVersion() {
  try {
    return JSON.parse(readFileSync(new URL('./node_modules/jose/package.json', import.meta.url), 'utf8')).version;
  } catch {
    return '?';
  }
}

await main();
