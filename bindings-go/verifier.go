package authsec

/*
#include <stdlib.h>
#include "authsec.h"
// The C side neither keeps the pointers it is given nor calls back into Go: the token and scope
// bytes are read in place, the claims are written to a buffer on the stack and the other results
// stay on the stack.
#cgo noescape authsec_go_verifier_verify
#cgo nocallback authsec_go_verifier_verify

// authsec_verifier_verify_pinned with no argument cgo checks for Go pointers (see
// authsec_go_client_token in client.go): the handle comes in as a uintptr_t and the results go
// to one struct whose C pointers are uintptr_t. The token, scopes and claims buffer are byte
// pointers, which cgo does not check.
typedef struct {
	uint64_t claims_id;
	uint64_t claims_seq;
	size_t claims_len;
	uintptr_t claims_heap;
	uintptr_t error_json;
} authsec_go_verify_out;

static inline AuthsecCode authsec_go_verifier_verify(uintptr_t verifier, const char *token,
		size_t token_len, const char *scopes_json, size_t scopes_len, bool block, uint64_t timeout_ms,
		bool want_claims, uint8_t *claims_buf, size_t claims_cap, authsec_go_verify_out *out) {
	uint8_t *claims_heap = NULL;
	char *error_json = NULL;
	AuthsecCode code = authsec_verifier_verify_pinned((const AuthsecVerifier *)verifier, token, token_len, scopes_json, scopes_len,
		block, timeout_ms, want_claims, &out->claims_id, &out->claims_seq, claims_buf, claims_cap,
		&out->claims_len, &claims_heap, &error_json);
	out->claims_heap = (uintptr_t)claims_heap;
	out->error_json = (uintptr_t)error_json;
	return code;
}
*/
import "C"

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"runtime"
	"slices"
	"sync"
	"time"
	"unsafe"
)

// NoLeeway sets a verifier's clock-skew leeway to zero (a zero Leeway means the default, 5s).
const NoLeeway time.Duration = -1

// VerifierConfig configures a JWT access-token verifier; the core reads and checks it
// (VerifierOptions, as for the Python and Node packages). Give one of JWKSURI, JWKS (a JWKS
// document's JSON text) and Discover.
type VerifierConfig struct {
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

// VerifierConfig.AudienceMatch values.
const (
	AudienceExact         = "exact"
	AudienceTrailingSlash = "trailing_slash"
	AudiencePathPrefix    = "path_prefix"
)

// NoVerifiedCache turns a verifier's verified-token cache off (VerifierConfig.VerifiedCacheSize).
const NoVerifiedCache = -1

// NoActors is a MaxDelegationDepth of zero: no delegated token is accepted (a zero
// MaxDelegationDepth means no limit).
const NoActors = -1

// options is the config as the core's options map (set fields only).
func (c VerifierConfig) options() map[string]any {
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

// Claims are a verified token's claims.
type Claims struct {
	iss, sub, clientID string
	scopes             []string
	delegation         []Actor
	// text is the claims object's JSON text until the first Map or Get decodes it into raw.
	text   string
	decode sync.Once
	raw    map[string]any
	// The core's pin of the claims object this decoding is of (the verifier's memo).
	pinID, pinSeq uint64
}

// Actor is one link of a token's delegation chain (RFC 8693 act): who acted. A member the token
// leaves out is "".
type Actor struct {
	Sub      string `json:"sub,omitempty"`
	ClientID string `json:"client_id,omitempty"`
	Iss      string `json:"iss,omitempty"`
}

// ID is the actor's identifier as the verifier's AllowedActors matches it: ClientID, else Sub
// (a verified chain never has an empty client_id).
func (a Actor) ID() string {
	if a.ClientID != "" {
		return a.ClientID
	}
	return a.Sub
}

// Map returns every claim (JSON numbers are float64). Do not modify it. The first call (of Map
// or Get) decodes the claims' JSON; the other accessors never need it.
func (c *Claims) Map() map[string]any {
	c.decode.Do(func() {
		if c.text == "" {
			return
		}
		var m map[string]any
		// The core's JSON serialization of an object: Go reads every such text.
		_ = json.Unmarshal(unsafe.Slice(unsafe.StringData(c.text), len(c.text)), &m)
		c.raw, c.text = m, ""
	})
	return c.raw
}

// Get returns one claim.
func (c *Claims) Get(name string) (any, bool) { v, ok := c.Map()[name]; return v, ok }

// Issuer, Subject and ClientID are the iss, sub and client_id claims ("" when absent or not a
// string).
func (c *Claims) Issuer() string   { return c.iss }
func (c *Claims) Subject() string  { return c.sub }
func (c *Claims) ClientID() string { return c.clientID }

// Scopes are the granted scopes (the core's reading of scope/scp).
func (c *Claims) Scopes() []string { return c.scopes }

// Delegation is the token's delegation chain (the core's reading of act), current actor first;
// nil when nobody acts for the subject. Decide access on the top-level claims and the current
// actor (Actor) only: the earlier actors are for audit (RFC 8693 §4.1).
func (c *Claims) Delegation() []Actor { return slices.Clone(c.delegation) }

// Actor is the party acting for the subject now (the outermost act); false when the token is not
// delegated.
func (c *Claims) Actor() (Actor, bool) {
	if len(c.delegation) == 0 {
		return Actor{}, false
	}
	return c.delegation[0], true
}

// VerifyOption adds a requirement to Verify.
type VerifyOption func(*scopeReq)

type scopeReq struct {
	AllOf []string `json:"all_of,omitempty"`
	AnyOf []string `json:"any_of,omitempty"`
}

// RequireScopes requires every one of scopes.
func RequireScopes(scopes ...string) VerifyOption {
	return func(r *scopeReq) { r.AllOf = appendScopes(r.AllOf, scopes) }
}

// RequireAnyScope requires at least one of scopes.
func RequireAnyScope(scopes ...string) VerifyOption {
	return func(r *scopeReq) { r.AnyOf = appendScopes(r.AnyOf, scopes) }
}

// appendScopes is append(to, scopes...) that takes scopes (clipped: never written to) as it is
// when to is empty.
func appendScopes(to, scopes []string) []string {
	if len(to) == 0 {
		return slices.Clip(scopes)
	}
	return append(to, scopes...)
}

// appendJSON appends r as JSON ({"all_of": [...], "any_of": [...]}, as json.Marshal writes it)
// to b, writing plain printable ASCII scopes itself.
func (r *scopeReq) appendJSON(b []byte) []byte {
	for _, list := range [][]string{r.AllOf, r.AnyOf} {
		for _, s := range list {
			for i := 0; i < len(s); i++ {
				if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
					j, _ := json.Marshal(r)
					return append(b, j...)
				}
			}
		}
	}
	b = append(b, '{')
	for k, list := range [][]string{r.AllOf, r.AnyOf} {
		if len(list) == 0 {
			continue
		}
		if len(b) > 1 {
			b = append(b, ',')
		}
		b = append(b, [2]string{`"all_of":[`, `"any_of":[`}[k]...)
		for i, s := range list {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, '"')
			b = append(b, s...)
			b = append(b, '"')
		}
		b = append(b, ']')
	}
	return append(b, '}')
}

// Verifier verifies JWT access tokens (signature, claims, a verified-token cache, scopes).
// Safe for concurrent use.
type Verifier struct {
	h          handle
	memo       claimsMemo
	allowActor func(Actor) bool
}

// memoCap bounds how many decoded claims objects a verifier keeps (each pins one core object).
const memoCap = 1024

// claimsMemo maps the core's pinned claims objects (by their never-reused sequence number) to
// their decoding. It holds no validity information: every Verify asks the core, which decides
// signature, expiry and scopes and then names the (immutable) claims object it accepted.
type claimsMemo struct {
	m     sync.Map // uint64 seq -> *Claims (with its pinID and pinSeq)
	cap   int      // 0 = memoCap
	mu    sync.Mutex
	order []*Claims // insertion order, for eviction
}

func (m *claimsMemo) load(seq uint64) *Claims {
	if c, ok := m.m.Load(seq); ok {
		return c.(*Claims)
	}
	return nil
}

// store records a decoding (its pinID and pinSeq set), taking over the pin reference that came
// with it, and calls unpin for the references to release in the core: c's own when its sequence
// number is already memoized, else those of the entries evicted to stay within the cap.
func (m *claimsMemo) store(c *Claims, unpin func(id, seq uint64)) {
	if _, loaded := m.m.LoadOrStore(c.pinSeq, c); loaded {
		unpin(c.pinID, c.pinSeq)
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.order = append(m.order, c)
	limit := m.cap
	if limit <= 0 {
		limit = memoCap
	}
	for len(m.order) > limit {
		old := m.order[0]
		m.order[0] = nil
		m.order = m.order[1:]
		m.m.Delete(old.pinSeq)
		unpin(old.pinID, old.pinSeq)
	}
}

func (m *claimsMemo) len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.order)
}

// NewVerifier creates a verifier.
func NewVerifier(cfg VerifierConfig) (*Verifier, error) {
	b, err := json.Marshal(cfg.options())
	if err != nil {
		return nil, &Error{Code: CodeConfigError, Message: err.Error()}
	}
	return newVerifier(b, cfg.Clock, cfg.AllowActor)
}

// newVerifier creates a verifier from the core's verifier options as JSON.
func newVerifier(options []byte, clock *ManualClock, allowActor func(Actor) bool) (*Verifier, error) {
	cs := cString(string(options))
	defer free(cs)
	var h *C.AuthsecVerifier
	var e *C.char
	var code C.AuthsecCode
	clock.with(func(clk *C.AuthsecClock) { code = C.authsec_verifier_new(cs, clk, &h, &e) })
	if code != 0 {
		return nil, errorFrom(code, e)
	}
	v := &Verifier{h: handle{ptr: unsafe.Pointer(h), free: func(p unsafe.Pointer) { C.authsec_verifier_free((*C.AuthsecVerifier)(p)) }},
		allowActor: allowActor}
	runtime.SetFinalizer(v, (*Verifier).Close)
	return v, nil
}

// Close frees the native verifier (once calls in flight return); closing twice is fine.
func (v *Verifier) Close() error {
	v.h.close()
	runtime.SetFinalizer(v, nil)
	return nil
}

// claimsBufSize is the stack buffer the core writes claims into (larger claims come in a heap
// buffer of the core's).
const claimsBufSize = 1024

// verify calls the core: wait=false never blocks and returns (nil, nil) when keys must be fetched.
// The core verifies token and scopes on every call and names the claims object it accepted; only
// the decoding of that object is memoized here.
func (v *Verifier) verify(token string, scopes []byte, wait bool, ms C.uint64_t) (*Claims, error) {
	h := v.h.acquire()
	if h == nil {
		return nil, errClosed
	}
	defer v.h.release()
	var tp *C.char
	if len(token) > 0 {
		tp = (*C.char)(unsafe.Pointer(unsafe.StringData(token)))
	}
	sp, sn := bytesArg(scopes)
	want := false
	for {
		var buf [claimsBufSize]byte
		var r C.authsec_go_verify_out
		code := C.authsec_go_verifier_verify(C.uintptr_t(uintptr(h)), tp, C.size_t(len(token)), sp, sn,
			C.bool(wait), ms, C.bool(want), (*C.uint8_t)(unsafe.Pointer(&buf[0])), C.size_t(len(buf)), &r)
		runtime.KeepAlive(token)
		runtime.KeepAlive(scopes)
		id, seq, n, heap, e := r.claims_id, r.claims_seq, r.claims_len, cPointer[C.uint8_t](r.claims_heap), cPointer[C.char](r.error_json)
		if code != 0 {
			runtime.KeepAlive(v)
			return nil, errorFrom(code, e)
		}
		if n == 0 {
			if seq == 0 {
				return nil, nil
			}
			if c := v.memo.load(uint64(seq)); c != nil {
				return c, nil
			}
			// Pinned by a concurrent call that has not stored its decoding yet, or just evicted.
			want = true
			continue
		}
		// One copy into Go memory: the claims' strings are slices of it.
		var data string
		if heap != nil {
			data = string(unsafe.Slice((*byte)(unsafe.Pointer(heap)), int(n)))
			C.authsec_bytes_free(heap, n)
		} else {
			data = string(buf[:n])
		}
		c, err := claimsFromWire(data)
		if err != nil {
			if seq != 0 {
				C.authsec_verifier_unpin((*C.AuthsecVerifier)(h), id, seq)
			}
			return nil, err
		}
		if seq != 0 {
			c.pinID, c.pinSeq = uint64(id), uint64(seq)
			v.memo.store(c, func(id, seq uint64) {
				C.authsec_verifier_unpin((*C.AuthsecVerifier)(h), C.uint64_t(id), C.uint64_t(seq))
			})
		}
		runtime.KeepAlive(v)
		return c, nil
	}
}

var errClaimsFromCore = &Error{Code: CodeInternalError, Message: "cannot read the claims from the core"}

// claimsFromWire reads the claims as the core hands them out (the C API's claims_wire: items that
// are a little-endian u32 length then that many bytes, counts that are a little-endian u32): the
// claims JSON, iss, sub, client_id, the scopes, the delegation chain. The strings are slices of
// data.
func claimsFromWire(data string) (*Claims, error) {
	bad := false
	u32 := func() int {
		if len(data) < 4 {
			bad = true
			return 0
		}
		n := binary.LittleEndian.Uint32(unsafe.Slice(unsafe.StringData(data), 4))
		data = data[4:]
		return int(n)
	}
	item := func() string {
		n := u32()
		if n > len(data) {
			bad = true
			return ""
		}
		s := data[:n]
		data = data[n:]
		return s
	}
	// count is a count of items of at least 4 bytes each.
	count := func(per int) int {
		n := u32()
		if n > len(data)/(4*per) {
			bad = true
			return 0
		}
		return n
	}
	c := &Claims{text: item()}
	c.iss, c.sub, c.clientID = item(), item(), item()
	c.scopes = make([]string, count(1))
	for i := range c.scopes {
		c.scopes[i] = item()
	}
	if n := count(3); n > 0 {
		c.delegation = make([]Actor, n)
		for i := range c.delegation {
			c.delegation[i] = Actor{Sub: item(), ClientID: item(), Iss: item()}
		}
	}
	if bad || data != "" {
		return nil, errClaimsFromCore
	}
	return c, nil
}

// decodeClaims reads the core's claims JSON ({"claims", "scopes", "delegation"}: the request
// verifier's answer).
func decodeClaims(text []byte) (*Claims, error) {
	var w struct {
		Claims     map[string]any `json:"claims"`
		Scopes     []string       `json:"scopes"`
		Delegation []Actor        `json:"delegation"`
	}
	if err := json.Unmarshal(text, &w); err != nil {
		return nil, errClaimsFromCore
	}
	if len(w.Delegation) == 0 {
		w.Delegation = nil
	}
	str := func(name string) string { s, _ := w.Claims[name].(string); return s }
	c := &Claims{iss: str("iss"), sub: str("sub"), clientID: str("client_id"), scopes: w.Scopes, delegation: w.Delegation}
	c.decode.Do(func() { c.raw = w.Claims })
	return c, nil
}

// pinnedCount is how many claims objects the core holds for this verifier's memo (tests).
func (v *Verifier) pinnedCount() (core uint64, memo int) {
	h := v.h.acquire()
	if h == nil {
		return 0, 0
	}
	defer v.h.release()
	return uint64(C.authsec_verifier_pinned_count((*C.AuthsecVerifier)(h))), v.memo.len()
}

// Verify verifies token and the scope requirements in opts. ctx bounds a JWKS fetch. With
// VerifierConfig.AllowActor, the core verifies the token, then AllowActor is asked about a
// delegated token's current actor, then the core checks the scopes (the core's order: the
// delegation policy before the scopes).
func (v *Verifier) Verify(ctx context.Context, token string, opts ...VerifyOption) (*Claims, error) {
	if v.allowActor == nil {
		return v.verifyToken(ctx, token, opts)
	}
	c, err := v.verifyToken(ctx, token, nil)
	if err != nil {
		return nil, err
	}
	if a, ok := c.Actor(); ok && !v.allowActor(a) {
		return nil, actorRefused(a.ID())
	}
	if len(opts) == 0 {
		return c, nil
	}
	// The token is in the core's verified-token cache now: this is the scope check.
	return v.verifyToken(ctx, token, opts)
}

// actorRefused is the core's error for an actor the AllowActor callback refused.
func actorRefused(id string) error {
	cs := cString(id)
	defer free(cs)
	var e *C.char
	return errorFrom(C.authsec_actor_refused(cs, &e), e)
}

func (v *Verifier) verifyToken(ctx context.Context, token string, opts []VerifyOption) (*Claims, error) {
	var buf [128]byte
	var cs []byte
	if len(opts) > 0 {
		var r scopeReq
		for _, o := range opts {
			o(&r)
		}
		cs = r.appendJSON(buf[:0])
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if c, err := v.verify(token, cs, false, 0); c != nil || err != nil {
		return c, err
	}
	ms := timeoutMs(ctx)
	if ctx.Done() == nil {
		return v.verify(token, cs, true, ms)
	}
	held := slices.Clone(cs) // buf stays on this stack
	return blocking(ctx, func() (*Claims, error) { return v.verify(token, held, true, ms) })
}
