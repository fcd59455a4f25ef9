// Command agent is a long-running agent: many API calls on one cached token, refreshed before it
// expires.
//
//	go run ./agent
//
// The local authorization server issues tokens that last only 10 seconds, so within 8 seconds the
// agent's 30 calls show the cache at work: most calls reuse the cached token, and the Rust core
// gets a new one RefreshBuffer (4 s) before the old one expires, so no call ever carries an
// expired token.
// Each new token is one request to the token endpoint; the last line counts them.
package main

import (
	"context"
	"fmt"
	"io"
	"log"
	"net/http"
	"time"

	authsec "github.com/authsec/authsec/bindings-go"
	"github.com/authsec/authsec/examples/go/api"
	"github.com/authsec/authsec/examples/go/internal/local"
)

const tokenLifetime = 10 // seconds; real tokens usually last an hour

// [START agent]
func runAgent(ctx context.Context, tokenURL, clientID, clientSecret, apiURL string, calls int) error {
	client, err := authsec.NewClientCredentials(authsec.ClientConfig{
		TokenURL:     tokenURL,
		ClientID:     clientID,
		ClientSecret: clientSecret,
		Scopes:       []string{"read:data"},
		Audience:     "https://api.example.test",
		// Refresh this long before expiry (default 5 min, at most half the token's lifetime).
		RefreshBuffer: 4 * time.Second,
	})
	if err != nil {
		return err
	}
	defer client.Close()

	started := time.Now()
	var previous *authsec.Token
	tokens := 0
	for call := 1; call <= calls; call++ {
		token, err := client.Token(ctx) // from the cache, unless it is time to refresh
		if err != nil {
			return err
		}
		var note string
		switch {
		case previous == nil:
			tokens++
			note = fmt.Sprintf("token #%d (new, expires in %.1f s)", tokens, time.Until(token.Expiry).Seconds())
		case token.AccessToken != previous.AccessToken:
			tokens++
			note = fmt.Sprintf("token #%d (refreshed; #%d had %.1f s left)", tokens, tokens-1, time.Until(previous.Expiry).Seconds())
		default:
			note = fmt.Sprintf("token #%d (cached)", tokens)
		}
		previous = token

		req, err := http.NewRequestWithContext(ctx, "GET", apiURL+"/data", nil)
		if err != nil {
			return err
		}
		req.Header.Set("Authorization", token.Authorization)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return err
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("GET /data answered %d", resp.StatusCode)
		}
		fmt.Printf("call %2d  t=%4.1fs  %d  %s\n", call, time.Since(started).Seconds(), resp.StatusCode, note)
		time.Sleep(250 * time.Millisecond)
	}
	fmt.Printf("calls: %d, token requests: %d, calls on a cached token: %d\n", calls, tokens, calls-tokens)
	return nil
}

// [END agent]

func main() {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	auth, err := local.StartAuth(tokenLifetime)
	if err != nil {
		log.Fatal(err)
	}
	defer auth.Close()
	handler, err := api.New(auth.Issuer, auth.JWKSURI)
	if err != nil {
		log.Fatal(err)
	}
	apiURL, stop, err := local.Serve(handler)
	if err != nil {
		log.Fatal(err)
	}
	defer stop()
	fmt.Printf("protected API: %s; tokens last %d s\n", apiURL, tokenLifetime)

	if err := runAgent(ctx, auth.TokenURL, auth.ClientID, auth.ClientSecret, apiURL, 30); err != nil {
		log.Fatal(err)
	}
	fmt.Println("done: agent")
}
