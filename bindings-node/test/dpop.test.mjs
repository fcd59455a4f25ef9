// DPoP (RFC 9449) and certificate-bound tokens (RFC 8705) end to end, over real sockets: an agent
// with a DPoP key gets a bound token and calls an Express API through the fetch wrapper and
// requireAuth; the resource's nonce dance; replayed proofs, stolen tokens and downgrades refused;
// certificate binding from a proxy header and from the TLS connection itself.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, X509Certificate } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import http from 'node:http';
import https from 'node:https';
import express from 'express';
import { ClientCredentials, Verifier, RequestVerifier, requireAuth, requiredScopes, authFetch, InvalidTokenError } from '../index.mjs';
import { ManualClock, requestCount } from '../testing.mjs';
import { SECRET, AUDIENCE, keyPair, signJwt, localServer, listen, get } from './helpers.mjs';

const ISSUER = 'https://issuer.test';
const b64urlJson = (part) => JSON.parse(Buffer.from(part, 'base64url').toString());

/** RFC 7638 thumbprint of a public JWK. */
function thumbprint(jwk) {
  const members = { EC: ['crv', 'kty', 'x', 'y'], OKP: ['crv', 'kty', 'x'], RSA: ['e', 'kty', 'n'] }[jwk.kty];
  const canonical = JSON.stringify(Object.fromEntries(members.map((m) => [m, jwk[m]])));
  return createHash('sha256').update(canonical).digest('base64url');
}

const signer = keyPair('ec', 'issuer-key');
const jwks = { keys: [signer.jwk] };

/** An access token of the test issuer, at `nowMs`, with `cnf` when given. */
function accessToken({ cnf, nowMs = Date.now(), scope = 'read:data' } = {}) {
  const now = Math.floor(nowMs / 1000);
  const claims = { iss: ISSUER, aud: AUDIENCE, sub: 'agent', client_id: 'agent', scope, iat: now, exp: now + 600 };
  if (cnf !== undefined) claims.cnf = cnf;
  return signJwt('ES256', signer.privateKey, 'issuer-key', claims);
}

/**
 * A token endpoint that binds its tokens to the key of the request's DPoP proof (and requires
 * one), answering `tokenType`; `requests` records each proof's thumbprint.
 */
async function authServer({ tokenType = 'DPoP', clock } = {}) {
  const requests = [];
  const s = await listen(async (req, res) => {
    for await (const _ of req);
    const proof = req.headers.dpop;
    const jkt = proof === undefined ? null : thumbprint(b64urlJson(proof.split('.')[0]).jwk);
    requests.push({ jkt });
    res.setHeader('content-type', 'application/json');
    if (jkt === null) {
      res.statusCode = 400;
      return res.end(JSON.stringify({ error: 'invalid_dpop_proof' }));
    }
    const token = accessToken({ cnf: { jkt }, nowMs: clock?.now() });
    res.end(JSON.stringify({ access_token: token, token_type: tokenType, expires_in: 600 }));
  });
  return { ...s, requests, tokenUrl: `${s.url}/oauth/token` };
}

/** An API behind requireAuth(options); `calls` records what each request carried. */
async function api(options = {}) {
  const calls = [];
  const app = express();
  app.use((req, _res, next) => {
    calls.push({ authorization: req.headers.authorization, dpop: req.headers.dpop });
    next();
  });
  const { verifier, ...rest } = options;
  const keys = verifier === undefined ? { issuer: ISSUER, audience: AUDIENCE, jwks } : { verifier };
  app.get('/data', requireAuth({ ...keys, realm: 'api', ...rest }), requiredScopes('read:data'), (req, res) =>
    res.json({ scheme: req.auth.scheme, jkt: req.auth.dpopThumbprint, x5t: req.auth.certificateThumbprint, sub: req.auth.payload.sub }),
  );
  app.get('/admin', requireAuth({ ...keys, ...rest }), requiredScopes('admin'), (_req, res) => res.json({}));
  const s = await listen(app);
  return { ...s, calls };
}

/** A GET whose answer keeps every header line apart (fetch's Headers joins repeated ones). */
function rawGet(url, headers = {}) {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { headers, timeout: 10_000 }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const lines = [];
        for (let i = 0; i < res.rawHeaders.length; i += 2) lines.push([res.rawHeaders[i].toLowerCase(), res.rawHeaders[i + 1]]);
        resolve({ status: res.statusCode, lines, body: Buffer.concat(chunks).toString() });
      });
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
  });
}
const challengesOf = (r) => r.lines.filter(([k]) => k === 'www-authenticate').map(([, v]) => v);

describe('DPoP: agent and API', () => {
  let as;
  let resource;
  let client;
  before(async () => {
    // The local authorization server binds a token to the key of the token request's proof, and
    // (dpop.nonce) asks for its own nonce first: the client's one retry at the token endpoint.
    as = await localServer({ dpop: { nonce: true } });
    resource = await api({ verifier: as.verifier() });
    client = as.client({ dpop: true, audience: AUDIENCE, scopes: 'read:data' });
  });
  after(async () => {
    await resource?.close();
    await as?.close();
  });

  test('a DPoP-bound token from the local server, a proof with every request, accepted by requireAuth', async () => {
    const token = await client.getToken();
    assert.equal(token.tokenType, 'DPoP');
    assert.equal(b64urlJson(token.accessToken.split('.')[1]).cnf.jkt, client.dpopThumbprint, 'bound to the client key');
    assert.equal(requestCount(client), 2, 'the token endpoint\'s nonce: one retry');
    const r = await client.fetch(`${resource.url}/data?x=1`, { signal: AbortSignal.timeout(10_000) });
    assert.equal(r.status, 200);
    assert.deepEqual(await r.json(), { scheme: 'DPoP', jkt: client.dpopThumbprint, x5t: null, sub: 'agent' });
    const sent = resource.calls.at(-1);
    assert.match(sent.authorization, /^DPoP /);
    assert.ok(sent.dpop, 'a proof');
    // authorize: a fresh proof for each call, for this method and URL.
    const a = client.authorize(token, 'POST', `${resource.url}/data`);
    const b = client.authorize(token, 'POST', `${resource.url}/data`);
    assert.equal(a.Authorization, `DPoP ${token.accessToken}`);
    assert.notEqual(a.DPoP, b.DPoP);
    const claims = b64urlJson(a.DPoP.split('.')[1]);
    assert.equal(claims.htm, 'POST');
    assert.equal(claims.htu, `${resource.url}/data`);
  });

  test('a Bearer client is unchanged: Bearer headers, accepted as Bearer', async () => {
    const bearerApi = await api();
    const plain = await listen((req, res) => {
      req.resume();
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ access_token: accessToken(), token_type: 'Bearer', expires_in: 600 }));
    });
    try {
      const c = new ClientCredentials({ tokenUrl: plain.url, clientId: 'agent', clientSecret: SECRET });
      assert.equal(c.dpopThumbprint, null);
      const t = await c.getToken();
      assert.deepEqual(Object.keys(c.authorize(t, 'GET', bearerApi.url)), ['Authorization']);
      const r = await c.fetch(`${bearerApi.url}/data`);
      assert.equal(r.status, 200);
      assert.deepEqual(await r.json(), { scheme: 'Bearer', jkt: null, x5t: null, sub: 'agent' });
    } finally {
      await bearerApi.close();
      await plain.close();
    }
  });

  test('the resource\'s nonce: 401 use_dpop_nonce, then the one retry succeeds with the same token', async () => {
    const nonceApi = await api({ verifier: as.verifier(), dpopNonce: true });
    try {
      await client.getToken();
      const tokenRequests = requestCount(client);
      const r = await client.fetch(`${nonceApi.url}/data`);
      assert.equal(r.status, 200);
      assert.equal(nonceApi.calls.length, 2, 'one retry');
      assert.equal(nonceApi.calls[0].authorization, nonceApi.calls[1].authorization, 'the same token');
      assert.notEqual(nonceApi.calls[0].dpop, nonceApi.calls[1].dpop, 'a new proof');
      assert.equal(b64urlJson(nonceApi.calls[0].dpop.split('.')[1]).nonce, undefined);
      assert.ok(b64urlJson(nonceApi.calls[1].dpop.split('.')[1]).nonce, 'the second proof has the nonce');
      assert.equal(requestCount(client), tokenRequests, 'no new token');
      // The client keeps the origin's nonce: its next proof carries it at once.
      const t = await client.getToken();
      assert.equal((await rawGet(`${nonceApi.url}/data`, client.authorize(t, 'GET', `${nonceApi.url}/data`))).status, 200);
      // A proof without a nonce: 401 use_dpop_nonce with a DPoP-Nonce header.
      const other = as.client({ dpop: true, audience: AUDIENCE, scopes: 'read:data' });
      const t2 = await other.getToken();
      const refused = await rawGet(`${nonceApi.url}/data`, other.authorize(t2, 'GET', `${nonceApi.url}/data`));
      assert.equal(refused.status, 401);
      assert.ok(refused.lines.some(([k]) => k === 'dpop-nonce'));
      assert.match(challengesOf(refused).find((c) => c.startsWith('DPoP')), /error="use_dpop_nonce"/);
      assert.equal(JSON.parse(refused.body).error, 'use_dpop_nonce');
    } finally {
      await nonceApi.close();
    }
  });

  test('a replayed proof is refused', async () => {
    let sent;
    const record = (req) => {
      sent = new Headers(req.headers);
      return fetch(req);
    };
    assert.equal((await authFetch(client, `${resource.url}/data`, {}, { fetch: record })).status, 200);
    const replay = await rawGet(`${resource.url}/data`, { authorization: sent.get('authorization'), dpop: sent.get('dpop') });
    assert.equal(replay.status, 401);
    assert.match(challengesOf(replay).find((c) => c.startsWith('DPoP')), /error="invalid_dpop_proof"/);
  });

  test('a stolen token is refused: with a proof by another key, and as Bearer', async () => {
    const token = await client.getToken();
    const thief = as.client({ dpop: true, audience: AUDIENCE });
    assert.notEqual(thief.dpopThumbprint, client.dpopThumbprint);
    const url = `${resource.url}/data`;
    const otherKey = await rawGet(url, thief.authorize(token, 'GET', url));
    assert.equal(otherKey.status, 401);
    assert.match(challengesOf(otherKey).find((c) => c.startsWith('DPoP')), /error="invalid_/);
    const asBearer = await rawGet(url, { authorization: `Bearer ${token.accessToken}` });
    assert.equal(asBearer.status, 401);
    assert.match(challengesOf(asBearer)[0], /^Bearer realm="api", error="invalid_token"/);
  });

  test('no credential: a challenge per scheme, each on its own header line', async () => {
    const r = await rawGet(`${resource.url}/data`);
    assert.equal(r.status, 401);
    const [bearer, dpop] = challengesOf(r);
    assert.equal(bearer, 'Bearer realm="api"');
    assert.match(dpop, /^DPoP algs="[^"]*ES256[^"]*", realm="api"$/);
    // dpop: 'required' offers DPoP only, and refuses a Bearer token.
    const only = await api({ dpop: 'required' });
    try {
      const none = await rawGet(`${only.url}/data`);
      assert.equal(challengesOf(none).length, 1);
      assert.match(challengesOf(none)[0], /^DPoP /);
      const bearer = await rawGet(`${only.url}/data`, { authorization: `Bearer ${accessToken()}` });
      assert.equal(bearer.status, 401);
    } finally {
      await only.close();
    }
  });

  test('scopes: 403 insufficient_scope on the scheme the request used', async () => {
    const r = await client.fetch(`${resource.url}/admin`);
    assert.equal(r.status, 403);
    assert.match(r.headers.get('www-authenticate'), /DPoP algs="[^"]+", error="insufficient_scope"/);
  });

  test('a token downgraded to Bearer by the server is refused by the client', async () => {
    const downgrading = await authServer({ tokenType: 'Bearer' });
    try {
      const c = new ClientCredentials({ tokenUrl: downgrading.tokenUrl, clientId: 'agent', clientSecret: SECRET, dpop: true });
      await assert.rejects(c.getToken(), { code: 'invalid_response', message: /downgrade/ });
      const calls = resource.calls.length;
      await assert.rejects(c.fetch(`${resource.url}/data`), { code: 'invalid_response' });
      assert.equal(resource.calls.length, calls, 'the token never went to the resource');
    } finally {
      await downgrading.close();
    }
  });

  test('the request verifier reads the verifier\'s clock', async () => {
    // Everything two hours ago: the proof's iat and the token are only fresh by the manual clock.
    const clock = new ManualClock(Date.now() - 7200_000);
    const past = await authServer({ clock });
    try {
      const c = new ClientCredentials({ tokenUrl: past.tokenUrl, clientId: 'agent', clientSecret: SECRET, dpop: true, clock });
      const verifier = new Verifier({ issuer: ISSUER, audience: AUDIENCE, jwks, clock });
      const rv = new RequestVerifier(verifier, { dpop: 'required' });
      const t = await c.getToken();
      const url = 'http://api.test/data';
      const r = await rv.verify({ method: 'GET', target: '/data', scheme: 'http', headers: { host: 'api.test', ...c.authorize(t, 'GET', url) } });
      assert.equal(r.ok, true, r.error?.message);
      assert.equal(r.scheme, 'DPoP');
      assert.equal(r.dpopThumbprint, c.dpopThumbprint);
      assert.deepEqual(r.headers, []);
      // By the system clock that token is long expired.
      const now = new RequestVerifier(new Verifier({ issuer: ISSUER, audience: AUDIENCE, jwks }), {});
      const late = await now.verify({ method: 'GET', target: '/data', scheme: 'http', headers: { host: 'api.test', ...c.authorize(t, 'GET', url) } });
      assert.equal(late.ok, false);
      assert.ok(late.error instanceof InvalidTokenError);
      assert.equal(late.status, 401);
      // Options are the core's: an unknown one, or a bad value, is a ConfigError.
      assert.throws(() => new RequestVerifier(verifier, { dpopp: 'x' }), { code: 'config_error' });
      assert.throws(() => requireAuth({ issuer: ISSUER, audience: AUDIENCE, jwks, dpop: 'sometimes' }), { code: 'config_error' });
    } finally {
      await past.close();
    }
  });
});

describe('certificate-bound tokens', () => {
  const der = Buffer.from('not really a certificate, only its bytes for the hash');
  const x5t = createHash('sha256').update(der).digest('base64url');
  const hex = createHash('sha256').update(der).digest('hex');

  test('through a proxy header (x-forwarded-client-cert, Hash=)', async () => {
    const resource = await api({ clientCertHeader: 'x-forwarded-client-cert', trustedProxies: ['127.0.0.1/32', '::1'] });
    try {
      const token = accessToken({ cnf: { 'x5t#S256': x5t } });
      const auth = { authorization: `Bearer ${token}` };
      const ok = await get(`${resource.url}/data`, { headers: { ...auth, 'x-forwarded-client-cert': `By=spiffe://api;Hash=${hex};Subject="CN=agent"` } });
      assert.equal(ok.status, 200);
      assert.deepEqual(await ok.json(), { scheme: 'Bearer', jkt: null, x5t, sub: 'agent' });
      const none = await get(`${resource.url}/data`, { headers: auth });
      assert.equal(none.status, 401);
      const other = await get(`${resource.url}/data`, { headers: { ...auth, 'x-forwarded-client-cert': `Hash=${'0'.repeat(64)}` } });
      assert.equal(other.status, 401);
      assert.match(other.headers.get('www-authenticate'), /error="invalid_token"/);
    } finally {
      await resource.close();
    }
    // From a peer that is not a trusted proxy the header is ignored.
    const untrusting = await api({ clientCertHeader: 'x-forwarded-client-cert', trustedProxies: ['10.0.0.0/8'] });
    try {
      const token = accessToken({ cnf: { 'x5t#S256': x5t } });
      const r = await get(`${untrusting.url}/data`, { headers: { authorization: `Bearer ${token}`, 'x-forwarded-client-cert': `Hash=${hex}` } });
      assert.equal(r.status, 401);
    } finally {
      await untrusting.close();
    }
  });

  /** Self-signed certificates made with the openssl command (the test is skipped without it). */
  function certificates() {
    const dir = mkdtempSync(join(tmpdir(), 'authsec-mtls-'));
    try {
      const make = (name, cn, extra = []) => {
        execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '2', '-subj', `/CN=${cn}`, ...extra,
          '-keyout', join(dir, `${name}.key`), '-out', join(dir, `${name}.pem`)], { stdio: 'ignore' });
        return { key: readFileSync(join(dir, `${name}.key`)), cert: readFileSync(join(dir, `${name}.pem`)) };
      };
      // The server's certificate is its own trust anchor: CA:FALSE, or webpki refuses a CA as an end entity.
      const server = make('server', '127.0.0.1', ['-addext', 'subjectAltName=IP:127.0.0.1', '-addext', 'basicConstraints=critical,CA:FALSE']);
      return { server, client: make('client', 'agent'), other: make('other', 'thief') };
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  let certs = null;
  try {
    certs = certificates();
  } catch {}

  test('directly from the TLS connection (getPeerCertificate)', { skip: certs === null && 'no openssl command' }, async () => {
    const clientX5t = createHash('sha256').update(new X509Certificate(certs.client.cert).raw).digest('base64url');
    const app = express();
    app.get('/data', requireAuth({ issuer: ISSUER, audience: AUDIENCE, jwks, requireCertificateBinding: true }), (req, res) =>
      res.json({ x5t: req.auth.certificateThumbprint }),
    );
    const server = https.createServer({ ...certs.server, requestCert: true, rejectUnauthorized: false }, app);
    await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
    const call = (tls, token) =>
      new Promise((resolve, reject) => {
        const req = https.get(
          { host: '127.0.0.1', port: server.address().port, path: '/data', ca: certs.server.cert, ...tls, headers: { authorization: `Bearer ${token}` }, timeout: 10_000, agent: false },
          (res) => {
            const chunks = [];
            res.on('data', (c) => chunks.push(c));
            res.on('end', () => resolve({ status: res.statusCode, body: Buffer.concat(chunks).toString() }));
          },
        );
        req.on('timeout', () => req.destroy(new Error('timeout')));
        req.on('error', reject);
      });
    try {
      const bound = accessToken({ cnf: { 'x5t#S256': clientX5t } });
      const ok = await call(certs.client, bound);
      assert.equal(ok.status, 200, ok.body);
      assert.deepEqual(JSON.parse(ok.body), { x5t: clientX5t });
      assert.equal((await call(certs.other, bound)).status, 401, 'another certificate');
      assert.equal((await call({}, bound)).status, 401, 'no certificate');
      assert.equal((await call(certs.client, accessToken())).status, 401, 'an unbound token where binding is required');

      // The same API with a token the local server issued over HTTPS to that certificate
      // (self_signed_tls_client_auth; the server binds the token to it).
      const dir = mkdtempSync(join(tmpdir(), 'authsec-mtls-server-'));
      writeFileSync(join(dir, 'server.pem'), certs.server.cert);
      writeFileSync(join(dir, 'server.key'), certs.server.key);
      const as = await localServer({
        clients: [
          {
            client_id: 'mtls-agent',
            allowed_scopes: ['read:data'],
            audiences: [AUDIENCE],
            token_endpoint_auth_method: 'self_signed_tls_client_auth',
            tls_client_certificate_sha256: clientX5t,
            tls_client_certificate_bound_access_tokens: true,
          },
        ],
        tls: { cert_file: join(dir, 'server.pem'), key_file: join(dir, 'server.key') },
      });
      try {
        assert.match(as.issuer, /^https:\/\/127\.0\.0\.1:/);
        const agent = new ClientCredentials({
          tokenUrl: as.tokenEndpoint,
          clientId: 'mtls-agent',
          authMethod: 'self_signed_tls_client_auth',
          tlsClientCert: certs.client.cert.toString(),
          tlsClientKey: certs.client.key.toString(),
          tlsCaCert: certs.server.cert.toString(),
        });
        const token = await agent.getToken();
        assert.equal(token.tokenType, 'Bearer');
        const payload = JSON.parse(Buffer.from(token.accessToken.split('.')[1], 'base64url').toString());
        assert.deepEqual(payload.cnf, { 'x5t#S256': clientX5t });
        // Its verifier takes the server's key set as a document (the HTTPS issuer's CA is the test's).
        const jwksText = await new Promise((resolve, reject) => {
          https
            .get(as.jwksUri, { ca: certs.server.cert, agent: false }, (res) => {
              const chunks = [];
              res.on('data', (c) => chunks.push(c));
              res.on('end', () => resolve(Buffer.concat(chunks).toString()));
            })
            .on('error', reject);
        });
        const app2 = express();
        app2.get('/data', requireAuth({ issuer: as.issuer, audience: AUDIENCE, jwks: JSON.parse(jwksText), requireCertificateBinding: true }), (req, res) =>
          res.json({ x5t: req.auth.certificateThumbprint }),
        );
        const api2 = https.createServer({ ...certs.server, requestCert: true, rejectUnauthorized: false }, app2);
        await new Promise((resolve) => api2.listen(0, '127.0.0.1', resolve));
        try {
          const call2 = (tls) =>
            new Promise((resolve, reject) => {
              https
                .get({ host: '127.0.0.1', port: api2.address().port, path: '/data', ca: certs.server.cert, ...tls, headers: { authorization: `Bearer ${token.accessToken}` }, agent: false }, (res) => {
                  res.resume();
                  res.on('end', () => resolve(res.statusCode));
                })
                .on('error', reject);
            });
          assert.equal(await call2(certs.client), 200, 'with the certificate the token is bound to');
          assert.equal(await call2(certs.other), 401, 'with another certificate');
        } finally {
          api2.closeAllConnections?.();
          await new Promise((resolve) => api2.close(resolve));
        }
      } finally {
        await as.close();
        rmSync(dir, { recursive: true, force: true });
      }
    } finally {
      server.closeAllConnections?.();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
