// Type-checked (not run) by `tsc --noEmit` in test.sh: the declarations as an ESM user sees them.
import express from 'express';
import {
  ClientCredentials,
  AuthsecClient,
  Verifier,
  AccessToken,
  AuthsecError,
  InsufficientScopeError,
  InvalidTokenError,
  UnavailableError,
  DelegationError,
  requireAuth,
  requiredScopes,
  RequestVerifier,
  requestParts,
  type RequestAccepted,
  type RequestRefused,
  authFetch,
  createAuthFetch,
  ERROR_CODES,
  type Claims,
  type Actor,
  type ErrorCode,
  type ErrorCategory,
} from '@authsec/sdk';
import sdk from '@authsec/sdk';
import { ManualClock, requestCount, startLocalServer } from '@authsec/sdk/testing';

export async function agent(): Promise<string> {
  const client = new ClientCredentials({
    tokenUrl: 'https://auth.example.com/oauth/token',
    clientId: 'agent',
    clientSecret: process.env.SECRET ?? '',
    scopes: ['read:data'],
    refreshBuffer: '5m',
  });
  const token: AccessToken = await client.getToken();
  const other = await client.getToken({ audience: 'https://other', scopes: 'a b' });
  client.invalidateToken(other);
  const { accessToken, tokenType, expiresAt, scopes } = token;
  const n: number = expiresAt;
  const s: readonly string[] = scopes;
  void n;
  void s;
  const res: Response = await client.fetch('https://api.example.com/data', { method: 'POST', body: '{}' });
  const f = createAuthFetch(client);
  await f(new URL('https://api.example.com'));
  await authFetch(client, 'https://api.example.com');
  const fromEnv = ClientCredentials.fromEnv();
  void fromEnv;
  const exchanged: AccessToken = await client.exchangeToken({ subjectToken: token, scopes: ['a'], audience: 'https://tool', requestedTokenType: 'jwt' });
  const issued: string | undefined = exchanged.issuedTokenType;
  void issued;
  await client.exchangeToken({ subjectToken: 'eyJ...', actorToken: token, actorTokenType: 'urn:ietf:params:oauth:token-type:jwt', resource: ['https://r'] });
  const down: AccessToken = await client.downstreamToken(token.accessToken, { audience: 'https://tool', scopes: 'a b' });
  void down;
  return `${tokenType} ${accessToken} ${res.status}`;
}

export async function docsShape(): Promise<string> {
  const client = new AuthsecClient({ domain: 'auth.authsec.ai', clientId: 'id', clientSecret: 'secret' });
  const token = await client.getClientCredentialsToken({ audience: 'https://api.example.com', scope: 'read:data' });
  const e: number = token.expires_in;
  void e;
  return token.access_token + token.accessToken + token.scope;
}

export async function service(token: string): Promise<void> {
  const verifier = new Verifier({ issuer: 'https://auth.example.com', audience: 'https://api', jwksUri: 'https://auth.example.com/jwks.json', algorithms: ['ES256', 'EdDSA'], leeway: 10 });
  try {
    const claims: Claims = await verifier.verify(token, { requiredScopes: 'read:data' });
    const sub: string | undefined = claims.sub;
    const exp: number = claims.exp;
    const offThread = new Verifier({ issuer: 'https://i', audience: 'a', jwksUri: 'https://i/j', offThread: true });
    await offThread.warm();
    const again: Claims = offThread.verifySync(token, { anyScopes: ['read:data'] });
    void again;
    void sub;
    void exp;
  } catch (e) {
    if (e instanceof InsufficientScopeError) {
      const missing: readonly string[] | undefined = e.missingScopes;
      const status: number = e.httpStatus;
      const category: ErrorCategory = e.category;
      void missing;
      void status;
      void category;
    } else if (e instanceof InvalidTokenError) {
      const code: ErrorCode = e.code;
      void code;
    } else if (e instanceof UnavailableError) {
      const retry: boolean = e.retryable;
      void retry;
    } else if (e instanceof AuthsecError) {
      const header: string = e.wwwAuthenticate('api', ['read:data']);
      void header;
    }
  }
  const v2 = await Verifier.discover({ issuer: 'https://auth.example.com', audience: 'https://api' });
  void v2;
  const delegated = new Verifier({ issuer: 'https://i', audience: 'a', jwksUri: 'https://i/j', forbidDelegation: false, maxDelegationDepth: 2, allowedActors: ['tool'] });
  const byCallback = new Verifier({ issuer: 'https://i', audience: 'a', jwksUri: 'https://i/j', allowedActors: (actor: Actor) => actor.id === 'tool' });
  const byAsyncCallback = new Verifier({ issuer: 'https://i', audience: 'a', jwksUri: 'https://i/j', allowedActors: async (actor) => actor.clientId !== undefined });
  void byCallback;
  void byAsyncCallback;
  try {
    const c = await delegated.verify(token);
    const chain: readonly Actor[] = c.delegation;
    const current: Actor | null = c.actor;
    const ids: string[] = chain.map((a) => a.id);
    const sub: string | undefined = current?.sub;
    void ids;
    void sub;
  } catch (e) {
    if (e instanceof DelegationError) {
      const code: ErrorCode = e.code;
      const base: InvalidTokenError = e;
      void code;
      void base;
    }
  }
  const codes: readonly ErrorCode[] = ERROR_CODES;
  void codes;
  void sdk.ClientCredentials;
}

export function app(): express.Express {
  const a = express();
  const auth = requireAuth({ issuer: 'https://auth.example.com', audience: 'https://api', realm: 'api' });
  a.get('/data', auth, requiredScopes('read:data'), (req, res) => {
    const claims = req.auth?.payload;
    res.json({ sub: claims?.sub, token: req.auth?.token.length });
  });
  a.get('/any', auth, requiredScopes(['a', 'b'], { any: true }), (_req, res) => {
    res.end();
  });
  return a;
}

export async function dpop(): Promise<void> {
  const client = new ClientCredentials({ tokenUrl: 'https://a/t', clientId: 'a', clientSecret: 's', dpop: true, dpopAlg: 'ES256' });
  const mtls = new ClientCredentials({
    tokenUrl: 'https://a/t',
    clientId: 'a',
    authMethod: 'self_signed_tls_client_auth',
    tlsClientCertFile: '/c.pem',
    tlsClientKeyFile: '/k.pem',
    tlsCaFile: '/ca.pem',
  });
  void mtls;
  const jkt: string | null = client.dpopThumbprint;
  void jkt;
  const token = await client.getToken();
  const headers: Record<string, string> = client.authorize(token, 'GET', new URL('https://api/x'));
  const res = await fetch('https://api/x', { headers });
  const next: 'retry' | 'give_up' = client.onResourceResponse('https://api/x', token, res.status, res.headers, 0);
  void next;

  const verifier = new Verifier({ issuer: 'https://i', audience: 'https://api', jwksUri: 'https://i/j' });
  const rv = new RequestVerifier(verifier, { dpop: 'required', dpopNonce: true, publicUrl: 'https://api', clientCertHeader: 'x-forwarded-client-cert', resourceMetadata: 'https://api/.well-known/oauth-protected-resource' });
  const app = express();
  app.use(async (req, res, next) => {
    const r: RequestAccepted | RequestRefused = await rv.verify(requestParts(req), { requiredScopes: 'read' });
    for (const [k, v] of r.headers) res.appendHeader(k, v);
    if (r.ok) {
      const scheme: 'Bearer' | 'DPoP' = r.scheme;
      const t: string | null = r.dpopThumbprint ?? r.certificateThumbprint;
      void scheme;
      void t;
      next();
    } else {
      const status: number = r.status;
      res.status(status).json({ error: r.oauthError, code: r.error?.code });
    }
  });
  app.get('/x', requireAuth({ issuer: 'https://i', audience: 'https://api', dpop: 'allowed', trustForwarded: true, trustedProxies: ['10.0.0.0/8'] }), (req, res) => {
    res.json({ scheme: req.auth?.scheme, jkt: req.auth?.dpopThumbprint });
  });
}

export async function testing(): Promise<void> {
  const clock = new ManualClock(Date.now());
  await using server = await startLocalServer({
    clock,
    signing_alg: 'EdDSA',
    clients: [
      { client_id: 'a', client_secret: 's', allowed_scopes: ['x'], token_lifetime: 60, roles: ['r'], may_act: ['b'] },
      { client_id: 'b', client_secret: 's', grant_types: ['urn:ietf:params:oauth:grant-type:token-exchange'] },
    ],
    roles: { r: { scopes: ['y'], audiences: ['https://api'] } },
    token_exchange: { max_delegation_depth: 2 },
  });
  const client = new ClientCredentials({ tokenUrl: server.tokenEndpoint, clientId: 'a', clientSecret: 's', clock });
  await client.getToken();
  clock.advance(61_000);
  const count: number = requestCount(client);
  void count;
  const helper: ClientCredentials = server.client({ scopes: 'x' });
  const v: Verifier = server.verifier({ leeway: 1 });
  const token: string = await server.token({ clientId: 'a' });
  await v.verify(token);
  void helper;
}
