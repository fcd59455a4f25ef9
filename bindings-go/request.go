package authsec

/*
#include <stdlib.h>
#include "authsec.h"
*/
import "C"

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"runtime"
	"time"
	"unsafe"

	"github.com/authsec/authsec/bindings-go/internal/bridge"
	"github.com/authsec/authsec/bindings-go/internal/native"
)

// RequestOptions configures how a protected resource checks whole requests (RequestVerifier,
// MiddlewareOptions.Request): DPoP (RFC 9449) and certificate-bound tokens (RFC 8705). The zero
// value takes Bearer and DPoP tokens, each with its own scheme, and reads the client certificate
// from the TLS connection. The core reads and checks them (RequestPolicy::from_value, as the
// Python and Node packages pass them).
type RequestOptions struct {
	// DPoP is DPoPAllowed ("" is the same), DPoPRequired or DPoPDisabled.
	DPoP string
	// Allow-list of DPoP proof algorithms (empty = every supported asymmetric algorithm).
	DPoPAlgorithms []string
	// How old a proof's iat may be (0 = the core's default), and the clock skew allowed.
	DPoPMaxAge time.Duration
	DPoPLeeway time.Duration
	// DPoPNonce makes clients use this resource's nonces (RFC 9449 §9): a proof without a current
	// one is refused with 401 use_dpop_nonce and a DPoP-Nonce header.
	DPoPNonce bool
	// DPoPNonceKey (base64url, at least 32 bytes) shares nonces across instances; empty = a random
	// key of this instance's.
	DPoPNonceKey string
	// How long a nonce is good for (0 = the core's default, 60s).
	DPoPNonceLifetime time.Duration
	// Live entries of the proof replay cache (0 = the core's default).
	ReplayCapacity int
	// PublicURL is this resource's external URL (scheme, host, port and path prefix), what DPoP
	// proofs' htu are compared with when the server is behind a proxy.
	PublicURL string
	// TrustForwarded reads Forwarded / X-Forwarded-* from TrustedProxies (IP addresses or CIDR
	// ranges; required with it, "0.0.0.0/0" and "::/0" trust every peer) to find the URL the
	// client used.
	TrustForwarded bool
	TrustedProxies []string
	// ClientCertHeader names the header a TLS-terminating proxy in TrustedProxies (required with
	// it) puts the client certificate in ("" = take it from the TLS connection); ClientCertHeaderFormat is "xfcc"
	// (Envoy's x-forwarded-client-cert), "rfc9440" (Client-Cert) or "pem".
	ClientCertHeader       string
	ClientCertHeaderFormat string
	// RequireCertificateBinding refuses tokens that are not certificate-bound (cnf x5t#S256).
	RequireCertificateBinding bool
	Realm                     string

	// resourceMetadata is named in every challenge (MiddlewareOptions.ResourceMetadata).
	resourceMetadata string
}

// RequestOptions.DPoP values.
const (
	DPoPAllowed  = "allowed"
	DPoPRequired = "required"
	DPoPDisabled = "disabled"
)

// options is the options as the core's map (set fields only).
func (o RequestOptions) options() map[string]any {
	m := map[string]any{}
	for k, v := range map[string]string{"dpop": o.DPoP, "dpop_nonce_key": o.DPoPNonceKey, "public_url": o.PublicURL,
		"client_cert_header": o.ClientCertHeader, "client_cert_header_format": o.ClientCertHeaderFormat, "realm": o.Realm,
		"resource_metadata": o.resourceMetadata} {
		if v != "" {
			m[k] = v
		}
	}
	for k, v := range map[string]time.Duration{"dpop_max_age": o.DPoPMaxAge, "dpop_leeway": o.DPoPLeeway,
		"dpop_nonce_lifetime": o.DPoPNonceLifetime} {
		if v != 0 {
			m[k] = v.Seconds()
		}
	}
	for k, v := range map[string]bool{"dpop_nonce": o.DPoPNonce, "trust_forwarded": o.TrustForwarded,
		"require_certificate_binding": o.RequireCertificateBinding} {
		if v {
			m[k] = true
		}
	}
	if o.DPoPAlgorithms != nil {
		m["dpop_algorithms"] = o.DPoPAlgorithms
	}
	if o.TrustedProxies != nil {
		m["trusted_proxies"] = o.TrustedProxies
	}
	if o.ReplayCapacity != 0 {
		m["replay_capacity"] = o.ReplayCapacity
	}
	return m
}

// RequestParts is what a RequestVerifier reads of a request (RequestPartsFrom fills it from an
// *http.Request).
type RequestParts struct {
	Method string
	// Target is the request target as received: path and query (r.RequestURI).
	Target string
	// Scheme is "https" when the accepted connection was TLS, else "http".
	Scheme string
	// Host is the Host header (net/http keeps it in r.Host, not in r.Header); "" when Header has it.
	Host string
	// Header holds every header.
	Header http.Header
	// Peer is the IP address of the peer that connected (a proxy, when there is one); "" = unknown.
	Peer string
	// ClientCertificate is the DER of the TLS client certificate, if any.
	ClientCertificate []byte
}

// RequestPartsFrom reads r as a server received it: the TLS client certificate is
// r.TLS.PeerCertificates[0].Raw, the peer the host of r.RemoteAddr.
func RequestPartsFrom(r *http.Request) RequestParts {
	p := RequestParts{Method: r.Method, Target: r.RequestURI, Scheme: "http", Host: r.Host, Header: r.Header}
	if p.Target == "" {
		p.Target = r.URL.RequestURI()
	}
	if r.TLS != nil {
		p.Scheme = "https"
		if len(r.TLS.PeerCertificates) > 0 {
			p.ClientCertificate = r.TLS.PeerCertificates[0].Raw
		}
	}
	if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		p.Peer = host
	}
	return p
}

// Accepted is a request the RequestVerifier let through.
type Accepted struct {
	Claims *Claims
	// Token is the access token as presented (for DownstreamToken, say).
	Token string
	// Scheme is "Bearer" or "DPoP".
	Scheme string
	// DPoPThumbprint is the jkt of the key whose proof came with a DPoP token ("" otherwise).
	DPoPThumbprint string
	// CertificateThumbprint is the x5t#S256 of the client certificate a certificate-bound token is
	// bound to ("" otherwise).
	CertificateThumbprint string
	// Header holds the headers to add to the response (a renewed DPoP-Nonce).
	Header http.Header
}

// Refusal is a request the RequestVerifier refused, and what to answer: Status and Header (one
// WWW-Authenticate per scheme offered, DPoP-Nonce). It is an error whose Unwrap is Err, so
// errors.Is(err, ErrTokenExpired) works.
type Refusal struct {
	Status int
	// Err is the reason, nil when the request carried no credential.
	Err *Error
	// OAuthError is the RFC 6750 error code ("invalid_token", "insufficient_scope",
	// "invalid_dpop_proof", ...), "" when no credential came or for a 5xx.
	OAuthError string
	Header     http.Header
}

func (r *Refusal) Error() string {
	if r.Err == nil {
		return "authsec: the request carried no credential"
	}
	return r.Err.Error()
}

func (r *Refusal) Unwrap() error {
	if r.Err == nil {
		return nil
	}
	return r.Err
}

// WriteTo answers the refused request: Header, Status and a JSON body {"error": OAuthError}.
func (r *Refusal) WriteTo(w http.ResponseWriter) {
	addHeader(w.Header(), r.Header)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(r.Status)
	body := map[string]string{}
	if r.OAuthError != "" {
		body["error"] = r.OAuthError
	}
	json.NewEncoder(w).Encode(body)
}

func addHeader(dst, src http.Header) {
	for k, vs := range src {
		dst[k] = append(dst[k], vs...)
	}
}

// RequestVerifier checks whole requests to a protected resource (the core's RequestVerifier): the
// credential (Bearer or DPoP), the token (with the Verifier it was made from), its binding to a
// DPoP key or a client certificate, the resource's DPoP nonce, proof replays and the scopes. Safe
// for concurrent use.
type RequestVerifier struct {
	h native.Handle
	v *Verifier
}

// NewRequestVerifier is a request verifier over v (and v's clock). v's AllowActor is asked about
// a delegated token's current actor once the core accepted the request (scopes included): false
// answers the core's delegation_not_allowed refusal.
func NewRequestVerifier(v *Verifier, opts RequestOptions) (*RequestVerifier, error) {
	b, err := json.Marshal(opts.options())
	if err != nil {
		return nil, &Error{Code: CodeConfigError, Message: err.Error()}
	}
	vh, release := bridge.AcquireVerifier(v)
	if vh == nil {
		return nil, errClosed
	}
	defer release()
	cs := cString(string(b))
	defer free(cs)
	var h *C.AuthsecRequestVerifier
	var e *C.char
	if code := C.authsec_request_verifier_new((*C.AuthsecVerifier)(vh), cs, &h, &e); code != 0 {
		return nil, errorFrom(code, e)
	}
	runtime.KeepAlive(v)
	rv := &RequestVerifier{v: v, h: native.Handle{Ptr: unsafe.Pointer(h),
		Free: func(p unsafe.Pointer) { C.authsec_request_verifier_free((*C.AuthsecRequestVerifier)(p)) }}}
	runtime.SetFinalizer(rv, (*RequestVerifier).Close)
	return rv, nil
}

// Close frees the native request verifier (once calls in flight return); closing twice is fine.
func (rv *RequestVerifier) Close() error {
	rv.h.Close()
	runtime.SetFinalizer(rv, nil)
	return nil
}

type verdict struct {
	Accepted *struct {
		Claims      json.RawMessage `json:"claims"`
		Token       string          `json:"token"`
		Scheme      string          `json:"scheme"`
		JKT         string          `json:"jkt"`
		Certificate string          `json:"certificate"`
		Headers     [][2]string     `json:"headers"`
	} `json:"accepted"`
	Refused *struct {
		Status     int             `json:"status"`
		Error      json.RawMessage `json:"error"`
		OAuthError string          `json:"oauth_error"`
		Headers    [][2]string     `json:"headers"`
	} `json:"refused"`
}

func headerOf(pairs [][2]string) http.Header {
	h := http.Header{}
	for _, p := range pairs {
		h.Add(p[0], p[1])
	}
	return h
}

// decode turns the core's answer into an *Accepted or a *Refusal.
func (d *verdict) decode() (*Accepted, error) {
	switch {
	case d.Accepted != nil:
		claims, err := bridge.DecodeClaims(d.Accepted.Claims)
		if err != nil {
			return nil, err
		}
		c := claims.(*Claims)
		a := d.Accepted
		return &Accepted{Claims: c, Token: a.Token, Scheme: a.Scheme, DPoPThumbprint: a.JKT, CertificateThumbprint: a.Certificate,
			Header: headerOf(a.Headers)}, nil
	case d.Refused != nil:
		r := &Refusal{Status: d.Refused.Status, OAuthError: d.Refused.OAuthError, Header: headerOf(d.Refused.Headers)}
		if len(d.Refused.Error) > 0 && string(d.Refused.Error) != "null" {
			r.Err = errorFromJSON(0, d.Refused.Error)
		}
		return nil, r
	}
	return nil, &Error{Code: CodeInternalError, Message: "cannot read the request verifier's answer"}
}

// verify calls the core: wait=false never blocks and answers pending when keys must be fetched.
func (rv *RequestVerifier) verify(req, scopes []byte, cert []byte, wait bool, ms C.uint64_t) (a *Accepted, pending bool, err error) {
	h := rv.h.Acquire()
	if h == nil {
		return nil, false, errClosed
	}
	defer rv.h.Release()
	rp, rn := bytesArg(req)
	sp, sn := bytesArg(scopes)
	var cp *C.uint8_t
	if len(cert) > 0 {
		cp = (*C.uint8_t)(unsafe.Pointer(&cert[0]))
	}
	var out, e *C.char
	code := C.authsec_request_verifier_verify((*C.AuthsecRequestVerifier)(h), rp, rn, cp, C.size_t(len(cert)), sp, sn,
		C.bool(wait), ms, &out, &e)
	runtime.KeepAlive(req)
	runtime.KeepAlive(scopes)
	runtime.KeepAlive(cert)
	runtime.KeepAlive(rv)
	if code != 0 {
		return nil, false, errorFrom(code, e)
	}
	if out == nil {
		return nil, true, nil
	}
	var d verdict
	if err := json.Unmarshal([]byte(goString(out)), &d); err != nil {
		return nil, false, &Error{Code: CodeInternalError, Message: "cannot read the request verifier's answer"}
	}
	a, err = d.decode()
	return a, false, err
}

// Verify checks the request p and the scopes opts require. It returns the accepted request, or a
// *Refusal to answer with (errors.As(err, &refusal)); any other error (ctx done, a closed
// verifier, an unreadable request) is the caller's to answer, as a 500. ctx bounds a JWKS fetch.
func (rv *RequestVerifier) Verify(ctx context.Context, p RequestParts, opts ...VerifyOption) (*Accepted, error) {
	var pairs [][2]string
	if p.Host != "" {
		pairs = append(pairs, [2]string{"Host", p.Host})
	}
	for k, vs := range p.Header {
		for _, v := range vs {
			pairs = append(pairs, [2]string{k, v})
		}
	}
	req, err := json.Marshal(map[string]any{"method": p.Method, "target": p.Target, "scheme": p.Scheme, "headers": pairs,
		"peer": p.Peer})
	if err != nil {
		return nil, &Error{Code: CodeConfigError, Message: err.Error()}
	}
	var scopes []byte
	if len(opts) > 0 {
		scopes = bridge.ScopesJSON(opts, nil)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	a, pending, err := rv.verify(req, scopes, p.ClientCertificate, false, 0)
	if pending {
		ms := timeoutMs(ctx)
		a, err = native.Blocking(ctx, func() (*Accepted, error) {
			a, _, err := rv.verify(req, scopes, p.ClientCertificate, true, ms)
			return a, err
		})
	}
	if err != nil {
		return nil, err
	}
	if err := bridge.CheckActor(rv.v, a.Claims); err != nil {
		return nil, rv.refusal(err, a.Scheme, scopes)
	}
	return a, nil
}

// refusal is the core's answer to err found after the request was accepted.
func (rv *RequestVerifier) refusal(err error, scheme string, scopes []byte) error {
	ae, ok := err.(*Error)
	if !ok {
		return err
	}
	h := rv.h.Acquire()
	if h == nil {
		return errClosed
	}
	defer rv.h.Release()
	in := map[string]any{"code": ae.Code.String(), "message": ae.Message, "missing_scopes": ae.MissingScopes}
	b, _ := json.Marshal(in)
	ci, cs := cString(string(b)), cString(scheme)
	defer free(ci)
	defer free(cs)
	var sc *C.char
	if len(scopes) > 0 {
		sc = cString(string(scopes))
		defer free(sc)
	}
	var out, e *C.char
	code := C.authsec_request_verifier_refusal((*C.AuthsecRequestVerifier)(h), ci, cs, sc, &out, &e)
	runtime.KeepAlive(rv)
	if code != 0 {
		return errorFrom(code, e)
	}
	var d verdict
	if json.Unmarshal([]byte(goString(out)), &d) != nil || d.Refused == nil {
		return &Error{Code: CodeInternalError, Message: "cannot read the request verifier's answer"}
	}
	_, r := d.decode()
	return r
}
