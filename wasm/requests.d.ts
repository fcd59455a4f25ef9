// @authsec/wasm/requests: initialised on import (top-level await).
export * from './requests-manual.js';
