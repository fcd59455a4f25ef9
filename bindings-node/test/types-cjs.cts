// Type-checked (not run): the declarations as a CommonJS user sees them.
import sdk = require('@authsec/sdk');
import testing = require('@authsec/sdk/testing');

export async function main(): Promise<number> {
  const client = new sdk.ClientCredentials({ tokenUrl: 'https://a/t', clientId: 'x', clientSecret: 'y' });
  const t = await client.getToken();
  const clock = new testing.ManualClock();
  clock.advance(1);
  const err: sdk.AuthsecError = new sdk.ConfigError('x', { code: 'config_error' });
  return t.expiresAt + testing.requestCount(client) + err.httpStatus;
}
