// ESM entry of @authsec/sdk/testing (INTERNAL test hooks).
import testing from './testing.js';

export const { ManualClock, requestCount, cachedTokens, nativeErrorCodes, startLocalServer } = testing;
export default testing;
