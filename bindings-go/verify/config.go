package verify

import (
	"maps"
	"time"
)

// NoLeeway sets a verifier's clock-skew leeway to zero (a zero Leeway means the default, 5s).
const NoLeeway time.Duration = -1

// Config configures a JWT access-token verifier; the core reads and checks it
// (VerifierOptions, as for the Python and Node packages). Give one of JWKSURI, JWKS (a JWKS
// document's JSON text) and Discover.
type Config struct {
	Issuer   string
	Audience []string
	JWKSURI  string
	JWKS     string
	// Discover finds the JWKS URL in the issuer's metadata (RFC 8414, then OpenID Connect
	// discovery), on first use.
	Discover bool
	// Allow-list of algorithms (empty = every supported asymmetric algorithm).
	Algorithms []string
	// Clock-skew leeway (0 = the default, 5s; NoLeeway = none).
	Leeway time.Duration
	// "default" or "strict" (require typ at+jwt).
	Typ            string
	RequiredClaims []string
	MaxTokenBytes  int
	// Entries of the verified-token cache (0 = the core's default; NoVerifiedCache = no cache).
	VerifiedCacheSize int
	SkipIssuerCheck   bool
	SkipAudienceCheck bool
	AllowInsecureHTTP bool
	// AudienceMatch is how aud is compared with Audience (the core's audience_match): "" or
	// AudienceExact (byte for byte, RFC 9728 §3.3), AudienceTrailingSlash (the same URL once
	// canonical, a trailing slash aside), AudiencePathPrefix (Audience or a URL above it on the
	// same origin, at a "/" boundary: a token for https://api.example/ passes
	// https://api.example/mcp). A token without aud fails them all.
	AudienceMatch string

	// Delegation (RFC 8693 act chains). A malformed chain is always refused (ErrInvalidDelegation);
	// these refuse well-formed ones with ErrDelegationNotAllowed. Tokens without act pass them all.

	// ForbidDelegation refuses every delegated token (one carrying act).
	ForbidDelegation bool
	// MaxDelegationDepth is the most actors a token's act chain may hold (0 = no limit below the
	// core's 16; NoActors = none, like ForbidDelegation; above 16 is a config error).
	MaxDelegationDepth int
	// AllowedActors, when not nil, lists the ids (client_id, else sub) the current actor must be
	// one of; the earlier actors in the chain are for audit only (RFC 8693 §4.1).
	AllowedActors []string
	// AllowActor, when set, is asked about the current actor of every delegated token after the
	// core accepted it (its checks and AllowedActors first); false refuses the token with the
	// core's ErrDelegationNotAllowed. It is not called for tokens without act. It runs on the
	// goroutine calling Verify, on every call (also for a token the verifier has cached).
	AllowActor func(Actor) bool

	// Clock is a test clock (authsectest.NewClock); nil is the system clock.
	Clock *ManualClock

	// extra options passed to the core as they are (tests only).
	extra map[string]any
}

// Config.AudienceMatch values.
const (
	AudienceExact         = "exact"
	AudienceTrailingSlash = "trailing_slash"
	AudiencePathPrefix    = "path_prefix"
)

// NoVerifiedCache turns a verifier's verified-token cache off (Config.VerifiedCacheSize).
const NoVerifiedCache = -1

// NoActors is a MaxDelegationDepth of zero: no delegated token is accepted (a zero
// MaxDelegationDepth means no limit).
const NoActors = -1

// withOption is c with a raw core option added (tests only: options Config cannot express).
func (c Config) withOption(name string, value any) Config {
	c.extra = maps.Clone(c.extra)
	if c.extra == nil {
		c.extra = map[string]any{}
	}
	c.extra[name] = value
	return c
}

// options is the config as the core's options map (set fields only).
func (c Config) options() map[string]any {
	m := map[string]any{}
	for k, v := range map[string]string{"issuer": c.Issuer, "jwks_uri": c.JWKSURI, "jwks": c.JWKS, "typ": c.Typ,
		"audience_match": c.AudienceMatch} {
		if v != "" {
			m[k] = v
		}
	}
	for k, v := range map[string][]string{"audience": c.Audience, "algorithms": c.Algorithms, "required_claims": c.RequiredClaims,
		"allowed_actors": c.AllowedActors} {
		if v != nil {
			m[k] = v
		}
	}
	for k, v := range map[string]bool{"discover": c.Discover, "skip_issuer_check": c.SkipIssuerCheck,
		"skip_audience_check": c.SkipAudienceCheck, "allow_insecure_http": c.AllowInsecureHTTP,
		"forbid_delegation": c.ForbidDelegation} {
		if v {
			m[k] = true
		}
	}
	switch {
	case c.Leeway == NoLeeway:
		m["leeway"] = 0
	case c.Leeway != 0:
		m["leeway"] = c.Leeway.Seconds()
	}
	if c.MaxTokenBytes != 0 {
		m["max_token_bytes"] = c.MaxTokenBytes
	}
	switch {
	case c.MaxDelegationDepth == NoActors:
		m["max_delegation_depth"] = 0
	case c.MaxDelegationDepth != 0:
		m["max_delegation_depth"] = c.MaxDelegationDepth
	}
	switch {
	case c.VerifiedCacheSize == NoVerifiedCache:
		m["verified_cache_size"] = 0
	case c.VerifiedCacheSize != 0:
		m["verified_cache_size"] = c.VerifiedCacheSize
	}
	for k, v := range c.extra {
		m[k] = v
	}
	return m
}
