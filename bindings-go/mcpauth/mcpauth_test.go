package mcpauth_test

// An MCP server protected by authsec and agents using go-sdk's own client, against the local
// authorization server of package authsectest, where the MCP server is registered as an
// mcp_server client with its URL as resource.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	authsec "github.com/authsec/authsec/bindings-go"
	"github.com/authsec/authsec/bindings-go/authsectest"
	"github.com/authsec/authsec/bindings-go/mcpauth"
	"github.com/modelcontextprotocol/go-sdk/auth"
	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"
)

const (
	agentSecret     = "agent-secret-0123456789"
	readerSecret    = "reader-secret-0123456789"
	elsewhereSecret = "elsewhere-secret-0123456789"
)

// fixture is a running MCP server behind authsec, its authorization server and what it saw.
type fixture struct {
	as       *authsectest.Server
	clock    *authsec.ManualClock
	base     string // http://127.0.0.1:PORT
	resource string // base + "/mcp"
	prm      string // the metadata URL
	auth     *mcpauth.Server
	runs     map[string]*atomic.Int32 // tool handler runs, by tool
	mu       sync.Mutex
	seen     []string // "METHOD PATH auth=yes|no -> STATUS", in order
	whoami   atomic.Pointer[auth.TokenInfo]
}

func (f *fixture) ran(tool string) int32 { return f.runs[tool].Load() }

func (f *fixture) log() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.seen)
}

// statusRecorder logs a request when its status is written (so before the client can see the
// response, whatever the handler does after).
type statusRecorder struct {
	http.ResponseWriter
	f      *fixture
	r      *http.Request
	logged bool
}

func (w *statusRecorder) WriteHeader(status int) {
	if !w.logged {
		w.logged = true
		authz := "no"
		if w.r.Header.Get("Authorization") != "" {
			authz = "yes"
		}
		w.f.mu.Lock()
		w.f.seen = append(w.f.seen, fmt.Sprintf("%s %s auth=%s -> %d", w.r.Method, w.r.URL.Path, authz, status))
		w.f.mu.Unlock()
	}
	w.ResponseWriter.WriteHeader(status)
}

func (w *statusRecorder) Write(b []byte) (int, error) {
	w.WriteHeader(http.StatusOK)
	return w.ResponseWriter.Write(b)
}

func (w *statusRecorder) Flush() {
	w.WriteHeader(http.StatusOK)
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// newServer is the MCP server of the tests: tools echo (no extra scope), read_file (files:read),
// write_file (files:write), whoami (reports its token info); prompt review (review); resources
// file:///public/readme and file:///private/secret (private).
func newServer(f *fixture) *mcp.Server {
	s := mcp.NewServer(&mcp.Implementation{Name: "files", Version: "0.0.1"}, nil)
	obj := map[string]any{"type": "object"}
	for _, name := range []string{"echo", "read_file", "write_file", "whoami"} {
		f.runs[name] = &atomic.Int32{}
		s.AddTool(&mcp.Tool{Name: name, InputSchema: obj}, func(ctx context.Context, req *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
			f.runs[name].Add(1)
			if name == "whoami" {
				f.whoami.Store(req.Extra.TokenInfo)
			}
			return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: name + " ok"}}}, nil
		})
	}
	s.AddPrompt(&mcp.Prompt{Name: "review"}, func(context.Context, *mcp.GetPromptRequest) (*mcp.GetPromptResult, error) {
		return &mcp.GetPromptResult{Messages: []*mcp.PromptMessage{{Role: "user", Content: &mcp.TextContent{Text: "review"}}}}, nil
	})
	for _, uri := range []string{"file:///public/readme", "file:///private/secret"} {
		s.AddResource(&mcp.Resource{URI: uri, Name: uri}, func(_ context.Context, req *mcp.ReadResourceRequest) (*mcp.ReadResourceResult, error) {
			return &mcp.ReadResourceResult{Contents: []*mcp.ResourceContents{{URI: req.Params.URI, Text: "x"}}}, nil
		})
	}
	s.AddReceivingMiddleware(f.auth.Middleware())
	return s
}

// start runs the authorization server (on a test clock) and the MCP server; sdkGate: the SDK's
// own auth.RequireBearerToken with TokenVerifier instead of Handler.
func start(t *testing.T, sdkGate bool) *fixture {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{clock: authsectest.NewClock(t), base: "http://" + ln.Addr().String(), runs: map[string]*atomic.Int32{}}
	f.resource = f.base + "/mcp"
	f.prm = f.base + "/.well-known/oauth-protected-resource/mcp"
	all := []string{"mcp", "files:read", "files:write", "review", "private"}
	f.as = authsectest.New(t, authsectest.Options{Clock: f.clock, TokenLifetime: 600, Clients: []map[string]any{
		{"client_id": "files-mcp", "type": "mcp_server", "resource": f.resource, "client_secret": "files-mcp-secret-0123456789"},
		// Its first audience is another API's: a token for this server needs resource (RFC 8707).
		{"client_id": "agent", "client_secret": agentSecret, "allowed_scopes": all, "audiences": []string{"https://other.example.test", "files-mcp"}},
		{"client_id": "reader", "client_secret": readerSecret, "allowed_scopes": []string{"mcp", "files:read"}, "audiences": []string{"files-mcp"}},
		{"client_id": "elsewhere", "client_secret": elsewhereSecret, "allowed_scopes": all, "audiences": []string{"https://other.example.test"}},
	}})
	f.auth, err = mcpauth.New(mcpauth.Options{
		Resource:             f.resource,
		AuthorizationServers: []string{f.as.Issuer},
		Metadata:             map[string]any{"scopes_supported": all, "resource_name": "Files"},
		RequiredScopes:       []string{"mcp"},
		OperationScopes: map[string][]string{
			"tools/call:read_file":             {"files:read"},
			"tools/call:write_file":            {"files:write"},
			"prompts/get:review":               {"review"},
			"resources/read:file:///private/*": {"private"},
		},
		Verifier: authsec.VerifierConfig{Clock: f.clock},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.auth.Close() })
	server := newServer(f)
	sdk := mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return server }, nil)
	var h http.Handler
	if sdkGate {
		mux := http.NewServeMux()
		mux.Handle("/mcp", auth.RequireBearerToken(f.auth.TokenVerifier(), &auth.RequireBearerTokenOptions{
			ResourceMetadataURL: f.auth.Auth().MetadataURL(), Scopes: []string{"mcp"}})(sdk))
		h = mux
	} else {
		h = f.auth.Handler(sdk)
	}
	srv := &http.Server{ReadHeaderTimeout: 5 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(&statusRecorder{ResponseWriter: w, f: f, r: r}, r)
	})}
	go srv.Serve(ln)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
	})
	return f
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// token is a token for this MCP server from f's authorization server for client id with scopes.
func (f *fixture) token(t *testing.T, id string, scopes ...string) string {
	t.Helper()
	c, err := f.as.Client(authsec.ClientConfig{ClientID: id, Scopes: scopes, Resource: []string{f.resource}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	tok, err := c.Token(ctxT(t))
	if err != nil {
		t.Fatal(err)
	}
	return tok.AccessToken
}

type answer struct {
	status    int
	challenge string
	body      string
}

const initialize = `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"raw","version":"0"}}}`

func call(tool string) string {
	return `{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"` + tool + `","arguments":{}}}`
}

// send is a raw HTTP request.
func send(t *testing.T, method, url, authorization, body string) answer {
	t.Helper()
	req, err := http.NewRequestWithContext(ctxT(t), method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	if authorization != "" {
		req.Header.Set("Authorization", authorization)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return answer{resp.StatusCode, resp.Header.Get("WWW-Authenticate"), string(b)}
}

var param = regexp.MustCompile(`([a-z_]+)="([^"]*)"`)

// params reads a Bearer challenge's parameters, in order.
func params(t *testing.T, h string) (names []string, values map[string]string) {
	t.Helper()
	if !strings.HasPrefix(h, "Bearer ") {
		t.Fatalf("not a Bearer challenge: %q", h)
	}
	values = map[string]string{}
	for _, m := range param.FindAllStringSubmatch(h, -1) {
		names = append(names, m[1])
		values[m[1]] = m[2]
	}
	return names, values
}

// checkRefusal: a 401 invalid_token naming the base scope and the metadata, its description
// containing says.
func (f *fixture) checkRefusal(t *testing.T, what string, a answer, says string) {
	t.Helper()
	if a.status != http.StatusUnauthorized {
		t.Fatalf("%s: status %d, want 401 (%s)", what, a.status, a.body)
	}
	names, v := params(t, a.challenge)
	if !slices.Equal(names, []string{"error", "error_description", "scope", "resource_metadata"}) ||
		v["error"] != "invalid_token" || v["scope"] != "mcp" || v["resource_metadata"] != f.prm ||
		!strings.Contains(v["error_description"], says) {
		t.Fatalf("%s: WWW-Authenticate %q, want invalid_token, a description saying %q, scope mcp, resource_metadata %s", what, a.challenge, says, f.prm)
	}
	var body map[string]string
	if json.Unmarshal([]byte(a.body), &body) != nil || body["error"] != "invalid_token" {
		t.Fatalf("%s: body %s", what, a.body)
	}
}

func TestMetadataAndChallengeWithoutToken(t *testing.T) {
	f := start(t, false)
	for _, path := range []string{"/.well-known/oauth-protected-resource/mcp", "/.well-known/oauth-protected-resource"} {
		a := send(t, "GET", f.base+path, "", "")
		var doc map[string]any
		if a.status != 200 || json.Unmarshal([]byte(a.body), &doc) != nil {
			t.Fatalf("GET %s: %d %s", path, a.status, a.body)
		}
		if doc["resource"] != f.resource || fmt.Sprint(doc["authorization_servers"]) != fmt.Sprint([]string{f.as.Issuer}) ||
			doc["resource_name"] != "Files" || fmt.Sprint(doc["bearer_methods_supported"]) != "[header]" {
			t.Fatalf("GET %s: %v", path, doc)
		}
	}
	if got, want := f.auth.Auth().WellKnownPaths(), []string{"/.well-known/oauth-protected-resource/mcp", "/.well-known/oauth-protected-resource"}; !slices.Equal(got, want) {
		t.Fatalf("well-known paths %v", got)
	}
	// No credentials: 401 with no error code (RFC 6750 §3.1), the base scope and the metadata URL.
	for _, authz := range []string{"", "Basic YTpi"} {
		a := send(t, "POST", f.resource, authz, initialize)
		want := `Bearer scope="mcp", resource_metadata="` + f.prm + `"`
		if a.status != 401 || a.challenge != want || strings.Contains(a.body, `"error"`) {
			t.Fatalf("%q: %d %q %s, want 401 %q", authz, a.status, a.challenge, a.body, want)
		}
	}
	// "Bearer" without a token is a malformed request.
	if a := send(t, "POST", f.resource, "Bearer", initialize); a.status != 400 || !strings.Contains(a.challenge, `error="invalid_request"`) {
		t.Fatalf("Bearer alone: %d %q", a.status, a.challenge)
	}
	// A readable body is required: a token with the base scope and a broken JSON-RPC body is a 400.
	if a := send(t, "POST", f.resource, "Bearer "+f.token(t, "agent", "mcp"), `{"jsonrpc":`); a.status != 400 {
		t.Fatalf("broken body: %d %q %s", a.status, a.challenge, a.body)
	}
	if n := f.ran("echo") + f.ran("read_file") + f.ran("write_file"); n != 0 {
		t.Fatalf("%d tool runs", n)
	}
}

func TestRefusedTokens(t *testing.T) {
	f := start(t, false)
	elsewhere, err := f.as.Token(ctxT(t), "elsewhere", "mcp") // for https://other.example.test
	if err != nil {
		t.Fatal(err)
	}
	f.checkRefusal(t, "wrong audience", send(t, "POST", f.resource, "Bearer "+elsewhere, initialize), "audience")

	foreign := authsectest.New(t, authsectest.Options{Clock: f.clock, Clients: []map[string]any{
		{"client_id": "agent", "client_secret": agentSecret, "allowed_scopes": []string{"mcp"}, "audiences": []string{f.resource}}}})
	ft, err := foreign.Token(ctxT(t), "agent", "mcp") // aud: this server's URL, from another issuer
	if err != nil {
		t.Fatal(err)
	}
	f.checkRefusal(t, "foreign issuer", send(t, "POST", f.resource, "Bearer "+ft, initialize), "issuer")

	tok := f.token(t, "agent", "mcp")
	if a := send(t, "POST", f.resource, "Bearer "+tok, initialize); a.status != 200 {
		t.Fatalf("fresh token: %d %s", a.status, a.body)
	}
	f.clock.Advance(11 * time.Minute) // past its 10 minutes (and the leeway)
	f.checkRefusal(t, "expired", send(t, "POST", f.resource, "Bearer "+tok, initialize), "expired")
	f.checkRefusal(t, "garbage", send(t, "POST", f.resource, "Bearer not.a.jwt", initialize), "")
}

// recorder notes each response's status and challenge, under a transport that sends a fixed
// token (an agent that does not use authsec).
type recorder struct {
	token string
	mu    sync.Mutex
	got   []answer
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	req = req.Clone(req.Context())
	if r.token != "" {
		req.Header.Set("Authorization", "Bearer "+r.token)
	}
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err == nil {
		r.mu.Lock()
		r.got = append(r.got, answer{status: resp.StatusCode, challenge: resp.Header.Get("WWW-Authenticate")})
		r.mu.Unlock()
	}
	return resp, err
}

// since is the answers from the n-th on.
func (r *recorder) since(n int) []answer {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.got[n:])
}

func (r *recorder) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.got)
}

func connect(t *testing.T, url string, rt http.RoundTripper) (*mcp.ClientSession, error) {
	c := mcp.NewClient(&mcp.Implementation{Name: "test-agent", Version: "0.0.1"}, nil)
	cs, err := c.Connect(ctxT(t), &mcp.StreamableClientTransport{Endpoint: url, HTTPClient: &http.Client{Transport: rt}, MaxRetries: -1}, nil)
	if err == nil {
		t.Cleanup(func() { cs.Close() })
	}
	return cs, err
}

func names[T any](items []T, name func(T) string) []string {
	var out []string
	for _, it := range items {
		out = append(out, name(it))
	}
	slices.Sort(out)
	return out
}

func TestUnderScopedToolNeverRuns(t *testing.T) {
	f := start(t, false)
	tok := f.token(t, "agent", "mcp", "files:read")
	// At HTTP level: 403 insufficient_scope whose scope is every scope the call needs.
	a := send(t, "POST", f.resource, "Bearer "+tok, call("write_file"))
	pn, v := params(t, a.challenge)
	if a.status != 403 || !slices.Equal(pn, []string{"error", "error_description", "scope", "resource_metadata"}) ||
		v["error"] != "insufficient_scope" || v["scope"] != "mcp files:write" || v["resource_metadata"] != f.prm ||
		!strings.Contains(v["error_description"], "files:write") {
		t.Fatalf("write_file with files:read: %d %q", a.status, a.challenge)
	}
	// Through the SDK's client: the tool is not listed, the call fails, the handler never ran.
	rec := &recorder{token: tok}
	cs, err := connect(t, f.resource, rec)
	if err != nil {
		t.Fatal(err)
	}
	tools, err := cs.ListTools(ctxT(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := names(tools.Tools, func(t *mcp.Tool) string { return t.Name }); !slices.Equal(got, []string{"echo", "read_file", "whoami"}) {
		t.Fatalf("tools/list with files:read: %v", got)
	}
	if tools.CacheScope != "private" || tools.TTLMs != 0 {
		t.Fatalf("a filtered list is %q for %d ms", tools.CacheScope, tools.TTLMs)
	}
	if res, err := cs.CallTool(ctxT(t), &mcp.CallToolParams{Name: "read_file"}); err != nil || res.IsError {
		t.Fatalf("read_file: %v %v", res, err)
	}
	before := rec.count()
	_, err = cs.CallTool(ctxT(t), &mcp.CallToolParams{Name: "write_file"})
	if err == nil || !strings.Contains(err.Error(), "Forbidden") {
		t.Fatalf("write_file with files:read: %v", err)
	}
	if got := rec.since(before); len(got) == 0 || got[0].status != 403 || !strings.Contains(got[0].challenge, `scope="mcp files:write"`) {
		t.Fatalf("the SDK's client got %+v", got)
	}
	if n := f.ran("write_file"); n != 0 {
		t.Fatalf("write_file ran %d times", n)
	}
	if n := f.ran("read_file"); n != 1 {
		t.Fatalf("read_file ran %d times", n)
	}
}

func TestListsFollowTheToken(t *testing.T) {
	f := start(t, false)
	for _, c := range []struct {
		scopes                    []string
		tools, prompts, resources []string
	}{
		{[]string{"mcp"}, []string{"echo", "whoami"}, nil, []string{"file:///public/readme"}},
		{[]string{"mcp", "files:write", "review", "private"}, []string{"echo", "whoami", "write_file"}, []string{"review"},
			[]string{"file:///private/secret", "file:///public/readme"}},
	} {
		cs, err := connect(t, f.resource, &recorder{token: f.token(t, "agent", c.scopes...)})
		if err != nil {
			t.Fatal(err)
		}
		tools, err := cs.ListTools(ctxT(t), nil)
		if err != nil {
			t.Fatal(err)
		}
		prompts, err := cs.ListPrompts(ctxT(t), nil)
		if err != nil {
			t.Fatal(err)
		}
		res, err := cs.ListResources(ctxT(t), nil)
		if err != nil {
			t.Fatal(err)
		}
		got := [][]string{names(tools.Tools, func(t *mcp.Tool) string { return t.Name }),
			names(prompts.Prompts, func(p *mcp.Prompt) string { return p.Name }),
			names(res.Resources, func(r *mcp.Resource) string { return r.URI })}
		want := [][]string{c.tools, c.prompts, c.resources}
		for i := range got {
			if !slices.Equal(got[i], want[i]) {
				t.Fatalf("scopes %v: lists %v, want %v", c.scopes, got, want)
			}
		}
		// What is listed can be used; the private resource only with its scope.
		_, err = cs.ReadResource(ctxT(t), &mcp.ReadResourceParams{URI: "file:///public/readme"})
		if err != nil {
			t.Fatalf("scopes %v: public resource: %v", c.scopes, err)
		}
	}
}

func TestAgentDiscoversAndCallsATool(t *testing.T) {
	f := start(t, false)
	rt, err := mcpauth.NewTransport(f.resource, authsec.ClientConfig{
		Issuer: f.as.Issuer, ClientID: "agent", ClientSecret: agentSecret, Clock: f.clock,
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer rt.Client.Close()
	if info := rt.Client.Info(); info.ServerURL != f.resource || info.Resource != "" {
		t.Fatalf("before discovery: %+v", info)
	}
	cs, err := connect(t, f.resource, rt)
	if err != nil {
		t.Fatal(err)
	}
	res, err := cs.CallTool(ctxT(t), &mcp.CallToolParams{Name: "whoami"})
	if err != nil || res.IsError || res.Content[0].(*mcp.TextContent).Text != "whoami ok" {
		t.Fatalf("whoami: %v %v", res, err)
	}
	// The first request went without a token, its 401 led to the metadata, then the token.
	seen := f.log()
	want := []string{"POST /mcp auth=no -> 401", "GET /.well-known/oauth-protected-resource/mcp auth=no -> 200", "POST /mcp auth=yes -> 200"}
	if len(seen) < 3 || !slices.Equal(seen[:3], want) {
		t.Fatalf("requests %v, want them to start with %v", seen, want)
	}
	if info := rt.Client.Info(); info.Resource != f.resource || !slices.Equal(info.Scopes, []string{"mcp"}) {
		t.Fatalf("after discovery: %+v", info)
	}
	// The tool handler got go-sdk's token info, filled from the verified claims.
	ti := f.whoami.Load()
	if ti == nil || ti.UserID != "agent" || !slices.Equal(ti.Scopes, []string{"mcp"}) ||
		ti.Extra[mcpauth.ExtraClientID] != "agent" || ti.Extra[mcpauth.ExtraResource] != f.resource ||
		ti.Extra[mcpauth.ExtraClaims].(map[string]any)["aud"] != f.resource || ti.Extra[mcpauth.ExtraDelegation] != nil && len(ti.Extra[mcpauth.ExtraDelegation].([]authsec.Actor)) != 0 {
		t.Fatalf("token info %+v", ti)
	}
	if d := ti.Expiration.Sub(f.clock.Now()); d < 9*time.Minute || d > 10*time.Minute {
		t.Fatalf("expiration %v, %v from now", ti.Expiration, d)
	}
	// Step-up: write_file needs files:write, which the token lacks and the client may get.
	res, err = cs.CallTool(ctxT(t), &mcp.CallToolParams{Name: "write_file"})
	if err != nil || res.IsError {
		t.Fatalf("write_file after step-up: %v %v", res, err)
	}
	// The call was refused once, then sent again with the new token.
	seen = f.log()
	i := slices.Index(seen, "POST /mcp auth=yes -> 403")
	if i < 0 || slices.Index(seen[i+1:], "POST /mcp auth=yes -> 403") >= 0 || !slices.Contains(seen[i+1:], "POST /mcp auth=yes -> 200") {
		t.Fatalf("step-up requests %v", seen)
	}
	if n := f.ran("write_file"); n != 1 {
		t.Fatalf("write_file ran %d times", n)
	}
	if info := rt.Client.Info(); !slices.Equal(info.Scopes, []string{"mcp", "files:write"}) {
		t.Fatalf("scopes after step-up %v", info.Scopes)
	}
	// The session goes on with the wider token.
	if res, err := cs.CallTool(ctxT(t), &mcp.CallToolParams{Name: "echo"}); err != nil || res.IsError {
		t.Fatalf("echo: %v %v", res, err)
	}
}

func TestAgentRefusals(t *testing.T) {
	f := start(t, false)
	// A step-up the client may not get: the authorization server's refusal, the tool never ran.
	rt, err := mcpauth.NewTransport(f.resource, authsec.ClientConfig{
		Issuer: f.as.Issuer, ClientID: "reader", ClientSecret: readerSecret, Clock: f.clock}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer rt.Client.Close()
	cs, err := connect(t, f.resource, rt)
	if err != nil {
		t.Fatal(err)
	}
	_, err = cs.CallTool(ctxT(t), &mcp.CallToolParams{Name: "write_file"})
	if !errors.Is(err, authsec.ErrInvalidScope) || !strings.Contains(err.Error(), "files:write") {
		t.Fatalf("write_file by reader: %v", err)
	}
	if n := f.ran("write_file"); n != 0 {
		t.Fatalf("write_file ran %d times", n)
	}
	// The refusal left the agent's scopes as they were: the same transport calls what it may.
	if got := rt.Client.Info().Scopes; strings.Contains(strings.Join(got, " "), "files:write") {
		t.Fatalf("scopes after a refused step-up: %v", got)
	}
	cs2, err := connect(t, f.resource, rt)
	if err != nil {
		t.Fatal(err)
	}
	if res, err := cs2.CallTool(ctxT(t), &mcp.CallToolParams{Name: "read_file"}); err != nil || res.IsError {
		t.Fatalf("read_file after a refused step-up: %v %+v", err, res)
	}

	// Credentials for another authorization server: no token is requested from the one the
	// MCP server names, and none goes to it.
	other := authsectest.New(t, authsectest.Options{Clock: f.clock, Clients: []map[string]any{
		{"client_id": "agent", "client_secret": agentSecret, "allowed_scopes": []string{"mcp"}}}})
	rt2, err := mcpauth.NewTransport(f.resource, authsec.ClientConfig{
		Issuer: other.Issuer, ClientID: "agent", ClientSecret: agentSecret, Clock: f.clock}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer rt2.Client.Close()
	_, err = connect(t, f.resource, rt2)
	var ae *authsec.Error
	if !errors.As(err, &ae) || ae.Code != authsec.CodeInvalidResponse || !strings.Contains(err.Error(), other.Issuer) {
		t.Fatalf("foreign issuer: %v", err)
	}
	if info := rt2.Client.Info(); info.Resource != "" {
		t.Fatalf("foreign issuer: discovered %+v", info)
	}
}

func TestSDKGateWithTokenVerifierAndMiddleware(t *testing.T) {
	f := start(t, true)
	// The SDK's own gate: token errors are 401 (ErrInvalidToken), not 500.
	elsewhere, err := f.as.Token(ctxT(t), "elsewhere", "mcp") // for https://other.example.test
	if err != nil {
		t.Fatal(err)
	}
	if a := send(t, "POST", f.resource, "Bearer "+elsewhere, initialize); a.status != 401 || !strings.Contains(a.body, "audience") {
		t.Fatalf("wrong audience through the SDK's gate: %d %s", a.status, a.body)
	}
	cs, err := connect(t, f.resource, &recorder{token: f.token(t, "agent", "mcp", "files:read")})
	if err != nil {
		t.Fatal(err)
	}
	_, err = cs.CallTool(ctxT(t), &mcp.CallToolParams{Name: "write_file"})
	var je *jsonrpc.Error
	if !errors.As(err, &je) || je.Code != mcpauth.CodeInsufficientScope || !strings.Contains(je.Message, "files:write") {
		t.Fatalf("write_file through the middleware: %v", err)
	}
	if n := f.ran("write_file"); n != 0 {
		t.Fatalf("write_file ran %d times", n)
	}
	// The session goes on: the refusal was a JSON-RPC error.
	if res, err := cs.CallTool(ctxT(t), &mcp.CallToolParams{Name: "read_file"}); err != nil || res.IsError {
		t.Fatalf("read_file: %v %v", res, err)
	}
	tools, err := cs.ListTools(ctxT(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := names(tools.Tools, func(t *mcp.Tool) string { return t.Name }); !slices.Equal(got, []string{"echo", "read_file", "whoami"}) {
		t.Fatalf("tools/list: %v", got)
	}
}

func TestOptionsAreCheckedByTheCore(t *testing.T) {
	for _, c := range []struct {
		opts mcpauth.Options
		says string
	}{
		{mcpauth.Options{Resource: "http://127.0.0.1:1/mcp"}, "authorization_servers"},
		{mcpauth.Options{Resource: "http://127.0.0.1:1/mcp", AuthorizationServers: []string{"http://127.0.0.1:2"},
			Verifier: authsec.VerifierConfig{SkipAudienceCheck: true}}, "cannot be skipped"},
		{mcpauth.Options{Resource: "http://127.0.0.1:1/mcp", AuthorizationServers: []string{"http://127.0.0.1:2"},
			Verifier: authsec.VerifierConfig{AudienceMatch: "loose"}}, "audience_match"},
		{mcpauth.Options{Resource: "http://127.0.0.1:1/mcp", AuthorizationServers: []string{"http://127.0.0.1:2"},
			OperationScopes: map[string][]string{"tools/call:a*b": {"x"}}}, "*"},
	} {
		_, err := mcpauth.New(c.opts)
		if !errors.Is(err, authsec.ErrConfigError) || !strings.Contains(err.Error(), c.says) {
			t.Fatalf("%+v: %v, want a config error saying %q", c.opts, err, c.says)
		}
	}
	a, err := mcpauth.New(mcpauth.Options{Resource: "HTTP://127.0.0.1:1/mcp", AuthorizationServers: []string{"http://127.0.0.1:2"},
		Verifier: authsec.VerifierConfig{AudienceMatch: authsec.AudiencePathPrefix}, KeepLists: true})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if a.Auth().Resource() != "http://127.0.0.1:1/mcp" || a.Auth().MetadataURL() != "http://127.0.0.1:1/.well-known/oauth-protected-resource/mcp" || a.Auth().FiltersLists() {
		t.Fatalf("resource %q, metadata %q, filters %v", a.Auth().Resource(), a.Auth().MetadataURL(), a.Auth().FiltersLists())
	}
}
