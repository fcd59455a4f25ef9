// @authsec/wasm/spiffe: @authsec/wasm plus JwtSvidVerifier and spiffeIdMatches (SPIFFE JWT-SVIDs);
// loads its WebAssembly module on import (top-level await). In runtimes that hand you the module
// instead (Cloudflare Workers), import '@authsec/wasm/spiffe-manual' and call initSync().
export * from './spiffe-manual.js';
import { init } from './spiffe-manual.js';

await init();
