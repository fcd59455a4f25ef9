// Type-checked (not run) by `tsc --noEmit` in test.sh: SPIFFE workload identity as an ESM user
// sees it.
import {
  ClientCredentials,
  JwtSvidVerifier,
  WorkloadApiClient,
  spiffeIdMatches,
  InsufficientScopeError,
  type JwtSvid,
  type JwtSvidVerifierOptions,
  type WorkloadJwtSvid,
  type X509Svid,
  type ErrorCode,
} from '@authsec/sdk';
import { FakeWorkloadApi } from '@authsec/sdk/testing';

export async function spiffe(): Promise<string> {
  await using fake = await FakeWorkloadApi.start({ trustDomain: 'example.org' });
  fake.setSpiffeId('spiffe://example.org/agents/a');
  fake.rotateJwtKey();
  const kid: string = fake.jwtKid;
  const options: JwtSvidVerifierOptions = {
    audience: 'https://auth.example',
    trustDomains: { 'example.org': { bundle: fake.jwtBundle() }, 'other.org': { bundleFile: '/b.json' } },
    allowedIds: ['spiffe://example.org/agents/*'],
  };
  const byBundle = await JwtSvidVerifier.create(options);
  const watched = await JwtSvidVerifier.create({ audience: ['a', 'b'], workloadApi: fake.endpoint, soleAudience: true });
  const fromEnv = await JwtSvidVerifier.create({ audience: 'a', workloadApi: true, algorithms: ['ES256'], leeway: 5 });
  const client = new WorkloadApiClient(fake.endpoint);
  const svid: WorkloadJwtSvid = await client.fetchJwtSvid('https://auth.example', { spiffeId: fake.spiffeId });
  const verified: JwtSvid = await byBundle.verify(svid.token);
  const again: JwtSvid = watched.verifySync(svid.token);
  const bundles: Record<string, { keys: Record<string, unknown>[] }> = await client.fetchJwtBundles();
  const x509: X509Svid = await new WorkloadApiClient().fetchX509Svid();
  const ok: boolean = spiffeIdMatches(verified.spiffeId, ['spiffe://example.org']) && spiffeIdMatches(again.spiffeId, 'spiffe://example.org');
  const code: ErrorCode = 'spiffe_id_not_allowed';
  void fromEnv;
  void new InsufficientScopeError('x', { code });
  const tokens = new ClientCredentials({
    authMethod: 'spiffe_jwt',
    tokenUrl: 'https://auth.example/oauth/token',
    spiffeEndpointSocket: fake.endpoint,
    spiffeAudience: 'https://auth.example',
    spiffeGrant: 'jwt_bearer',
    spiffeReuseSvid: false,
  });
  const t = await tokens.getToken();
  return `${kid} ${verified.trustDomain} ${verified.expiresAt} ${verified.kid ?? ''} ${Object.keys(bundles)} ${x509.certChainPem} ${ok} ${t.accessToken}`;
}
