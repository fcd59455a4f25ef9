// Type declarations for SPIFFE workload identity in @authsec/sdk (hand-written; re-exported by
// index.d.ts; checked by `tsc --noEmit` in test.sh).

import type { Algorithm, Jwks, Scopes } from './index';
import type { ManualClock } from './testing';

/** Where one trust domain's JWT bundle comes from: exactly one of these. */
export type TrustDomainBundle =
  /** The bundle document (a JWKS, SPIFFE members allowed), or its JSON text. */
  | { bundle: Jwks | string }
  /** A file holding the bundle document (e.g. `spire-server bundle show -format spiffe`). */
  | { bundleFile: string }
  /** A SPIFFE bundle endpoint (https), polled by its refresh hint. */
  | { bundleEndpoint: string };

export interface JwtSvidVerifierOptions {
  /** The audiences this service answers to (required): the SVID's `aud` must hold one of them. */
  audience: Scopes;
  /** Bundles per trust domain name (`example.org`). */
  trustDomains?: Record<string, TrustDomainBundle>;
  /**
   * Bundles from the Workload API for every trust domain not in `trustDomains`: `true` for the one
   * at `SPIFFE_ENDPOINT_SOCKET`, or its endpoint (`unix:///path/to/agent.sock`). Followed as the
   * agent pushes updates (key rotations).
   */
  workloadApi?: boolean | string;
  /** The SPIFFE IDs accepted: exact IDs, trust domains (`spiffe://td`) or prefixes (`spiffe://td/path/*`); default any. */
  allowedIds?: readonly string[];
  /** Require `aud` to be exactly one value (an authorization server checking a client assertion). */
  soleAudience?: boolean;
  /** Allowed algorithms (RS*, PS*, ES* only; default all of them). */
  algorithms?: readonly Algorithm[];
  /** Clock-skew leeway in seconds. */
  leeway?: number;
  /** Token size limit in bytes. */
  maxTokenBytes?: number;
  /** Allow a plain `http://` bundle endpoint to hosts other than loopback. */
  allowInsecureHttp?: boolean;
  /** INTERNAL test hook: a `ManualClock` from `@authsec/sdk/testing`. */
  clock?: ManualClock;
}

/** A verified JWT-SVID (frozen). */
export interface JwtSvid {
  /** `sub`: the workload's SPIFFE ID, e.g. `spiffe://example.org/agents/ml-training`. */
  readonly spiffeId: string;
  /** The SPIFFE ID's trust domain, e.g. `example.org`. */
  readonly trustDomain: string;
  /** `aud`, as a list. */
  readonly audience: readonly string[];
  /** `exp`, Unix seconds. */
  readonly expiresAt: number;
  /** `iat`, Unix seconds, or null when absent. */
  readonly issuedAt: number | null;
  readonly alg: Algorithm;
  readonly kid: string | null;
  /** Every claim, as sent. */
  readonly claims: Readonly<Record<string, unknown>>;
}

/** Verifies SPIFFE JWT-SVIDs against their trust domain's bundle. */
export declare class JwtSvidVerifier {
  private constructor();
  /** Build one (with `workloadApi`: once the Workload API has sent its bundles). */
  static create(options: JwtSvidVerifierOptions): Promise<JwtSvidVerifier>;
  /** Verify (the signature off the JavaScript thread; a bundle endpoint fetched first when needed). */
  verify(token: string): Promise<JwtSvid>;
  /**
   * Verify on the JavaScript thread when the bundle is at hand; a bundle endpoint not fetched yet
   * throws an `UnavailableError` (`jwks_unavailable`).
   */
  verifySync(token: string): JwtSvid;
}

/** A JWT-SVID from the Workload API. `util.inspect` and `toJSON` show `token: '***'`. */
export declare class WorkloadJwtSvid {
  private constructor();
  readonly spiffeId: string;
  /** The JWT-SVID itself. */
  readonly token: string;
  /** The operator's hint for choosing among several SVIDs (often empty). */
  readonly hint: string;
  toJSON(): { spiffeId: string; token: '***'; hint: string };
}

/** The workload's X.509-SVID. `util.inspect` and `toJSON` show `privateKeyPem: '***'`. */
export declare class X509Svid {
  private constructor();
  readonly spiffeId: string;
  /** PEM certificates, the leaf first. */
  readonly certChainPem: string;
  /** The PKCS#8 private key (PEM). */
  readonly privateKeyPem: string;
  /** The trust domain's CA certificates (PEM). */
  readonly bundlePem: string;
  readonly hint: string;
  toJSON(): { spiffeId: string; certChainPem: string; privateKeyPem: '***'; bundlePem: string; hint: string };
}

/** A client of the SPIFFE Workload API (the SPIRE agent's socket). */
export declare class WorkloadApiClient {
  /** `unix:///path` or `tcp://IP:PORT`; default `SPIFFE_ENDPOINT_SOCKET`. */
  constructor(endpoint?: string | null);
  readonly endpoint: string;
  /** A JWT-SVID for `audience`: the workload's default identity's, or `spiffeId`'s. */
  fetchJwtSvid(audience: Scopes, options?: { spiffeId?: string }): Promise<WorkloadJwtSvid>;
  /** Each trust domain's JWT bundle (JWKS), by trust domain name. */
  fetchJwtBundles(): Promise<Record<string, Jwks>>;
  /** The workload's default X.509-SVID. */
  fetchX509Svid(): Promise<X509Svid>;
}

/**
 * Whether `spiffeId` matches one of `patterns`: exact IDs, trust domains (`spiffe://td`) or path
 * prefixes (`spiffe://td/path/*`).
 */
export declare function spiffeIdMatches(spiffeId: string, patterns: string | readonly string[]): boolean;
