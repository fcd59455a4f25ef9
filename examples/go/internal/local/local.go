// Package local is the set-up shared by the examples: the local authorization server (package
// authsectest, the module's testing package) and a way to serve a handler.
//
// None of this is needed in production, where your identity provider issues the tokens and your
// API runs under its own server. The examples start both in-process, on 127.0.0.1 and ephemeral
// ports, so that each one runs with a single command and stops by itself.
package local

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/authsec/authsec/bindings-go/authsectest"
)

// APIAudience is the audience of the example API: tokens are issued for it and the API accepts
// only those.
const APIAudience = "https://api.example.test"

// AgentID is the client (an agent) registered with the local authorization server.
const AgentID = "example-agent"

// Auth is a running local authorization server and the agent's credentials.
type Auth struct {
	Issuer, TokenURL, JWKSURI string
	ClientID, ClientSecret    string
	server                    *authsectest.Server
}

// StartAuth starts the local authorization server with one client, example-agent, which may ask
// for read:data and write:data tokens for APIAudience lasting tokenLifetime seconds.
func StartAuth(tokenLifetime int) (*Auth, error) {
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		return nil, err
	}
	secret := base64.RawURLEncoding.EncodeToString(b)
	config, err := json.Marshal(map[string]any{
		"clients": []map[string]any{{
			"client_id":      AgentID,
			"client_secret":  secret,
			"allowed_scopes": []string{"read:data", "write:data"},
			"audiences":      []string{APIAudience},
			"token_lifetime": tokenLifetime,
		}},
		"default_audience": APIAudience,
		"token_lifetime":   tokenLifetime,
		"audit_log":        "off",
	})
	if err != nil {
		return nil, err
	}
	s, err := authsectest.StartLocalServer(string(config))
	if err != nil {
		return nil, err
	}
	fmt.Printf("authorization server: %s (local, in-process)\n", s.Issuer)
	return &Auth{Issuer: s.Issuer, TokenURL: s.TokenEndpoint, JWKSURI: s.JWKSURI,
		ClientID: AgentID, ClientSecret: secret, server: s}, nil
}

// Close stops the server.
func (a *Auth) Close() { a.server.Close() }

// Serve serves h on 127.0.0.1 and an ephemeral port; it returns the base URL and a function that
// stops the server.
func Serve(h http.Handler) (string, func(), error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(ln)
	stop := func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
	}
	return "http://" + ln.Addr().String(), stop, nil
}
