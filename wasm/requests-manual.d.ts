// @authsec/wasm/requests-manual: the API of @authsec/wasm/manual plus RequestVerifier.
import type { AuthsecError, Claims, Verifier, VerifyOptions } from './manual.js';
export * from './manual.js';

/** How a RequestVerifier checks requests (the core's request options). */
export interface RequestOptions {
  /** `'allowed'` (default: Bearer and DPoP tokens), `'required'` (DPoP-bound tokens only) or `'disabled'`. */
  dpop?: 'allowed' | 'required' | 'disabled';
  /** DPoP proof algorithms accepted (default: every supported asymmetric one). */
  dpopAlgorithms?: Array<'RS256' | 'RS384' | 'RS512' | 'PS256' | 'PS384' | 'PS512' | 'ES256' | 'ES384' | 'EdDSA'>;
  /** How old a proof may be, in seconds (default 300). */
  dpopMaxAge?: number;
  /** Clock-skew leeway for proofs, in seconds (default 5). */
  dpopLeeway?: number;
  /** Require server nonces in proofs (answered with 401 use_dpop_nonce and a DPoP-Nonce header). */
  dpopNonce?: boolean;
  /** The nonce key (base64url, 32 bytes or more), shared by instances that accept each other's nonces. */
  dpopNonceKey?: string;
  /** How long a nonce is accepted, in seconds (default 60). */
  dpopNonceLifetime?: number;
  /** Proofs remembered against replay (default 100,000). */
  replayCapacity?: number;
  /** The resource's public URL (scheme, host, path prefix) when a proxy stands in front. */
  publicUrl?: string;
  /** Read Forwarded / X-Forwarded-Proto, -Host, -Prefix (only behind a proxy that overwrites them). */
  trustForwarded?: boolean;
  /** Peers (IPs or CIDR ranges) whose forwarded and client-certificate headers are believed. */
  trustedProxies?: string | string[];
  /** The header a TLS-terminating proxy puts the client certificate in (x-forwarded-client-cert, client-cert, ...). */
  clientCertHeader?: string;
  /** Its format: `'xfcc'`, `'rfc9440'` or `'pem'` (default: from the header's name). */
  clientCertHeaderFormat?: 'xfcc' | 'rfc9440' | 'pem';
  /** Refuse tokens that are not certificate-bound (cnf.x5t#S256). */
  requireCertificateBinding?: boolean;
  /** The `realm` of the challenges. */
  realm?: string;
}

/** A request as RequestVerifier takes it: a fetch Request fits. */
export interface RequestLike {
  method: string;
  /** The absolute URL the client called (or give `target` and `scheme`). */
  url?: string;
  target?: string;
  scheme?: 'http' | 'https';
  headers?: Headers | Array<[string, string]> | Record<string, string>;
  /** The connecting peer's IP address. */
  peer?: string;
  /** The DER of the TLS client certificate. */
  clientCertificate?: Uint8Array;
}

export type RequestOutcome =
  | {
      accepted: true;
      claims: Claims;
      scheme: 'Bearer' | 'DPoP';
      /** The DPoP key's thumbprint (null for a Bearer token). */
      jkt: string | null;
      /** The bound certificate's x5t#S256 (null when not certificate-bound). */
      certificate: string | null;
      /** Headers to add to the answer (a renewed DPoP-Nonce). */
      headers: Array<[string, string]>;
    }
  | {
      accepted: false;
      status: number;
      /** The error (null when no credential was sent). */
      error: AuthsecError | null;
      /** WWW-Authenticate (one per scheme) and DPoP-Nonce: send them with the status. */
      headers: Array<[string, string]>;
    };

export declare class RequestVerifier {
  constructor(verifier: Verifier, options?: RequestOptions);
  verify(request: RequestLike | Request, options?: VerifyOptions): Promise<RequestOutcome>;
  free(): void;
}

