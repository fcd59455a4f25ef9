package authsec

/*
#include <stdlib.h>
#include "authsec.h"
*/
import "C"

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"runtime"
)

// ---------------------------------------------------------------------------------------------
// Client side: an http.RoundTripper that adds the bearer token.

// Transport authorizes every request with the client's token: the headers of the core's
// authorize for each attempt (Authorization with the token's scheme and, for a DPoP token, a fresh
// DPoP proof for the method and URL). Every answer goes to the core's on_resource_response (which
// keeps the origin's DPoP-Nonce); when it says so after a 401 (a DPoP nonce challenge: same token;
// a refused token: the core dropped it, so a fresh one) the request is sent once more, if its body
// can be replayed (GetBody).
type Transport struct {
	Client *ClientCredentials
	// Base is the underlying transport (nil = http.DefaultTransport).
	Base http.RoundTripper
}

func (t *Transport) base() http.RoundTripper {
	if t.Base != nil {
		return t.Base
	}
	return http.DefaultTransport
}

// send makes one attempt with body (nil: the request's own).
func (t *Transport) send(req *http.Request, body io.ReadCloser) (*http.Response, *Token, error) {
	tok, err := t.Client.Token(req.Context())
	if err != nil {
		return nil, nil, err
	}
	h, err := t.Client.Authorize(tok, req.Method, req.URL.String())
	if err != nil {
		return nil, nil, err
	}
	r := req.Clone(req.Context())
	if body != nil {
		r.Body = body
	}
	for k, v := range h {
		r.Header[k] = v
	}
	resp, err := t.base().RoundTrip(r)
	return resp, tok, err
}

// RoundTrip implements http.RoundTripper.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	url := req.URL.String()
	resp, tok, err := t.send(req, nil)
	// The core ends this loop: it answers false after its retry.
	for retries := 0; err == nil; retries++ {
		if !t.Client.OnResourceResponse(url, tok.AccessToken, resp.StatusCode, resp.Header, retries) {
			return resp, nil
		}
		var body io.ReadCloser
		if req.GetBody != nil {
			if body, err = req.GetBody(); err != nil {
				return resp, nil
			}
		} else if req.Body != nil && req.Body != http.NoBody {
			return resp, nil
		}
		resp.Body.Close()
		resp, tok, err = t.send(req, body)
	}
	return resp, err
}

// HTTPClient is an *http.Client whose requests carry the client's bearer token.
func (c *ClientCredentials) HTTPClient(base http.RoundTripper) *http.Client {
	return &http.Client{Transport: &Transport{Client: c, Base: base}}
}

// ---------------------------------------------------------------------------------------------
// Server side: net/http middleware.

type claimsKey struct{}

// ClaimsFromContext returns the claims the middleware stored for the request.
func ClaimsFromContext(ctx context.Context) (*Claims, bool) {
	c, ok := ctx.Value(claimsKey{}).(*Claims)
	return c, ok
}

// MiddlewareOptions configures Middleware.
type MiddlewareOptions struct {
	Realm string
	// ResourceMetadata is the URL of the API's RFC 9728 protected-resource metadata, named in
	// every challenge as resource_metadata (RFC 9728 §5.1) so clients can discover where to get a
	// token.
	ResourceMetadata string
	// Every one of these scopes is required.
	RequiredScopes []string
	// At least one of these scopes is required.
	AnyScopes []string
	// Request configures DPoP, nonces, the public URL and proxies, and certificate-bound tokens
	// (its Realm defaults to Realm).
	Request RequestOptions
}

type challengeOut struct {
	Status          int    `json:"status"`
	Error           string `json:"error"`
	WWWAuthenticate string `json:"www_authenticate"`
}

// challenge asks the core what to answer for err (nil = no token was sent).
func challenge(realm, resourceMetadata string, err *Error, required []string) challengeOut {
	in := map[string]any{}
	if realm != "" {
		in["realm"] = realm
	}
	if resourceMetadata != "" {
		in["resource_metadata"] = resourceMetadata
	}
	if len(required) > 0 {
		in["required_scopes"] = required
	}
	if err != nil {
		in["code"], in["message"] = err.Code.String(), err.Message
		if len(err.MissingScopes) > 0 {
			in["missing_scopes"] = err.MissingScopes
		}
	}
	b, _ := json.Marshal(in)
	cs := cString(string(b))
	defer free(cs)
	var out, e *C.char
	var c challengeOut
	if code := C.authsec_challenge(cs, &out, &e); code != 0 {
		goString(e)
		return challengeOut{Status: http.StatusInternalServerError}
	}
	runtime.KeepAlive(cs)
	if json.Unmarshal([]byte(goString(out)), &c) != nil {
		return challengeOut{Status: http.StatusInternalServerError}
	}
	return c
}

// HTTPStatus is the status a protected resource answers for err (the core's http_status): 403
// for insufficient_scope, 401 for token errors, 400 for a malformed request, 503 when keys are
// unavailable, 500 otherwise (and for an error that is not an *Error).
func HTTPStatus(err error) int {
	var ae *Error
	if !errors.As(err, &ae) {
		return http.StatusInternalServerError
	}
	return challenge("", "", ae, nil).Status
}

type acceptedKey struct{}

// AcceptedFromContext returns what the middleware accepted for the request: the claims, the
// scheme, the DPoP key's and the client certificate's thumbprints.
func AcceptedFromContext(ctx context.Context) (*Accepted, bool) {
	a, ok := ctx.Value(acceptedKey{}).(*Accepted)
	return a, ok
}

// NewMiddleware checks every request with a RequestVerifier over v (Bearer and DPoP tokens,
// certificate-bound tokens, the scopes): on success the claims are in the request context
// (ClaimsFromContext, AcceptedFromContext) and the accepted result's headers (a renewed
// DPoP-Nonce) are added to the response; otherwise it answers the core's refusal: its status
// (400/401/403, or 5xx when keys are unavailable), every WWW-Authenticate challenge on its own
// header line, DPoP-Nonce, and a JSON body {"error": "..."}. The TLS client certificate is taken
// from r.TLS, unless opts.Request.ClientCertHeader names a proxy's header. It fails on invalid
// request options.
func NewMiddleware(v *Verifier, opts MiddlewareOptions) (func(http.Handler) http.Handler, error) {
	var vopts []VerifyOption
	if len(opts.RequiredScopes) > 0 {
		vopts = append(vopts, RequireScopes(opts.RequiredScopes...))
	}
	if len(opts.AnyScopes) > 0 {
		vopts = append(vopts, RequireAnyScope(opts.AnyScopes...))
	}
	ro := opts.Request
	if ro.Realm == "" {
		ro.Realm = opts.Realm
	}
	ro.resourceMetadata = opts.ResourceMetadata
	rv, err := NewRequestVerifier(v, ro)
	if err != nil {
		return nil, err
	}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			a, err := rv.Verify(r.Context(), RequestPartsFrom(r), vopts...)
			var refusal *Refusal
			switch {
			case err == nil:
				addHeader(w.Header(), a.Header)
				ctx := context.WithValue(context.WithValue(r.Context(), claimsKey{}, a.Claims), acceptedKey{}, a)
				next.ServeHTTP(w, r.WithContext(ctx))
			case errors.As(err, &refusal):
				refusal.WriteTo(w)
			default:
				(&Refusal{Status: http.StatusInternalServerError}).WriteTo(w)
			}
		})
	}, nil
}

// Middleware is NewMiddleware for options known to be valid: it panics on invalid
// opts.Request (the zero RequestOptions are always valid).
func Middleware(v *Verifier, opts MiddlewareOptions) func(http.Handler) http.Handler {
	m, err := NewMiddleware(v, opts)
	if err != nil {
		panic(err)
	}
	return m
}
