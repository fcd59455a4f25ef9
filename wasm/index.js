// @authsec/wasm: loads its WebAssembly module on import (top-level await). In runtimes that hand
// you the module instead (Cloudflare Workers), import '@authsec/wasm/manual' and call initSync().
export * from './manual.js';
import { init } from './manual.js';

await init();
