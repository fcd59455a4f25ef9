package authsec

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/oauth2"
)

const testSecret = "s3cr3t-value-never-printed"

func startServer(t *testing.T, lifetime int) *LocalServer { return startServerAt(t, lifetime, nil) }

// startServerAt starts the local server on a test clock (nil: the system clock).
func startServerAt(t *testing.T, lifetime int, clk *ManualClock) *LocalServer {
	t.Helper()
	cfg := fmt.Sprintf(`{"token_lifetime": %d, "clients": [{"client_id": "svc", "client_secret": %q,
		"allowed_scopes": ["read:data", "write:data"], "audiences": ["https://api.example"]}]}`, lifetime, testSecret)
	s, err := startLocalServerAt(cfg, clk)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func newTestClient(t *testing.T, s *LocalServer, secret string) *ClientCredentials {
	return newTestClientAt(t, s, secret, nil)
}

// newTestClientAt is newTestClient on a test clock (nil: the system clock).
func newTestClientAt(t *testing.T, s *LocalServer, secret string, clk *ManualClock) *ClientCredentials {
	t.Helper()
	c, err := NewClientCredentials(ClientConfig{
		TokenURL: s.TokenEndpoint, ClientID: "svc", ClientSecret: secret,
		Scopes: []string{"read:data"}, Audience: "https://api.example", Clock: clk,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func newTestVerifier(t *testing.T, s *LocalServer) *Verifier {
	t.Helper()
	v, err := NewVerifier(VerifierConfig{Issuer: s.Issuer, Audience: []string{"https://api.example"}, JWKSURI: s.JWKSURI})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { v.Close() })
	return v
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return c
}

func TestTokenAndVerifyAgainstLocalServer(t *testing.T) {
	s := startServer(t, 300)
	c := newTestClient(t, s, testSecret)
	tok, err := c.Token(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	if tok.AccessToken == "" || time.Until(tok.Expiry) < time.Minute || !strings.HasPrefix(tok.Authorization, "Bearer ") {
		t.Fatalf("bad token %+v", tok)
	}
	again, _ := c.Token(ctx(t))
	if again.AccessToken != tok.AccessToken || c.RequestCount() != 1 {
		t.Fatal("the token was not cached")
	}
	v := newTestVerifier(t, s)
	claims, err := v.Verify(ctx(t), tok.AccessToken, RequireScopes("read:data"))
	if err != nil {
		t.Fatal(err)
	}
	if claims.Issuer() != s.Issuer || claims.ClientID() != "svc" || len(claims.Scopes()) != 1 {
		t.Fatalf("claims %v scopes %v", claims.Map(), claims.Scopes())
	}
	_, err = v.Verify(ctx(t), tok.AccessToken, RequireScopes("write:data"))
	var ae *Error
	if !errors.Is(err, ErrInsufficientScope) || !errors.As(err, &ae) || ae.MissingScopes[0] != "write:data" {
		t.Fatalf("want insufficient_scope, got %v", err)
	}
	if _, err := v.Verify(ctx(t), tok.AccessToken+"x"); !errors.Is(err, ErrInvalidSignature) && !errors.Is(err, ErrMalformedToken) {
		t.Fatalf("tampered token: %v", err)
	}
}

func TestWrongSecretAndSecretsNeverPrinted(t *testing.T) {
	s := startServer(t, 300)
	bad := "wrong-" + testSecret
	c := newTestClient(t, s, bad)
	_, err := c.Token(ctx(t))
	if !errors.Is(err, ErrInvalidClient) {
		t.Fatalf("want invalid_client, got %v", err)
	}
	cfg := ClientConfig{ClientID: "svc", ClientSecret: testSecret, PrivateKey: "-----BEGIN PRIVATE KEY-----abc"}
	good := newTestClient(t, s, testSecret)
	tok, _ := good.Token(ctx(t))
	for _, text := range []string{
		fmt.Sprintf("%v", err), fmt.Sprintf("%+v", err), fmt.Sprintf("%#v", err), err.Error(),
		fmt.Sprintf("%v %+v %#v %s", cfg, cfg, cfg, cfg), fmt.Sprintf("%v %+v %#v", &cfg, &cfg, &cfg),
		fmt.Sprintf("%v %+v %#v %s", tok, tok, *tok, tok),
	} {
		for _, secret := range []string{testSecret, bad, "BEGIN PRIVATE", tok.AccessToken} {
			if strings.Contains(text, secret) {
				t.Fatalf("a secret leaked into %q", text)
			}
		}
	}
}

func TestThousandGoroutinesOneRequest(t *testing.T) {
	s := startServer(t, 300)
	c := newTestClient(t, s, testSecret)
	var wg sync.WaitGroup
	var failures atomic.Int32
	for i := 0; i < 1000; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := c.Token(ctx(t)); err != nil {
				failures.Add(1)
			}
		}()
	}
	wg.Wait()
	if failures.Load() != 0 || c.RequestCount() != 1 {
		t.Fatalf("%d failures, %d token requests (want 1)", failures.Load(), c.RequestCount())
	}
}

func TestContextCancellation(t *testing.T) {
	// A token endpoint that never answers.
	release := make(chan struct{})
	hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		case <-time.After(10 * time.Second):
		}
	}))
	defer hang.Close()
	defer close(release)
	c, err := NewClientCredentials(ClientConfig{TokenURL: hang.URL + "/token", ClientID: "svc", ClientSecret: testSecret})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	cx, cancel := context.WithCancel(context.Background())
	go func() { time.Sleep(100 * time.Millisecond); cancel() }()
	start := time.Now()
	if _, err := c.Token(cx); !errors.Is(err, context.Canceled) {
		t.Fatalf("want context.Canceled, got %v", err)
	}
	if time.Since(start) > 2*time.Second {
		t.Fatal("cancellation was not honoured promptly")
	}
	dl, cancel2 := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel2()
	if _, err := c.Token(dl); !errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, ErrTimeout) {
		t.Fatalf("want a deadline error, got %v", err)
	}
}

func TestMiddlewareRoundTripperAndOAuth2(t *testing.T) {
	s := startServer(t, 300)
	c := newTestClient(t, s, testSecret)
	v := newTestVerifier(t, s)
	var hits atomic.Int32
	api := httptest.NewServer(Middleware(v, MiddlewareOptions{Realm: "api", RequiredScopes: []string{"read:data"}})(
		http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			hits.Add(1)
			claims, ok := ClaimsFromContext(r.Context())
			if !ok {
				http.Error(w, "no claims", 500)
				return
			}
			io.WriteString(w, claims.Subject())
		})))
	defer api.Close()

	// No token: 401 with a challenge and no error code.
	resp, err := http.Get(api.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 401 || !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Bearer") {
		t.Fatalf("no token: %d %q", resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
	}
	// A bad token: 401 invalid_token.
	req, _ := http.NewRequest("GET", api.URL, nil)
	req.Header.Set("Authorization", "Bearer not.a.jwt")
	resp, _ = http.DefaultClient.Do(req)
	resp.Body.Close()
	if resp.StatusCode != 401 || !strings.Contains(resp.Header.Get("WWW-Authenticate"), "invalid_token") {
		t.Fatalf("bad token: %d %q", resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
	}
	// The RoundTripper.
	resp, err = c.HTTPClient(nil).Get(api.URL)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(body) != "svc" {
		t.Fatalf("round tripper: %d %q", resp.StatusCode, body)
	}
	// oauth2.NewClient over TokenSource.
	resp, err = oauth2.NewClient(context.Background(), c.TokenSource()).Get(api.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("oauth2 client: %d", resp.StatusCode)
	}
	// Insufficient scope: 403.
	strict := httptest.NewServer(Middleware(v, MiddlewareOptions{RequiredScopes: []string{"admin"}})(http.NotFoundHandler()))
	defer strict.Close()
	resp, _ = c.HTTPClient(nil).Get(strict.URL)
	resp.Body.Close()
	if resp.StatusCode != 403 || !strings.Contains(resp.Header.Get("WWW-Authenticate"), "insufficient_scope") {
		t.Fatalf("scope: %d %q", resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
	}
}

func TestRoundTripperRetriesOnceOn401(t *testing.T) {
	s := startServer(t, 300)
	c := newTestClient(t, s, testSecret)
	var calls atomic.Int32
	var seen sync.Map
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := calls.Add(1)
		seen.Store(n, r.Header.Get("Authorization"))
		if n == 1 {
			w.WriteHeader(401)
			return
		}
		w.WriteHeader(200)
	}))
	defer api.Close()
	resp, err := c.HTTPClient(nil).Post(api.URL, "text/plain", strings.NewReader("body"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	a, _ := seen.Load(int32(1))
	b, _ := seen.Load(int32(2))
	if resp.StatusCode != 200 || calls.Load() != 2 || a == b || c.RequestCount() != 2 {
		t.Fatalf("status %d calls %d requests %d same=%v", resp.StatusCode, calls.Load(), c.RequestCount(), a == b)
	}
	_ = json.Valid
}

func TestThousandGoroutinesAtExpiryOneRequest(t *testing.T) {
	// The server and the client share a test clock: expiry comes without sleeping.
	clk := NewManualClock(time.Now())
	s := startServerAt(t, 2, clk)
	c := newTestClientAt(t, s, testSecret, clk)
	first, err := c.Token(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	clk.Advance(first.Expiry.Sub(clk.Now()) + 50*time.Millisecond)
	before := c.RequestCount()
	var wg sync.WaitGroup
	var mu sync.Mutex
	got := map[string]bool{}
	for i := 0; i < 1000; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tok, err := c.Token(ctx(t))
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				got["error: "+err.Error()] = true
				return
			}
			got[tok.AccessToken] = true
		}()
	}
	wg.Wait()
	after := c.RequestCount()
	t.Logf("token requests before expiry %d, for 1000 goroutines at expiry %d", before, after-before)
	if got[first.AccessToken] || len(got) != 1 || after-before > 1 {
		t.Fatalf("%d distinct results (expired token reused: %v), %d requests", len(got), got[first.AccessToken], after-before)
	}
}

// A cached token crosses the C boundary once: later calls get the same decoded *Token back, and a
// new token (after invalidation) is decoded afresh.
func TestCachedTokenIsDecodedOnce(t *testing.T) {
	s := startServer(t, 300)
	c := newTestClient(t, s, testSecret)
	first, err := c.Token(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 100; i++ {
		again, err := c.Token(ctx(t))
		if err != nil {
			t.Fatal(err)
		}
		if again != first {
			t.Fatalf("call %d decoded the cached token again (new *Token)", i)
		}
	}
	if c.requestCount() != 1 {
		t.Fatalf("token requests = %d, want 1", c.requestCount())
	}
	c.InvalidateToken(first.AccessToken)
	second, err := c.Token(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	if second == first || second.AccessToken == first.AccessToken {
		t.Fatal("after invalidation the client handed out the old token")
	}
	if second.Expiry.Before(time.Now()) || second.Authorization != "Bearer "+second.AccessToken {
		t.Fatalf("the new token was not decoded: %v", second)
	}
	// A second client on the same core sees its own tokens only.
	other := newTestClient(t, s, testSecret)
	ot, err := other.Token(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	if ot == second || ot.AccessToken == second.AccessToken {
		t.Fatal("two clients shared a decoded token")
	}
}

// A YAML config file with ${VAR} interpolation (the core's reader), as Python and Node load it.
func TestClientFromConfigFile(t *testing.T) {
	s := startServer(t, 300)
	dir := t.TempDir()
	path := dir + "/config.yaml"
	yaml := "token_url: " + s.TokenEndpoint + "\nclient_id: svc\nclient_secret: ${TEST_AUTHSEC_SECRET}\nscopes: [read:data]\naudience: https://api.example\nrefresh_buffer: 60\n"
	if err := os.WriteFile(path, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("TEST_AUTHSEC_SECRET", testSecret)
	c, err := NewClientCredentialsFromConfigFile(path)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	tok, err := c.Token(ctx(t))
	if err != nil || tok.AccessToken == "" {
		t.Fatalf("token from a config-file client: %v", err)
	}
	// An unset variable is a config error naming it, never showing other values.
	os.Unsetenv("TEST_AUTHSEC_SECRET")
	_, err = NewClientCredentialsFromConfigFile(path)
	if !errors.Is(err, ErrConfigError) || !strings.Contains(err.Error(), "TEST_AUTHSEC_SECRET") {
		t.Fatalf("unset variable: %v", err)
	}
	if _, err := NewClientCredentialsFromConfigFile(dir + "/missing.yaml"); !errors.Is(err, ErrConfigError) {
		t.Fatalf("missing file: %v", err)
	}
	if _, err := NewClientCredentials(ClientConfig{TokenURL: s.TokenEndpoint, ClientID: "svc", ClientSecret: testSecret, RefreshBuffer: -time.Second}); !errors.Is(err, ErrConfigError) {
		t.Fatalf("negative RefreshBuffer: %v", err)
	}
	c2, err := NewClientCredentials(ClientConfig{TokenURL: s.TokenEndpoint, ClientID: "svc", ClientSecret: testSecret, RefreshBuffer: 4 * time.Second, PrivateKeyAlg: ""})
	if err != nil {
		t.Fatal(err)
	}
	c2.Close()
}

// Expiry is the core's decision on every call, memoized decoding or not.
func TestMemoizedTokenExpires(t *testing.T) {
	// The server, the client and the verifier share a test clock: expiry comes without sleeping.
	clk := NewManualClock(time.Now())
	s := startServerAt(t, 2, clk)
	c := newTestClientAt(t, s, testSecret, clk)
	tok, err := c.Token(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	v, err := NewVerifier(VerifierConfig{Issuer: s.Issuer, Audience: []string{"https://api.example"}, JWKSURI: s.JWKSURI, Leeway: NoLeeway, Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	for i := 0; i < 3; i++ {
		if _, err := v.Verify(ctx(t), tok.AccessToken, RequireScopes("read:data")); err != nil {
			t.Fatal(err)
		}
	}
	clk.Advance(tok.Expiry.Sub(clk.Now()) + 1100*time.Millisecond)
	if _, err := v.Verify(ctx(t), tok.AccessToken, RequireScopes("read:data")); !errors.Is(err, ErrTokenExpired) {
		t.Fatalf("want ErrTokenExpired, got %v", err)
	}
}
