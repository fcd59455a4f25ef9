// Module resolution hooks (module.register) for test/nobuiltins.test.mjs: any import made by a
// module in `scopes` (the package's shipped files) must be relative and must not name a Node.js
// built-in (`node:fs`, `fs`, ...); such an import throws. Every module resolved into the scopes is
// reported on `port`, so the test can see the whole graph went through here.
import { builtinModules } from 'node:module';

let scopes = [];
let port;

export async function initialize(data) {
  scopes = data.scopes;
  port = data.port;
}

const inScope = (url) => typeof url === 'string' && scopes.some((s) => (s.endsWith('/') ? url.startsWith(s) : url === s));
const isBuiltin = (s) => s.startsWith('node:') || builtinModules.includes(s) || builtinModules.includes(s.split('/')[0]);

export async function resolve(specifier, context, next) {
  if (inScope(context.parentURL)) {
    if (isBuiltin(specifier)) {
      port.postMessage({ blocked: specifier, parent: context.parentURL });
      throw new Error(`${context.parentURL} imports the Node.js built-in ${JSON.stringify(specifier)}`);
    }
    if (!specifier.startsWith('./') && !specifier.startsWith('../')) {
      port.postMessage({ blocked: specifier, parent: context.parentURL });
      throw new Error(`${context.parentURL} imports ${JSON.stringify(specifier)}, which is not a file of the package`);
    }
  }
  const result = await next(specifier, context);
  if (inScope(result.url)) port.postMessage({ loaded: result.url, parent: context.parentURL ?? null });
  return result;
}
