// @authsec/wasm/requests: @authsec/wasm plus RequestVerifier (DPoP, certificate-bound tokens);
// loads its WebAssembly module on import (top-level await). In runtimes that hand you the module
// instead (Cloudflare Workers), import '@authsec/wasm/requests-manual' and call initSync().
export * from './requests-manual.js';
import { init } from './requests-manual.js';

await init();
