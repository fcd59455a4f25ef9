// INTERNAL test hooks of @authsec/sdk (not covered by semver).

import type { ClientCredentials, Verifier, ErrorCode, ErrorCategory } from './index';
export { startLocalServer } from './index';

/** A clock that only moves when told to (Unix milliseconds); retries "sleep" by advancing it. */
export declare class ManualClock {
  /** Start at `startMs`, or now. */
  constructor(startMs?: number | null);
  /** The current time in Unix milliseconds. */
  now(): number;
  set(ms: number): void;
  /** Move forward by `ms` milliseconds. */
  advance(ms: number): void;
}

/** Token requests a client has sent (retries included). */
export declare function requestCount(client: ClientCredentials): number;

/** Tokens in a verifier's verified-token cache. */
export declare function cachedTokens(verifier: Verifier): number;

/** The core's error codes with their classification. */
export declare function nativeErrorCodes(): {
  code: ErrorCode;
  category: ErrorCategory;
  class: string;
  description: string;
  retryable: boolean;
}[];

/** The core's error class tree, parents first (`parent` null: directly under `AuthsecError`). */
export declare function nativeErrorClasses(): { name: string; parent: string | null }[];
