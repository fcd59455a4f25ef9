// Command spiffe-agent is an agent with no secret anywhere: its identity is the JWT-SVID the SPIFFE
// Workload API (a SPIRE agent) issues to it.
//
//	go run ./spiffe-agent                                                  # a fake Workload API
//	tests/spire/run.sh sh -c 'cd examples/go && go run ./spiffe-agent'     # a real SPIRE agent
//
// getToken is the agent's side: a ClientCredentials with AuthMethod "spiffe_jwt" and no ClientID
// or secret asks the Workload API for a JWT-SVID (audience: the authorization server) and presents
// it as the client assertion; the core caches SVIDs and tokens and refreshes both. verifySVID is
// the side of a service the agent calls directly with its SVID: a JWTSVIDVerifier on the bundles
// the Workload API streams (key rotations arrive without a restart), accepting only agents' IDs.
// main starts the local authorization server, trusting the trust domain's bundle, and, unless
// SPIFFE_ENDPOINT_SOCKET names an agent, the testing package's fake Workload API.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log"
	"os"
	"time"

	authsec "github.com/authsec/authsec/bindings-go"
	"github.com/authsec/authsec/bindings-go/authsectest"
)

const agentID = "spiffe://example.org/agents/ml-training"

// [START spiffe_agent]
func getToken(ctx context.Context, tokenURL, issuer string) (*authsec.Token, error) {
	client, err := authsec.NewClientCredentials(authsec.ClientConfig{
		TokenURL:       tokenURL,
		AuthMethod:     "spiffe_jwt", // no ClientID, no secret: the SVID's SPIFFE ID is the client
		SPIFFEAudience: issuer,       // the default: Issuer, else TokenURL
		Scopes:         []string{"read:data"},
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
	trust := map[string]any{"bundle_file": os.Getenv("AUTHSEC_SPIRE_BUNDLE_FILE")}
	if os.Getenv("SPIFFE_ENDPOINT_SOCKET") == "" {
		fake, err := authsectest.StartFakeWorkloadAPI("example.org")
		if err != nil {
			log.Fatal(err)
		}
		defer fake.Close()
		if err := fake.SetSPIFFEID(agentID); err != nil {
			log.Fatal(err)
		}
		os.Setenv("SPIFFE_ENDPOINT_SOCKET", fake.Endpoint)
		trust = map[string]any{"bundle": fake.JWTBundle()}
		fmt.Println("workload API: a fake one (set SPIFFE_ENDPOINT_SOCKET for a SPIRE agent)")
	} else {
		fmt.Println("workload API: " + os.Getenv("SPIFFE_ENDPOINT_SOCKET"))
	}
	// The local authorization server: the agents of example.org are one client, "ml-agent".
	config, _ := json.Marshal(map[string]any{
		"spiffe": map[string]any{"trust_domains": map[string]any{"example.org": trust}},
		"clients": []map[string]any{{"client_id": "ml-agent", "spiffe_id": "spiffe://example.org/agents/*",
			"allowed_scopes": []string{"read:data"}, "audiences": []string{"https://api.example.test"}}},
	})
	server, err := authsectest.StartLocalServer(string(config))
	if err != nil {
		log.Fatal(err)
	}
	defer server.Close()

	tok, err := getToken(ctx, server.TokenEndpoint, server.Issuer)
	if err != nil {
		log.Fatal(err)
	}
	api, err := authsec.NewVerifier(authsec.VerifierConfig{Issuer: server.Issuer,
		Audience: []string{"https://api.example.test"}, JWKSURI: server.JWKSURI})
	if err != nil {
		log.Fatal(err)
	}
	defer api.Close()
	claims, err := api.Verify(ctx, tok.AccessToken, authsec.RequireScopes("read:data"))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("token: client_id %s, scopes %v, no secret sent\n", claims.ClientID(), claims.Scopes())

	wl, err := authsec.NewWorkloadAPIClient("")
	if err != nil {
		log.Fatal(err)
	}
	defer wl.Close()
	svid, err := wl.FetchJWTSVID(ctx, "https://api.example.test", "")
	if err != nil {
		log.Fatal(err)
	}
	got, err := verifySVID(ctx, "https://api.example.test", svid.Token)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("service: verified the SVID of %s (%s)\n", got.SPIFFEID, got.Alg)
	fmt.Println("done: spiffe_agent")
}
