// The peer of scripts/bench-server.sh: oidc-provider (the certified Node.js OAuth 2.0 / OpenID
// Connect server) issuing a signed JWT access token (RFC 9068, via resource indicators) per
// client_credentials request, with client_secret_basic.
//
//   BENCH_ALG=RS256|ES256 BENCH_CLIENT_ID=... BENCH_CLIENT_SECRET=... BENCH_RESOURCE=https://...
//   BENCH_SCOPE=read:data node server.mjs
// It makes a fresh signing key (RSA 2048 or P-256), listens on 127.0.0.1 (a free port) and prints
// its issuer ("http://127.0.0.1:<port>") on stdout; SIGTERM stops it.
import { generateKeyPairSync } from 'node:crypto';
import { createServer } from 'node:http';
import Provider from 'oidc-provider';

const env = (name) => {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set`);
  return v;
};
const cfg = {
  alg: env('BENCH_ALG'),
  client_id: env('BENCH_CLIENT_ID'),
  client_secret: env('BENCH_CLIENT_SECRET'),
  resource: env('BENCH_RESOURCE'),
  scope: env('BENCH_SCOPE'),
};
const { privateKey } = cfg.alg.startsWith('ES')
  ? generateKeyPairSync('ec', { namedCurve: 'P-256' })
  : generateKeyPairSync('rsa', { modulusLength: 2048 });
cfg.jwk = { ...privateKey.export({ format: 'jwk' }), kid: `bench-${cfg.alg}` };

const server = createServer();
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const issuer = `http://127.0.0.1:${server.address().port}`;

const provider = new Provider(issuer, {
  clients: [{
    client_id: cfg.client_id,
    client_secret: cfg.client_secret,
    grant_types: ['client_credentials'],
    response_types: [],
    redirect_uris: [],
    token_endpoint_auth_method: 'client_secret_basic',
    id_token_signed_response_alg: cfg.alg,
  }],
  jwks: { keys: [{ ...cfg.jwk, alg: cfg.alg, use: 'sig' }] },
  cookies: { keys: ['bench-cookie-key-not-secret'] },
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: () => cfg.resource,
      useGrantedResource: () => true,
      getResourceServerInfo: (_ctx, resourceIndicator) => {
        if (resourceIndicator !== cfg.resource) throw new Provider.errors.InvalidTarget();
        return {
          scope: cfg.scope,
          audience: cfg.resource,
          accessTokenTTL: 3600,
          accessTokenFormat: 'jwt',
          jwt: { sign: { alg: cfg.alg } },
        };
      },
    },
  },
});
provider.on('server_error', (_ctx, err) => console.error('server_error', err));
server.on('request', provider.callback());
process.on('SIGTERM', () => server.close(() => process.exit(0)));
console.log(issuer);
