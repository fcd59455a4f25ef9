// Runs the browser example: the local authorization server (in-process, @authsec/sdk/testing), a token
// for the page, a small HTTP server on 127.0.0.1 for the page, the package and the JWKS, and
// headless Chromium to load the page; prints what the page printed. Stops by itself.
//
//   node run.mjs          (needs wasm/build.sh to have built wasm/dist, and chromium)
import { createServer } from 'node:http';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { join, normalize, extname } from 'node:path';
import { randomBytes } from 'node:crypto';
import { ClientCredentials } from '@authsec/sdk';
import { startLocalServer } from '@authsec/sdk/testing';
import { findChromium, loadUntil } from '../../wasm/test/support/chromium.mjs';

const here = fileURLToPath(new URL('.', import.meta.url));
const wasmPkg = fileURLToPath(new URL('../../wasm/', import.meta.url));
const AUDIENCE = 'https://api.example.test';
const TYPES = { '.html': 'text/html', '.js': 'text/javascript', '.wasm': 'application/wasm', '.json': 'application/json' };

const secret = randomBytes(24).toString('base64url');
const auth = await startLocalServer({
  clients: [{ client_id: 'example-agent', client_secret: secret, allowed_scopes: ['read:data', 'write:data'], audiences: [AUDIENCE] }],
});
console.log(`authorization server: ${auth.issuer} (local, in-process)`);
let http;
try {
  const client = new ClientCredentials({ tokenUrl: auth.tokenEndpoint, clientId: 'example-agent', clientSecret: secret, scopes: ['read:data'], audience: AUDIENCE });
  const { accessToken } = await client.getToken();
  const [h, p, s] = accessToken.split('.');
  const claims = JSON.parse(Buffer.from(p, 'base64url'));
  claims.scope = 'read:data write:data';
  const tampered = [h, Buffer.from(JSON.stringify(claims)).toString('base64url'), s].join('.');
  const demo = JSON.stringify({ issuer: auth.issuer, audience: AUDIENCE, token: accessToken, tampered });

  // The page POSTs what it printed to /printed when it is done.
  let printed;
  const pagePrinted = new Promise((resolve) => {
    printed = resolve;
  });
  http = createServer(async (req, res) => {
    const path = new URL(req.url, 'http://x').pathname;
    try {
      if (path === '/printed' && req.method === 'POST') {
        let body = '';
        for await (const chunk of req) if ((body += chunk).length > 64 * 1024) break;
        printed(body);
        return send(res, 204, '.json', '');
      }
      if (path === '/demo.json') return send(res, 200, '.json', demo);
      if (path === '/jwks.json') {
        const r = await fetch(auth.jwksUri);
        return send(res, r.status, '.json', await r.text(), { 'cache-control': r.headers.get('cache-control') ?? '' });
      }
      let file;
      if (path === '/' || path === '/index.html') file = join(here, 'index.html');
      else if (path === '/app.js') file = join(here, 'app.js');
      else if (path.startsWith('/vendor/authsec-wasm/')) {
        const rel = normalize(path.slice('/vendor/authsec-wasm/'.length));
        if (rel.startsWith('..') || !/^(index\.js|manual\.js|js\/|dist\/)/.test(rel)) return send(res, 404, '.json', '{}');
        file = join(wasmPkg, rel);
      } else return send(res, 404, '.json', '{}');
      send(res, 200, extname(file), await readFile(file));
    } catch {
      send(res, 404, '.json', '{}');
    }
  });
  await new Promise((resolve) => http.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${http.address().port}/`;
  console.log(`page: ${url}`);
  const chromium = findChromium();
  if (!chromium) throw new Error('chromium is not installed (apt-get install chromium)');
  const text = await loadUntil(chromium, url, pagePrinted, { timeoutMs: 90_000 });
  console.log('the page printed:');
  for (const line of text.trim().split('\n')) console.log(`  ${line}`);
  if (!/^done: browser$/m.test(text)) process.exitCode = 1;
} finally {
  http?.close();
  await auth.close();
}

function send(res, status, ext, body, headers = {}) {
  res.writeHead(status, { 'content-type': TYPES[ext] ?? 'application/octet-stream', ...headers });
  res.end(body);
}
