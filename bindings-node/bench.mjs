#!/usr/bin/env node
// Benchmark: @authsec/sdk against fast-jwt, jsonwebtoken and jose on the shared corpus
// (scripts/bench-corpus.sh: the same 2,000 first-sight tokens per algorithm and the same repeated
// token every language's benchmark verifies). Prints the `RESULT lang=node ...` lines
// scripts/bench-report.py reads, and a table with peer ÷ authsec ratios (> 1: authsec is faster).
//
//   node bench.mjs            (after `npm install`, which builds the addon in release mode)
//   node bench.mjs --quick    (fewer tokens and rounds: under a minute)
//   AUTHSEC_BENCH_CORPUS=path (another corpus file; default ../target/bench/corpus.json)
//
// Every library checks the signature (algorithm pinned), exp, iss and aud; authsec also checks
// the `read:data` scope (the others have no scope option). jsonwebtoken (9.x) has no EdDSA: its
// EdDSA cells are empty.
//
// first             mean per token over the first-sight tokens, one at a time (authsec `verify`
//                   awaited one at a time; the synchronous libraries in a plain loop), best of
//                   several rounds, each with a fresh verifier (so no token is in a cache).
// first_concurrent  wall time ÷ tokens with 64 verifications in flight (authsec `verify`, jose).
//                   The synchronous libraries (verifySync, fast-jwt, jsonwebtoken) cannot have
//                   work in flight: their number is the same loop as `first` (extra=sync-loop).
// repeated          the corpus's `repeated` token again and again (authsec: the verified-token
//                   cache; fast-jwt-cached: fast-jwt with `cache: true`; jsonwebtoken and jose have
//                   no cache and verify again).
// cached_token      a cached `getToken()` against the local authorization server.
// core-paired       the core's native first sight on the same tokens (tools bench-core --round,
//                   when target/release/bench-core is built), one round after each of authsec's:
//                   verify ÷ core compares timings from the same minutes.

import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import os from 'node:os';
import * as jose from 'jose';
import { createVerifier } from 'fast-jwt';
import jwt from 'jsonwebtoken';
import { Verifier, ClientCredentials } from './index.mjs';
import { startLocalServer } from './testing.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
const QUICK = process.argv.includes('--quick');
const ROUNDS = QUICK ? 2 : 5;
const TOKENS = QUICK ? 500 : Infinity;
const REPEATS = QUICK ? 50_000 : 200_000;
const WIDTH = 64;
const ALGS = ['RS256', 'ES256', 'EdDSA'];

/** The shared corpus: scripts/bench-corpus.sh (re)writes it when missing or older than 6 hours. */
function corpus() {
  const r = spawnSync(join(root, 'scripts', 'bench-corpus.sh'), { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  if (r.status !== 0) throw new Error('scripts/bench-corpus.sh failed');
  const path = r.stdout.trim().split('\n').pop();
  return { ...JSON.parse(readFileSync(path, 'utf8')), path };
}

const now = () => process.hrtime.bigint();
const perCall = (t0, n) => Number(now() - t0) / 1e3 / n;

async function sequential(list, fn) {
  const t0 = now();
  for (const x of list) await fn(x);
  return perCall(t0, list.length);
}

function syncLoop(list, fn) {
  const t0 = now();
  for (const x of list) fn(x);
  return perCall(t0, list.length);
}

async function inFlight(list, fn, width = WIDTH) {
  const t0 = now();
  let i = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (i < list.length) await fn(list[i++]);
    }),
  );
  return perCall(t0, list.length);
}

async function repeatedAsync(n, fn) {
  for (let i = 0; i < Math.min(n, 20_000); i++) await fn();
  const t0 = now();
  for (let i = 0; i < n; i++) await fn();
  return perCall(t0, n);
}

function repeatedSync(n, fn) {
  for (let i = 0; i < Math.min(n, 20_000); i++) fn();
  const t0 = now();
  for (let i = 0; i < n; i++) fn();
  return perCall(t0, n);
}

/** Best of ROUNDS: `make()` builds a fresh verifier (empty caches), `run(v)` times it. With
 * `paired` ({ round, best }), one of the core's rounds runs after each of ours, its best kept in
 * `paired.best`: the two bests come from the same minutes. */
async function best(make, run, paired) {
  let out = Infinity;
  for (let r = 0; r < ROUNDS; r++) {
    out = Math.min(out, await run(make()));
    if (paired) paired.best = Math.min(paired.best, paired.round());
  }
  return out;
}

/** One first-sight round of the core's native verify on the same tokens (tools bench-core
 * --round, µs per token), or undefined when bench-core isn't built. */
function coreRound(corpusPath, alg, n) {
  const bin = join(root, 'target', 'release', 'bench-core');
  if (!existsSync(bin) || process.env.AUTHSEC_BENCH_NO_CORE) return undefined;
  return () => {
    const r = spawnSync(bin, [corpusPath, '--round', alg, '--tokens', String(n)], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`bench-core --round ${alg} failed: ${r.stderr}`);
    return Number(r.stdout);
  };
}

const results = [];
function result(lib, regime, alg, us, extra) {
  if (Number.isNaN(us)) return;
  results.push({ lib, regime, alg, us });
  console.log(`RESULT lang=node lib=${lib} regime=${regime} alg=${alg} value=${us.toFixed(4)} unit=us${extra ? ` extra=${extra}` : ''}`);
}


async function main() {
  const c = corpus();
  const { issuer, audience } = c;
  const scopes = { requiredScopes: 'read:data' };
  const rows = [];

  for (const alg of ALGS) {
    const a = c.algs[alg];
    const tokens = a.tokens.slice(0, TOKENS);
    const warm = a.tokens.slice(0, 200);
    const jwks = { keys: c.jwks.keys.filter((k) => k.kid === a.kid) };
    process.stderr.write(`${alg}: ${tokens.length} first-sight tokens, ${ROUNDS} rounds\n`);

    const authsec = () => new Verifier({ issuer, audience, jwks, algorithms: [alg] });
    const fastOpts = { key: a.public_pem, allowedIss: issuer, allowedAud: audience, algorithms: [alg] };
    const jwtOpts = { algorithms: [alg], issuer, audience };
    const JWT_OK = alg !== 'EdDSA';
    const jwtVerify = JWT_OK ? (t) => jwt.verify(t, a.public_pem, jwtOpts) : (t) => ({ sub: 'bench-agent', t });
    const joseSet = () => jose.createLocalJWKSet(jwks);
    const joseVerify = (set) => (t) => jose.jwtVerify(t, set, { issuer, audience, algorithms: [alg] });

    // Every library agrees on the corpus, and every path is warmed up (JIT, key imports, pools).
    {
      const v = authsec();
      const fast = createVerifier(fastOpts);
      const jv = joseVerify(joseSet());
      const [v1, v2] = [authsec(), authsec()];
      for (const t of warm) {
        await v1.verify(t, scopes);
        v2.verifySync(t, scopes);
        fast(t);
        if (JWT_OK) jwt.verify(t, a.public_pem, jwtOpts);
        await jv(t);
      }
      const want = 'bench-agent';
      const got = [(await v.verify(a.repeated, scopes)).sub, v.verifySync(a.repeated, scopes).sub, fast(a.repeated).sub, jwtVerify(a.repeated).sub, (await jv(a.repeated)).payload.sub];
      if (got.some((s) => s !== want)) throw new Error(`${alg}: a verifier disagrees: ${got}`);
    }

    const round = coreRound(c.path, alg, tokens.length);
    const paired = round && { round, best: Infinity };
    const first = {
      authsec: await best(authsec, (v) => sequential(tokens, (t) => v.verify(t, scopes)), paired),
      'authsec-sync': await best(authsec, (v) => syncLoop(tokens, (t) => v.verifySync(t, scopes)), paired),
      'fast-jwt': await best(() => createVerifier(fastOpts), (f) => syncLoop(tokens, f)),
      jsonwebtoken: JWT_OK ? await best(() => null, () => syncLoop(tokens, jwtVerify)) : NaN,
      jose: await best(() => joseVerify(joseSet()), (f) => sequential(tokens, f)),
    };
    const conc = {
      authsec: await best(authsec, (v) => inFlight(tokens, (t) => v.verify(t, scopes))),
      'authsec-sync': first['authsec-sync'],
      'fast-jwt': first['fast-jwt'],
      jsonwebtoken: first.jsonwebtoken,
      jose: await best(() => joseVerify(joseSet()), (f) => inFlight(tokens, f)),
    };
    const hot = a.repeated;
    const v = authsec();
    const fastCached = createVerifier({ ...fastOpts, cache: true });
    const jv = joseVerify(joseSet());
    const repeated = {
      authsec: await repeatedAsync(REPEATS, () => v.verify(hot, scopes)),
      'authsec-sync': repeatedSync(REPEATS, () => v.verifySync(hot, scopes)),
      'fast-jwt-cached': repeatedSync(REPEATS, () => fastCached(hot)),
      jsonwebtoken: JWT_OK ? repeatedSync(QUICK ? 1000 : 4000, () => jwtVerify(hot)) : NaN,
      jose: await repeatedAsync(QUICK ? 1000 : 4000, () => jv(hot)),
    };
    for (const [lib, us] of Object.entries(first)) result(lib, 'first', alg, us);
    if (paired) result('core-paired', 'first', alg, paired.best);
    for (const [lib, us] of Object.entries(conc)) result(lib, 'first_concurrent', alg, us, ['authsec', 'jose'].includes(lib) ? `in_flight=${WIDTH}` : 'sync-loop');
    for (const [lib, us] of Object.entries(repeated)) result(lib, 'repeated', alg, us);
    rows.push({ alg, first, conc, repeated, core: paired?.best });
  }

  // A cached getToken() against the local authorization server.
  const server = await startLocalServer({ clients: [{ client_id: 'bench', client_secret: 'bench-secret-0123456789' }] });
  let cachedGetToken;
  try {
    const client = new ClientCredentials({ tokenUrl: server.tokenEndpoint, clientId: 'bench', clientSecret: 'bench-secret-0123456789' });
    await client.getToken();
    cachedGetToken = await repeatedAsync(REPEATS, () => client.getToken());
  } finally {
    await server.close();
  }
  result('authsec', 'cached_token', '-', cachedGetToken);

  const fmt = (us) => (Number.isNaN(us) ? 'n/a' : us >= 100 ? us.toFixed(0) : us >= 10 ? us.toFixed(1) : us >= 1 ? us.toFixed(2) : us.toFixed(3));
  const x = (theirs, ours) => (Number.isNaN(theirs) ? 'n/a' : `${(theirs / ours).toFixed(2)}×`);
  const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
  console.log(`\n@authsec/sdk benchmark — Node ${process.version}, ${os.cpus().length} × ${cpu}, ${rows[0] ? c.algs.RS256.tokens.slice(0, TOKENS).length : 0} first-sight tokens per algorithm, best of ${ROUNDS}`);
  console.log('µs per token; ratio = peer ÷ authsec (> 1: authsec faster). Sync libraries have no work in flight: their 64-in-flight number is their loop.\n');
  console.log('| alg | regime | authsec verify | authsec verifySync | fast-jwt | jsonwebtoken | jose | fast-jwt ÷ verify | jsonwebtoken ÷ verify | jose ÷ verify | fast-jwt ÷ verifySync | core (native) | verify ÷ core |');
  console.log('|---|---|---|---|---|---|---|---|---|---|---|---|---|');
  for (const r of rows) {
    for (const [name, m] of [['first sight, one at a time', r.first], ['first sight, 64 in flight', r.conc]]) {
      const coreUs = r.core;
      const coreCols = name.startsWith('first sight, one') && coreUs ? `${fmt(coreUs)} | ${x(m.authsec, coreUs)}` : ' | ';
      console.log(
        `| ${r.alg} | ${name} | ${fmt(m.authsec)} | ${fmt(m['authsec-sync'])} | ${fmt(m['fast-jwt'])} | ${fmt(m.jsonwebtoken)} | ${fmt(m.jose)} | ${x(m['fast-jwt'], m.authsec)} | ${x(m.jsonwebtoken, m.authsec)} | ${x(m.jose, m.authsec)} | ${x(m['fast-jwt'], m['authsec-sync'])} | ${coreCols} |`,
      );
    }
    const m = r.repeated;
    console.log(
      `| ${r.alg} | repeated | ${fmt(m.authsec)} | ${fmt(m['authsec-sync'])} | ${fmt(m['fast-jwt-cached'])} (cache on) | ${fmt(m.jsonwebtoken)} | ${fmt(m.jose)} | ${x(m['fast-jwt-cached'], m.authsec)} | ${x(m.jsonwebtoken, m.authsec)} | ${x(m.jose, m.authsec)} | ${x(m['fast-jwt-cached'], m['authsec-sync'])} | | |`,
    );
  }
  console.log(`\ncached getToken(): ${fmt(cachedGetToken)} µs per call (awaited)`);
}

await main();
