// Package api is the examples' protected API: net/http handlers behind authsec's middleware.
//
// GET /data needs a token with read:data, POST /data one with write:data. authsec.Middleware
// verifies the token (signature against the issuer's JWKS, issuer, audience, expiry) and its
// scopes in the Rust core, and answers refusals itself: 401 without a token or with a bad one,
// 403 when a scope is missing, each with an RFC 6750 WWW-Authenticate challenge.
package api

import (
	"encoding/json"
	"net/http"

	authsec "github.com/authsec/authsec/bindings-go"
)

// [START protected_api]

// New returns the API's handler.
func New(issuer, jwksURI string) (http.Handler, error) {
	// One verifier for the whole API: it caches the issuer's signing keys (JWKS) and every token
	// it has verified, so a repeated token is answered without a signature check.
	verifier, err := authsec.NewVerifier(authsec.VerifierConfig{
		Issuer:   issuer,
		Audience: []string{"https://api.example.test"},
		JWKSURI:  jwksURI,
	})
	if err != nil {
		return nil, err
	}
	canRead := authsec.Middleware(verifier, authsec.MiddlewareOptions{Realm: "example-api", RequiredScopes: []string{"read:data"}})
	canWrite := authsec.Middleware(verifier, authsec.MiddlewareOptions{Realm: "example-api", RequiredScopes: []string{"write:data"}})

	mux := http.NewServeMux()
	mux.Handle("GET /data", canRead(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		claims, _ := authsec.ClaimsFromContext(r.Context())
		writeJSON(w, struct {
			ClientID string   `json:"client_id"`
			Scopes   []string `json:"scopes"`
		}{claims.ClientID(), claims.Scopes()})
	})))
	mux.Handle("POST /data", canWrite(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		claims, _ := authsec.ClaimsFromContext(r.Context())
		writeJSON(w, map[string]string{"stored_by": claims.ClientID()})
	})))
	return mux, nil
}

// [END protected_api]

func writeJSON(w http.ResponseWriter, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Write(b)
}
