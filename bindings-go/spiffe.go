package authsec

/*
#include <stdlib.h>
#include "authsec.h"
*/
import "C"

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"os"
	"os/signal"
	"runtime"
	"sync"
	"syscall"
	"time"
	"unsafe"

	"github.com/authsec/authsec/bindings-go/internal/native"
)

var sigpipeOnce sync.Once

// handleSIGPIPE makes Go handle SIGPIPE before the Workload API is used: the Rust runtime's
// threads write to its Unix socket with write(2), and a SIGPIPE raised on a thread Go did not
// start kills the process unless the program asked for SIGPIPE (os/signal, "Go programs that use
// cgo"). With signal.Notify the write fails with EPIPE instead (the core reconnects); a side
// effect for the whole program: a write to a closed stdout fails with EPIPE instead of exiting.
func handleSIGPIPE() {
	sigpipeOnce.Do(func() { signal.Notify(make(chan os.Signal, 1), syscall.SIGPIPE) })
}

// WorkloadAPIFromEnv is a JWTSVIDOptions.WorkloadAPI that takes the endpoint from
// SPIFFE_ENDPOINT_SOCKET.
const WorkloadAPIFromEnv = "env"

// TrustDomainBundle says where one trust domain's JWT bundle comes from: give exactly one.
type TrustDomainBundle struct {
	// Bundle is the bundle document (a JWKS, as SPIFFE bundles are).
	Bundle json.RawMessage
	// BundleFile is a file holding it.
	BundleFile string
	// BundleEndpoint is a SPIFFE bundle endpoint's URL (https_web), fetched and refreshed.
	BundleEndpoint string
}

// JWTSVIDOptions configure a JWT-SVID verifier; the core reads and checks them (the same
// options as the Python and Node packages'). Give TrustDomains, WorkloadAPI or both (the
// Workload API's bundles then serve the trust domains not named in TrustDomains).
type JWTSVIDOptions struct {
	// Audience: an SVID must name one of these in aud (required).
	Audience []string
	// SoleAudience also refuses SVIDs whose aud names anything else.
	SoleAudience bool
	// TrustDomains maps a trust domain name ("example.org") to its bundle.
	TrustDomains map[string]TrustDomainBundle
	// WorkloadAPI takes the bundles from the SPIFFE Workload API and keeps them current: "" for
	// none, WorkloadAPIFromEnv, or the endpoint ("unix:///run/spire/agent.sock").
	WorkloadAPI string
	// AllowedIDs, when not nil, lists the SPIFFE IDs accepted: exact IDs, "spiffe://td" for a
	// whole trust domain, "spiffe://td/path/*" for a prefix (others: ErrSPIFFEIDNotAllowed).
	AllowedIDs []string
	// Algorithms is an allow-list (empty = the core's: RS*, PS*, ES*).
	Algorithms []string
	// Leeway is the clock-skew leeway (0 = the core's default; NoLeeway = none).
	Leeway time.Duration
	// MaxTokenBytes bounds an SVID's size (0 = the core's default).
	MaxTokenBytes int
	// AllowInsecureHTTP allows a plain http:// BundleEndpoint off loopback.
	AllowInsecureHTTP bool
	// Clock is a test clock (authsectest.NewClock); nil is the system clock.
	Clock *ManualClock
}

func (o JWTSVIDOptions) options() map[string]any {
	m := map[string]any{"audience": o.Audience}
	if o.Audience == nil {
		m["audience"] = []string{}
	}
	if o.SoleAudience {
		m["sole_audience"] = true
	}
	if o.AllowInsecureHTTP {
		m["allow_insecure_http"] = true
	}
	if o.AllowedIDs != nil {
		m["allowed_ids"] = o.AllowedIDs
	}
	if o.Algorithms != nil {
		m["algorithms"] = o.Algorithms
	}
	switch {
	case o.Leeway == NoLeeway:
		m["leeway"] = 0
	case o.Leeway != 0:
		m["leeway"] = o.Leeway.Seconds()
	}
	if o.MaxTokenBytes != 0 {
		m["max_token_bytes"] = o.MaxTokenBytes
	}
	switch o.WorkloadAPI {
	case "":
	case WorkloadAPIFromEnv:
		m["workload_api"] = true
	default:
		m["workload_api"] = o.WorkloadAPI
	}
	if o.TrustDomains != nil {
		tds := map[string]any{}
		for td, b := range o.TrustDomains {
			spec := map[string]any{}
			if b.Bundle != nil {
				spec["bundle"] = b.Bundle
			}
			if b.BundleFile != "" {
				spec["bundle_file"] = b.BundleFile
			}
			if b.BundleEndpoint != "" {
				spec["bundle_endpoint"] = b.BundleEndpoint
			}
			tds[td] = spec
		}
		m["trust_domains"] = tds
	}
	return m
}

// JWTSVID is a verified JWT-SVID.
type JWTSVID struct {
	SPIFFEID    string
	TrustDomain string
	Audience    []string
	ExpiresAt   time.Time
	IssuedAt    *time.Time
	Alg         string
	KeyID       string
	// Claims are every claim, as sent (JSON numbers are float64). Do not modify them.
	Claims map[string]any
}

// JWTSVIDVerifier verifies JWT-SVIDs (the core's rules: signature by the bundle of the trust
// domain of sub, aud, exp, allowed IDs). Safe for concurrent use.
type JWTSVIDVerifier struct {
	h native.Handle
}

// NewJWTSVIDVerifier creates a verifier. With WorkloadAPI it waits for the first bundles, as
// long as ctx allows (and at most the native layer's own 15 s).
func NewJWTSVIDVerifier(ctx context.Context, opts JWTSVIDOptions) (*JWTSVIDVerifier, error) {
	b, err := json.Marshal(opts.options())
	if err != nil {
		return nil, &Error{Code: CodeConfigError, Message: err.Error()}
	}
	if opts.WorkloadAPI != "" {
		handleSIGPIPE()
	}
	ms := timeoutMs(ctx)
	return abandonable(ctx, func() (*JWTSVIDVerifier, error) {
		cs := cString(string(b))
		defer free(cs)
		var h *C.AuthsecJwtSvidVerifier
		var e *C.char
		var code C.AuthsecCode
		withClock(opts.Clock, func(clk *C.AuthsecClock) { code = C.authsec_jwt_svid_verifier_new(cs, clk, ms, &h, &e) })
		if code != 0 {
			return nil, errorFrom(code, e)
		}
		v := &JWTSVIDVerifier{h: native.Handle{Ptr: unsafe.Pointer(h),
			Free: func(p unsafe.Pointer) { C.authsec_jwt_svid_verifier_free((*C.AuthsecJwtSvidVerifier)(p)) }}}
		runtime.SetFinalizer(v, (*JWTSVIDVerifier).Close)
		return v, nil
	}, (*JWTSVIDVerifier).Close)
}

// abandonable is blocking for a constructor: when ctx ends first, what f still makes is closed.
func abandonable[T any](ctx context.Context, f func() (*T, error), closeFn func(*T) error) (*T, error) {
	if ctx.Done() == nil {
		return f()
	}
	return native.BlockingOrDrop(ctx, f, func(v *T) {
		if v != nil {
			closeFn(v)
		}
	})
}

// Close frees the native verifier and stops its Workload API watch (once calls in flight
// return); closing twice is fine.
func (v *JWTSVIDVerifier) Close() error {
	v.h.Close()
	runtime.SetFinalizer(v, nil)
	return nil
}

func (v *JWTSVIDVerifier) verify(token string, wait bool, ms C.uint64_t) (*JWTSVID, error) {
	h := v.h.Acquire()
	if h == nil {
		return nil, errClosed
	}
	defer v.h.Release()
	tp, tn := bytesArg([]byte(token))
	var out, e *C.char
	code := C.authsec_jwt_svid_verifier_verify((*C.AuthsecJwtSvidVerifier)(h), tp, tn, C.bool(wait), ms, &out, &e)
	runtime.KeepAlive(v)
	if code != 0 {
		return nil, errorFrom(code, e)
	}
	if out == nil {
		return nil, nil
	}
	var w struct {
		SPIFFEID    string         `json:"spiffe_id"`
		TrustDomain string         `json:"trust_domain"`
		Audience    []string       `json:"audience"`
		ExpiresAt   int64          `json:"expires_at"`
		IssuedAt    *int64         `json:"issued_at"`
		Alg         string         `json:"alg"`
		KeyID       string         `json:"kid"`
		Claims      map[string]any `json:"claims"`
	}
	if err := json.Unmarshal([]byte(goString(out)), &w); err != nil {
		return nil, &Error{Code: CodeInternalError, Message: "cannot read the SVID from the core"}
	}
	s := &JWTSVID{SPIFFEID: w.SPIFFEID, TrustDomain: w.TrustDomain, Audience: w.Audience,
		ExpiresAt: time.Unix(w.ExpiresAt, 0), Alg: w.Alg, KeyID: w.KeyID, Claims: w.Claims}
	if w.IssuedAt != nil {
		t := time.Unix(*w.IssuedAt, 0)
		s.IssuedAt = &t
	}
	return s, nil
}

// Verify verifies a JWT-SVID. ctx bounds a bundle fetch (a bundle endpoint's first fetch).
func (v *JWTSVIDVerifier) Verify(ctx context.Context, token string) (*JWTSVID, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if s, err := v.verify(token, false, 0); s != nil || err != nil {
		return s, err
	}
	ms := timeoutMs(ctx)
	return native.Blocking(ctx, func() (*JWTSVID, error) { return v.verify(token, true, ms) })
}

// SPIFFEIDMatches says whether the SPIFFE ID id matches one of patterns (exact IDs,
// "spiffe://td" for a whole trust domain, "spiffe://td/path/*" for a prefix). An invalid id is
// ErrInvalidSPIFFEID, an invalid pattern ErrConfigError.
func SPIFFEIDMatches(id string, patterns []string) (bool, error) {
	if patterns == nil {
		patterns = []string{}
	}
	b, _ := json.Marshal(patterns)
	ci, cp := cString(id), cString(string(b))
	defer free(ci)
	defer free(cp)
	var m C.bool
	var e *C.char
	if code := C.authsec_spiffe_id_matches(ci, cp, &m, &e); code != 0 {
		return false, errorFrom(code, e)
	}
	return bool(m), nil
}

// WorkloadAPIClient talks to the SPIFFE Workload API (the SPIRE agent's socket). Safe for
// concurrent use; connections are made on first use and remade after a failure. When the agent
// is unreachable or has no identity for this workload yet, calls fail with
// ErrWorkloadAPIUnavailable (retryable).
type WorkloadAPIClient struct {
	h native.Handle
}

// WorkloadJWTSVID is a JWT-SVID from the Workload API. Token never appears in fmt output.
type WorkloadJWTSVID struct {
	SPIFFEID string `json:"spiffe_id"`
	Token    string `json:"token"`
	Hint     string `json:"hint"`
}

// Format hides the token from every fmt verb.
func (s WorkloadJWTSVID) Format(f fmt.State, verb rune) {
	fmt.Fprintf(f, "{SPIFFEID:%s Token:[REDACTED] Hint:%s}", s.SPIFFEID, s.Hint)
}

// X509SVID is the workload's default X.509-SVID (PEM). PrivateKeyPEM never appears in fmt output.
type X509SVID struct {
	SPIFFEID string
	// CertChainPEM is the certificate chain, the leaf first.
	CertChainPEM []byte
	// PrivateKeyPEM is the leaf's key (PKCS#8).
	PrivateKeyPEM []byte
	// BundlePEM holds the trust domain's CA certificates.
	BundlePEM []byte
}

// Format hides the private key from every fmt verb.
func (s X509SVID) Format(f fmt.State, verb rune) {
	fmt.Fprintf(f, "{SPIFFEID:%s CertChainPEM:[%d bytes] PrivateKeyPEM:[REDACTED] BundlePEM:[%d bytes]}",
		s.SPIFFEID, len(s.CertChainPEM), len(s.BundlePEM))
}

// TLSCertificate is the SVID as a certificate for crypto/tls.
func (s *X509SVID) TLSCertificate() (tls.Certificate, error) {
	return tls.X509KeyPair(s.CertChainPEM, s.PrivateKeyPEM)
}

// NewWorkloadAPIClient creates a client for endpoint ("unix:///path" or "tcp://IP:PORT"; "" for
// the one SPIFFE_ENDPOINT_SOCKET names). Nothing is connected yet.
func NewWorkloadAPIClient(endpoint string) (*WorkloadAPIClient, error) {
	handleSIGPIPE()
	var ce *C.char
	if endpoint != "" {
		ce = cString(endpoint)
		defer free(ce)
	}
	var h *C.AuthsecWorkloadApi
	var e *C.char
	if code := C.authsec_workload_api_new(ce, &h, &e); code != 0 {
		return nil, errorFrom(code, e)
	}
	c := &WorkloadAPIClient{h: native.Handle{Ptr: unsafe.Pointer(h),
		Free: func(p unsafe.Pointer) { C.authsec_workload_api_free((*C.AuthsecWorkloadApi)(p)) }}}
	runtime.SetFinalizer(c, (*WorkloadAPIClient).Close)
	return c, nil
}

// Close frees the client (once calls in flight return); closing twice is fine.
func (c *WorkloadAPIClient) Close() error {
	c.h.Close()
	runtime.SetFinalizer(c, nil)
	return nil
}

// call runs one blocking Workload API call bounded by ctx and decodes its JSON answer into out.
func (c *WorkloadAPIClient) call(ctx context.Context, out any,
	f func(h *C.AuthsecWorkloadApi, ms C.uint64_t, res, e **C.char) C.AuthsecCode) error {
	ms := timeoutMs(ctx)
	_, err := native.Blocking(ctx, func() (struct{}, error) {
		h := c.h.Acquire()
		if h == nil {
			return struct{}{}, errClosed
		}
		defer c.h.Release()
		var res, e *C.char
		code := f((*C.AuthsecWorkloadApi)(h), ms, &res, &e)
		runtime.KeepAlive(c)
		if code != 0 {
			return struct{}{}, errorFrom(code, e)
		}
		if err := json.Unmarshal([]byte(goString(res)), out); err != nil {
			return struct{}{}, &Error{Code: CodeInternalError, Message: "cannot read the Workload API's answer from the core"}
		}
		return struct{}{}, nil
	})
	return err
}

// FetchJWTSVID fetches a JWT-SVID for audience: the workload's default identity's, or
// spiffeID's ("" for the default).
func (c *WorkloadAPIClient) FetchJWTSVID(ctx context.Context, audience, spiffeID string) (*WorkloadJWTSVID, error) {
	var s WorkloadJWTSVID
	err := c.call(ctx, &s, func(h *C.AuthsecWorkloadApi, ms C.uint64_t, res, e **C.char) C.AuthsecCode {
		ca, ci := cString(audience), cString(spiffeID)
		defer free(ca)
		defer free(ci)
		return C.authsec_workload_api_fetch_jwt_svid(h, ca, ci, ms, res, e)
	})
	if err != nil {
		return nil, err
	}
	return &s, nil
}

// FetchJWTBundles fetches the JWT bundles: trust domain name -> its JWKS document.
func (c *WorkloadAPIClient) FetchJWTBundles(ctx context.Context) (map[string]json.RawMessage, error) {
	var m map[string]json.RawMessage
	err := c.call(ctx, &m, func(h *C.AuthsecWorkloadApi, ms C.uint64_t, res, e **C.char) C.AuthsecCode {
		return C.authsec_workload_api_fetch_jwt_bundles(h, ms, res, e)
	})
	return m, err
}

// FetchX509SVID fetches the workload's default X.509-SVID with its key and bundle.
func (c *WorkloadAPIClient) FetchX509SVID(ctx context.Context) (*X509SVID, error) {
	var w struct {
		SPIFFEID   string `json:"spiffe_id"`
		CertChain  string `json:"cert_chain_pem"`
		PrivateKey string `json:"private_key_pem"`
		Bundle     string `json:"bundle_pem"`
	}
	err := c.call(ctx, &w, func(h *C.AuthsecWorkloadApi, ms C.uint64_t, res, e **C.char) C.AuthsecCode {
		return C.authsec_workload_api_fetch_x509_svid(h, ms, res, e)
	})
	if err != nil {
		return nil, err
	}
	return &X509SVID{SPIFFEID: w.SPIFFEID, CertChainPEM: []byte(w.CertChain),
		PrivateKeyPEM: []byte(w.PrivateKey), BundlePEM: []byte(w.Bundle)}, nil
}
