// @authsec/wasm: initialised on import (top-level await).
export * from './manual.js';
