// The resolve hook of node-installed.mjs: a module of the checkout's package (bindings-node/, its
// tests and node_modules aside) is taken from the installed package instead; a file the installed
// package lacks is an error, not a silent fallback to the checkout. A package an installed module
// imports and the test project lacks resolves as from the same module in the checkout.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

let checkout, installed;
export function initialize(data) {
  ({ checkout, installed } = data);
}

function redirect(url) {
  if (!url.startsWith(checkout) || url.startsWith(`${checkout}test/`) || url.startsWith(`${checkout}node_modules/`)) return url;
  const target = installed + url.slice(checkout.length);
  if (!existsSync(fileURLToPath(target))) throw new Error(`node-installed: ${target} is not in the installed package`);
  return target;
}

export async function resolve(specifier, context, next) {
  let resolved;
  try {
    resolved = await next(specifier, context);
  } catch (e) {
    if (e.code !== 'ERR_MODULE_NOT_FOUND' || !context.parentURL?.startsWith(installed)) throw e;
    const twin = checkout + context.parentURL.slice(installed.length);
    resolved = await next(specifier, { ...context, parentURL: twin });
  }
  return { ...resolved, url: redirect(resolved.url) };
}
