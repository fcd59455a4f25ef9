// The shared vector files (tests/vectors/verify_*.json) as the Node-side tests count them, so
// a runtime's tally (browser, Deno, workerd) is checked against numbers worked out independently
// of the runner that produced it.
import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

export const VECTORS_DIR = fileURLToPath(new URL('../../../tests/vectors/', import.meta.url));

/** { files, docs, cases, eddsaCases }: the file names (sorted), their parsed contents, the number
 * of cases, and how many of them carry an EdDSA token (read from the token's header). */
export function vectorFiles() {
  const files = readdirSync(VECTORS_DIR).filter((f) => f.startsWith('verify_') && f.endsWith('.json')).sort();
  const docs = files.map((f) => JSON.parse(readFileSync(join(VECTORS_DIR, f), 'utf8')));
  const isEdDSA = (token) => {
    try {
      return JSON.parse(Buffer.from(token.trim().split('.')[0], 'base64url').toString()).alg === 'EdDSA';
    } catch {
      return false;
    }
  };
  return {
    files,
    docs,
    cases: docs.reduce((n, d) => n + d.cases.length, 0),
    eddsaCases: docs.reduce((n, d) => n + d.cases.filter((c) => isEdDSA(c.token)).length, 0),
  };
}
