// @authsec/wasm under Deno: `deno run` (the npm package `deno`, a devDependency, or
// $AUTHSEC_DENO) runs test/deno/run.mjs, which imports the auto-initialising entry (index.js),
// runs the shared vectors (tests/vectors) through the shared runner and verifies a token from the
// local authorization server (`authsec server`, over 127.0.0.1) against its remote JWKS; it prints
// one line of JSON, asserted here. Deno gets only what it needs: read access to the package's
// dist/ and to tests/vectors, the network to the server's port, no prompts, no config or lock
// file, and a DENO_DIR of its own in a temporary folder (removed afterwards).
import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AUDIENCE, serverConfig, startAuthServer, clientCredentials } from './support/auth-server.mjs';
import { VECTORS_DIR, vectorFiles } from './support/vector-files.mjs';

const REPO = fileURLToPath(new URL('../../', import.meta.url)).replace(/\/$/, '');
const WASM = join(REPO, 'wasm');
const SCRIPT = join(WASM, 'test', 'deno', 'run.mjs');
const vectors = VECTORS_DIR.replace(/\/$/, '');
const { files, cases, eddsaCases } = vectorFiles();

const CLIENT = { clientId: 'wasm-deno-agent', clientSecret: 'wasm-deno-Secret-7c24e9b05f' };
const config = serverConfig(CLIENT);

/** The deno binary: $AUTHSEC_DENO, else the devDependency's wasm/node_modules/.bin/deno. */
function denoBin() {
  return process.env.AUTHSEC_DENO || join(WASM, 'node_modules', '.bin', 'deno');
}

/** Run deno with `args`; resolves to { code, signal, stdout, stderr }. The child (and its process
 * group) is killed after `timeoutMs`, and when this process exits, whatever happens. */
function runDeno(args, { env, timeoutMs = 30_000 } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(denoBin(), args, { cwd: WASM, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    const kill = () => {
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {}
    };
    process.once('exit', kill);
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d) => {
      if (stderr.length < 65536) stderr += d;
    });
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      kill();
    }, timeoutMs);
    child.once('error', (e) => {
      clearTimeout(timer);
      process.removeListener('exit', kill);
      reject(e);
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      kill(); // anything it left in its process group
      process.removeListener('exit', kill);
      if (timedOut) reject(new Error(`deno ${args[0]} did not finish within ${timeoutMs} ms (killed); stderr: ${stderr}`));
      else resolve({ code, signal, stdout, stderr });
    });
  });
}

describe('@authsec/wasm under Deno', { timeout: 90_000 }, () => {
  let denoDir;
  let server;
  let started;

  // Start the server and run Deno once, on the first test's demand: a failure here (no deno, say)
  // fails every test with its message rather than cancelling them.
  const run = () => (started ??= start());

  async function start() {
    const bin = denoBin();
    assert.ok(
      existsSync(bin),
      `no deno at ${bin}: run \`npm ci\` in wasm/ (the devDependency "deno" provides it) or set AUTHSEC_DENO=/path/to/deno`,
    );
    denoDir = mkdtempSync(join(tmpdir(), 'authsec-wasm-deno-'));
    // Only what deno needs from this environment, plus a cache of its own.
    const env = {
      PATH: process.env.PATH,
      HOME: denoDir,
      DENO_DIR: denoDir,
      DENO_NO_UPDATE_CHECK: '1',
      DENO_NO_PACKAGE_JSON: '1',
      NO_COLOR: '1',
    };
    const version = spawnSync(bin, ['--version'], { env, encoding: 'utf8', timeout: 15_000, killSignal: 'SIGKILL' });
    assert.equal(version.status, 0, `${bin} --version failed: ${version.error ?? version.stderr}`);
    console.log(`deno: ${version.stdout.split('\n')[0]} (${bin})`);

    server = await startAuthServer(config);
    const token = (
      await clientCredentials(server.tokenEndpoint, { ...CLIENT, scope: 'read:data write:logs', audience: AUDIENCE })
    ).access_token;

    // Module files load without read permission; index.js reads its .wasm files (dist/) itself,
    // through Node's fs (Deno has the process global) or else a fetch of a file: URL.
    const port = new URL(server.jwksUri).port;
    const args = [
      'run',
      '--no-prompt',
      '--no-config',
      '--no-lock',
      '--no-remote',
      '--no-npm',
      `--allow-read=${join(WASM, 'dist')},${vectors}`,
      `--allow-net=127.0.0.1:${port}`,
      SCRIPT,
      `--jwks-uri=${server.jwksUri}`,
      `--issuer=${server.issuer}`,
      `--audience=${AUDIENCE}`,
      `--token=${token}`,
      '--required-scope=read:data',
      '--required-scope=write:logs',
      '--missing-scope=admin',
    ];
    const out = await runDeno(args, { env });
    if (out.stderr.trim()) console.log(`deno stderr: ${out.stderr.trim()}`);
    assert.equal(out.code, 0, `deno exited with ${out.code ?? out.signal}: ${out.stderr}`);
    const lines = out.stdout.split('\n').filter((l) => l.trim());
    assert.equal(lines.length, 1, `want one line of JSON on stdout, got: ${out.stdout.slice(0, 4000)}`);
    return JSON.parse(lines[0]);
  }

  after(async () => {
    await started?.catch(() => {});
    await server?.stop();
    if (denoDir) rmSync(denoDir, { recursive: true, force: true });
  });

  test('every shared vector passes under Deno (index.js), Ed25519 on WebCrypto and on the Rust fallback', async () => {
    const result = await run();
    assert.equal(result.state, 'done');
    assert.equal(result.entry, 'index');
    assert.match(result.deno.deno, /^\d+\.\d+\.\d+/);
    assert.deepEqual(result.files, files);
    // Every case, each first sight and again from the cache.
    assert.deepEqual(result.failures, [], 'failing vectors');
    assert.equal(result.total, cases);
    assert.equal(result.passed, cases);
    assert.equal(result.failed, 0);
    // The checks ran on Deno's WebCrypto (Ed25519 included), and the Rust fallback agrees on every
    // EdDSA case.
    for (const name of ['RSASSA-PKCS1-v1_5', 'RSA-PSS', 'ECDSA', 'Ed25519']) {
      assert.ok(result.webcrypto[name] > 0, `WebCrypto ${name} was not used: ${JSON.stringify(result.webcrypto)}`);
    }
    assert.deepEqual(result.fallback.failures, [], 'failing EdDSA vectors on the Rust fallback');
    assert.equal(result.fallback.total, eddsaCases);
    assert.equal(result.fallback.passed, eddsaCases);
    assert.equal(result.fallback.failed, 0);
    // Local JWKS only: the vectors made no network request.
    assert.deepEqual(
      result.vectorFetches.filter((u) => !u.startsWith('file:')),
      [],
      'network requests while running the vectors',
    );
    console.log(
      `deno ${result.deno.deno}: ${result.passed}/${result.total} vectors passed, ` +
        `${result.fallback.passed}/${result.fallback.total} EdDSA on the Rust fallback; ` +
        `WebCrypto verify calls ${JSON.stringify(result.webcrypto)}; ` +
        `index.js loaded in ${result.loadMs} ms, vectors ${result.vectorsMs} ms`,
    );
  });

  test('a token from the local authorization server verifies against its remote JWKS over Deno\'s fetch', async () => {
    const { remote } = await run();
    assert.ok(remote, 'the Deno script did no remote check');
    assert.equal(remote.verifyError, undefined, `verify failed: ${JSON.stringify(remote.verifyError)}`);
    const claims = remote.verified;
    assert.equal(claims.iss, server.issuer);
    assert.equal(claims.sub, CLIENT.clientId);
    assert.equal(claims.client_id, CLIENT.clientId);
    assert.deepEqual([claims.aud].flat(), [AUDIENCE]);
    assert.equal(claims.scope, 'read:data write:logs');
    assert.equal(typeof claims.jti, 'string');
    assert.ok(claims.exp > Date.now() / 1000);
    // Again from the verified-token cache; the JWKS was fetched once, from the server's jwks_uri.
    assert.equal(remote.againError, undefined, `second verify failed: ${JSON.stringify(remote.againError)}`);
    assert.equal(remote.again, claims.jti);
    assert.equal(remote.cachedTokens, 1);
    assert.deepEqual(remote.fetches, [server.jwksUri]);
    // The ES256 signature was checked on Deno's WebCrypto.
    assert.ok(remote.webcrypto.ECDSA >= 1, `WebCrypto ECDSA was not used: ${JSON.stringify(remote.webcrypto)}`);
  });

  test('insufficient scope under Deno: a real Error, an AuthsecError with code insufficient_scope (403), first sight and cached', async () => {
    const result = await run();
    const rounds = result.remote?.insufficientScope;
    assert.ok(rounds, 'the Deno script did no insufficient-scope check');
    assert.equal(rounds.length, 2);
    for (const [i, e] of rounds.entries()) {
      const round = i === 0 ? 'first sight' : 'cached';
      assert.equal(e.rejected, true, `${round}: a token without the admin scope verified with admin required`);
      assert.equal(e.isAuthsecError, true, round);
      assert.equal(e.isError, true, round);
      assert.equal(e.name, 'InsufficientScopeError', round);
      assert.equal(e.code, 'insufficient_scope', round);
      assert.equal(e.httpStatus, 403, round);
      assert.deepEqual(e.missingScopes, ['admin'], round);
      assert.equal(typeof e.message, 'string', round);
    }
    console.log(`deno remote: verified in ${result.remote.ms} ms (${result.remote.fetches.length} JWKS fetch); whole run ${result.ms} ms`);
  });
});
