// ESM entry of @authsec/sdk/mcp (the implementation is the CommonJS build, so both share one addon).
export * from './mcp.js';
export { default } from './mcp.js';
