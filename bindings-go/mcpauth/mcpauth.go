// Package mcpauth fits authsec's MCP authorization to the official Go MCP SDK
// (github.com/modelcontextprotocol/go-sdk): an MCP server as an OAuth protected resource, and an
// agent's HTTP transport that finds the authorization server and gets tokens by itself. Every
// decision (metadata, challenges, audience, per-operation scopes, list filtering, discovery,
// retries) is the authsec core's; this package converts types. Only importers of this package
// build the SDK.
//
// Server, in one line around the SDK's handler:
//
//	a, err := mcpauth.New(mcpauth.Options{Resource: "https://mcp.example.com/mcp",
//		AuthorizationServers: []string{"https://auth.example.com"},
//		OperationScopes: map[string][]string{"tools/call:write_file": {"files:write"}}})
//	server.AddReceivingMiddleware(a.Middleware())    // tools/list & co. cut to the token
//	http.ListenAndServe(addr, a.Handler(mcp.NewStreamableHTTPHandler(getServer, nil)))
//
// Agent:
//
//	rt, err := mcpauth.NewTransport(serverURL, authsec.ClientConfig{Issuer: issuer, ClientID: id, ClientSecret: secret}, nil)
//	transport := &mcp.StreamableClientTransport{Endpoint: serverURL, HTTPClient: &http.Client{Transport: rt}}
package mcpauth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	authsec "github.com/authsec/authsec/bindings-go"
	"github.com/modelcontextprotocol/go-sdk/auth"
	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// Options configures an MCP server's authorization (authsec.MCPServerOptions).
type Options = authsec.MCPServerOptions

// The members of auth.TokenInfo.Extra that TokenInfo fills in.
const (
	// ExtraClientID is the client the token was issued to: its client_id claim, else sub.
	ExtraClientID = "client_id"
	// ExtraSubject is the token's sub.
	ExtraSubject = "subject"
	// ExtraResource is this server's resource (the audience the token was checked against).
	ExtraResource = "resource"
	// ExtraClaims is every claim of the token (a map[string]any; act included).
	ExtraClaims = "claims"
	// ExtraDelegation is the token's delegation chain ([]authsec.Actor, current actor first; nil
	// when nobody acts for the subject).
	ExtraDelegation = "delegation"
)

// CodeInsufficientScope is the JSON-RPC error code of an operation the token's scopes do not
// allow, refused by Middleware (-32010: implementation-defined, unused by the MCP SDKs; -32003
// and -32004 read as a closed connection to the Go SDK's client).
const CodeInsufficientScope = -32010

// Server is an MCP server's authorization for go-sdk. Safe for concurrent use.
type Server struct {
	core *authsec.MCPServerAuth
}

// New creates an MCP server's authorization (and its token verifier).
func New(opts Options) (*Server, error) {
	c, err := authsec.NewMCPServerAuth(opts)
	if err != nil {
		return nil, err
	}
	return &Server{core: c}, nil
}

// Close frees the native objects; closing twice is fine.
func (s *Server) Close() error { return s.core.Close() }

// Auth is the underlying authsec.MCPServerAuth (metadata URL, verifier, the core's steps).
func (s *Server) Auth() *authsec.MCPServerAuth { return s.core }

// Handler protects next, the SDK's handler (mcp.NewStreamableHTTPHandler): it serves the RFC 9728
// metadata at both well-known paths, answers 401/403/400 with the core's challenge before the
// SDK runs (a tool call the token's scopes do not allow never reaches it), and hands every other
// request on, body unchanged, through the SDK's auth.RequireBearerToken, so handlers find the
// token in req.Extra.TokenInfo (see TokenInfo). Serve it where the MCP endpoint and the
// well-known paths reach it, e.g. as the server's root handler.
func (s *Server) Handler(next http.Handler) http.Handler {
	// The token was verified a moment ago for this very request: the SDK's gate reads its claims
	// from the context. Its own expiry check is the core's, which already passed.
	verify := func(ctx context.Context, token string, r *http.Request) (*auth.TokenInfo, error) {
		if c, ok := authsec.ClaimsFromContext(ctx); ok {
			return s.TokenInfo(c), nil
		}
		return s.TokenVerifier()(ctx, token, r)
	}
	gated := auth.RequireBearerToken(verify, &auth.RequireBearerTokenOptions{AllowMissingExpiration: true})(next)
	return s.core.Middleware(gated)
}

// TokenVerifier is an auth.TokenVerifier over authsec's verifier, for servers that keep the SDK's
// own gate (auth.RequireBearerToken): token errors wrap auth.ErrInvalidToken (401), malformed
// requests auth.ErrOAuth (400); other errors (keys unavailable) give 500. Per-operation scopes are
// then enforced by Middleware, as JSON-RPC errors.
func (s *Server) TokenVerifier() auth.TokenVerifier {
	return func(ctx context.Context, token string, _ *http.Request) (*auth.TokenInfo, error) {
		c, err := s.core.Verifier().Verify(ctx, token)
		if err != nil {
			switch authsec.HTTPStatus(err) {
			case http.StatusUnauthorized:
				return nil, fmt.Errorf("%w: %w", auth.ErrInvalidToken, err)
			case http.StatusBadRequest:
				return nil, fmt.Errorf("%w: %w", auth.ErrOAuth, err)
			}
			return nil, err
		}
		return s.TokenInfo(c), nil
	}
}

// TokenInfo is the SDK's token info for verified claims: Scopes, Expiration (exp), UserID (the
// client id: client_id, else sub) and Extra (ExtraClientID, ExtraSubject, ExtraResource,
// ExtraClaims, ExtraDelegation).
func (s *Server) TokenInfo(c *authsec.Claims) *auth.TokenInfo {
	id := c.ClientID()
	if id == "" {
		id = c.Subject()
	}
	ti := &auth.TokenInfo{Scopes: c.Scopes(), UserID: id, Extra: map[string]any{
		ExtraClientID: id, ExtraSubject: c.Subject(), ExtraResource: s.core.Resource(),
		ExtraClaims: c.Map(), ExtraDelegation: c.Delegation(),
	}}
	if exp, ok := c.Get("exp"); ok {
		if f, ok := exp.(float64); ok {
			ti.Expiration = time.UnixMilli(int64(f * 1000))
		}
	}
	return ti
}

// Middleware is the SDK's receiving middleware (server.AddReceivingMiddleware): it refuses an
// operation the token's scopes do not allow with a JSON-RPC error (CodeInsufficientScope) before
// its handler runs (Handler already refuses it at HTTP level; this covers servers that keep the
// SDK's gate), and cuts tools/list, prompts/list and resources/list to what the token may use,
// marking those results private and not cacheable (they differ from token to token).
func (s *Server) Middleware() mcp.Middleware {
	return func(next mcp.MethodHandler) mcp.MethodHandler {
		return func(ctx context.Context, method string, req mcp.Request) (mcp.Result, error) {
			var granted []string
			if ex := req.GetExtra(); ex != nil && ex.TokenInfo != nil {
				granted = ex.TokenInfo.Scopes
			}
			body, err := json.Marshal(map[string]any{"jsonrpc": "2.0", "id": 0, "method": method, "params": req.GetParams()})
			if err != nil {
				return nil, err
			}
			refusal, err := s.core.Decide(granted, nil, body)
			if err != nil {
				return nil, err
			}
			if refusal != nil {
				var why struct {
					Description string `json:"error_description"`
				}
				json.Unmarshal(refusal.Body, &why)
				return nil, &jsonrpc.Error{Code: CodeInsufficientScope, Message: why.Description}
			}
			res, err := next(ctx, method, req)
			if err != nil || res == nil {
				return res, err
			}
			return res, s.filter(method, res, granted)
		}
	}
}

// filter cuts a list result in place, through the core's filter_list.
func (s *Server) filter(method string, res mcp.Result, granted []string) error {
	var cache *mcp.Cacheable
	var err error
	switch r := res.(type) {
	case *mcp.ListToolsResult:
		r.Tools, err = keep(s, method, "tools", r.Tools, granted)
		cache = &r.Cacheable
	case *mcp.ListPromptsResult:
		r.Prompts, err = keep(s, method, "prompts", r.Prompts, granted)
		cache = &r.Cacheable
	case *mcp.ListResourcesResult:
		r.Resources, err = keep(s, method, "resources", r.Resources, granted)
		cache = &r.Cacheable
	default:
		return nil
	}
	if err == nil && s.core.FiltersLists() {
		cache.CacheScope, cache.TTLMs = "private", 0
	}
	return err
}

// keep is the items the core keeps: the list goes to the core as JSON (as the SDK sends it) with
// each item's position, and the items whose positions come back are kept, unchanged.
func keep[T any](s *Server, method, field string, items []T, granted []string) ([]T, error) {
	if len(items) == 0 {
		return items, nil
	}
	list := make([]map[string]any, len(items))
	for i, it := range items {
		b, err := json.Marshal(it)
		if err != nil {
			return nil, err
		}
		m := map[string]any{}
		if err := json.Unmarshal(b, &m); err != nil {
			return nil, err
		}
		m[positionKey] = i
		list[i] = m
	}
	in, err := json.Marshal(map[string]any{field: list})
	if err != nil {
		return nil, err
	}
	out, removed, err := s.core.FilterList(method, in, granted)
	if err != nil || removed == 0 {
		return items, err
	}
	var kept map[string][]map[string]any
	if err := json.Unmarshal(out, &kept); err != nil {
		return nil, errors.New("mcpauth: cannot read the filtered list from the core")
	}
	res := make([]T, 0, len(kept[field]))
	for _, m := range kept[field] {
		if i, ok := m[positionKey].(float64); ok && int(i) < len(items) {
			res = append(res, items[int(i)])
		}
	}
	return res, nil
}

// positionKey carries an item's position through the core (which reads only name and uri).
const positionKey = "\x00authsec_position"

// NewTransport is an http.RoundTripper for the MCP server at serverURL with the agent's client
// credentials cfg (Issuer required: the authorization server they belong to; TokenURL optional,
// discovered), over base (nil = http.DefaultTransport). Use it as
// mcp.StreamableClientTransport{HTTPClient: &http.Client{Transport: rt}}: the first request goes
// without a token, its 401 leads to discovery and a token for the server's resource, a 403
// insufficient_scope to one request for more scopes. Close it with rt.Client.Close(). opts:
// authsec.TrustFirstIssuer() for a client without Issuer.
func NewTransport(serverURL string, cfg authsec.ClientConfig, base http.RoundTripper, opts ...authsec.MCPClientOption) (*authsec.MCPTransport, error) {
	c, err := authsec.NewMCPClient(serverURL, cfg, opts...)
	if err != nil {
		return nil, err
	}
	return &authsec.MCPTransport{Client: c, Base: base}, nil
}
