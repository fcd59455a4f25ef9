// Command spiffe-agent is an agent with no secret anywhere: its identity is the JWT-SVID the SPIFFE
// Workload API (the SPIRE agent) issues to it, and a service it calls verifies that SVID.
//
//	tests/spire/run.sh sh -c 'cd examples/go && go run ./spiffe-agent'
//
// getToken is the agent's side: a ClientCredentials with AuthMethod "spiffe_jwt" asks the agent
// for a JWT-SVID (audience: the authorization server) and presents it as an RFC 7523 client
// assertion; the core caches SVIDs and tokens and refreshes both. It runs when AUTHSEC_TOKEN_URL
// names an authorization server that trusts the trust domain (the local server's spiffe config).
// verifySVID is a receiving service's side: a JWTSVIDVerifier on the bundles the Workload API
// streams (key rotations arrive without a restart), accepting only the agents' IDs.
package main

import (
	"context"
	"fmt"
	"log"
	"os"
	"time"

	authsec "github.com/authsec/authsec/bindings-go"
)

// [START spiffe_agent]
func getToken(ctx context.Context, tokenURL string) (*authsec.Token, error) {
	client, err := authsec.NewClientCredentials(authsec.ClientConfig{
		TokenURL:   tokenURL,
		AuthMethod: "spiffe_jwt", // no ClientID, no secret: the SVID's SPIFFE ID is the client
		Scopes:     []string{"read:data"},
		// SPIFFEEndpointSocket: "" -> SPIFFE_ENDPOINT_SOCKET
	})
	if err != nil {
		return nil, err
	}
	defer client.Close()
	return client.Token(ctx)
}

func verifySVID(ctx context.Context, audience, svid string) (*authsec.JWTSVID, error) {
	verifier, err := authsec.NewJWTSVIDVerifier(ctx, authsec.JWTSVIDOptions{
		Audience:    []string{audience},
		WorkloadAPI: authsec.WorkloadAPIFromEnv, // bundles from the agent, kept current
		AllowedIDs:  []string{"spiffe://example.org/agents/*"},
	})
	if err != nil {
		return nil, err
	}
	defer verifier.Close()
	return verifier.Verify(ctx, svid)
}

// [END spiffe_agent]

func main() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if os.Getenv("SPIFFE_ENDPOINT_SOCKET") == "" {
		log.Fatal("SPIFFE_ENDPOINT_SOCKET is not set: run under tests/spire/run.sh (or next to a SPIRE agent)")
	}
	wl, err := authsec.NewWorkloadAPIClient("")
	if err != nil {
		log.Fatal(err)
	}
	defer wl.Close()
	const audience = "https://api.example.test"
	svid, err := wl.FetchJWTSVID(ctx, audience, "")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("agent: my SPIFFE ID is %s\n", svid.SPIFFEID)
	got, err := verifySVID(ctx, audience, svid.Token)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("service: verified %s (kid %s, expires %s)\n", got.SPIFFEID, got.KeyID, got.ExpiresAt.Format(time.RFC3339))
	if u := os.Getenv("AUTHSEC_TOKEN_URL"); u != "" {
		tok, err := getToken(ctx, u)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("agent: access token for scopes %v, expires %s\n", tok.Scopes, tok.Expiry.Format(time.RFC3339))
	}
}
