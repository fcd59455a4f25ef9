// Command conformanceclient is the client the MCP conformance suite runs
// (tests/mcp-conformance/run.sh): an agent on go-sdk's own client with authsec's MCP transport,
// for the client-credentials scenarios.
//
// The suite passes the MCP server's URL as the last argument and the credentials in
// MCP_CONFORMANCE_CONTEXT (client_id with client_secret, or with private_key_pem and
// signing_algorithm). It names no authorization server, so the agent takes the one the server's
// metadata names (authsec.TrustFirstIssuer).
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log"
	"net/http"
	"os"
	"strings"
	"time"

	authsec "github.com/authsec/authsec/bindings-go"
	"github.com/authsec/authsec/bindings-go/mcpauth"
	"github.com/modelcontextprotocol/go-sdk/mcp"
)

type suiteContext struct {
	ClientID         string `json:"client_id"`
	ClientSecret     string `json:"client_secret"`
	PrivateKeyPEM    string `json:"private_key_pem"`
	SigningAlgorithm string `json:"signing_algorithm"`
}

func main() {
	if len(os.Args) < 2 {
		log.Fatal("usage: conformanceclient <mcp server url>")
	}
	url := os.Args[len(os.Args)-1]
	var c suiteContext
	if err := json.Unmarshal([]byte(os.Getenv("MCP_CONFORMANCE_CONTEXT")), &c); err != nil {
		log.Fatalf("MCP_CONFORMANCE_CONTEXT: %v", err)
	}
	cfg := authsec.ClientConfig{ClientID: c.ClientID, ClientSecret: c.ClientSecret}
	if c.PrivateKeyPEM != "" {
		cfg.AuthMethod, cfg.PrivateKey, cfg.PrivateKeyAlg = "private_key_jwt", c.PrivateKeyPEM, c.SigningAlgorithm
	}
	rt, err := mcpauth.NewTransport(url, cfg, nil, authsec.TrustFirstIssuer())
	if err != nil {
		log.Fatal(err)
	}
	defer rt.Client.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	client := mcp.NewClient(&mcp.Implementation{Name: "authsec-conformance", Version: "1.0.0"}, nil)
	session, err := client.Connect(ctx, &mcp.StreamableClientTransport{Endpoint: url, HTTPClient: &http.Client{Transport: rt}}, nil)
	if err != nil {
		log.Fatal(err)
	}
	defer session.Close()
	tools, err := session.ListTools(ctx, nil)
	if err != nil {
		log.Fatal(err)
	}
	names := make([]string, len(tools.Tools))
	for i, t := range tools.Tools {
		names[i] = t.Name
	}
	fmt.Printf("tools: %s (resource %s)\n", strings.Join(names, ", "), rt.Client.Info().Resource)
}
