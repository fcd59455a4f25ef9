// Shared by the Node.js and wasm runners: reads every case of tests/vectors/verify_*.json and
// writes the outcomes file (format: conformance/README.md).
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const defaultDir = fileURLToPath(new URL('../tests/vectors/', import.meta.url));

/** [{ id: "<file>#<case name>", file, case, jwks }] in file order. */
export function loadCases(dir = defaultDir) {
  const out = [];
  const files = readdirSync(dir).filter((f) => f.startsWith('verify_') && f.endsWith('.json')).sort();
  for (const file of files) {
    const doc = JSON.parse(readFileSync(join(dir, file), 'utf8'));
    for (const c of doc.cases) {
      const jwks = typeof c.jwks === 'string' ? doc.jwks[c.jwks] : c.jwks;
      out.push({ id: `${file}#${c.name}`, case: c, jwks });
    }
  }
  return out;
}

/** The vector options in the JavaScript APIs' camelCase spelling (absent ones left out). */
export function jsOptions(o, jwks) {
  const names = {
    issuer: 'issuer', audience: 'audience', skip_issuer_check: 'skipIssuerCheck',
    skip_audience_check: 'skipAudienceCheck', algorithms: 'algorithms', leeway: 'leeway', typ: 'typ',
    max_token_bytes: 'maxTokenBytes', required_claims: 'requiredClaims',
  };
  const out = { jwks };
  for (const [k, v] of Object.entries(o)) {
    if (k === 'now') continue;
    if (!(k in names)) throw new Error(`unknown vector option ${k}`);
    out[names[k]] = v;
  }
  return out;
}

/** `{ requiredScopes, anyScopes }` for verify, or undefined. */
export function scopeOptions(c) {
  if (!c.required_scopes) return undefined;
  const r = {};
  if (c.required_scopes.all_of !== undefined) r.requiredScopes = c.required_scopes.all_of;
  if (c.required_scopes.any_of !== undefined) r.anyScopes = c.required_scopes.any_of;
  return r;
}

/** Runs `verify(case) -> Promise<claims>`; an AuthsecError becomes `{error, missing_scopes}`. */
export async function outcome(AuthsecError, run) {
  try {
    return { claims: { ...(await run()) } };
  } catch (e) {
    if (!(e instanceof AuthsecError)) throw e;
    return { error: e.code, missing_scopes: e.missingScopes ? [...e.missingScopes] : [] };
  }
}

/** Runs every case and writes `{runtime, version, outcomes}` to `path`. */
export async function runAll({ runtime, version, path, AuthsecError, verify }) {
  const outcomes = {};
  let problems = 0;
  for (const { id, case: c, jwks } of loadCases()) {
    try {
      outcomes[id] = await outcome(AuthsecError, () => verify(c, jwks));
    } catch (e) {
      // Not an AuthsecError: left out of the file, so the comparator reports the case.
      console.error(`conformance (${runtime}): ${id}: ${e?.stack ?? e}`);
      problems++;
    }
  }
  writeFileSync(path, JSON.stringify({ runtime, version, outcomes }, null, 2) + '\n');
  console.log(`${runtime}: ${Object.keys(outcomes).length} outcomes -> ${path}`);
  if (problems) process.exitCode = 1;
}
