package authsec

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeAdmin is a stand-in for the management API (the real one is tested against the local
// server in management_integration_test.go): it records every request and answers with canned
// JSON, so these tests check what the binding sends and how it reads the answers.
type fakeAdmin struct {
	mu       sync.Mutex
	requests []fakeRequest
	answer   func(r fakeRequest) (int, any)
}

type fakeRequest struct {
	Method, Path string
	Query        url.Values
	Body         map[string]any
	Auth         string
}

func (f *fakeAdmin) serve(t *testing.T) string {
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		req := fakeRequest{Method: r.Method, Path: r.URL.Path, Query: r.URL.Query(), Auth: r.Header.Get("Authorization")}
		if len(b) > 0 {
			json.Unmarshal(b, &req.Body)
		}
		f.mu.Lock()
		f.requests = append(f.requests, req)
		f.mu.Unlock()
		status, v := f.answer(req)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		if v != nil {
			json.NewEncoder(w).Encode(v)
		}
	}))
	t.Cleanup(s.Close)
	return s.URL
}

func (f *fakeAdmin) seen() []fakeRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]fakeRequest(nil), f.requests...)
}

const fakeAdminToken = "bootstrap-token-never-printed"

func newFakeManagement(t *testing.T, f *fakeAdmin) *Management {
	t.Helper()
	m, err := NewManagement(ManagementConfig{BaseURL: f.serve(t), AdminToken: fakeAdminToken, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}

var fakeClient = map[string]any{"client_id": "agent-1", "type": "ai_agent", "secrets": []any{
	map[string]any{"id": "sid_AAAAAAAAAAAA", "created_at": 1700000000, "expires_at": nil, "last_used_at": 1700000100.5}},
	"rate_limits": map[string]any{"requests_per_minute": 3}, "created_at": 1700000000, "updated_at": 1700000001,
	"future_field": "kept", "tls_client_auth_san_dns": "agent.example", "tls_client_auth_san_uri": nil}

// What each operation sends (method and path); the test calls each typed method once.
var operationRequests = map[string]string{
	"clients.create": "POST /admin/clients", "clients.get": "GET /admin/clients/agent%201",
	"clients.list": "GET /admin/clients", "clients.update": "PATCH /admin/clients/agent-1",
	"clients.delete": "DELETE /admin/clients/agent-1", "clients.rotate_secret": "POST /admin/clients/agent-1/secrets",
	"clients.revoke_secret": "DELETE /admin/clients/agent-1/secrets/old", "scopes.create": "POST /admin/scopes",
	"scopes.list": "GET /admin/scopes", "scopes.delete": "DELETE /admin/scopes/files:read",
	"roles.create": "POST /admin/roles", "roles.get": "GET /admin/roles/readers", "roles.list": "GET /admin/roles",
	"roles.update": "PUT /admin/roles/readers", "roles.delete": "DELETE /admin/roles/readers",
	"logs.list": "GET /admin/logs", "keys.list": "GET /admin/keys", "keys.rotate": "POST /admin/keys/rotate",
}

func TestManagementWrapsEveryOperation(t *testing.T) {
	f := &fakeAdmin{answer: func(r fakeRequest) (int, any) {
		switch {
		case r.Method == "DELETE" && !strings.Contains(r.Path, "/secrets/"):
			return 204, nil
		case r.Path == "/admin/clients" && r.Method == "GET":
			return 200, map[string]any{"clients": []any{fakeClient}, "next_cursor": nil}
		case r.Path == "/admin/scopes" && r.Method == "GET":
			return 200, map[string]any{"scopes": []any{map[string]any{"name": "files:read", "clients": []string{"agent-1"}}}, "next_cursor": nil}
		case r.Path == "/admin/roles" && r.Method == "GET":
			return 200, map[string]any{"roles": []any{map[string]any{"name": "readers"}}, "next_cursor": nil}
		case r.Path == "/admin/logs":
			return 200, map[string]any{"logs": []any{map[string]any{"id": 7, "ts": 1700000000.25, "event": "token", "outcome": "failure", "client_id": "agent-1", "error": "invalid_client"}}, "next_cursor": nil}
		case r.Path == "/admin/keys":
			return 200, map[string]any{"keys": []any{map[string]any{"kid": "k1", "alg": "ES256", "status": "active", "created_at": 1}}}
		case strings.HasPrefix(r.Path, "/admin/roles"):
			return 200, map[string]any{"name": "readers", "scopes": []string{"files:read"}, "audiences": []string{}}
		case r.Path == "/admin/scopes":
			return 201, map[string]any{"name": "files:read", "description": "Read files"}
		case r.Path == "/admin/keys/rotate":
			return 200, map[string]any{"kid": "k2", "alg": "ES256", "active_from": 5}
		case strings.HasSuffix(r.Path, "/secrets"):
			return 200, map[string]any{"client_id": "agent-1", "client_secret": "new-secret-value", "secret_id": "sid_BBBBBBBBBBBB", "old_secrets_expire_at": 1700086400, "secrets": []any{}}
		case strings.Contains(r.Path, "/secrets/"):
			return 200, map[string]any{"client_id": "agent-1", "secrets": []any{map[string]any{"id": "sid_BBBBBBBBBBBB", "created_at": 1}}}
		}
		return 200, fakeClient
	}}
	m := newFakeManagement(t, f)
	ctx := ctx(t)
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	_, err := m.Clients.Create(ctx, ClientSpec{Type: "ai_agent", Name: "Agent", RateLimits: &RateLimits{RequestsPerMinute: 3},
		AllowedScopes: []string{"files:read"}, Extra: map[string]any{"tls_client_auth_san_dns": "agent.example"}})
	must(err)
	_, err = m.Clients.Get(ctx, "agent 1")
	must(err)
	for _, err := range m.Clients.List(ctx, ClientListOptions{Type: "ai_agent", PageSize: 10}) {
		must(err)
	}
	_, err = m.Clients.Update(ctx, "agent-1", ClientChanges{Name: Ptr(""), AllowedScopes: []string{}, RateLimit: Ptr(0)})
	must(err)
	must(m.Clients.Delete(ctx, "agent-1"))
	_, err = m.Clients.RotateSecret(ctx, "agent-1", RotateOptions{Overlap: 90 * time.Minute})
	must(err)
	_, err = m.Clients.RevokeSecret(ctx, "agent-1", "")
	must(err)
	_, err = m.Scopes.Create(ctx, "files:read", "Read files")
	must(err)
	for _, err := range m.Scopes.List(ctx, ScopeListOptions{}) {
		must(err)
	}
	must(m.Scopes.Delete(ctx, "files:read"))
	_, err = m.Roles.Create(ctx, "readers", RoleSpec{Scopes: []string{"files:read"}})
	must(err)
	_, err = m.Roles.Get(ctx, "readers")
	must(err)
	for _, err := range m.Roles.List(ctx) {
		must(err)
	}
	_, err = m.Roles.Update(ctx, "readers", RoleSpec{Scopes: []string{"files:read"}, Audiences: []string{}})
	must(err)
	must(m.Roles.Delete(ctx, "readers"))
	since := time.Unix(1700000000, 500_000_000)
	for _, err := range m.Logs.List(ctx, LogQuery{ClientID: "agent-1", Events: []string{"token", "introspect"}, Outcome: "failure", Since: since, PageSize: 2}) {
		must(err)
	}
	_, err = m.Keys.List(ctx)
	must(err)
	_, err = m.Keys.Rotate(ctx, KeyRotateOptions{ActivateIn: time.Minute})
	must(err)

	var sent []string
	byLine := map[string]fakeRequest{}
	for _, r := range f.seen() {
		if r.Auth != "Bearer "+fakeAdminToken {
			t.Fatalf("%s %s sent Authorization %q", r.Method, r.Path, r.Auth)
		}
		line := r.Method + " " + r.Path
		sent = append(sent, line)
		byLine[line] = r
	}
	for _, op := range ManagementOperations() {
		want, ok := operationRequests[op]
		if !ok {
			t.Errorf("the core has operation %s, which this binding does not wrap", op)
		} else if _, ok := byLine[strings.Replace(want, "%20", " ", 1)]; !ok {
			t.Errorf("%s: no %s among %v", op, want, sent)
		}
	}
	if len(ManagementOperations()) != len(operationRequests) {
		t.Errorf("operations: the core has %v, the test %d", ManagementOperations(), len(operationRequests))
	}
	// What the typed methods put in the requests.
	if b := byLine["POST /admin/clients"].Body; b["type"] != "ai_agent" || b["tls_client_auth_san_dns"] != "agent.example" ||
		fmt.Sprint(b["rate_limits"]) != "map[requests_per_minute:3]" || len(b) != 5 {
		t.Errorf("create body: %v", b)
	}
	if b := byLine["PATCH /admin/clients/agent-1"].Body; fmt.Sprint(b) != "map[allowed_scopes:[] name: rate_limit:0]" {
		t.Errorf("update body (set zero values kept, nil fields left out): %v", b)
	}
	if b := byLine["POST /admin/clients/agent-1/secrets"].Body; b["overlap"] != float64(5400) {
		t.Errorf("rotate body: %v", b)
	}
	if q := byLine["GET /admin/logs"].Query; q.Get("client_id") != "agent-1" || !slices.Equal(q["event"], []string{"token", "introspect"}) ||
		q.Get("outcome") != "failure" || q.Get("since") != "1700000000.5" || q.Get("limit") != "2" {
		t.Errorf("logs query: %v", q)
	}
	if q := byLine["GET /admin/clients"].Query; q.Get("type") != "ai_agent" || q.Get("limit") != "10" {
		t.Errorf("clients query: %v", q)
	}
	if b := byLine["POST /admin/keys/rotate"].Body; b["activate_in"] != float64(60) {
		t.Errorf("keys rotate body: %v", b)
	}
}

func TestManagementTypedResultsKeepUnknownFieldsAndHideSecrets(t *testing.T) {
	f := &fakeAdmin{answer: func(r fakeRequest) (int, any) {
		if strings.HasSuffix(r.Path, "/secrets") {
			return 200, map[string]any{"client_id": "agent-1", "client_secret": "new-secret-value", "secret_id": "sid_BBBBBBBBBBBB",
				"old_secrets_expire_at": 1700086400, "secrets": []any{map[string]any{"id": "sid_BBBBBBBBBBBB", "created_at": 1700000000}}}
		}
		c := map[string]any{"client_secret": "generated-secret-value", "secret_id": "sid_AAAAAAAAAAAA"}
		for k, v := range fakeClient {
			c[k] = v
		}
		return 201, c
	}}
	m := newFakeManagement(t, f)
	c, err := m.Clients.Create(ctx(t), ClientSpec{Type: "ai_agent", ClientSecret: "caller-secret-value"})
	if err != nil {
		t.Fatal(err)
	}
	if c.ClientID != "agent-1" || c.Type != "ai_agent" || c.RateLimits == nil || c.RateLimits.RequestsPerMinute != 3 ||
		c.ClientSecret != "generated-secret-value" || c.SecretID != "sid_AAAAAAAAAAAA" || !c.CreatedAt.Equal(time.Unix(1700000000, 0)) ||
		!c.UpdatedAt.Equal(time.Unix(1700000001, 0)) {
		t.Fatalf("client: %+v", c)
	}
	if len(c.Secrets) != 1 || c.Secrets[0].ID != "sid_AAAAAAAAAAAA" || !c.Secrets[0].ExpiresAt.IsZero() ||
		!c.Secrets[0].LastUsedAt.Equal(time.Unix(1700000100, 500_000_000)) {
		t.Fatalf("secrets: %+v", c.Secrets)
	}
	if fmt.Sprint(c.Extra) != "map[future_field:kept tls_client_auth_san_dns:agent.example]" {
		t.Fatalf("extra: %v", c.Extra)
	}
	s, err := m.Clients.RotateSecret(ctx(t), "agent-1", RotateOptions{NoOverlap: true})
	if err != nil {
		t.Fatal(err)
	}
	if s.ClientSecret != "new-secret-value" || s.SecretID != "sid_BBBBBBBBBBBB" || !s.OldSecretsExpireAt.Equal(time.Unix(1700086400, 0)) || len(s.Secrets) != 1 {
		t.Fatalf("new secret: %+v", s)
	}
	if b := f.seen()[1].Body; fmt.Sprint(b) != "map[overlap:0]" {
		t.Fatalf("overlap 0 not sent: %v", b)
	}
	spec := ClientSpec{ClientSecret: "caller-secret-value"}
	cfg := ManagementConfig{ClientID: "mgmt", ClientSecret: "config-secret-value", PrivateKey: "-----BEGIN", AdminToken: fakeAdminToken}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s"} {
		for _, v := range []any{c, *c, s, *s, spec, cfg, []*ManagedClient{c}} {
			out := fmt.Sprintf(verb, v)
			for _, secret := range []string{"generated-secret-value", "new-secret-value", "caller-secret-value", "config-secret-value", "BEGIN", fakeAdminToken} {
				if strings.Contains(out, secret) {
					t.Errorf("%s of %T shows a secret: %s", verb, v, out)
				}
			}
			if !strings.Contains(out, "REDACTED") {
				t.Errorf("%s of %T: %s", verb, v, out)
			}
		}
	}
	if !strings.Contains(fmt.Sprintf("%+v", s), "SecretID:sid_BBBBBBBBBBBB") {
		t.Errorf("%%+v lost the other fields: %+v", s)
	}
}

func TestManagementListsFetchPagesLazily(t *testing.T) {
	ids := []string{"a", "b", "c", "d", "e"}
	f := &fakeAdmin{answer: func(r fakeRequest) (int, any) {
		start := 0
		if c := r.Query["cursor"]; len(c) == 1 {
			start = slices.Index(ids, c[0]) + 1
		}
		end := min(start+2, len(ids))
		var items []any
		for _, id := range ids[start:end] {
			items = append(items, map[string]any{"client_id": id})
		}
		var next any
		if end < len(ids) {
			next = ids[end-1]
		}
		return 200, map[string]any{"clients": items, "next_cursor": next}
	}}
	m := newFakeManagement(t, f)
	var got []string
	for c, err := range m.Clients.List(ctx(t), ClientListOptions{PageSize: 2}) {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, c.ClientID)
	}
	if !slices.Equal(got, ids) || len(f.seen()) != 3 {
		t.Fatalf("got %v in %d requests", got, len(f.seen()))
	}
	for c, err := range m.Clients.List(ctx(t), ClientListOptions{PageSize: 2}) {
		if err != nil || c.ClientID != "a" {
			t.Fatal(c, err)
		}
		break
	}
	if len(f.seen()) != 4 {
		t.Fatalf("stopping after the first item still fetched %d pages", len(f.seen())-3)
	}
}

func TestManagementErrorsAreTyped(t *testing.T) {
	f := &fakeAdmin{answer: func(r fakeRequest) (int, any) {
		switch r.Method {
		case "GET":
			return 404, map[string]any{"error": "not_found", "error_description": "no client nope"}
		case "DELETE":
			return 409, map[string]any{"error": "conflict", "error_description": "scope files:read is used by clients agent-1"}
		case "PATCH":
			return 400, map[string]any{"error": "invalid_client_metadata", "error_description": "logo must be an https URL"}
		}
		return 403, map[string]any{"error": "insufficient_scope", "error_description": "needs clients:write"}
	}}
	m := newFakeManagement(t, f)
	ctx := ctx(t)
	_, err := m.Clients.Get(ctx, "nope")
	var e *Error
	if !errors.Is(err, ErrNotFound) || !errors.As(err, &e) || e.Status != 404 || e.Category() != CodeNotFound.Category() {
		t.Fatalf("get: %#v", err)
	}
	if err := m.Scopes.Delete(ctx, "files:read"); !errors.Is(err, ErrConflict) || !strings.Contains(err.Error(), "agent-1") {
		t.Fatalf("delete: %v", err)
	}
	if _, err := m.Clients.Update(ctx, "a", ClientChanges{Logo: Ptr("ftp://logo.example")}); !errors.Is(err, ErrInvalidClientMetadata) || !strings.Contains(err.Error(), "logo") {
		t.Fatalf("update: %v", err)
	}
	if _, err := m.Clients.Create(ctx, ClientSpec{ClientSecret: "caller-secret-value"}); !errors.Is(err, ErrInsufficientScope) || strings.Contains(err.Error(), "caller-secret-value") {
		t.Fatalf("create: %v", err)
	}
	for c, err := range m.Clients.List(ctx, ClientListOptions{}) {
		if c != nil || !errors.Is(err, ErrNotFound) {
			t.Fatalf("list: %v %v", c, err)
		}
	}
	// The core checks arguments before sending anything.
	n := len(f.seen())
	if err := m.Call(ctx, "clients.get", map[string]any{"client_id": "a", "colour": "red"}, nil); !errors.Is(err, ErrConfigError) || !strings.Contains(err.Error(), "colour") {
		t.Fatalf("unknown argument: %v", err)
	}
	if _, err := m.Clients.Update(ctx, "a", ClientChanges{Extra: map[string]any{"colour": "red"}}); !errors.Is(err, ErrConfigError) || !strings.Contains(err.Error(), "colour") {
		t.Fatalf("unknown client field: %v", err)
	}
	if err := m.Call(ctx, "clients.fly", nil, nil); !errors.Is(err, ErrConfigError) {
		t.Fatalf("unknown operation: %v", err)
	}
	if _, err := m.Clients.RotateSecret(ctx, "a", RotateOptions{Overlap: -time.Second}); !errors.Is(err, ErrConfigError) {
		t.Fatalf("negative overlap: %v", err)
	}
	if len(f.seen()) != n {
		t.Fatalf("invalid arguments were sent")
	}
}

func TestManagementConfigAndLifecycle(t *testing.T) {
	for _, cfg := range []ManagementConfig{
		{},
		{BaseURL: "https://a.example", Domain: "a.example", AdminToken: "x"},
		{BaseURL: "https://a.example", ClientID: "mgmt"},
		{BaseURL: "https://a.example", AdminToken: "x", ClientID: "mgmt"},
	} {
		if _, err := NewManagement(cfg); !errors.Is(err, ErrConfigError) {
			t.Errorf("%+v: want config_error, got %v", cfg, err)
		}
	}
	if _, err := NewManagement(ManagementConfig{BaseURL: "http://auth.example", AdminToken: "x"}); !errors.Is(err, ErrInsecureTransport) {
		t.Errorf("plain http: %v", err)
	}
	if _, err := NewManagement(ManagementConfig{Domain: "auth.example", ClientID: "mgmt", ClientSecret: "s", Scopes: []string{"clients:read"}}); err != nil {
		t.Fatal(err)
	}
	f := &fakeAdmin{answer: func(fakeRequest) (int, any) {
		time.Sleep(300 * time.Millisecond)
		return 200, fakeClient
	}}
	m := newFakeManagement(t, f)
	cx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	if _, err := m.Clients.Get(cx, "agent-1"); !errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, ErrTimeout) {
		t.Fatalf("deadline: %v", err)
	}
	if d := time.Since(start); d > 250*time.Millisecond {
		t.Fatalf("the call outlived its context by %v", d)
	}
	m.Close()
	m.Close()
	if _, err := m.Clients.Get(context.Background(), "agent-1"); !errors.Is(err, ErrConfigError) {
		t.Fatalf("after close: %v", err)
	}
}
