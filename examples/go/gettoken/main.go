// Command gettoken gets a token with client credentials and calls a protected API with it.
//
//	go run ./gettoken
//
// callAPI is the agent's side: an authsec.ClientCredentials gets an OAuth 2.0 access token from
// the token endpoint (client_secret_basic) and keeps it in the Rust core's cache; its HTTPClient
// puts it in the Authorization: Bearer header. main starts the local authorization server and
// the example API (package api) so that there is something to call.
package main

import (
	"context"
	"fmt"
	"io"
	"log"
	"time"

	authsec "github.com/authsec/authsec/bindings-go"
	"github.com/authsec/authsec/examples/go/api"
	"github.com/authsec/authsec/examples/go/internal/local"
)

// [START get_token]
func callAPI(ctx context.Context, tokenURL, clientID, clientSecret, apiURL string) error {
	// Create the client once and share it: it caches the token and refreshes it before expiry.
	client, err := authsec.NewClientCredentials(authsec.ClientConfig{
		TokenURL:     tokenURL,
		ClientID:     clientID,
		ClientSecret: clientSecret,
		Scopes:       []string{"read:data"},
		Audience:     "https://api.example.test",
	})
	if err != nil {
		return err
	}
	defer client.Close()

	token, err := client.Token(ctx)
	if err != nil {
		return err
	}
	fmt.Printf("token: %s, scopes %v, expires in %.0f s\n", token.TokenType, token.Scopes, time.Until(token.Expiry).Seconds())

	// Sends "Authorization: Bearer <token>"; on a 401 it gets a fresh token and retries once.
	resp, err := client.HTTPClient(nil).Get(apiURL + "/data")
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	fmt.Printf("GET /data -> %d %s\n", resp.StatusCode, body)
	return nil
}

// [END get_token]

func main() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	auth, err := local.StartAuth(3600)
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
	fmt.Printf("protected API: %s\n", apiURL)

	if err := callAPI(ctx, auth.TokenURL, auth.ClientID, auth.ClientSecret, apiURL); err != nil {
		log.Fatal(err)
	}
	fmt.Println("done: get_token")
}
