// @authsec/wasm/spiffe: initialised on import (top-level await).
export * from './spiffe-manual.js';
