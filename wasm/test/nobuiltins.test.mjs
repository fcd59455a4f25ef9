// @authsec/wasm loads and works with no Node.js built-ins (as in browsers and edge workers):
//  1. a static scan of every JavaScript file the package ships (package.json "files"): imports are
//     relative and stay inside the package; no require(), node: specifiers, Buffer, __dirname;
//     the one use of `process` is js/api.js's optional Node convenience, guarded with ?.
//  2. at run time: resolution hooks (module.register) make any built-in import by a package
//     module throw; manual.js is loaded under them with Buffer and process.getBuiltinModule
//     hidden, initialised with initSync(bytes read here), and verifies vectors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { register } from 'node:module';
import { MessageChannel } from 'node:worker_threads';
import { readFileSync, readdirSync, statSync, existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { join, relative, dirname, resolve as resolvePath } from 'node:path';
import { moduleSpecifiers, stripComments } from './support/imports.mjs';

const root = fileURLToPath(new URL('../', import.meta.url));
const rootURL = pathToFileURL(root).href.replace(/\/?$/, '/');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));

function walk(path) {
  const st = statSync(path);
  if (st.isFile()) return [path];
  return readdirSync(path).flatMap((n) => walk(join(path, n)));
}

/** The shipped JavaScript files (package.json "files"). */
function shippedJs() {
  return pkg.files
    .map((f) => join(root, f))
    .filter((p) => existsSync(p))
    .flatMap(walk)
    .filter((p) => /\.(m?js|cjs)$/.test(p))
    .sort();
}

test('the shipped JavaScript imports nothing outside the package and no Node.js built-in', () => {
  const files = shippedJs();
  const rel = files.map((f) => relative(root, f));
  for (const must of ['index.js', 'manual.js', 'js/api.js', 'js/glue.js', 'dist/authsec_wasm.js', 'requests.js', 'requests-manual.js', 'dist/authsec_wasm_requests.js']) assert.ok(rel.includes(must), `ships ${must}`);
  assert.ok(rel.some((f) => /^dist\/snippets\/.+\/js\/glue\.js$/.test(f)), 'ships the wasm-bindgen snippet');
  for (const file of files) {
    const name = relative(root, file);
    const text = readFileSync(file, 'utf8');
    const src = stripComments(text);
    const imports = moduleSpecifiers(text);
    const specifiers = [...imports.static, ...imports.dynamic];
    for (const s of specifiers) {
      assert.ok(s.startsWith('./') || s.startsWith('../'), `${name} imports ${s}: only relative imports of the package's own files`);
      const target = resolvePath(dirname(file), s);
      assert.ok(files.includes(target), `${name} imports ${s}, which is not a shipped file`);
    }
    // Dynamic imports with computed specifiers would escape the check above.
    assert.ok(!imports.computedDynamic, `${name}: a computed dynamic import`);
    assert.doesNotMatch(src, /\brequire\s*\(/, `${name}: require()`);
    assert.doesNotMatch(src, /['"]node:/, `${name}: a node: specifier`);
    assert.doesNotMatch(src, /\b(Buffer|__dirname|__filename|module\.exports|setImmediate)\b/, `${name}: a Node.js-only global`);
    // `process` only as js/api.js's optional convenience (reading the .wasm in Node.js when
    // init() is given nothing), reached through globalThis and optional chaining.
    for (const m of src.matchAll(/\bprocess\b[^\n]*/g)) {
      assert.equal(name, 'js/api.js', `${name} uses process: ${m[0]}`);
      assert.match(m[0], /^process\?\.getBuiltinModule\?\.\('fs'\)/, `js/api.js: an unguarded use of process: ${m[0]}`);
      assert.match(src.slice(Math.max(0, m.index - 11), m.index), /globalThis\.$/);
    }
  }
});

test('manual.js loads under hooks that forbid Node.js built-ins, and verifies with initSync(bytes)', async () => {
  const fixture = new URL('./support/fixture-imports-fs.mjs', import.meta.url).href;
  const scopes = [`${rootURL}index.js`, `${rootURL}manual.js`, `${rootURL}js/`, `${rootURL}dist/`, fixture];
  const { port1, port2 } = new MessageChannel();
  const events = [];
  port1.on('message', (m) => events.push(m));
  port1.unref();
  register('./support/no-builtins-hooks.mjs', { parentURL: import.meta.url, data: { scopes, port: port2 }, transferList: [port2] });
  const settle = () => new Promise((r) => setTimeout(r, 50));

  // The hooks bite: a module in scope that imports node:fs does not load.
  await assert.rejects(import(fixture), /imports the Node\.js built-in "node:fs"/);

  const bytes = new Uint8Array(readFileSync(join(root, 'dist/authsec_wasm_bg.wasm')));
  const vectors = JSON.parse(readFileSync(new URL('../../tests/vectors/verify_algorithms.json', import.meta.url), 'utf8'));
  const hidden = { Buffer: globalThis.Buffer, getBuiltinModule: process.getBuiltinModule };
  const builtinCalls = [];
  delete globalThis.Buffer;
  process.getBuiltinModule = (id) => {
    builtinCalls.push(id);
    throw new Error(`process.getBuiltinModule(${id}) called`);
  };
  const outcomes = {};
  try {
    const m = await import('../manual.js');
    m.initSync(bytes);
    for (const name of ['es256_valid', 'eddsa_valid', 'rs256_valid', 'rs256_tampered_payload']) {
      const c = vectors.cases.find((x) => x.name === name);
      const { now, ...opts } = c.options;
      const v = new m.Verifier({ ...opts, jwks: vectors.jwks[c.jwks] }, { nowMs: now * 1000 });
      try {
        outcomes[name] = { claims: { ...(await v.verify(c.token)) } };
      } catch (e) {
        assert.ok(e instanceof m.AuthsecError);
        outcomes[name] = { error: e.code };
      } finally {
        v.free();
      }
      assert.deepEqual(outcomes[name], c.expect.claims ? { claims: c.expect.claims } : { error: c.expect.error }, name);
    }
    // The main entry too: its import graph is the same files; its init() is already done.
    const main = await import('../index.js');
    assert.equal(main.Verifier, m.Verifier);
  } finally {
    globalThis.Buffer = hidden.Buffer;
    process.getBuiltinModule = hidden.getBuiltinModule;
  }
  await settle();
  assert.deepEqual(builtinCalls, []);

  const blocked = events.filter((e) => e.blocked);
  assert.deepEqual(blocked, [{ blocked: 'node:fs', parent: fixture }], 'only the negative control was blocked');
  const loaded = new Set(events.filter((e) => e.loaded).map((e) => relative(root, fileURLToPath(e.loaded))));
  for (const f of ['manual.js', 'index.js', 'dist/authsec_wasm.js', 'js/glue.js']) assert.ok(loaded.has(f), `${f} went through the hooks`);
  assert.ok([...loaded].some((f) => /^dist\/snippets\/.+\/js\/glue\.js$/.test(f)), 'the snippet went through the hooks');
});
