// Command mcp runs the example MCP server (package files: go-sdk behind authsec's mcpauth) and an
// agent that calls its tools with go-sdk's own client over authsec's transport, against the
// local authorization server (package authsectest, in-process), all on 127.0.0.1 and ephemeral
// ports; it stops by itself.
//
//	go run .            (in examples/mcp/go)
//
// The agent knows only the server's URL and its own client credentials: its first request goes
// without a token, the 401 names the server's RFC 9728 metadata, which names the authorization
// server, and the agent gets a token for the server's resource there. A tool that needs a scope
// the token lacks gets a 403 insufficient_scope, and the agent asks once for a token with it.
// For the server alone (the conformance suite's target), see ./server.
package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"net"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"time"

	authsec "github.com/authsec/authsec/bindings-go"
	"github.com/authsec/authsec/bindings-go/authsectest"
	"github.com/authsec/authsec/bindings-go/mcpauth"
	"github.com/authsec/authsec/examples/mcp/go/files"
	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// observer is the agent's base transport; it keeps the last refusal the server answered, to
// show it.
type observer struct {
	mu   sync.Mutex
	last string
}

var param = regexp.MustCompile(`(error|scope)="([^"]*)"`)

func (o *observer) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := http.DefaultTransport.RoundTrip(r)
	if err == nil && resp.StatusCode == http.StatusForbidden {
		var parts []string
		for _, m := range param.FindAllStringSubmatch(resp.Header.Get("WWW-Authenticate"), -1) {
			if m[1] == "error" {
				parts = append(parts, m[2])
			} else {
				parts = append(parts, m[0])
			}
		}
		o.mu.Lock()
		o.last = fmt.Sprintf("%d %s", resp.StatusCode, strings.Join(parts, " "))
		o.mu.Unlock()
	}
	return resp, err
}

// refusal is the last refusal seen since the previous call ("" for none).
func (o *observer) refusal() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	r := o.last
	o.last = ""
	return r
}

func main() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	log.SetFlags(0)

	// The MCP server's address first: the authorization server registers it as a resource.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	serverURL := "http://" + ln.Addr().String() + "/mcp"

	b := make([]byte, 24)
	rand.Read(b)
	secret := base64.RawURLEncoding.EncodeToString(b)
	config, _ := json.Marshal(map[string]any{
		"clients": []map[string]any{
			{"client_id": "files-mcp", "type": "mcp_server", "resource": serverURL, "client_secret": secret + "-mcp"},
			{"client_id": "files-agent", "client_secret": secret, "type": "ai_agent",
				"allowed_scopes": []string{"files:read", "files:write"}, "audiences": []string{"files-mcp"}},
		},
		"audit_log": "off",
	})
	as, err := authsectest.StartLocalServer(string(config))
	if err != nil {
		log.Fatal(err)
	}
	defer as.Close()
	fmt.Printf("authorization server: %s (local, in-process; files-mcp is an mcp_server for %s)\n", as.Issuer, serverURL)

	srv, err := files.New(serverURL, as.Issuer, authsec.VerifierConfig{})
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Auth.Close()
	hs := &http.Server{Handler: srv.Handler, ReadHeaderTimeout: 5 * time.Second}
	go hs.Serve(ln)
	defer hs.Shutdown(context.Background())
	fmt.Printf("server: %s (metadata %s; read_file, list_files: files:read, write_file: files:write, delete_file: files:admin)\n",
		serverURL, srv.Auth.Auth().MetadataURL())

	seen := &observer{}
	// [START mcp_agent]
	rt, err := mcpauth.NewTransport(serverURL, authsec.ClientConfig{
		Issuer: as.Issuer, ClientID: "files-agent", ClientSecret: secret, // the token URL is discovered
		Scopes: []string{"files:read"},
	}, seen)
	if err != nil {
		log.Fatal(err)
	}
	defer rt.Client.Close()
	client := mcp.NewClient(&mcp.Implementation{Name: "example-agent", Version: "1.0.0"}, nil)
	session, err := client.Connect(ctx, &mcp.StreamableClientTransport{
		Endpoint: serverURL, HTTPClient: &http.Client{Transport: rt}}, nil)
	// [END mcp_agent]
	if err != nil {
		log.Fatal(err)
	}
	defer session.Close()
	info := rt.Client.Info()
	fmt.Printf("agent: discovered from the 401: resource %s, token from %s, scopes %s\n", info.Resource, as.Issuer, strings.Join(info.Scopes, " "))

	tools, err := session.ListTools(ctx, nil)
	if err != nil {
		log.Fatal(err)
	}
	var names []string
	for _, t := range tools.Tools {
		names = append(names, t.Name)
	}
	fmt.Printf("agent: tools %s (the ones its token may call)\n", strings.Join(names, " "))

	callTool := func(name string, args map[string]any) {
		res, err := session.CallTool(ctx, &mcp.CallToolParams{Name: name, Arguments: args})
		refused := seen.refusal()
		what := name
		if n, ok := args["name"]; ok {
			what += fmt.Sprint(" ", n)
		}
		var ae *authsec.Error
		switch {
		case errors.As(err, &ae):
			fmt.Printf("agent: refused %s -> %s; step-up refused by the authorization server: %s\n", what, refused, ae.Code)
		case err != nil:
			log.Fatal(err)
		case refused != "":
			fmt.Printf("agent: call %s -> %s, step-up to %s -> %s\n", what, refused,
				strings.Join(rt.Client.Info().Scopes, " "), res.Content[0].(*mcp.TextContent).Text)
		default:
			fmt.Printf("agent: call %s -> %s\n", what, res.Content[0].(*mcp.TextContent).Text)
		}
	}
	callTool("whoami", nil)
	callTool("read_file", map[string]any{"name": "notes.txt"})
	callTool("write_file", map[string]any{"name": "notes.txt", "content": "edited by the agent"})
	callTool("read_file", map[string]any{"name": "notes.txt"})
	// files:admin is not the agent's to have: the server refuses, the step-up is refused.
	callTool("delete_file", map[string]any{"name": "notes.txt"})
	fmt.Printf("server: delete_file ran %d times\n", srv.Deletes.Load())
	fmt.Println("done: mcp")
}
