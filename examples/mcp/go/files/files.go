// Package files is the example MCP server: a small file store (go-sdk, streamable HTTP) whose
// tools need their own scopes, protected by authsec's mcpauth.
//
//	read_file, list_files   files:read
//	write_file              files:write
//	delete_file             files:admin
//	whoami                  (any valid token for this server)
package files

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	authsec "github.com/authsec/authsec/bindings-go"
	"github.com/authsec/authsec/bindings-go/mcpauth"
	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// Scopes are the scopes the server knows (its metadata's scopes_supported).
var Scopes = []string{"files:read", "files:write", "files:admin"}

// Server is the running example: its handler, and how often delete_file ran.
type Server struct {
	Handler http.Handler
	Auth    *mcpauth.Server
	Deletes atomic.Int32
	mu      sync.Mutex
	files   map[string]string
}

type nameArg struct {
	Name string `json:"name" jsonschema:"the file's name"`
}

type writeArg struct {
	Name    string `json:"name" jsonschema:"the file's name"`
	Content string `json:"content" jsonschema:"what to write"`
}

func text(s string) *mcp.CallToolResult {
	return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: s}}}
}

// New builds the server for resource (its URL as clients reach it), trusting the tokens of
// issuer. verifier adds verifier options (JWKSURI, AudienceMatch); its zero value discovers the
// issuer's keys and wants aud to be exactly resource.
func New(resource, issuer string, verifier authsec.VerifierConfig) (*Server, error) {
	// [START mcp_server]
	auth, err := mcpauth.New(mcpauth.Options{
		Resource:             resource, // this server's URL: the tokens' audience
		AuthorizationServers: []string{issuer},
		Metadata:             map[string]any{"scopes_supported": Scopes, "resource_name": "Example files"},
		OperationScopes: map[string][]string{
			"tools/call:read_file":   {"files:read"},
			"tools/call:list_files":  {"files:read"},
			"tools/call:write_file":  {"files:write"},
			"tools/call:delete_file": {"files:admin"},
		},
		Verifier: verifier,
	})
	if err != nil {
		return nil, err
	}
	server := mcp.NewServer(&mcp.Implementation{Name: "example-files", Version: "1.0.0"}, nil)
	server.AddReceivingMiddleware(auth.Middleware()) // tools/list: only what the token may call
	// mcp.AddTool(server, ...) for each tool, then serve the SDK's handler behind auth.Handler:
	handler := auth.Handler(mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return server }, nil))
	// [END mcp_server]
	s := &Server{Handler: handler, Auth: auth, files: map[string]string{"notes.txt": "hello from notes.txt"}}
	mcp.AddTool(server, &mcp.Tool{Name: "list_files", Description: "List the files"},
		func(context.Context, *mcp.CallToolRequest, struct{}) (*mcp.CallToolResult, any, error) {
			s.mu.Lock()
			defer s.mu.Unlock()
			names := make([]string, 0, len(s.files))
			for n := range s.files {
				names = append(names, n)
			}
			slices.Sort(names)
			return text(strings.Join(names, " ")), nil, nil
		})
	mcp.AddTool(server, &mcp.Tool{Name: "read_file", Description: "Read a file"},
		func(_ context.Context, _ *mcp.CallToolRequest, a nameArg) (*mcp.CallToolResult, any, error) {
			s.mu.Lock()
			defer s.mu.Unlock()
			c, ok := s.files[a.Name]
			if !ok {
				return nil, nil, fmt.Errorf("no file %q", a.Name)
			}
			return text(c), nil, nil
		})
	mcp.AddTool(server, &mcp.Tool{Name: "write_file", Description: "Write a file"},
		func(_ context.Context, _ *mcp.CallToolRequest, a writeArg) (*mcp.CallToolResult, any, error) {
			s.mu.Lock()
			defer s.mu.Unlock()
			s.files[a.Name] = a.Content
			return text(fmt.Sprintf("wrote %s (%d bytes)", a.Name, len(a.Content))), nil, nil
		})
	mcp.AddTool(server, &mcp.Tool{Name: "delete_file", Description: "Delete a file"},
		func(_ context.Context, _ *mcp.CallToolRequest, a nameArg) (*mcp.CallToolResult, any, error) {
			s.Deletes.Add(1)
			s.mu.Lock()
			defer s.mu.Unlock()
			delete(s.files, a.Name)
			return text("deleted " + a.Name), nil, nil
		})
	mcp.AddTool(server, &mcp.Tool{Name: "whoami", Description: "Who the token is for"},
		func(_ context.Context, req *mcp.CallToolRequest, _ struct{}) (*mcp.CallToolResult, any, error) {
			ti := req.Extra.TokenInfo // go-sdk's token info, filled by mcpauth from the verified claims
			return text(fmt.Sprintf("client %s, scopes %s, resource %s", ti.UserID, strings.Join(ti.Scopes, " "),
				ti.Extra[mcpauth.ExtraResource])), nil, nil
		})
	return s, nil
}
