// (4) Configuration from AUTHSEC_* environment variables and from a config.yaml.
//
//     node configuration.mjs
//
// The same core reader backs every language: `ClientCredentials.fromEnv()` reads `AUTHSEC_*`
// variables, and `ClientCredentials.fromConfigFile(path)` reads a YAML file (an `authsec:`
// mapping) with `${VAR}` / `${VAR:-default}` interpolation from the environment. Unknown settings
// and unset variables are errors that name them. In production your deployment sets the
// variables; here they are set in-process to point at the local authorization server this
// example starts.

import { fileURLToPath } from 'node:url';
import { ClientCredentials, ConfigError } from '@authsec/sdk';
import { API_AUDIENCE, startLocalAuth } from './local.mjs';

const CONFIG_FILE = fileURLToPath(new URL('config.yaml', import.meta.url));

async function describe(source, client) {
  const token = await client.getToken();
  const expiresIn = Math.round(token.expiresAt - Date.now() / 1000);
  console.log(`${source}: token for ${JSON.stringify(token.scopes)}, expires in ${expiresIn} s`);
}

const auth = await startLocalAuth();
try {
  // What a deployment would put in the agent's environment.
  Object.assign(process.env, {
    AUTHSEC_CLIENT_ID: auth.clientId,
    AUTHSEC_CLIENT_SECRET: auth.clientSecret,
    AUTHSEC_TOKEN_URL: auth.tokenUrl,
    AUTHSEC_SCOPES: 'read:data',
    AUTHSEC_AUDIENCE: API_AUDIENCE,
  });

  // [START config_env]
  // AUTHSEC_CLIENT_ID, AUTHSEC_CLIENT_SECRET (or AUTHSEC_CLIENT_SECRET_FILE), AUTHSEC_TOKEN_URL
  // (or AUTHSEC_ISSUER to discover it), AUTHSEC_SCOPES, AUTHSEC_AUDIENCE, AUTHSEC_REFRESH_BUFFER, ...
  const fromEnv = ClientCredentials.fromEnv();
  // [END config_env]
  await describe('from AUTHSEC_* variables', fromEnv);

  // [START config_yaml]
  // config.yaml's ${AUTHSEC_CLIENT_ID}, ${AUTHSEC_CLIENT_SECRET}, ... come from the environment.
  const fromFile = ClientCredentials.fromConfigFile(CONFIG_FILE);
  // [END config_yaml]
  await describe('from config.yaml', fromFile);

  // A variable the file needs is missing: the error names it (and never shows a value).
  delete process.env.AUTHSEC_CLIENT_SECRET;
  try {
    ClientCredentials.fromConfigFile(CONFIG_FILE);
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    console.log(`without AUTHSEC_CLIENT_SECRET: ${e.code}: ${e.message}`);
  }
} finally {
  await auth.close();
}
console.log('done: configuration');
