package authsec_test

// The management client against the real local server (package authsectest), as a user writes
// it: bootstrap with the admin token, then a management client's credentials.

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	authsec "github.com/authsec/authsec/bindings-go"
	"github.com/authsec/authsec/bindings-go/authsectest"
)

var managementScopes = []string{"clients:read", "clients:write", "scopes:read", "scopes:write", "roles:read", "roles:write", "logs:read"}

func randomToken() string {
	b := make([]byte, 24)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func testCtx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return c
}

type mgmtEnv struct {
	srv        *authsectest.Server
	m          *authsec.Management
	adminToken string
}

// bootstrapManagement starts a server with an admin token, creates the management client with
// it, and returns a Management that uses that client's credentials.
func bootstrapManagement(t *testing.T) mgmtEnv {
	t.Helper()
	ctx := testCtx(t)
	admin := randomToken()
	srv := authsectest.New(t, authsectest.Options{AdminToken: admin})
	boot, err := srv.Management(authsec.ManagementConfig{})
	if err != nil {
		t.Fatal(err)
	}
	defer boot.Close()
	mc, err := boot.Clients.Create(ctx, authsec.ClientSpec{ClientID: "mgmt", Name: "Management", AllowedScopes: managementScopes})
	if err != nil {
		t.Fatal(err)
	}
	if mc.ClientSecret == "" || !strings.HasPrefix(mc.SecretID, "sid_") || mc.Type != "m2m" {
		t.Fatalf("management client: %+v", mc)
	}
	m, err := srv.Management(authsec.ManagementConfig{ClientID: mc.ClientID, ClientSecret: mc.ClientSecret})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return mgmtEnv{srv: srv, m: m, adminToken: admin}
}

// fresh gets a token with a new client (no cache), one attempt only: a failure is not retried away.
func fresh(ctx context.Context, srv *authsectest.Server, clientID, secret string) (*authsec.Token, error) {
	c, err := srv.Client(authsec.ClientConfig{ClientID: clientID, ClientSecret: secret, Scopes: []string{"read:data"}, MaxAttempts: 1})
	if err != nil {
		return nil, err
	}
	defer c.Close()
	return c.Token(ctx)
}

func TestManagementBootstrapThenAdminTokenRefused(t *testing.T) {
	e := bootstrapManagement(t)
	ctx := testCtx(t)
	got, err := e.m.Clients.Get(ctx, "mgmt")
	if err != nil {
		t.Fatal(err)
	}
	if got.ClientSecret != "" || !slices.Contains(got.EffectiveScopes, "clients:write") || len(got.Secrets) != 1 || got.CreatedAt.IsZero() {
		t.Fatalf("management client as shown: %+v", got)
	}
	boot, err := e.srv.Management(authsec.ManagementConfig{})
	if err != nil {
		t.Fatal(err)
	}
	defer boot.Close()
	_, err = boot.Clients.Get(ctx, "mgmt")
	var ae *authsec.Error
	if !errors.Is(err, authsec.ErrAccessDenied) || !errors.As(err, &ae) || ae.Status != 401 || ae.OAuthError != "invalid_token" {
		t.Fatalf("admin token after bootstrap: %#v", err)
	}
	if !strings.Contains(err.Error(), "bootstrap") || strings.Contains(err.Error(), e.adminToken) {
		t.Fatalf("admin token refusal message: %v", err)
	}
}

func TestManagementCreatesEachClientType(t *testing.T) {
	e := bootstrapManagement(t)
	ctx := testCtx(t)
	v, err := e.srv.Verifier(authsec.VerifierConfig{})
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	specs := []authsec.ClientSpec{
		{ClientID: "svc-m2m", Type: "m2m", AllowedScopes: []string{"read:data"}},
		{ClientID: "svc-agent", Type: "ai_agent", AllowedScopes: []string{"read:data"}, RateLimits: &authsec.RateLimits{RequestsPerMinute: 100, TokensPerDay: 1000}},
		{ClientID: "svc-mcp", Type: "mcp_server", AllowedScopes: []string{"read:data"}, Resource: "https://mcp.example.test/mcp"},
		{ClientID: "app-web", Type: "web", Callbacks: []string{"https://app.example.test/callback"}},
		{ClientID: "app-mobile", Type: "mobile", Callbacks: []string{"com.example.app:/callback"}},
	}
	for _, spec := range specs {
		c, err := e.m.Clients.Create(ctx, spec)
		if err != nil {
			t.Fatalf("%s: %v", spec.Type, err)
		}
		if c.ClientID != spec.ClientID || c.Type != spec.Type || c.CreatedAt.IsZero() {
			t.Fatalf("%s: %+v", spec.Type, c)
		}
		if s := fmt.Sprintf("%+v %v %#v", c, *c, c); c.ClientSecret != "" && strings.Contains(s, c.ClientSecret) {
			t.Fatalf("%s: the secret shows in fmt output", spec.Type)
		}
		switch spec.Type {
		case "ai_agent":
			if c.RateLimits == nil || *c.RateLimits != *spec.RateLimits {
				t.Fatalf("ai_agent rate limits: %+v", c.RateLimits)
			}
		case "mcp_server":
			if c.Resource != spec.Resource {
				t.Fatalf("mcp_server resource: %q", c.Resource)
			}
		case "web":
			if c.ClientSecret == "" || !slices.Equal(c.Callbacks, spec.Callbacks) || !slices.Contains(c.GrantTypes, "authorization_code") {
				t.Fatalf("web client (confidential, callbacks, authorization_code): %+v", c)
			}
		case "mobile":
			if c.ClientSecret != "" || c.TokenEndpointAuthMethod != "none" || !slices.Equal(c.Callbacks, spec.Callbacks) {
				t.Fatalf("mobile client (public): %+v", c)
			}
		}
		if spec.Type == "web" || spec.Type == "mobile" {
			continue
		}
		if c.ClientSecret == "" || !slices.Equal(c.GrantTypes, []string{"client_credentials"}) {
			t.Fatalf("%s: %+v", spec.Type, c)
		}
		tok, err := fresh(ctx, e.srv, c.ClientID, c.ClientSecret)
		if err != nil {
			t.Fatalf("%s token: %v", spec.Type, err)
		}
		claims, err := v.Verify(ctx, tok.AccessToken, authsec.RequireScopes("read:data"))
		if err != nil || claims.ClientID() != c.ClientID {
			t.Fatalf("%s: verify: %v %v", spec.Type, claims, err)
		}
	}
	_, err = e.m.Clients.Create(ctx, authsec.ClientSpec{ClientID: "bad-mobile", Type: "mobile", ClientSecret: "a-secret-for-a-phone",
		Callbacks: []string{"com.example.app:/callback"}})
	if !errors.Is(err, authsec.ErrInvalidClientMetadata) || !strings.Contains(err.Error(), "client_secret") || strings.Contains(err.Error(), "a-secret-for-a-phone") {
		t.Fatalf("mobile with a secret: %v", err)
	}
	_, err = e.m.Clients.Update(ctx, "svc-m2m", authsec.ClientChanges{Extra: map[string]any{"type": "web"}})
	if !errors.Is(err, authsec.ErrInvalidClientMetadata) || !strings.Contains(err.Error(), "type") {
		t.Fatalf("changing the type: %v", err)
	}
	u, err := e.m.Clients.Update(ctx, "svc-m2m", authsec.ClientChanges{Name: authsec.Ptr("Renamed"), TokenLifetime: authsec.Ptr(600)})
	if err != nil || u.Name != "Renamed" || u.TokenLifetime != 600 || !slices.Equal(u.AllowedScopes, []string{"read:data"}) || u.UpdatedAt.Before(u.CreatedAt) {
		t.Fatalf("update: %+v %v", u, err)
	}
}

func TestManagementRotationUnderLoadLosesNoRequest(t *testing.T) {
	e := bootstrapManagement(t)
	ctx := testCtx(t)
	c, err := e.m.Clients.Create(ctx, authsec.ClientSpec{ClientID: "busy", AllowedScopes: []string{"read:data"}, RateLimit: 100000})
	if err != nil {
		t.Fatal(err)
	}
	oldSecret, oldID := c.ClientSecret, c.SecretID
	var secret atomic.Pointer[string]
	secret.Store(&oldSecret)

	// 300 requests paced at 100 per second by 4 workers (~3 s); the secret is switched after ~1 s.
	const total, workers = 300, 4
	jobs := make(chan int)
	type result struct {
		err error
		old bool
	}
	results := make([]result, total)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				s := *secret.Load()
				_, err := fresh(ctx, e.srv, "busy", s)
				results[i] = result{err, s == oldSecret}
			}
		}()
	}
	tick := time.NewTicker(10 * time.Millisecond)
	var rotated *authsec.NewSecret
	var rotateErr error
	for i := 0; i < total; i++ {
		<-tick.C
		jobs <- i
		if i == 100 {
			go func() {
				rotated, rotateErr = e.m.Clients.RotateSecret(ctx, "busy", authsec.RotateOptions{})
				if rotateErr == nil {
					secret.Store(&rotated.ClientSecret)
				}
			}()
		}
	}
	tick.Stop()
	close(jobs)
	wg.Wait()
	if rotateErr != nil || rotated == nil {
		t.Fatalf("rotate: %v", rotateErr)
	}
	failed, withOld := 0, 0
	for i, r := range results {
		if r.err != nil {
			failed++
			t.Errorf("request %d (old secret: %v): %v", i, r.old, r.err)
		}
		if r.old {
			withOld++
		}
	}
	if failed > 0 || withOld < 100 || withOld == total {
		t.Fatalf("%d of %d requests failed; %d used the old secret", failed, total, withOld)
	}
	if time.Until(rotated.OldSecretsExpireAt) < 23*time.Hour || len(rotated.Secrets) != 2 || rotated.SecretID == oldID {
		t.Fatalf("rotation with the default overlap: %+v", rotated)
	}
	left, err := e.m.Clients.RevokeSecret(ctx, "busy", oldID)
	if err != nil || len(left) != 1 || left[0].ID != rotated.SecretID {
		t.Fatalf("revoke: %v %v", left, err)
	}
	if _, err := fresh(ctx, e.srv, "busy", oldSecret); !errors.Is(err, authsec.ErrInvalidClient) || strings.Contains(err.Error(), oldSecret) {
		t.Fatalf("old secret after revoke: %v", err)
	}
	if _, err := fresh(ctx, e.srv, "busy", rotated.ClientSecret); err != nil {
		t.Fatalf("new secret after revoke: %v", err)
	}
	if _, err := e.m.Clients.RevokeSecret(ctx, "busy", rotated.SecretID); !errors.Is(err, authsec.ErrConflict) {
		t.Fatalf("revoking the last secret: %v", err)
	}
	if _, err := e.m.Clients.RevokeSecret(ctx, "busy", "sid_nosuchsecret"); !errors.Is(err, authsec.ErrNotFound) {
		t.Fatalf("revoking an unknown secret: %v", err)
	}
}

func TestManagementAIAgentRequestsPerMinute(t *testing.T) {
	e := bootstrapManagement(t)
	ctx := testCtx(t)
	c, err := e.m.Clients.Create(ctx, authsec.ClientSpec{ClientID: "slow-agent", Type: "ai_agent", AllowedScopes: []string{"read:data"},
		RateLimits: &authsec.RateLimits{RequestsPerMinute: 3}})
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 3; i++ {
		if _, err := fresh(ctx, e.srv, c.ClientID, c.ClientSecret); err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
	}
	_, err = fresh(ctx, e.srv, c.ClientID, c.ClientSecret)
	var ae *authsec.Error
	if !errors.Is(err, authsec.ErrRateLimited) || !errors.As(err, &ae) || ae.RetryAfter <= 0 || ae.RetryAfter > time.Minute {
		t.Fatalf("4th request: %#v", err)
	}
}

func TestManagementAuditLog(t *testing.T) {
	e := bootstrapManagement(t)
	ctx := testCtx(t)
	start := time.Now().Add(-time.Second)
	c, err := e.m.Clients.Create(ctx, authsec.ClientSpec{ClientID: "audited", AllowedScopes: []string{"read:data"}})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 4; i++ {
		if _, err := fresh(ctx, e.srv, "audited", c.ClientSecret); err != nil {
			t.Fatal(err)
		}
	}
	const wrong = "wrong-secret-never-logged"
	if _, err := fresh(ctx, e.srv, "audited", wrong); !errors.Is(err, authsec.ErrInvalidClient) || strings.Contains(err.Error(), wrong) {
		t.Fatalf("wrong secret: %v", err)
	}
	var failures []authsec.AuditEvent
	for ev, err := range e.m.Logs.List(ctx, authsec.LogQuery{ClientID: "audited", Outcome: "failure", Since: start}) {
		if err != nil {
			t.Fatal(err)
		}
		failures = append(failures, ev)
	}
	if len(failures) != 1 || failures[0].Event != "token" || failures[0].Outcome != "failure" || failures[0].ClientID != "audited" ||
		time.Since(failures[0].Time) > time.Minute {
		t.Fatalf("failed authentications: %+v", failures)
	}
	if s := fmt.Sprintf("%+v", failures); strings.Contains(s, wrong) {
		t.Fatalf("the wrong secret is in the log: %s", s)
	}
	all := func(pageSize int) []authsec.AuditEvent {
		var out []authsec.AuditEvent
		for ev, err := range e.m.Logs.List(ctx, authsec.LogQuery{ClientID: "audited", PageSize: pageSize}) {
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, ev)
		}
		return out
	}
	whole, paged := all(200), all(2)
	if len(whole) < 6 || len(paged) != len(whole) {
		t.Fatalf("%d events in one page, %d in pages of 2", len(whole), len(paged))
	}
	tokens := 0
	for i := range paged {
		if paged[i].ID != whole[i].ID || (i > 0 && paged[i].ID >= paged[i-1].ID) {
			t.Fatalf("pages of 2 differ from one page, or are not newest first, at %d: %v vs %v", i, paged[i].ID, whole[i].ID)
		}
		if ev := paged[i]; ev.Event == "token" && ev.Outcome == "success" {
			tokens++
			if ev.SecretID != c.SecretID || ev.AuthMethod == "" {
				t.Fatalf("a token event without the secret that authenticated it: %+v", ev)
			}
		}
	}
	if tokens != 4 {
		t.Fatalf("want 4 successful token events, got %d", tokens)
	}
	// Management calls are audited with their actor: the admin token for the bootstrap, the
	// management client after it.
	actors := map[string]string{}
	for ev, err := range e.m.Logs.List(ctx, authsec.LogQuery{Events: []string{"client_created"}, Since: start.Add(-time.Minute), Until: time.Now().Add(time.Minute)}) {
		if err != nil {
			t.Fatal(err)
		}
		if ev.Event != "client_created" {
			t.Fatalf("filtered by event: %+v", ev)
		}
		actors[ev.ClientID] = ev.Actor
	}
	if len(actors) != 2 || actors["mgmt"] != "admin_token" || actors["audited"] != "mgmt" {
		t.Fatalf("client_created events by client: actor %v", actors)
	}
}

func TestManagementListsClientsAcrossPages(t *testing.T) {
	e := bootstrapManagement(t)
	ctx := testCtx(t)
	for i := 0; i < 5; i++ {
		typ := "m2m"
		if i%2 == 0 {
			typ = "ai_agent"
		}
		if _, err := e.m.Clients.Create(ctx, authsec.ClientSpec{ClientID: fmt.Sprintf("page-%d", i), Type: typ}); err != nil {
			t.Fatal(err)
		}
	}
	ids := func(o authsec.ClientListOptions) []string {
		var out []string
		for c, err := range e.m.Clients.List(ctx, o) {
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, c.ClientID)
		}
		return out
	}
	whole, paged := ids(authsec.ClientListOptions{PageSize: 200}), ids(authsec.ClientListOptions{PageSize: 2})
	want := []string{"mgmt", "page-0", "page-1", "page-2", "page-3", "page-4", authsectest.DefaultClientID}
	slices.Sort(want)
	if !slices.Equal(whole, want) || !slices.Equal(paged, want) {
		t.Fatalf("one page %v, pages of 2 %v, want %v", whole, paged, want)
	}
	if agents := ids(authsec.ClientListOptions{Type: "ai_agent", PageSize: 1}); !slices.Equal(agents, []string{"page-0", "page-2", "page-4"}) {
		t.Fatalf("ai agents: %v", agents)
	}
	if _, err := e.m.Clients.Get(ctx, "no-such-client"); !errors.Is(err, authsec.ErrNotFound) {
		t.Fatalf("missing client: %v", err)
	}
	if err := e.m.Clients.Delete(ctx, "page-1"); err != nil {
		t.Fatal(err)
	}
	if err := e.m.Clients.Delete(ctx, "page-1"); !errors.Is(err, authsec.ErrNotFound) {
		t.Fatalf("deleting twice: %v", err)
	}
}

func TestManagementScopesAndRoles(t *testing.T) {
	e := bootstrapManagement(t)
	ctx := testCtx(t)
	s, err := e.m.Scopes.Create(ctx, "files:read", "Read files")
	if err != nil || s.Name != "files:read" || s.Description != "Read files" {
		t.Fatalf("create scope: %+v %v", s, err)
	}
	if _, err := e.m.Scopes.Create(ctx, "files:read", ""); !errors.Is(err, authsec.ErrConflict) {
		t.Fatalf("create twice: %v", err)
	}
	if _, err := e.m.Scopes.Create(ctx, "clients:write", ""); err == nil {
		t.Fatal("a management scope was registered")
	}
	if _, err := e.m.Clients.Create(ctx, authsec.ClientSpec{ClientID: "reader", AllowedScopes: []string{"files:read"}}); err != nil {
		t.Fatal(err)
	}
	var listed []authsec.Scope
	for sc, err := range e.m.Scopes.List(ctx, authsec.ScopeListOptions{PageSize: 1}) {
		if err != nil {
			t.Fatal(err)
		}
		listed = append(listed, sc)
	}
	if len(listed) != 1 || listed[0].Name != "files:read" || !slices.Equal(listed[0].Clients, []string{"reader"}) {
		t.Fatalf("scopes: %+v", listed)
	}
	if err := e.m.Scopes.Delete(ctx, "files:read"); !errors.Is(err, authsec.ErrConflict) || !strings.Contains(err.Error(), "reader") {
		t.Fatalf("deleting a scope in use: %v", err)
	}
	if err := e.m.Clients.Delete(ctx, "reader"); err != nil {
		t.Fatal(err)
	}
	if err := e.m.Scopes.Delete(ctx, "files:read"); err != nil {
		t.Fatal(err)
	}
	for sc, err := range e.m.Scopes.List(ctx, authsec.ScopeListOptions{}) {
		t.Fatalf("a scope is left: %+v %v", sc, err)
	}

	r, err := e.m.Roles.Create(ctx, "readers", authsec.RoleSpec{Scopes: []string{"read:data"}, Audiences: []string{"https://api.example.test"}})
	if err != nil || r.Name != "readers" || !slices.Equal(r.Scopes, []string{"read:data"}) {
		t.Fatalf("create role: %+v %v", r, err)
	}
	r, err = e.m.Roles.Update(ctx, "readers", authsec.RoleSpec{Scopes: []string{"read:data", "write:data"}})
	if err != nil || !slices.Equal(r.Scopes, []string{"read:data", "write:data"}) || !slices.Equal(r.Audiences, []string{"https://api.example.test"}) {
		t.Fatalf("update role (audiences kept): %+v %v", r, err)
	}
	if g, err := e.m.Roles.Get(ctx, "readers"); err != nil || !slices.Equal(g.Scopes, r.Scopes) {
		t.Fatalf("get role: %+v %v", g, err)
	}
	found := false
	for ro, err := range e.m.Roles.List(ctx) {
		if err != nil {
			t.Fatal(err)
		}
		found = found || ro.Name == "readers"
	}
	if !found {
		t.Fatal("the role is not listed")
	}
	if err := e.m.Roles.Delete(ctx, "readers"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.m.Roles.Get(ctx, "readers"); !errors.Is(err, authsec.ErrNotFound) {
		t.Fatalf("deleted role: %v", err)
	}
}

// A client whose secret is in a file picks up a rotated secret written there, without a new
// client object: the core reads the file again after invalid_client.
func TestClientSecretFileIsReadAgainAfterRotation(t *testing.T) {
	e := bootstrapManagement(t)
	ctx := testCtx(t)
	c, err := e.m.Clients.Create(ctx, authsec.ClientSpec{ClientID: "filed", AllowedScopes: []string{"read:data"}})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(path, []byte(c.ClientSecret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cc, err := e.srv.Client(authsec.ClientConfig{ClientID: "filed", ClientSecretFile: path, Scopes: []string{"read:data"}})
	if err != nil {
		t.Fatal(err)
	}
	defer cc.Close()
	tok, err := cc.Token(ctx)
	if err != nil {
		t.Fatal(err)
	}
	rotated, err := e.m.Clients.RotateSecret(ctx, "filed", authsec.RotateOptions{NoOverlap: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fresh(ctx, e.srv, "filed", c.ClientSecret); !errors.Is(err, authsec.ErrInvalidClient) {
		t.Fatalf("the old secret still works after a rotation without overlap: %v", err)
	}
	if err := os.WriteFile(path, []byte(rotated.ClientSecret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cc.InvalidateToken(tok.AccessToken)
	tok2, err := cc.Token(ctx)
	if err != nil {
		t.Fatalf("after rewriting the file: %v", err)
	}
	if tok2.AccessToken == tok.AccessToken {
		t.Fatal("the token was not requested again")
	}
}
