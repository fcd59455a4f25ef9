// @authsec/wasm/spiffe-manual: the API of @authsec/wasm/manual plus JwtSvidVerifier and spiffeIdMatches.
export * from './manual.js';

/** A SPIFFE trust bundle: a JWK Set, as an object or its JSON text. */
export type SpiffeBundle = { keys: object[]; spiffe_sequence?: number; spiffe_refresh_hint?: number } | string;

export interface JwtSvidVerifierOptions {
  /** The audience(s) this service answers to: an SVID's `aud` must hold one. */
  audience: string | string[];
  /** The trusted trust domains and their bundles (e.g. `{ 'example.org': { bundle } }`). */
  trustDomains: Record<string, { bundle: SpiffeBundle }>;
  /** SPIFFE IDs accepted: exact IDs, trust domains (`spiffe://td`), path prefixes (`spiffe://td/agents/*`). */
  allowedIds?: string[];
  /** `aud` must be exactly one value (an authorization server reading a client assertion). */
  soleAudience?: boolean;
  algorithms?: Array<'RS256' | 'RS384' | 'RS512' | 'PS256' | 'PS384' | 'PS512' | 'ES256' | 'ES384'>;
  /** Clock-skew leeway in seconds (default 30). */
  leeway?: number;
  maxTokenBytes?: number;
}

/** A verified JWT-SVID. */
export interface JwtSvid {
  readonly spiffeId: string;
  readonly trustDomain: string;
  readonly audience: string[];
  /** `exp`, Unix seconds. */
  readonly expiresAt: number;
  readonly issuedAt: number | null;
  readonly alg: string;
  readonly kid: string | null;
  readonly claims: Record<string, unknown>;
}

/** Verifies SPIFFE JWT-SVIDs against the trust bundles it is given. */
export declare class JwtSvidVerifier {
  constructor(options: JwtSvidVerifierOptions, testing?: { nowMs?: number });
  /** Resolves to the verified SVID, or rejects with an AuthsecError. */
  verify(token: string): Promise<JwtSvid>;
  free(): void;
}

/** Whether a SPIFFE ID matches one of the patterns (exact, `spiffe://td`, `spiffe://td/path/*`). */
export declare function spiffeIdMatches(spiffeId: string, patterns: Iterable<string>): boolean;

