package authsec

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
)

// VerifierConfig.AudienceMatch is the core's audience policy.
func TestAudienceMatch(t *testing.T) {
	s := startServer(t, 300)
	tok := newTestClient(t, s, testSecret) // aud https://api.example
	token, err := tok.Token(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		audience, match string
		ok              bool
	}{
		{"https://api.example", "", true},
		{"https://api.example/", "", false},
		{"https://api.example/", AudienceExact, false},
		{"https://API.example/", AudienceTrailingSlash, true},
		{"https://api.example/mcp", AudienceTrailingSlash, false},
		{"https://api.example/mcp", AudiencePathPrefix, true},
		{"https://api.example.evil/mcp", AudiencePathPrefix, false},
	} {
		v, err := NewVerifier(VerifierConfig{Issuer: s.Issuer, JWKSURI: s.JWKSURI, Audience: []string{c.audience}, AudienceMatch: c.match})
		if err != nil {
			t.Fatal(err)
		}
		_, err = v.Verify(ctx(t), token.AccessToken)
		v.Close()
		if ok := err == nil; ok != c.ok || (!ok && !errors.Is(err, ErrInvalidAudience)) {
			t.Fatalf("audience %s, match %q: %v, want accepted = %v", c.audience, c.match, err, c.ok)
		}
	}
	if _, err := NewVerifier(VerifierConfig{Issuer: s.Issuer, JWKSURI: s.JWKSURI, AudienceMatch: "loose"}); !errors.Is(err, ErrConfigError) {
		t.Fatalf("audience_match loose: %v", err)
	}
}

// MiddlewareOptions.ResourceMetadata names the RFC 9728 metadata in every challenge.
func TestMiddlewareResourceMetadata(t *testing.T) {
	s := startServer(t, 300)
	prm := "https://api.example/.well-known/oauth-protected-resource"
	api := httptest.NewServer(Middleware(newTestVerifier(t, s), MiddlewareOptions{Realm: "api", ResourceMetadata: prm,
		RequiredScopes: []string{"read:data"}})(http.NotFoundHandler()))
	defer api.Close()
	for authz, want := range map[string]string{
		"":                 `Bearer realm="api", scope="read:data", resource_metadata="` + prm + `"`,
		"Bearer not.a.jwt": `Bearer realm="api", error="invalid_token", `,
	} {
		req, _ := http.NewRequest("GET", api.URL, nil)
		if authz != "" {
			req.Header.Set("Authorization", authz)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		h := resp.Header.Get("WWW-Authenticate")
		if resp.StatusCode != 401 || !strings.HasPrefix(h, want) || !strings.HasSuffix(h, `resource_metadata="`+prm+`"`) {
			t.Fatalf("%q: %d %q", authz, resp.StatusCode, h)
		}
	}
}

// MCPServerAuth's steps, without an MCP SDK: the metadata, Begin, Decide, FilterList, Allows and
// the whole Middleware (body handed on unchanged, claims in the context).
func TestMCPServerAuthSteps(t *testing.T) {
	s := startServer(t, 300)
	a, err := NewMCPServerAuth(MCPServerOptions{
		Resource: "https://api.example/mcp", AuthorizationServers: []string{s.Issuer},
		Verifier:        VerifierConfig{JWKSURI: s.JWKSURI, AudienceMatch: AudiencePathPrefix}, // tokens for https://api.example
		RequiredScopes:  []string{"read:data"},
		OperationScopes: map[string][]string{"tools/call:write_*": {"write:data"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	prm := "https://api.example/.well-known/oauth-protected-resource/mcp"
	if a.MetadataURL() != prm || a.Resource() != "https://api.example/mcp" || !a.FiltersLists() {
		t.Fatalf("metadata %q, resource %q", a.MetadataURL(), a.Resource())
	}
	var doc map[string]any
	if err := json.Unmarshal(a.MetadataJSON(), &doc); err != nil || doc["resource"] != a.Resource() {
		t.Fatalf("metadata %s", a.MetadataJSON())
	}

	_, r, err := a.Begin("GET", "/.well-known/oauth-protected-resource", "")
	if err != nil || r == nil || r.Status != 200 || r.Header.Get("Access-Control-Allow-Origin") != "*" || !strings.Contains(string(r.Body), `"resource":"https://api.example/mcp"`) {
		t.Fatalf("metadata: %+v %v", r, err)
	}
	_, r, _ = a.Begin("POST", "/mcp", "")
	if r == nil || r.Status != 401 || r.Header.Get("WWW-Authenticate") != `Bearer scope="read:data", resource_metadata="`+prm+`"` {
		t.Fatalf("no token: %+v", r)
	}
	token, r, err := a.Begin("POST", "/mcp", "Bearer abc")
	if token != "abc" || r != nil || err != nil {
		t.Fatalf("a token: %q %+v %v", token, r, err)
	}

	body := []byte(`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"write_file","arguments":{}}}`)
	r, _ = a.Decide([]string{"read:data"}, nil, body)
	if r == nil || r.Status != 403 || !strings.Contains(r.Header.Get("WWW-Authenticate"), `error="insufficient_scope"`) ||
		!strings.Contains(r.Header.Get("WWW-Authenticate"), `scope="read:data write:data"`) {
		t.Fatalf("under-scoped: %+v", r)
	}
	if r, err := a.Decide([]string{"read:data", "write:data"}, nil, body); r != nil || err != nil {
		t.Fatalf("allowed: %+v %v", r, err)
	}
	r, err = a.Decide(nil, &Error{Code: CodeTokenExpired, Message: "the token has expired"}, body)
	if err != nil || r == nil || r.Status != 401 || !strings.HasPrefix(r.Header.Get("WWW-Authenticate"), `Bearer error="invalid_token", error_description="the token has expired"`) {
		t.Fatalf("expired: %+v %v", r, err)
	}
	if r, _ = a.Decide(nil, context.Canceled, nil); r == nil || r.Status != 500 || r.Header.Get("WWW-Authenticate") != "" {
		t.Fatalf("not an authsec error: %+v", r)
	}

	list := []byte(`{"tools":[{"name":"read_file"},{"name":"write_file"},{"name":"write_log"}]}`)
	out, removed, err := a.FilterList("tools/list", list, []string{"read:data"})
	if err != nil || removed != 2 || string(out) != `{"tools":[{"name":"read_file"}]}` {
		t.Fatalf("filter: %s %d %v", out, removed, err)
	}
	if !a.Allows("tools/call", "write_log", []string{"read:data", "write:data"}) || a.Allows("tools/call", "write_log", []string{"read:data"}) ||
		!a.Allows("ping", "", []string{"read:data"}) {
		t.Fatal("Allows")
	}

	// The whole step as net/http middleware.
	var got []byte
	var sub string
	h := a.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got, _ = io.ReadAll(r.Body)
		c, _ := ClaimsFromContext(r.Context())
		sub = c.Subject()
	}))
	tok, err := newTestClient(t, s, testSecret).TokenFor(ctx(t), TokenParams{Scopes: []string{"read:data", "write:data"}})
	if err != nil {
		t.Fatal(err)
	}
	req := httptest.NewRequest("POST", "/mcp", strings.NewReader(string(body)))
	req.Header.Set("Authorization", tok.Authorization)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != 200 || string(got) != string(body) || sub != "svc" {
		t.Fatalf("allowed through the middleware: %d %q %q", rec.Code, got, sub)
	}
	a.Close()
	if _, _, err := a.Begin("POST", "/mcp", ""); !errors.Is(err, ErrConfigError) {
		t.Fatalf("after Close: %v", err)
	}
}

// MCPClient against an MCP endpoint protected by MCPServerAuth.Middleware: discovery, the
// header, and what OnResponse says.
func TestMCPClientSteps(t *testing.T) {
	api := httptest.NewUnstartedServer(nil)
	url := "http://" + api.Listener.Addr().String() + "/mcp"
	cfg := `{"clients": [{"client_id": "mcp", "type": "mcp_server", "resource": "` + url + `", "client_secret": "mcp-secret-0123456789"},
		{"client_id": "svc", "client_secret": "` + testSecret + `", "allowed_scopes": ["read:data", "write:data"], "audiences": ["mcp"]}]}`
	s, err := StartLocalServer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	a, err := NewMCPServerAuth(MCPServerOptions{Resource: url, AuthorizationServers: []string{s.Issuer}, RequiredScopes: []string{"read:data"}})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	api.Config.Handler = a.Middleware(http.NotFoundHandler())
	api.Start()
	defer api.Close()

	c, err := NewMCPClient(url, ClientConfig{Issuer: s.Issuer, ClientID: "svc", ClientSecret: testSecret})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if h, err := c.Authorization(ctx(t)); h != "" || err != nil {
		t.Fatalf("before discovery: %q %v", h, err)
	}
	// A 401 with the challenge: discover, then send again.
	retry, next, err := c.OnResponse(ctx(t), 401, `Bearer scope="read:data", resource_metadata="`+a.MetadataURL()+`"`, "", 0)
	if !retry || next == 0 || err != nil {
		t.Fatalf("401: %v %v %v", retry, next, err)
	}
	h, err := c.Authorization(ctx(t))
	if !strings.HasPrefix(h, "Bearer ") || err != nil {
		t.Fatalf("after discovery: %q %v", h, err)
	}
	if i := c.Info(); i.Resource != url || !slices.Equal(i.Scopes, []string{"read:data"}) {
		t.Fatalf("info %+v", i)
	}
	// The same 401 again for the same request: once is enough.
	if retry, _, _ := c.OnResponse(ctx(t), 401, "", h, next|2); retry {
		t.Fatal("a request retried twice after 401")
	}
	if retry, _, _ := c.OnResponse(ctx(t), 404, "", h, 0); retry {
		t.Fatal("retry after 404")
	}
	// A client of another server: Discover fails and names both.
	d, _ := NewMCPClient(url, ClientConfig{Issuer: "http://127.0.0.1:1", ClientID: "svc", ClientSecret: testSecret})
	defer d.Close()
	if err := d.Discover(ctx(t)); !errors.Is(err, ErrInvalidResponse) || !strings.Contains(err.Error(), s.Issuer) {
		t.Fatalf("foreign issuer: %v", err)
	}
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	if err := d.Discover(cancelled); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled: %v", err)
	}
	if _, err := NewMCPClient(url, ClientConfig{ClientID: "svc", ClientSecret: testSecret, TokenURL: s.TokenEndpoint}); !errors.Is(err, ErrConfigError) || !strings.Contains(err.Error(), "issuer") {
		t.Fatalf("without issuer: %v", err)
	}
	// Without an issuer but trusting the server's first one: discovery pins it.
	f, err := NewMCPClient(url, ClientConfig{ClientID: "svc", ClientSecret: testSecret}, TrustFirstIssuer())
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := f.Discover(ctx(t)); err != nil {
		t.Fatalf("first issuer: %v", err)
	}
	if h, err := f.Authorization(ctx(t)); !strings.HasPrefix(h, "Bearer ") || err != nil {
		t.Fatalf("first issuer: %q %v", h, err)
	}
	c.Close()
	if _, err := c.Authorization(ctx(t)); !errors.Is(err, ErrConfigError) {
		t.Fatalf("after Close: %v", err)
	}
}
