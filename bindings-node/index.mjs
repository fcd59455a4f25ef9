// ESM entry of @authsec/sdk (the implementation is the CommonJS build, so both share one addon).
export * from './index.js';
export { default } from './index.js';
