// Command dpop: a DPoP-bound token (RFC 9449) that is useless to whoever copies it.
//
//	go run ./dpop
//
// The agent holds a key of its own (generated in memory) and proves it with every request: a
// signed DPoP proof for that method and URL. The authorization server binds the token to the key
// (cnf.jkt) and the API checks the proof, refuses a replayed one, and asks for its own nonce
// first. A thief with the token alone gets nowhere: sent as Bearer it is refused, and a proof by
// another key does not match the binding. The local authorization server (package authsectest,
// in-process on 127.0.0.1) requires proofs from this client and demands its nonces too.
package main

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	authsec "github.com/authsec/authsec/bindings-go"
	"github.com/authsec/authsec/bindings-go/authsectest"
)

const apiAudience = "https://api.example.test"

// [START dpop]

// newAPI is the protected API: DPoP-bound tokens only, with this API's nonces.
func newAPI(issuer, jwksURI string) (http.Handler, error) {
	verifier, err := authsec.NewVerifier(authsec.VerifierConfig{Issuer: issuer, Audience: []string{apiAudience}, JWKSURI: jwksURI})
	if err != nil {
		return nil, err
	}
	// DPoPRequired: only DPoP-bound tokens, each with a proof by its key; DPoPNonce: the API hands
	// out nonces (401 use_dpop_nonce + DPoP-Nonce) and accepts proofs that carry a current one.
	mw, err := authsec.NewMiddleware(verifier, authsec.MiddlewareOptions{
		RequiredScopes: []string{"read:data"},
		Request:        authsec.RequestOptions{DPoP: authsec.DPoPRequired, DPoPNonce: true},
	})
	if err != nil {
		return nil, err
	}
	return mw(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a, _ := authsec.AcceptedFromContext(r.Context())
		json.NewEncoder(w).Encode(map[string]string{"scheme": a.Scheme, "key": a.DPoPThumbprint})
	})), nil
}

func callAPI(ctx context.Context, tokenURL, clientID, secret, url string) error {
	// DPoP: true makes a key for this client: every token request carries a proof, the tokens are
	// bound to the key, and the client's Transport signs a proof for each request (answering the
	// API's nonce challenge with one retry).
	agent, err := authsec.NewClientCredentials(authsec.ClientConfig{
		TokenURL: tokenURL, ClientID: clientID, ClientSecret: secret, Scopes: []string{"read:data"}, DPoP: true,
	})
	if err != nil {
		return err
	}
	defer agent.Close()
	resp, err := agent.HTTPClient(nil).Get(url)
	if err != nil {
		return err
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	fmt.Printf("agent: %d %s (its key: %s)\n", resp.StatusCode, strings.TrimSpace(string(body)), agent.DPoPThumbprint())

	// Someone who copied the token from a log: as Bearer, and with a proof by their own key.
	token, err := agent.Token(ctx)
	if err != nil {
		return err
	}
	asBearer := http.Header{"Authorization": {"Bearer " + token.AccessToken}}
	thief, err := authsec.NewClientCredentials(authsec.ClientConfig{TokenURL: tokenURL, ClientID: "nobody", ClientSecret: "x", DPoP: true})
	if err != nil {
		return err
	}
	defer thief.Close()
	withOtherKey, err := thief.Authorize(token, "GET", url)
	if err != nil {
		return err
	}
	for _, try := range []struct {
		what   string
		header http.Header
	}{{"stolen token as Bearer", asBearer}, {"stolen token with another key's proof", withOtherKey}} {
		req, _ := http.NewRequestWithContext(ctx, "GET", url, nil)
		req.Header = try.header
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return err
		}
		resp.Body.Close()
		fmt.Printf("%s: %d %s\n", try.what, resp.StatusCode, strings.Join(resp.Header.Values("WWW-Authenticate"), ", "))
	}
	return nil
}

// [END dpop]

func main() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	secret := rand.Text()
	server, err := authsectest.Start(authsectest.Options{
		Clients: []map[string]any{{
			"client_id": "example-agent", "client_secret": secret, "allowed_scopes": []string{"read:data"},
			"audiences":                []string{apiAudience},
			"dpop_bound_access_tokens": true, // the server refuses this client's token requests without a proof
		}},
		Audience: apiAudience,
		Config:   map[string]any{"dpop": map[string]any{"nonce": true}}, // and asks for its own nonce in them
	})
	if err != nil {
		log.Fatal(err)
	}
	defer server.Close()
	fmt.Printf("authorization server: %s (local, in-process)\n", server.Issuer)
	handler, err := newAPI(server.Issuer, server.JWKSURI)
	if err != nil {
		log.Fatal(err)
	}
	api := httptest.NewServer(handler) // 127.0.0.1, an ephemeral port
	defer api.Close()
	if err := callAPI(ctx, server.TokenEndpoint, "example-agent", secret, api.URL+"/data"); err != nil {
		log.Fatal(err)
	}
	fmt.Println("done: dpop")
}
