package authsec

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
)

// TokenFor asks the core for another token (its params_from), cached apart from the default one.
func TestTokenForOtherScopes(t *testing.T) {
	s := startServer(t, 300)
	c := newTestClient(t, s, testSecret)
	def, err := c.Token(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	w, err := c.TokenFor(ctx(t), TokenParams{Scopes: []string{"write:data"}})
	if err != nil {
		t.Fatal(err)
	}
	again, _ := c.TokenFor(ctx(t), TokenParams{Scopes: []string{"write:data"}})
	if w.AccessToken == def.AccessToken || again.AccessToken != w.AccessToken || c.RequestCount() != 2 {
		t.Fatalf("per-call token: same as default %v, cached %v, requests %d", w.AccessToken == def.AccessToken, again.AccessToken == w.AccessToken, c.RequestCount())
	}
	claims, err := newTestVerifier(t, s).Verify(ctx(t), w.AccessToken, RequireScopes("write:data"))
	if err != nil || len(claims.Scopes()) != 1 {
		t.Fatalf("the per-call token: %v %v", claims, err)
	}
	if d, _ := c.Token(ctx(t)); d != def {
		t.Fatal("the default token changed")
	}
	if _, err := c.TokenFor(ctx(t), TokenParams{Scopes: []string{"admin"}}); !errors.Is(err, ErrInvalidScope) {
		t.Fatalf("a scope the client may not have: %v", err)
	}
}

// A 401 saying insufficient_scope is not retried: the core's on_unauthorized decides.
func TestRoundTripperDoesNotRetryInsufficientScope(t *testing.T) {
	s := startServer(t, 300)
	c := newTestClient(t, s, testSecret)
	var calls atomic.Int32
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		w.Header().Set("WWW-Authenticate", `Bearer error="insufficient_scope", scope="admin"`)
		w.WriteHeader(401)
	}))
	defer api.Close()
	resp, err := c.HTTPClient(nil).Get(api.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 401 || calls.Load() != 1 || c.RequestCount() != 1 {
		t.Fatalf("status %d, calls %d, token requests %d", resp.StatusCode, calls.Load(), c.RequestCount())
	}
}

// Settings are the core's: Domain, MaxAttempts, Discover, VerifiedCacheSize; errors name them.
func TestSettingsAreReadByTheCore(t *testing.T) {
	c, err := NewClientCredentials(ClientConfig{Domain: "auth.example", ClientID: "a", ClientSecret: "b", MaxAttempts: 2})
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
	if _, err := NewClientCredentials(ClientConfig{Domain: "auth.example", ClientID: "a", ClientSecret: "b", MaxAttempts: -1}); !errors.Is(err, ErrConfigError) || !strings.Contains(err.Error(), "max_attempts") {
		t.Fatalf("negative MaxAttempts: %v", err)
	}
	s := startServer(t, 300)
	tok, err := newTestClient(t, s, testSecret).Token(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	v, err := NewVerifier(VerifierConfig{Issuer: s.Issuer, Audience: []string{"https://api.example"}, Discover: true, VerifiedCacheSize: NoVerifiedCache})
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	for i := 0; i < 2; i++ {
		if _, err := v.Verify(ctx(t), tok.AccessToken, RequireScopes("read:data")); err != nil {
			t.Fatalf("discovered JWKS: %v", err)
		}
	}
	if core, memo := pinnedCount(v); core != 0 || memo != 0 {
		t.Fatalf("NoVerifiedCache pinned %d, memoized %d", core, memo)
	}
	if _, err := NewVerifier(VerifierConfig{Discover: true, JWKSURI: s.JWKSURI, Issuer: s.Issuer}); !errors.Is(err, ErrConfigError) {
		t.Fatalf("Discover with JWKSURI: %v", err)
	}
}

// HTTPStatus and the categories are the core's.
func TestHTTPStatusAndCategories(t *testing.T) {
	for err, want := range map[error]int{
		&Error{Code: CodeInsufficientScope}: 403, &Error{Code: CodeTokenExpired}: 401,
		&Error{Code: CodeInvalidRequest}: 400, &Error{Code: CodeJWKSUnavailable}: 503, errors.New("x"): 500,
	} {
		if got := HTTPStatus(err); got != want {
			t.Errorf("HTTPStatus(%v) = %d, want %d", err, got, want)
		}
	}
	e := &Error{Code: CodeRateLimited}
	if e.Category() != CategoryUnavailable || !e.Retryable() || CodeInvalidJWKS.Category() != CategoryConfig || CodeOAuthError.Retryable() {
		t.Fatal("categories or retryable flags")
	}
}
