// The local authorization server (`authsec server`, the CLI built by `cargo build -p authsec-cli`)
// on 127.0.0.1 with an ephemeral port, and a counting reverse proxy in front of it.
import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import { mkdtempSync, writeFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = fileURLToPath(new URL('../../../', import.meta.url));

/** The API audience the wasm tests' tokens are for. */
export const AUDIENCE = 'https://api.wasm.test';

/** `authsec server` config (YAML) with one agent, `client` ({ clientId, clientSecret }), that may
 * ask for read:data, write:logs and admin, for AUDIENCE, signed with `alg`. */
export function serverConfig(client, { alg = 'ES256', adminToken } = {}) {
  return `signing_alg: ${alg}
${adminToken ? `admin_token: ${adminToken}\n` : ''}rate_limit: 0
clients:
  - client_id: ${client.clientId}
    name: wasm test agent
    type: ai_agent
    client_secret: ${client.clientSecret}
    allowed_scopes: [read:data, write:logs, admin]
    default_scopes: [read:data]
    audiences: [${AUDIENCE}]
    token_lifetime: 600
`;
}

/** The CLI binary: $AUTHSEC_BIN, else <target>/debug/authsec of the repository's cargo workspace. */
export function authsecBin() {
  if (process.env.AUTHSEC_BIN) return process.env.AUTHSEC_BIN;
  const target = process.env.CARGO_TARGET_DIR || join(REPO, 'target');
  // The profile the build used (wasm/test.sh: AUTHSEC_CARGO_PROFILE, `dev` when unset).
  const profile = process.env.AUTHSEC_CARGO_PROFILE || 'dev';
  return join(target, profile === 'dev' ? 'debug' : profile, 'authsec');
}

/**
 * Start `authsec server --port 0` with `config` (YAML text). Resolves to
 * { issuer, tokenEndpoint, jwksUri, stop() } once it prints its issuer; rejects after `timeoutMs`.
 * The server is killed when the test process exits, whatever happens.
 */
export async function startAuthServer(config, { timeoutMs = 30_000 } = {}) {
  const bin = authsecBin();
  if (!existsSync(bin)) throw new Error(`${bin} is missing: run \`cargo build --profile \${AUTHSEC_CARGO_PROFILE:-dev} -p authsec-cli\` (wasm/test.sh does)`);
  const dir = mkdtempSync(join(tmpdir(), 'authsec-wasm-server-'));
  const file = join(dir, 'server.yaml');
  writeFileSync(file, config, { mode: 0o600 });
  const child = spawn(bin, ['server', '--host', '127.0.0.1', '--port', '0', '--config', file, '--audit-log', 'off'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const kill = () => {
    try {
      child.kill('SIGKILL');
    } catch {}
    rmSync(dir, { recursive: true, force: true });
  };
  process.once('exit', kill);
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d) => {
    if (stderr.length < 16384) stderr += d;
  });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const cleanup = () => {
    process.removeListener('exit', kill);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const issuer = await new Promise((resolve, reject) => {
      let out = '';
      const timer = setTimeout(() => reject(new Error(`authsec server did not start within ${timeoutMs} ms: ${stderr}`)), timeoutMs);
      child.stdout.setEncoding('utf8').on('data', (d) => {
        out += d;
        const nl = out.indexOf('\n');
        if (nl >= 0) {
          clearTimeout(timer);
          resolve(out.slice(0, nl).trim());
        }
      });
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`authsec server exited (${code ?? signal}) before listening: ${stderr}`));
      });
      child.once('error', (e) => {
        clearTimeout(timer);
        reject(e);
      });
    });
    return {
      issuer,
      tokenEndpoint: `${issuer}/oauth/token`,
      jwksUri: `${issuer}/.well-known/jwks.json`,
      async stop() {
        child.kill('SIGTERM');
        const timer = setTimeout(kill, 5000);
        await exited;
        clearTimeout(timer);
        cleanup();
      },
    };
  } catch (e) {
    kill();
    await exited;
    cleanup();
    throw e;
  }
}

/** Client credentials (client_secret_basic) against `tokenEndpoint`: the token response. */
export async function clientCredentials(tokenEndpoint, { clientId, clientSecret, scope, audience }) {
  const form = new URLSearchParams({ grant_type: 'client_credentials' });
  if (scope) form.set('scope', scope);
  if (audience) form.set('audience', audience);
  const basic = Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(clientSecret)}`).toString('base64');
  const res = await fetch(tokenEndpoint, {
    method: 'POST',
    headers: { authorization: `Basic ${basic}`, 'content-type': 'application/x-www-form-urlencoded' },
    body: form,
    signal: AbortSignal.timeout(10_000),
  });
  const body = await res.json();
  if (res.status !== 200) throw new Error(`token request: HTTP ${res.status} ${JSON.stringify(body)}`);
  return body;
}

/** A reverse proxy on 127.0.0.1 that forwards GETs to `upstream` and counts them per path. */
export async function countingProxy(upstream) {
  const counts = new Map();
  const server = createServer(async (req, res) => {
    counts.set(req.url, (counts.get(req.url) ?? 0) + 1);
    try {
      const up = await fetch(new URL(req.url, upstream), {
        method: req.method,
        headers: { accept: req.headers.accept ?? '*/*' },
        redirect: 'manual',
        signal: AbortSignal.timeout(10_000),
      });
      const headers = {};
      up.headers.forEach((v, k) => {
        if (!['content-encoding', 'content-length', 'transfer-encoding', 'connection'].includes(k)) headers[k] = v;
      });
      res.writeHead(up.status, headers);
      res.end(Buffer.from(await up.arrayBuffer()));
    } catch (e) {
      res.writeHead(502, { 'content-type': 'text/plain' });
      res.end(String(e));
    }
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  return {
    origin: `http://127.0.0.1:${server.address().port}`,
    count: (path) => counts.get(path) ?? 0,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections?.();
        server.close(() => resolve());
      }),
  };
}

/** A 127.0.0.1 port nothing listens on (bound, then released). */
export async function deadPort() {
  const s = createServer();
  await new Promise((resolve) => s.listen(0, '127.0.0.1', resolve));
  const { port } = s.address();
  await new Promise((resolve) => s.close(resolve));
  return port;
}
