#!/usr/bin/env node
// Benchmark: @authsec/sdk against jose (jwtVerify with a local JWKS) and fast-jwt, in one run with
// the same keys and tokens. Prints a Markdown table.
//
//   node bench.mjs            (after `npm install`, which builds the addon in release mode)
//   BENCH_TOKENS=500 node bench.mjs   (fewer first-sight tokens per algorithm, for a quick look)
//
// first sight  every token is new to the verifier: signature and claims checked. authsec hands
//              the check to its runtime thread and awaits it; jose awaits WebCrypto, which runs on
//              libuv's thread pool; fast-jwt checks on the JavaScript thread (synchronously).
// repeated     the same token again: authsec answers from its verified-token cache on the JS
//              thread; fast-jwt with its cache on; jose has no cache (it verifies again).
// concurrent   first sight with 64 verifications in flight (throughput on this machine's cores).

import { generateKeyPairSync, createSign, sign as cryptoSign } from 'node:crypto';
import os from 'node:os';
import * as jose from 'jose';
import { createVerifier } from 'fast-jwt';
import { Verifier, ClientCredentials } from './index.mjs';
import { startLocalServer } from './testing.mjs';

const TOKENS = Number(process.env.BENCH_TOKENS ?? 2000);
const REPEATS = Number(process.env.BENCH_REPEATS ?? 200_000);
const ISSUER = 'https://issuer.bench';
const AUDIENCE = 'https://api.bench';

const b64url = (b) => Buffer.from(b).toString('base64url');

function keys() {
  const gen = {
    RS256: generateKeyPairSync('rsa', { modulusLength: 2048 }),
    ES256: generateKeyPairSync('ec', { namedCurve: 'P-256' }),
    EdDSA: generateKeyPairSync('ed25519'),
  };
  return Object.fromEntries(
    Object.entries(gen).map(([alg, k]) => [
      alg,
      {
        privateKey: k.privateKey,
        publicPem: k.publicKey.export({ format: 'pem', type: 'spki' }),
        jwk: { ...k.publicKey.export({ format: 'jwk' }), kid: `bench-${alg}`, use: 'sig', alg },
      },
    ]),
  );
}

function sign(alg, key, claims) {
  const header = b64url(JSON.stringify({ alg, kid: `bench-${alg}`, typ: 'at+jwt' }));
  const input = `${header}.${b64url(JSON.stringify(claims))}`;
  let sig;
  if (alg === 'ES256') sig = cryptoSign('sha256', Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' });
  else if (alg === 'EdDSA') sig = cryptoSign(null, Buffer.from(input), key);
  else sig = createSign('RSA-SHA256').update(input).sign(key);
  return `${input}.${b64url(sig)}`;
}

function tokens(alg, key, n, tag) {
  const now = Math.floor(Date.now() / 1000);
  return Array.from({ length: n }, (_, i) =>
    sign(alg, key, {
      iss: ISSUER,
      aud: AUDIENCE,
      sub: 'svc-reporting',
      client_id: 'svc-reporting',
      scope: 'read:data write:logs',
      iat: now - 10,
      exp: now + 3600,
      jti: `${tag}-${i}`,
    }),
  );
}

/** Mean time per call of an async function awaited one at a time (µs). */
async function sequential(list, fn) {
  const t0 = process.hrtime.bigint();
  for (const x of list) await fn(x);
  return Number(process.hrtime.bigint() - t0) / 1e3 / list.length;
}

/** Mean time per call with `width` calls in flight (µs). */
async function concurrent(list, fn, width = 64) {
  const t0 = process.hrtime.bigint();
  let i = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (i < list.length) await fn(list[i++]);
    }),
  );
  return Number(process.hrtime.bigint() - t0) / 1e3 / list.length;
}

function syncLoop(list, fn) {
  const t0 = process.hrtime.bigint();
  for (const x of list) fn(x);
  return Number(process.hrtime.bigint() - t0) / 1e3 / list.length;
}

async function repeatedAsync(n, fn) {
  for (let i = 0; i < Math.min(n, 20_000); i++) await fn();
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) await fn();
  return Number(process.hrtime.bigint() - t0) / 1e3 / n;
}

function repeatedSync(n, fn) {
  for (let i = 0; i < Math.min(n, 20_000); i++) fn();
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) fn();
  return Number(process.hrtime.bigint() - t0) / 1e3 / n;
}

const fmt = (us) => (us >= 100 ? us.toFixed(0) : us >= 10 ? us.toFixed(1) : us >= 1 ? us.toFixed(2) : us.toFixed(3));
const ratio = (theirs, ours) => `${(theirs / ours).toFixed(2)}×`;

async function main() {
  const k = keys();
  const jwks = { keys: Object.values(k).map((x) => x.jwk) };
  const joseKeys = jose.createLocalJWKSet(jwks);
  const rows = [];
  const checks = [];

  for (const alg of ['RS256', 'ES256', 'EdDSA']) {
    process.stderr.write(`${alg}: signing ${TOKENS * 4} tokens...\n`);
    const set = {
      authsec: tokens(alg, k[alg].privateKey, TOKENS, 'a'),
      jose: tokens(alg, k[alg].privateKey, TOKENS, 'j'),
      fast: tokens(alg, k[alg].privateKey, TOKENS, 'f'),
      conc: tokens(alg, k[alg].privateKey, TOKENS, 'c'),
    };
    const warm = tokens(alg, k[alg].privateKey, 200, 'w');

    const authsec = new Verifier({ issuer: ISSUER, audience: AUDIENCE, jwks, algorithms: [alg] });
    const joseVerify = (t) => jose.jwtVerify(t, joseKeys, { issuer: ISSUER, audience: AUDIENCE, algorithms: [alg] });
    const fastOpts = { key: k[alg].publicPem, allowedIss: ISSUER, allowedAud: AUDIENCE, algorithms: [alg] };
    const fast = createVerifier(fastOpts);
    const fastCached = createVerifier({ ...fastOpts, cache: true });

    // Warm up every path (JIT, key imports, thread pools).
    for (const t of warm) {
      await authsec.verify(t);
      await joseVerify(t);
      fast(t);
    }
    const sanity = await authsec.verify(set.authsec[0]);
    if (sanity.sub !== 'svc-reporting' || (await joseVerify(set.jose[0])).payload.sub !== 'svc-reporting' || fast(set.fast[0]).sub !== 'svc-reporting') {
      throw new Error('a verifier disagrees');
    }

    const first = {
      authsec: await sequential(set.authsec.slice(1), (t) => authsec.verify(t)),
      jose: await sequential(set.jose.slice(1), joseVerify),
      fast: syncLoop(set.fast.slice(1), fast),
    };
    const authsecConcurrentVerifier = new Verifier({ issuer: ISSUER, audience: AUDIENCE, jwks, algorithms: [alg] });
    const conc = {
      authsec: await concurrent(set.conc, (t) => authsecConcurrentVerifier.verify(t)),
      jose: await concurrent(set.conc, joseVerify),
    };
    const hot = set.authsec[0];
    fastCached(hot);
    const repeated = {
      authsec: await repeatedAsync(REPEATS, () => authsec.verify(hot)),
      jose: await repeatedAsync(Math.max(2000, REPEATS / 50), () => joseVerify(hot)),
      fast: repeatedSync(REPEATS, () => fastCached(hot)),
    };
    rows.push({ alg, first, conc, repeated });
    checks.push({ alg, firstRatio: first.jose / first.authsec, repeatedRatio: repeated.jose / repeated.authsec });
  }

  // Cached getToken against the local authorization server.
  const server = await startLocalServer({ clients: [{ client_id: 'bench', client_secret: 'bench-secret-0123456789' }] });
  let cachedGetToken;
  try {
    const client = new ClientCredentials({ tokenUrl: server.tokenEndpoint, clientId: 'bench', clientSecret: 'bench-secret-0123456789' });
    await client.getToken();
    cachedGetToken = await repeatedAsync(REPEATS, () => client.getToken());
  } finally {
    await server.close();
  }

  const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
  console.log(`\n@authsec/sdk benchmark — Node ${process.version}, ${os.cpus().length} × ${cpu}, ${TOKENS} first-sight tokens per algorithm\n`);
  console.log('| alg | | authsec | jose | fast-jwt | jose ÷ authsec | fast-jwt ÷ authsec |');
  console.log('|---|---|---|---|---|---|---|');
  for (const r of rows) {
    console.log(`| ${r.alg} | first sight (µs, awaited one by one) | ${fmt(r.first.authsec)} | ${fmt(r.first.jose)} | ${fmt(r.first.fast)} | ${ratio(r.first.jose, r.first.authsec)} | ${ratio(r.first.fast, r.first.authsec)} |`);
    console.log(`| ${r.alg} | first sight, 64 in flight (µs per token) | ${fmt(r.conc.authsec)} | ${fmt(r.conc.jose)} | | ${ratio(r.conc.jose, r.conc.authsec)} | |`);
    console.log(`| ${r.alg} | repeated (µs) | ${fmt(r.repeated.authsec)} | ${fmt(r.repeated.jose)} | ${fmt(r.repeated.fast)} (cache on) | ${ratio(r.repeated.jose, r.repeated.authsec)} | ${ratio(r.repeated.fast, r.repeated.authsec)} |`);
  }
  console.log(`\ncached getToken(): ${fmt(cachedGetToken)} µs per call (awaited)\n`);
  console.log('targets: first sight ≥ 1.0× jose (RS256), ≥ 1.2× jose (ES256, EdDSA); repeated ≥ 20× jose');
  let ok = true;
  for (const c of checks) {
    const need = c.alg === 'RS256' ? 1.0 : 1.2;
    const firstOk = c.firstRatio >= need;
    const repOk = c.repeatedRatio >= 20;
    ok &&= firstOk && repOk;
    console.log(`  ${c.alg}: first sight ${c.firstRatio.toFixed(2)}× ${firstOk ? 'met' : 'MISSED'}; repeated ${c.repeatedRatio.toFixed(0)}× ${repOk ? 'met' : 'MISSED'}`);
  }
  if (!ok) process.exitCode = 1;
}

await main();
