// @authsec/wasm in Cloudflare's own Workers runtime, workerd (the npm package `workerd`, a
// devDependency). Two workers in one workerd, configured here in a temp dir (every module under its
// name, a socket each on 127.0.0.1 with an ephemeral port read back from workerd's control fd, and
// an outbound network limited to loopback addresses):
//  - test/workerd/worker.mjs imports the package through manual.js, with both .wasm files as
//    WebAssembly.Module imports (workerd compiles no wasm from bytes) handed to initSync(), and runs
//    every shared vector (the EdDSA ones on the Rust fallback module too);
//  - examples/cloudflare-worker/worker.js, the README's Worker, imports the package by its npm
//    name (modules named after package.json's "exports") with its JWKS in a KV namespace, served by
//    a KV emulator in this process (the KV HTTP protocol workerd speaks to a kvNamespace service):
//    200 with the claims, 403 insufficient_scope, 401 without a token, the JWKS fetched once, and
//    after a workerd restart (a cold isolate) read back from KV rather than the network.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { createServer } from 'node:http';
import { readFileSync, existsSync, mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir, constants } from 'node:os';
import { fileURLToPath } from 'node:url';
import { join, dirname, relative, resolve, posix, sep } from 'node:path';
import { AUDIENCE, serverConfig, startAuthServer, clientCredentials, countingProxy } from './support/auth-server.mjs';
import { vectorFiles } from './support/vector-files.mjs';
import { moduleSpecifiers } from './support/imports.mjs';

const PKG = fileURLToPath(new URL('..', import.meta.url));
const WORKER = join(PKG, 'test', 'workerd', 'worker.mjs');
const EXAMPLE = fileURLToPath(new URL('../../examples/cloudflare-worker/worker.js', import.meta.url));
const { files, docs: parsed, cases, eddsaCases } = vectorFiles();
const docs = files.map((f, i) => [f, parsed[i]]);

const CLIENT = { clientId: 'wasm-agent', clientSecret: 'wasm-test-Secret-5d81c0a7e2' };
const JWKS_PATH = '/.well-known/jwks.json';
const SERVER_CONFIG = serverConfig(CLIENT);

/** The workerd binary: $AUTHSEC_WORKERD, else the devDependency's node_modules/.bin/workerd. */
function findWorkerd() {
  const bin = process.env.AUTHSEC_WORKERD || join(PKG, 'node_modules', '.bin', 'workerd');
  assert.ok(
    existsSync(bin),
    `workerd not found at ${bin}: run \`npm ci\` in wasm/ (the devDependency \`workerd\`) or set AUTHSEC_WORKERD`,
  );
  return bin;
}

/** The package-relative paths of `entry` and every module it imports, statically, transitively:
 * workerd resolves a relative import against the importing module's name, so each module is named
 * by its path in the package. */
function importGraph(entry) {
  const seen = new Set();
  const queue = [entry];
  while (queue.length) {
    const file = queue.shift();
    if (seen.has(file)) continue;
    seen.add(file);
    if (!/\.m?js$/.test(file)) continue;
    const imports = moduleSpecifiers(readFileSync(file, 'utf8'));
    assert.ok(!imports.dynamic.length && !imports.computedDynamic, `${file} has a dynamic import: list its target in the config`);
    for (const spec of imports.static) {
      assert.ok(spec.startsWith('./') || spec.startsWith('../'), `${file} imports ${spec}: only relative imports can be bundled`);
      const target = resolve(dirname(file), spec);
      assert.ok(existsSync(target), `${file} imports ${spec}, which does not exist`);
      queue.push(target);
    }
  }
  return [...seen].map((f) => {
    const name = relative(PKG, f).split(sep).join(posix.sep);
    assert.ok(!name.startsWith('..'), `${f} is outside the package`);
    return { file: f, name };
  });
}

const capnpString = (s) => JSON.stringify(s);

/** workerd's capnp config: `workers` ({ name, modules, bindings, kv? }), each on a socket of its
 * own name (127.0.0.1, port 0) with the outbound network limited to loopback; `kvOrigin`: where the
 * external service behind kvNamespace bindings listens. Module files are embedded by paths
 * relative to the config file. */
function workerdConfig(dir, workers, { compatibilityDate, kvOrigin }) {
  const mod = ({ file, name }) => {
    const kind = name.endsWith('.wasm') ? 'wasm' : name.endsWith('.json') ? 'json' : 'esModule';
    return `      (name = ${capnpString(name)}, ${kind} = embed ${capnpString(relative(dir, file))}),`;
  };
  const binding = ([name, value]) =>
    typeof value === 'string'
      ? `      (name = ${capnpString(name)}, text = ${capnpString(value)}),`
      : `      (name = ${capnpString(name)}, kvNamespace = ${capnpString(value.kvNamespace)}),`;
  const worker = (w) => `const ${w.name} :Workerd.Worker = (
  modules = [
${w.modules.map(mod).join('\n')}
  ],
  bindings = [
${w.bindings.map(binding).join('\n')}
  ],
  compatibilityDate = ${capnpString(compatibilityDate)},
  globalOutbound = "loopback",
);
`;
  return `using Workerd = import "/workerd/workerd.capnp";

const config :Workerd.Config = (
  services = [
${workers.map((w) => `    (name = ${capnpString(w.name)}, worker = .${w.name}),`).join('\n')}
    # A worker's fetch() reaches 127.0.0.0/8 only (the default "internet" allows public addresses
    # only); "local" is the loopback part of "private".
    (name = "loopback", network = (allow = ["local"])),
    # The KV namespace: workerd turns KV calls into HTTP requests to this service.
    (name = "kv", external = (address = ${capnpString(new URL(kvOrigin).host)}, http = ())),
  ],
  sockets = [
${workers.map((w) => `    (name = ${capnpString(w.name)}, address = "127.0.0.1:0", http = (), service = ${capnpString(w.name)}),`).join('\n')}
  ],
);

${workers.map(worker).join('\n')}`;
}

/** A Workers KV namespace emulator over HTTP, as workerd's kvNamespace binding calls it:
 * GET /<key> (404: absent), PUT /<key>?expiration_ttl=N with the value as the body (refused under
 * 60 s, as KV does). Resolves to { origin, entries, log, close() }. */
async function kvEmulator() {
  const entries = new Map();
  const log = [];
  const server = createServer(async (req, res) => {
    const url = new URL(req.url, 'http://kv');
    const key = decodeURIComponent(url.pathname.slice(1));
    log.push(`${req.method} ${key}`);
    if (req.method === 'GET') {
      const e = entries.get(key);
      if (!e || e.expires <= Date.now()) return res.writeHead(404).end();
      return res.writeHead(200, { 'content-type': 'text/plain' }).end(e.value);
    }
    if (req.method === 'PUT') {
      let value = '';
      for await (const chunk of req) value += chunk;
      const ttl = Number(url.searchParams.get('expiration_ttl'));
      if (url.searchParams.has('expiration_ttl') && !(Number.isInteger(ttl) && ttl >= 60)) {
        return res.writeHead(400, { 'content-type': 'text/plain' }).end(`Invalid expiration_ttl of ${ttl}`);
      }
      entries.set(key, { value, ttl, expires: Date.now() + (ttl || 1e9) * 1000 });
      return res.writeHead(200).end();
    }
    res.writeHead(405).end();
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    origin: `http://127.0.0.1:${server.address().port}`,
    entries,
    log,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections?.();
        server.close(() => resolve());
      }),
  };
}

/** Start `workerd serve` on `config`; resolves to { origins: { socket: origin }, stderr(), stop() }
 * once every socket in `sockets` listens. */
async function startWorkerd(bin, config, sockets, { timeoutMs = 20_000 } = {}) {
  // Own process group (detached), so stop() can kill it and anything it started; fd 3 gets
  // workerd's control messages, among them the port the socket listens on.
  const child = spawn(bin, ['serve', config, '--control-fd=3'], {
    stdio: ['ignore', 'pipe', 'pipe', 'pipe'],
    detached: true,
  });
  const killGroup = () => {
    try {
      process.kill(-child.pid, 'SIGKILL');
    } catch {}
  };
  // Whatever ends this process: a normal exit, or a signal (workerd is out of the terminal's
  // process group, so Ctrl-C would not reach it), turned into an exit so that every 'exit'
  // handler runs (the auth server's too).
  const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'];
  const onSignal = (signal) => {
    killGroup();
    process.exit(128 + constants.signals[signal]);
  };
  process.once('exit', killGroup);
  for (const s of SIGNALS) process.once(s, onSignal);
  let stderr = '';
  for (const s of [child.stdout, child.stderr]) {
    s.setEncoding('utf8').on('data', (d) => {
      if (stderr.length < 65536) stderr += d;
    });
  }
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal)));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      try {
        process.kill(-child.pid, 'SIGTERM');
      } catch {}
      const timer = setTimeout(killGroup, 3000);
      await exited;
      clearTimeout(timer);
    }
    killGroup();
    process.removeListener('exit', killGroup);
    for (const s of SIGNALS) process.removeListener(s, onSignal);
  };
  try {
    const origins = await new Promise((resolve, reject) => {
      const found = {};
      let control = '';
      const timer = setTimeout(() => reject(new Error(`workerd did not listen within ${timeoutMs} ms:\n${stderr}`)), timeoutMs);
      child.stdio[3].setEncoding('utf8').on('data', (d) => {
        const lines = (control + d).split('\n');
        control = lines.pop();
        for (const line of lines) {
          let msg;
          try {
            msg = JSON.parse(line);
          } catch {
            continue;
          }
          if (msg.event === 'listen' && sockets.includes(msg.socket)) {
            found[msg.socket] = `http://127.0.0.1:${msg.port}`;
            if (sockets.every((name) => found[name])) {
              clearTimeout(timer);
              resolve(found);
            }
          }
        }
      });
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`workerd exited (${code ?? signal}) before listening:\n${stderr}`));
      });
      child.once('error', (e) => {
        clearTimeout(timer);
        reject(e);
      });
    });
    return { origins, pid: child.pid, stderr: () => stderr, stop, exited };
  } catch (e) {
    await stop();
    throw e;
  }
}

let workerd;
let server;
let proxy;
let kv;
let dir;
let startIt;
const removeDir = () => dir && rmSync(dir, { recursive: true, force: true });

/** The README's Worker: examples/cloudflare-worker/worker.js, which imports the package by name.
 * Its package modules are named as a bundler would resolve them: each `@authsec/wasm/<x>` import
 * through package.json's "exports", and the package's own relative imports under the same prefix. */
function exampleModules() {
  const pkg = JSON.parse(readFileSync(join(PKG, 'package.json'), 'utf8'));
  const source = readFileSync(EXAMPLE, 'utf8');
  const modules = [{ file: EXAMPLE, name: 'worker.js' }];
  for (const spec of moduleSpecifiers(source).static.filter((s) => s.startsWith('@authsec/wasm/'))) {
    const target = pkg.exports[`./${spec.slice('@authsec/wasm/'.length)}`];
    const file = resolve(PKG, typeof target === 'string' ? target : target?.default ?? '');
    assert.ok(target && existsSync(file), `${spec}: not in the package's "exports" (package.json)`);
    modules.push({ file, name: spec });
    if (/\.m?js$/.test(file)) {
      // manual.js sits at the package root, so its relative imports resolve under the prefix.
      assert.equal(dirname(file), PKG.replace(/\/$/, ''), `${spec} is not at the package root`);
      for (const m of importGraph(file).slice(1)) modules.push({ file: m.file, name: `@authsec/wasm/${m.name}` });
    }
  }
  return modules;
}

before(async () => {
  const bin = findWorkerd();
  const version = execFileSync(bin, ['--version'], { encoding: 'utf8', timeout: 10_000 }).trim();
  // The newest compatibility date this workerd supports ("workerd 2026-11-17").
  const compatibilityDate = version.match(/\d{4}-\d{2}-\d{2}/)?.[0];
  assert.ok(compatibilityDate, `unexpected \`workerd --version\`: ${version}`);
  console.log(`workerd: ${version} (${bin})`);

  server = await startAuthServer(SERVER_CONFIG);
  proxy = await countingProxy(server.issuer);
  kv = await kvEmulator();

  dir = mkdtempSync(join(tmpdir(), 'authsec-wasm-workerd-'));
  process.once('exit', removeDir);
  const harness = importGraph(WORKER);
  // The worker module first: workerd's entry point.
  assert.equal(harness[0].name, 'test/workerd/worker.mjs');
  for (const name of ['manual.js', 'js/glue.js', 'dist/authsec_wasm.js', 'dist/authsec_wasm_bg.wasm', 'dist/ed25519_fallback.wasm']) {
    assert.ok(harness.some((m) => m.name === name), `${name} is in the worker's import graph`);
  }
  const config = join(dir, 'config.capnp');
  const workers = [
    { name: 'harness', modules: harness, bindings: [] },
    {
      name: 'example',
      modules: exampleModules(),
      bindings: [
        ['ISSUER', server.issuer],
        ['AUDIENCE', AUDIENCE],
        ['JWKS_URI', proxy.origin + JWKS_PATH],
        ['JWKS_KV', { kvNamespace: 'kv' }],
      ],
    },
  ];
  writeFileSync(config, workerdConfig(dir, workers, { compatibilityDate, kvOrigin: kv.origin }));
  startIt = () => startWorkerd(bin, config, workers.map((w) => w.name));
  workerd = await startIt();
}, { timeout: 60_000 });

after(async () => {
  await workerd?.stop();
  await proxy?.close();
  await kv?.close();
  await server?.stop();
  removeDir();
  process.removeListener('exit', removeDir);
  if (workerd) {
    // Nothing of its process group is left.
    let alive = true;
    try {
      process.kill(-workerd.pid, 0);
    } catch {
      alive = false;
    }
    assert.equal(alive, false, `workerd's process group ${workerd.pid} is still alive`);
  }
}, { timeout: 30_000 });

async function call(worker, path, init = {}) {
  const res = await fetch(workerd.origins[worker] + path, { ...init, signal: AbortSignal.timeout(30_000) });
  const text = await res.text();
  let body;
  try {
    body = JSON.parse(text);
  } catch {
    body = text;
  }
  return { status: res.status, headers: res.headers, body };
}

test('every shared vector passes in workerd (manual.js, initSync from WebAssembly.Module)', { timeout: 60_000 }, async () => {
  const { status, body: result } = await call('harness', '/vectors', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(docs),
  });
  assert.equal(status, 200, `the worker failed: ${JSON.stringify(result).slice(0, 4000)}\n${workerd.stderr()}`);
  // Workers hand the .wasm files over compiled; the package and the runner share one glue module.
  assert.deepEqual(result.modules, [true, true]);
  assert.equal(result.sameGlue, true);
  assert.equal(result.navigator, 'Cloudflare-Workers');
  assert.deepEqual(result.files, files);
  // Every case, each first sight and again from the cache.
  assert.deepEqual(result.failures, [], 'failing vectors');
  assert.equal(result.total, cases);
  assert.equal(result.passed, cases);
  assert.equal(result.failed, 0);
  // The Rust fallback, a second WebAssembly.Module given to initSync(), agrees on every EdDSA case.
  assert.deepEqual(result.fallback.failures, [], 'failing EdDSA vectors on the Rust fallback');
  assert.equal(result.fallback.total, eddsaCases);
  assert.equal(result.fallback.passed, eddsaCases);
  assert.ok(eddsaCases > 0);
  // Signatures ran on workerd's WebCrypto, Ed25519 under its standard name (workerd also takes
  // the older NODE-ED25519).
  for (const name of ['RSASSA-PKCS1-v1_5', 'RSA-PSS', 'ECDSA', 'Ed25519']) {
    assert.ok(result.webcrypto[name] > 0, `WebCrypto ${name} was not used: ${JSON.stringify(result.webcrypto)}`);
  }
  assert.deepEqual(result.ed25519, { Ed25519: true, 'NODE-ED25519': true });
  console.log(
    `workerd: ${result.passed}/${result.total} vectors passed, ` +
      `${result.fallback.passed}/${result.fallback.total} EdDSA on the Rust fallback; ` +
      `WebCrypto verify calls ${JSON.stringify(result.webcrypto)}; ${result.ms} ms`,
  );
});

test('the README Worker (examples/cloudflare-worker) in workerd: 200 / 403 / 401, its JWKS in KV across a restart', { timeout: 60_000 }, async () => {
  const token = async (scope) =>
    (await clientCredentials(server.tokenEndpoint, { ...CLIENT, scope, audience: AUDIENCE })).access_token;
  const bearer = (t) => ({ headers: { authorization: `Bearer ${t}` } });
  const full = await token('read:data write:logs');
  const other = await token('read:data');
  const narrow = await token('write:logs');
  assert.equal(proxy.count(JWKS_PATH), 0);

  // A token with the scope: what the Worker answers, the JWKS fetched over 127.0.0.1 and put in KV.
  const ok = await call('example', '/', bearer(full));
  assert.equal(ok.status, 200, `${JSON.stringify(ok.body)}\n${workerd.stderr()}`);
  assert.deepEqual(ok.body, { sub: CLIENT.clientId, scope: 'read:data write:logs' });
  assert.equal(proxy.count(JWKS_PATH), 1);
  const key = `authsec:jwks:${proxy.origin}${JWKS_PATH}`;
  assert.deepEqual([...kv.entries.keys()], [key]);
  assert.ok(kv.entries.get(key).ttl >= 60, `KV expiration_ttl ${kv.entries.get(key).ttl}`);
  assert.match(JSON.parse(kv.entries.get(key).value).jwks, /"keys"/);
  for (const t of [other, full]) assert.equal((await call('example', '/', bearer(t))).status, 200);

  // Lacking read:data: 403 insufficient_scope, with the RFC 6750 challenge.
  const forbidden = await call('example', '/', bearer(narrow));
  assert.equal(forbidden.status, 403);
  const challenge403 = forbidden.headers.get('www-authenticate');
  assert.match(challenge403, /^Bearer realm="api"/);
  assert.match(challenge403, /error="insufficient_scope"/);
  assert.match(challenge403, /scope="read:data"/);

  // No token: 401 with a bare challenge; a garbage token: 401 invalid_token.
  const none = await call('example', '/');
  assert.equal(none.status, 401);
  assert.match(none.headers.get('www-authenticate'), /^Bearer realm="api"/);
  assert.doesNotMatch(none.headers.get('www-authenticate'), /error=/);
  const garbage = await call('example', '/', bearer('a.b.c'));
  assert.equal(garbage.status, 401);
  assert.match(garbage.headers.get('www-authenticate'), /error="invalid_token"/);
  assert.equal(proxy.count(JWKS_PATH), 1, 'one JWKS fetch for all of it');

  // A cold isolate (workerd restarted): the Worker reads the JWKS from KV, not the network.
  await workerd.stop();
  workerd = await startIt();
  const reads = kv.log.filter((l) => l === `GET ${key}`).length;
  const cold = await call('example', '/', bearer(other));
  assert.equal(cold.status, 200, `${JSON.stringify(cold.body)}\n${workerd.stderr()}`);
  assert.deepEqual(cold.body, { sub: CLIENT.clientId, scope: 'read:data' });
  assert.equal(kv.log.filter((l) => l === `GET ${key}`).length, reads + 1, 'the cold Worker read KV');
  assert.equal(proxy.count(JWKS_PATH), 1, 'and fetched nothing');
  console.log(`workerd example: 1 JWKS fetch, KV ${JSON.stringify(kv.log)}`);
});
