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
	"net/http"
	"runtime"
)

// ---------------------------------------------------------------------------------------------
// Client side: an http.RoundTripper that adds the bearer token.

// Transport adds the client's bearer token to every request. When the resource server answers
// 401 it asks the core (on_unauthorized), which drops that token and says whether to send the
// request again with a fresh one (once; not for insufficient_scope); only requests whose body can
// be replayed are sent again.
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

func (t *Transport) send(req *http.Request) (*http.Response, *Token, error) {
	tok, err := t.Client.Token(req.Context())
	if err != nil {
		return nil, nil, err
	}
	r := req.Clone(req.Context())
	r.Header.Set("Authorization", tok.Authorization)
	resp, err := t.base().RoundTrip(r)
	return resp, tok, err
}

// RoundTrip implements http.RoundTripper.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, tok, err := t.send(req)
	// The core ends this loop: it answers false after its retries.
	for retries := 0; err == nil && resp.StatusCode == http.StatusUnauthorized; retries++ {
		if req.Body != nil && req.Body != http.NoBody && req.GetBody == nil {
			return resp, nil
		}
		if !t.Client.onUnauthorized(tok.AccessToken, resp.Header.Get("WWW-Authenticate"), retries) {
			return resp, nil
		}
		retry := req
		if req.GetBody != nil {
			body, err := req.GetBody()
			if err != nil {
				return resp, nil
			}
			retry = req.Clone(req.Context())
			retry.Body = body
		}
		resp.Body.Close()
		resp, tok, err = t.send(retry)
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
}

func bearerToken(header string) (string, bool, error) {
	ch := cString(header)
	defer free(ch)
	var out, e *C.char
	if code := C.authsec_bearer_token(ch, &out, &e); code != 0 {
		return "", false, errorFrom(code, e)
	}
	if out == nil {
		return "", false, nil
	}
	return goString(out), true, nil
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

// Middleware verifies the request's bearer token with v; on success the claims are in the
// request context (ClaimsFromContext), otherwise it answers 400/401/403 with WWW-Authenticate
// (or 5xx when keys are unavailable), as the core decides.
func Middleware(v *Verifier, opts MiddlewareOptions) func(http.Handler) http.Handler {
	var vopts []VerifyOption
	if len(opts.RequiredScopes) > 0 {
		vopts = append(vopts, RequireScopes(opts.RequiredScopes...))
	}
	if len(opts.AnyScopes) > 0 {
		vopts = append(vopts, RequireAnyScope(opts.AnyScopes...))
	}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			token, ok, err := bearerToken(r.Header.Get("Authorization"))
			var claims *Claims
			if err == nil && ok {
				claims, err = v.Verify(r.Context(), token, vopts...)
			}
			if err == nil && ok {
				next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), claimsKey{}, claims)))
				return
			}
			var ae *Error
			if err != nil && !errors.As(err, &ae) {
				ae = &Error{Code: CodeInternalError, Message: err.Error()}
			}
			c := challenge(opts.Realm, opts.ResourceMetadata, ae, opts.RequiredScopes)
			if c.WWWAuthenticate != "" {
				w.Header().Set("WWW-Authenticate", c.WWWAuthenticate)
			}
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(c.Status)
			body := map[string]string{}
			if c.Error != "" {
				body["error"] = c.Error
			}
			json.NewEncoder(w).Encode(body)
		})
	}
}
