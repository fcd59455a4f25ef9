// Command protectedapi serves the example API (package api: net/http behind authsec's
// middleware) and calls it four times to show each answer: 200 with a read:data token, 401
// without a token, 401 with a tampered token, 403 for a route that needs write:data.
//
//	go run ./protectedapi
package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net/http"
	"strings"
	"time"

	authsec "github.com/authsec/authsec/bindings-go"
	"github.com/authsec/authsec/examples/go/api"
	"github.com/authsec/authsec/examples/go/internal/local"
)

// tamper returns the same token with its payload edited to claim write:data too: the signature
// no longer matches, so the API must refuse it.
func tamper(token string) string {
	parts := strings.Split(token, ".")
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		log.Fatal(err)
	}
	var claims map[string]any
	if err := json.Unmarshal(payload, &claims); err != nil {
		log.Fatal(err)
	}
	claims["scope"] = "read:data write:data"
	forged, _ := json.Marshal(claims)
	return parts[0] + "." + base64.RawURLEncoding.EncodeToString(forged) + "." + parts[2]
}

func show(what, method, url, authorization string) {
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		log.Fatal(err)
	}
	if authorization != "" {
		req.Header.Set("Authorization", authorization)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		log.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode == http.StatusOK {
		fmt.Printf("%s -> 200 %s\n", what, body)
	} else {
		fmt.Printf("%s -> %d WWW-Authenticate: %s\n", what, resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
	}
}

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
	fmt.Printf("protected API: %s (GET /data needs read:data, POST /data needs write:data)\n", apiURL)

	// An agent that asked only for read:data.
	client, err := authsec.NewClientCredentials(authsec.ClientConfig{
		TokenURL:     auth.TokenURL,
		ClientID:     auth.ClientID,
		ClientSecret: auth.ClientSecret,
		Scopes:       []string{"read:data"},
		Audience:     local.APIAudience,
	})
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close()
	token, err := client.Token(ctx)
	if err != nil {
		log.Fatal(err)
	}

	show("GET /data with a read:data token", "GET", apiURL+"/data", token.Authorization)
	show("GET /data without a token", "GET", apiURL+"/data", "")
	show("GET /data with a tampered token", "GET", apiURL+"/data", "Bearer "+tamper(token.AccessToken))
	show("POST /data with a read:data token", "POST", apiURL+"/data", token.Authorization)
	fmt.Println("done: protected_api")
}
