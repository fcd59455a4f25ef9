package verify

/*
#include <stdlib.h>
#include "authsec.h"
// The C side neither keeps the pointers it is given nor calls back into Go: the token and scope
// bytes are read in place, the claims are written to a buffer on the stack and the other results
// stay on the stack.
#cgo noescape authsec_go_verifier_verify
#cgo nocallback authsec_go_verifier_verify

// authsec_verifier_verify_pinned with no argument cgo checks for Go pointers (see
// authsec_go_client_token in ../client.go): the handle comes in as a uintptr_t and the results go
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
	"encoding/json"
	"runtime"
	"slices"
	"sync"
	"unsafe"

	"github.com/authsec/authsec/bindings-go/internal/native"
)

// Verifier verifies JWT access tokens (signature, claims, a verified-token cache, scopes).
// Safe for concurrent use.
type Verifier struct {
	h          native.Handle
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

// New creates a verifier.
func New(cfg Config) (*Verifier, error) {
	b, err := json.Marshal(cfg.options())
	if err != nil {
		return nil, &Error{Code: CodeConfigError, Message: err.Error()}
	}
	return newVerifier(b, cfg.Clock, cfg.AllowActor)
}

// newVerifier creates a verifier from the core's verifier options as JSON.
func newVerifier(options []byte, clock *ManualClock, allowActor func(Actor) bool) (*Verifier, error) {
	cs := C.CString(string(options))
	defer C.free(unsafe.Pointer(cs))
	var h *C.AuthsecVerifier
	var e *C.char
	var code C.AuthsecCode
	clock.with(func(clk *C.AuthsecClock) { code = C.authsec_verifier_new(cs, clk, &h, &e) })
	if code != 0 {
		return nil, errorFrom(code, e)
	}
	v := &Verifier{h: native.Handle{Ptr: unsafe.Pointer(h), Free: func(p unsafe.Pointer) { C.authsec_verifier_free((*C.AuthsecVerifier)(p)) }},
		allowActor: allowActor}
	runtime.SetFinalizer(v, (*Verifier).Close)
	return v, nil
}

// Close frees the native verifier (once calls in flight return); closing twice is fine.
func (v *Verifier) Close() error {
	v.h.Close()
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
	h := v.h.Acquire()
	if h == nil {
		return nil, errClosed
	}
	defer v.h.Release()
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
		id, seq, n, heap, e := r.claims_id, r.claims_seq, r.claims_len, native.CPointer[C.uint8_t](uintptr(r.claims_heap)), native.CPointer[C.char](uintptr(r.error_json))
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

// pinnedCount is how many claims objects the core holds for this verifier's memo (tests).
func (v *Verifier) pinnedCount() (core uint64, memo int) {
	h := v.h.Acquire()
	if h == nil {
		return 0, 0
	}
	defer v.h.Release()
	return uint64(C.authsec_verifier_pinned_count((*C.AuthsecVerifier)(h))), v.memo.len()
}

// Verify verifies token and the scope requirements in opts. ctx bounds a JWKS fetch. With
// Config.AllowActor, the core verifies the token, then AllowActor is asked about a
// delegated token's current actor, then the core checks the scopes (the core's order: the
// delegation policy before the scopes).
func (v *Verifier) Verify(ctx context.Context, token string, opts ...Option) (*Claims, error) {
	if v.allowActor == nil {
		return v.verifyToken(ctx, token, opts)
	}
	c, err := v.verifyToken(ctx, token, nil)
	if err != nil {
		return nil, err
	}
	if err := v.checkActor(c); err != nil {
		return nil, err
	}
	if len(opts) == 0 {
		return c, nil
	}
	// The token is in the core's verified-token cache now: this is the scope check.
	return v.verifyToken(ctx, token, opts)
}

// checkActor asks Config.AllowActor about the current actor of a delegated token: the core's
// error when it refuses, else nil.
func (v *Verifier) checkActor(c *Claims) error {
	if a, ok := c.Actor(); ok && v.allowActor != nil && !v.allowActor(a) {
		return actorRefused(a.ID())
	}
	return nil
}

// actorRefused is the core's error for an actor the AllowActor callback refused.
func actorRefused(id string) error {
	cs := C.CString(id)
	defer C.free(unsafe.Pointer(cs))
	var e *C.char
	return errorFrom(C.authsec_actor_refused(cs, &e), e)
}

func (v *Verifier) verifyToken(ctx context.Context, token string, opts []Option) (*Claims, error) {
	var buf [128]byte
	var cs []byte
	if len(opts) > 0 {
		cs = appendOptionsJSON(buf[:0], opts)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if c, err := v.verify(token, cs, false, 0); c != nil || err != nil {
		return c, err
	}
	ms := C.uint64_t(native.TimeoutMs(ctx))
	if ctx.Done() == nil {
		return v.verify(token, cs, true, ms)
	}
	held := slices.Clone(cs) // buf stays on this stack
	return native.Blocking(ctx, func() (*Claims, error) { return v.verify(token, held, true, ms) })
}
