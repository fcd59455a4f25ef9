// The resolve hook of node-installed.mjs: a module of the checkout's package (bindings-node/, its
// tests aside) is taken from the installed package instead; a file the installed package lacks
// is an error, not a silent fallback to the checkout.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

let checkout, installed;
export function initialize(data) {
  ({ checkout, installed } = data);
}

export async function resolve(specifier, context, next) {
  const resolved = await next(specifier, context);
  const url = resolved.url;
  if (!url.startsWith(checkout) || url.startsWith(`${checkout}test/`)) return resolved;
  const target = installed + url.slice(checkout.length);
  if (!existsSync(fileURLToPath(target))) throw new Error(`node-installed: ${target} is not in the installed package`);
  return { ...resolved, url: target };
}
