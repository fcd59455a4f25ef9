// The npm packages as a user installs them (tests/install/run.sh), run from a project whose
// node_modules holds them: the local authorization server (@authsec/sdk-testing) issues a token to
// a ClientCredentials client, and a Verifier verifies it.
import { createRequire } from 'node:module';
import { startLocalServer } from '@authsec/sdk/testing';
import { Verifier } from '@authsec/sdk';

const require = createRequire(`${process.cwd()}/`);
const main = require.resolve('@authsec/sdk');
if (!main.startsWith(`${process.cwd()}/node_modules/`)) throw new Error(`@authsec/sdk came from ${main}`);

const server = await startLocalServer({
  clients: [{ client_id: 'agent', client_secret: 's3cret', allowed_scopes: ['read:data'], audiences: ['https://api'] }],
});
try {
  const client = server.client({ scopes: 'read:data' });
  const token = await client.getToken();
  const verifier = new Verifier({ issuer: server.issuer, audience: 'https://api', jwksUri: server.jwksUri });
  const claims = await verifier.verify(token.accessToken, { requiredScopes: ['read:data'] });
  if (claims.sub !== 'agent') throw new Error(`sub is ${claims.sub}`);
  console.log(`node: token for ${claims.sub} verified, scope ${claims.scope}`);
} finally {
  await server.close();
}
