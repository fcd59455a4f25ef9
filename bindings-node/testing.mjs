// ESM entry of @authsec/sdk/testing (the implementation is the CommonJS build: one addon).
export * from './testing.js';
export { default } from './testing.js';
