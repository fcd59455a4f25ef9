// A tiny read-only static file server on 127.0.0.1 (ephemeral port) for the browser test: it
// serves only an allow-list of the repository's paths (the package's shipped files, the test
// page and the shared vectors), GET/HEAD only, with the MIME types a browser insists on
// (application/wasm for instantiateStreaming, text/javascript for module scripts).
import { createServer } from 'node:http';
import { readFile, stat } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { extname, join, normalize, sep } from 'node:path';

export const REPO = fileURLToPath(new URL('../../../', import.meta.url));

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
};

// URL path prefixes (relative to the repository root) that may be served.
const ALLOWED = [
  'wasm/index.js',
  'wasm/manual.js',
  'wasm/js/',
  'wasm/dist/',
  'wasm/test/browser/',
  'wasm/test/support/vector-runner.mjs',
  'tests/vectors/',
];

/** Start the server on `root`, serving the `allowed` path prefixes (a trailing / for a folder;
 * default: the repository's files above); resolves to { origin, requests: [{method, path, status,
 * type}], nextResult(), close() }. */
export async function startStaticServer({ root = REPO, allowed = ALLOWED } = {}) {
  const requests = [];
  const results = [];
  const waiting = [];
  const server = createServer(async (req, res) => {
    const entry = { method: req.method, path: req.url, status: 0, type: '' };
    requests.push(entry);
    const send = (status, type, body) => {
      entry.status = status;
      entry.type = type;
      res.writeHead(status, {
        'content-type': type,
        'cache-control': 'no-store',
        'x-content-type-options': 'nosniff',
      });
      res.end(req.method === 'HEAD' ? undefined : body);
    };
    try {
      const url = new URL(req.url, 'http://127.0.0.1');
      // The test pages POST their outcome here (at most 1 MiB of JSON).
      if (req.method === 'POST' && url.pathname === '/result') {
        let body = '';
        for await (const chunk of req) {
          body += chunk;
          if (body.length > 1 << 20) return send(413, 'text/plain', 'too large');
        }
        results.push(JSON.parse(body));
        for (const wake of waiting.splice(0)) wake();
        return send(204, 'text/plain', '');
      }
      if (req.method !== 'GET' && req.method !== 'HEAD') return send(405, 'text/plain', 'method not allowed');
      if (url.pathname === '/favicon.ico') return send(204, 'text/plain', '');
      // A JWKS URL that redirects (to a file this server would serve): the package must not follow.
      if (url.pathname === '/redirect-jwks') {
        res.setHeader('location', '/tests/vectors/keys.json');
        return send(302, 'text/plain', '');
      }
      let rel = decodeURIComponent(url.pathname).replace(/^\/+/, '');
      if (rel === '' ) return send(404, 'text/plain', 'not found');
      rel = normalize(rel).split(sep).join('/');
      if (rel.startsWith('..') || rel.includes('/../') || rel.includes('\0')) return send(403, 'text/plain', 'forbidden');
      if (rel.endsWith('/')) rel += 'index.html';
      if (!allowed.some((p) => (p.endsWith('/') ? rel.startsWith(p) : rel === p))) return send(404, 'text/plain', 'not served');
      const file = join(root, rel);
      const st = await stat(file).catch(() => null);
      if (!st || !st.isFile()) return send(404, 'text/plain', 'not found');
      const type = TYPES[extname(file)] ?? 'application/octet-stream';
      return send(200, type, await readFile(file));
    } catch (e) {
      return send(500, 'text/plain', String(e && e.message));
    }
  });
  server.keepAliveTimeout = 1000;
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address();
  return {
    origin: `http://127.0.0.1:${port}`,
    requests,
    /** Resolves to the next outcome POSTed to /result. */
    nextResult: async () => {
      while (results.length === 0) await new Promise((wake) => waiting.push(wake));
      return results.shift();
    },
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections?.();
        server.close(() => resolve());
      }),
  };
}
