// (7) An agent with no secret anywhere: its identity is a SPIFFE ID, proven by a JWT-SVID.
//
//     node spiffe-agent.mjs                                   (a fake Workload API, in-process)
//     tests/spire/run.sh node examples/node/spiffe-agent.mjs  (a real SPIRE agent, from the repo root)
//
// A SPIFFE Workload API (the SPIRE agent's socket, named by SPIFFE_ENDPOINT_SOCKET) hands the
// workload short-lived JWT-SVIDs. The agent sends one to the authorization server as its client
// assertion (`AUTHSEC_AUTH_METHOD=spiffe_jwt`) and gets an access token: no client secret, no
// private key, no client id in its configuration. The authorization server trusts the SPIFFE trust
// domain's bundle and has a client registered for `spiffe://example.org/agents/*`.
//
// Without SPIFFE_ENDPOINT_SOCKET, the example starts the fake Workload API of
// @authsec/sdk/testing (its own trust domain example.org) so that it runs with one command.

import { ClientCredentials, WorkloadApiClient } from '@authsec/sdk';
import { FakeWorkloadApi, startLocalServer } from '@authsec/sdk/testing';
import { API_AUDIENCE, serve } from './local.mjs';
import { createApp } from './protected-api.mjs';

// [START spiffe_agent]
// The whole configuration: where to get tokens, and that the workload's SPIFFE identity is the
// credential. SPIFFE_ENDPOINT_SOCKET (set by the platform) says where the Workload API is.
//   AUTHSEC_AUTH_METHOD=spiffe_jwt
//   AUTHSEC_TOKEN_URL=https://auth.example.com/oauth/token
//   AUTHSEC_SPIFFE_AUDIENCE=https://auth.example.com    (the SVID's audience: the authorization server)
//   AUTHSEC_AUDIENCE=https://api.example.test
//   AUTHSEC_SCOPES=read:data
async function runAgent(apiUrl) {
  const client = ClientCredentials.fromEnv(); // no secret: the JWT-SVID is fetched per token request
  const token = await client.getToken();
  const expiresIn = Math.round(token.expiresAt - Date.now() / 1000);
  console.log(`token: ${token.tokenType}, scopes ${token.scopes.join(' ')}, expires in ${expiresIn} s (no client secret)`);
  const response = await client.fetch(`${apiUrl}/data`);
  console.log(`GET /data -> ${response.status} ${await response.text()}`);
}
// [END spiffe_agent]

// ---- set-up: a Workload API, a local authorization server that trusts it, the example API ----

let fake = null;
if (!process.env.SPIFFE_ENDPOINT_SOCKET) {
  fake = await FakeWorkloadApi.start({ trustDomain: 'example.org' });
  fake.setSpiffeId('spiffe://example.org/agents/ml-training');
  process.env.SPIFFE_ENDPOINT_SOCKET = fake.endpoint;
}
const workloadApi = new WorkloadApiClient();
console.log(`workload API: ${workloadApi.endpoint} (${fake ? 'fake, in-process' : 'SPIFFE_ENDPOINT_SOCKET'})`);
// The trust domain's JWT bundle, as the authorization server is told to trust it.
const bundles = await workloadApi.fetchJwtBundles();
const [trustDomain] = Object.keys(bundles);
const auth = await startLocalServer({
  spiffe: { trust_domains: { [trustDomain]: { bundle: bundles[trustDomain] } } },
  clients: [{ client_id: 'ml-agent', spiffe_id: `spiffe://${trustDomain}/agents/*`, allowed_scopes: ['read:data'], audiences: [API_AUDIENCE] }],
  default_audience: API_AUDIENCE,
});
console.log(`authorization server: ${auth.issuer} (local, in-process), trusts spiffe://${trustDomain}`);
const api = await serve(createApp(auth));
try {
  console.log(`protected API: ${api.url}`);
  const svid = await workloadApi.fetchJwtSvid(auth.issuer);
  console.log(`SPIFFE ID: ${svid.spiffeId}`);
  Object.assign(process.env, {
    AUTHSEC_AUTH_METHOD: 'spiffe_jwt',
    AUTHSEC_TOKEN_URL: auth.tokenEndpoint,
    AUTHSEC_SPIFFE_AUDIENCE: auth.issuer,
    AUTHSEC_AUDIENCE: API_AUDIENCE,
    AUTHSEC_SCOPES: 'read:data',
  });
  await runAgent(api.url);
  console.log('done: spiffe_agent');
} finally {
  await api.close();
  await auth.close();
  fake?.stop();
}
