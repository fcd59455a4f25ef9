package authsec

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// SPIFFE against the testing library's fake Workload API: JWT-SVIDs fetched and verified on
// bundles the verifier watches (through a key rotation), X.509-SVIDs, SPIFFE ID patterns, the
// new error codes, and a spiffe_jwt token client (no secret) against a token endpoint that
// checks its SVIDs with this package's JWTSVIDVerifier.

const svidAudience = "https://auth.example.test"

func fmtString(v any) string { return fmt.Sprintf("%v %+v %#v %s", v, v, v, v) }

func newSVIDVerifier(t *testing.T, o JWTSVIDOptions) *JWTSVIDVerifier {
	t.Helper()
	if o.Audience == nil {
		o.Audience = []string{svidAudience}
	}
	v, err := NewJWTSVIDVerifier(ctx(t), o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { v.Close() })
	return v
}

func newWorkloadClient(t *testing.T, endpoint string) *WorkloadAPIClient {
	t.Helper()
	c, err := NewWorkloadAPIClient(endpoint)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func TestSPIFFEFetchAndVerify(t *testing.T) {
	f := startFakeWorkloadAPI(t)
	info := f.Info()
	wl := newWorkloadClient(t, info.Endpoint)
	svid, err := wl.FetchJWTSVID(ctx(t), svidAudience, "")
	if err != nil {
		t.Fatal(err)
	}
	if svid.SPIFFEID != "spiffe://example.org/workload" || strings.Count(svid.Token, ".") != 2 {
		t.Fatalf("fetched %+v", svid)
	}
	if strings.Contains(fmtString(svid), svid.Token) {
		t.Fatal("the SVID's token is in its fmt output")
	}
	// On the Workload API's watched bundles.
	v := newSVIDVerifier(t, JWTSVIDOptions{WorkloadAPI: info.Endpoint})
	got, err := v.Verify(ctx(t), svid.Token)
	if err != nil {
		t.Fatal(err)
	}
	if got.SPIFFEID != svid.SPIFFEID || got.TrustDomain != "example.org" || got.KeyID != info.JWTKeyID || got.Alg != "ES256" ||
		len(got.Audience) != 1 || got.Audience[0] != svidAudience || got.IssuedAt == nil || time.Until(got.ExpiresAt) < time.Minute ||
		got.Claims["sub"] != svid.SPIFFEID {
		t.Fatalf("verified %+v", got)
	}
	// On bundles given up front: fetched, and from a file.
	bundles, err := wl.FetchJWTBundles(ctx(t))
	if err != nil || len(bundles["example.org"]) == 0 {
		t.Fatalf("bundles %v %v", bundles, err)
	}
	file := filepath.Join(t.TempDir(), "bundle.json")
	os.WriteFile(file, bundles["example.org"], 0o600)
	for _, b := range []TrustDomainBundle{{Bundle: bundles["example.org"]}, {BundleFile: file}} {
		v2 := newSVIDVerifier(t, JWTSVIDOptions{TrustDomains: map[string]TrustDomainBundle{"example.org": b}})
		if got, err := v2.Verify(ctx(t), svid.Token); err != nil || got.SPIFFEID != svid.SPIFFEID {
			t.Fatalf("static bundle %+v: %v %v", b, got, err)
		}
	}
	// Another audience is refused by the core.
	v3 := newSVIDVerifier(t, JWTSVIDOptions{Audience: []string{"https://other.example"}, WorkloadAPI: info.Endpoint})
	if _, err := v3.Verify(ctx(t), svid.Token); !errors.Is(err, ErrInvalidAudience) {
		t.Fatalf("other audience: %v", err)
	}
	v.Close()
	if _, err := v.Verify(ctx(t), svid.Token); !errors.Is(err, ErrConfigError) {
		t.Fatalf("after Close: %v", err)
	}
}

// A key rotation reaches the verifier through its watch: the new kid verifies without a restart.
func TestSPIFFERotationWithoutRestart(t *testing.T) {
	f := startFakeWorkloadAPI(t)
	ep := f.Info().Endpoint
	wl := newWorkloadClient(t, ep)
	v := newSVIDVerifier(t, JWTSVIDOptions{WorkloadAPI: ep})
	before := f.Info().JWTKeyID
	if err := f.Control("rotate_jwt_key", ""); err != nil {
		t.Fatal(err)
	}
	svid, err := wl.FetchJWTSVID(ctx(t), svidAudience, "")
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		got, err := v.Verify(ctx(t), svid.Token)
		if err == nil {
			if got.KeyID == before || got.KeyID != f.Info().JWTKeyID {
				t.Fatalf("kid %s, before %s", got.KeyID, before)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the rotated key never verified: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestSPIFFEAllowedIDs(t *testing.T) {
	f := startFakeWorkloadAPI(t)
	ep := f.Info().Endpoint
	wl := newWorkloadClient(t, ep)
	v := newSVIDVerifier(t, JWTSVIDOptions{WorkloadAPI: ep, AllowedIDs: []string{"spiffe://example.org/agents/*"}})
	svid, _ := wl.FetchJWTSVID(ctx(t), svidAudience, "")
	var e *Error
	if _, err := v.Verify(ctx(t), svid.Token); !errors.Is(err, ErrSPIFFEIDNotAllowed) || !errors.As(err, &e) ||
		e.Category() != CategoryInsufficientScope {
		t.Fatalf("spiffe://example.org/workload: %v", err)
	}
	if err := f.Control("set_spiffe_id", "spiffe://example.org/agents/ml-training"); err != nil {
		t.Fatal(err)
	}
	svid, _ = wl.FetchJWTSVID(ctx(t), svidAudience, "")
	if got, err := v.Verify(ctx(t), svid.Token); err != nil || got.SPIFFEID != "spiffe://example.org/agents/ml-training" {
		t.Fatalf("an allowed ID: %v %v", got, err)
	}
	for _, c := range []struct {
		id       string
		patterns []string
		want     bool
	}{
		{"spiffe://example.org/agents/a", []string{"spiffe://example.org/agents/*"}, true},
		{"spiffe://example.org/agents", []string{"spiffe://example.org/agents/*"}, false},
		{"spiffe://example.org/x", []string{"spiffe://example.org"}, true},
		{"spiffe://other.org/x", []string{"spiffe://example.org", "spiffe://example.org/x"}, false},
		{"spiffe://example.org/x", []string{"spiffe://example.org/x"}, true},
		{"spiffe://example.org/x", nil, false},
	} {
		if got, err := SPIFFEIDMatches(c.id, c.patterns); err != nil || got != c.want {
			t.Errorf("SPIFFEIDMatches(%s, %v) = %v %v", c.id, c.patterns, got, err)
		}
	}
	if _, err := SPIFFEIDMatches("https://example.org/x", nil); !errors.Is(err, ErrInvalidSPIFFEID) {
		t.Fatalf("an invalid ID: %v", err)
	}
	if _, err := SPIFFEIDMatches("spiffe://example.org/x", []string{"spiffe://"}); !errors.Is(err, ErrConfigError) {
		t.Fatalf("an invalid pattern: %v", err)
	}
}

func TestSPIFFEErrors(t *testing.T) {
	f := startFakeWorkloadAPI(t)
	ep := f.Info().Endpoint
	wl := newWorkloadClient(t, ep)
	svid, _ := wl.FetchJWTSVID(ctx(t), svidAudience, "")
	// A trust domain the verifier has no bundle for.
	other := newSVIDVerifier(t, JWTSVIDOptions{TrustDomains: map[string]TrustDomainBundle{"other.org": {Bundle: f.Info().JWTBundle}}})
	if _, err := other.Verify(ctx(t), svid.Token); !errors.Is(err, ErrUnknownTrustDomain) {
		t.Fatalf("unknown trust domain: %v", err)
	}
	// An agent that has not attested the workload yet, and no agent at all: retryable.
	f.Control("deny_next", "1")
	var e *Error
	if _, err := wl.FetchJWTSVID(ctx(t), svidAudience, ""); !errors.Is(err, ErrWorkloadAPIUnavailable) || !errors.As(err, &e) || !e.Retryable() {
		t.Fatalf("denied: %v", err)
	}
	gone := newWorkloadClient(t, "unix://"+filepath.Join(t.TempDir(), "none.sock"))
	if _, err := gone.FetchX509SVID(ctx(t)); !errors.Is(err, ErrWorkloadAPIUnavailable) {
		t.Fatalf("no agent: %v", err)
	}
	c, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	start := time.Now()
	if _, err := NewJWTSVIDVerifier(c, JWTSVIDOptions{Audience: []string{svidAudience}, WorkloadAPI: "unix://" + filepath.Join(t.TempDir(), "none.sock")}); err == nil || time.Since(start) > 5*time.Second {
		t.Fatalf("a verifier without an agent: %v after %s", err, time.Since(start))
	}
	if _, err := NewJWTSVIDVerifier(ctx(t), JWTSVIDOptions{Audience: []string{svidAudience}}); !errors.Is(err, ErrConfigError) {
		t.Fatalf("no bundles: %v", err)
	}
	if _, err := NewWorkloadAPIClient("http://127.0.0.1:1"); !errors.Is(err, ErrConfigError) {
		t.Fatalf("a bad endpoint: %v", err)
	}
}

func TestSPIFFEX509SVID(t *testing.T) {
	f := startFakeWorkloadAPI(t)
	wl := newWorkloadClient(t, f.Info().Endpoint)
	s, err := wl.FetchX509SVID(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(fmtString(s), "PRIVATE KEY") {
		t.Fatal("the private key is in fmt output")
	}
	cert, err := s.TLSCertificate()
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(cert.Certificate[0])
	if err != nil || len(leaf.URIs) != 1 || leaf.URIs[0].String() != s.SPIFFEID || s.SPIFFEID != f.Info().SPIFFEID {
		t.Fatalf("leaf %v %v", leaf, err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(s.BundlePEM) {
		t.Fatal("no CA in the bundle")
	}
	if _, err := leaf.Verify(x509.VerifyOptions{Roots: pool, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}}); err != nil {
		t.Fatalf("the leaf does not chain to the bundle: %v", err)
	}
}

// svidTokenEndpoint is a token endpoint that accepts the spiffe_jwt client's SVIDs (as a
// jwt-spiffe client assertion, or as a jwt-bearer grant) after checking them with a
// JWTSVIDVerifier on the fake's bundles.
func svidTokenEndpoint(t *testing.T, v *JWTSVIDVerifier, grant string, seen *atomic.Value) *httptest.Server {
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		var svid string
		switch grant {
		case "client_assertion":
			if r.Form.Get("grant_type") != "client_credentials" ||
				r.Form.Get("client_assertion_type") != "urn:ietf:params:oauth:client-assertion-type:jwt-spiffe" {
				http.Error(w, `{"error":"invalid_request"}`, 400)
				return
			}
			svid = r.Form.Get("client_assertion")
		default:
			if r.Form.Get("grant_type") != "urn:ietf:params:oauth:grant-type:jwt-bearer" {
				http.Error(w, `{"error":"unsupported_grant_type"}`, 400)
				return
			}
			svid = r.Form.Get("assertion")
		}
		got, err := v.Verify(r.Context(), svid)
		if err != nil || r.Form.Get("client_secret") != "" {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(401)
			w.Write([]byte(`{"error":"invalid_client"}`))
			return
		}
		seen.Store(got.SPIFFEID + " " + r.Form.Get("client_id"))
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"access_token": "at-for-" + got.SPIFFEID, "token_type": "Bearer", "expires_in": 600})
	}))
	t.Cleanup(s.Close)
	return s
}

// A spiffe_jwt client has no secret: the core fetches the workload's JWT-SVID (audience: the
// token URL) and presents it; both presentations.
func TestSPIFFETokenClient(t *testing.T) {
	f := startFakeWorkloadAPI(t)
	ep := f.Info().Endpoint
	for _, grant := range []string{"client_assertion", "jwt_bearer"} {
		t.Run(grant, func(t *testing.T) {
			var seen atomic.Value
			var srv *httptest.Server
			v := newSVIDVerifier(t, JWTSVIDOptions{Audience: []string{"https://as.example.test"}, WorkloadAPI: ep})
			srv = svidTokenEndpoint(t, v, grant, &seen)
			c, err := NewClientCredentials(ClientConfig{TokenURL: srv.URL + "/oauth/token", AuthMethod: "spiffe_jwt",
				SPIFFEEndpointSocket: ep, SPIFFEAudience: "https://as.example.test", SPIFFEGrant: grant})
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			tok, err := c.Token(ctx(t))
			if err != nil {
				t.Fatal(err)
			}
			if tok.AccessToken != "at-for-spiffe://example.org/workload" || seen.Load() == nil ||
				!strings.HasPrefix(seen.Load().(string), "spiffe://example.org/workload") {
				t.Fatalf("token %q, seen %v", tok.AccessToken, seen.Load())
			}
		})
	}
	// Without an agent the client fails retryably.
	c, err := NewClientCredentials(ClientConfig{TokenURL: "http://127.0.0.1:9/oauth/token", AuthMethod: "spiffe_jwt",
		SPIFFEEndpointSocket: "unix://" + filepath.Join(t.TempDir(), "none.sock"), MaxAttempts: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Token(ctx(t)); !errors.Is(err, ErrWorkloadAPIUnavailable) {
		t.Fatalf("no agent: %v", err)
	}
	if _, err := NewClientCredentials(ClientConfig{TokenURL: "http://127.0.0.1:9/t", AuthMethod: "spiffe_jwt", SPIFFEGrant: "nope"}); !errors.Is(err, ErrConfigError) {
		t.Fatalf("a bad grant: %v", err)
	}
}

// The local authorization server trusts example.org (its bundle from a file): a spiffe_jwt client
// with no secret and no client_id gets tokens with its SVID as the client assertion or as a
// jwt-bearer grant; the access token verifies; after a key rotation (the bundle file rewritten,
// as SPIRE's harness does) a new SVID still gets tokens, with no restart anywhere.
func TestSPIFFETokenFromLocalServer(t *testing.T) {
	f := startFakeWorkloadAPI(t)
	if err := f.Control("set_spiffe_id", "spiffe://example.org/agents/ml-training"); err != nil {
		t.Fatal(err)
	}
	ep := f.Info().Endpoint
	bundleFile := filepath.Join(t.TempDir(), "bundle.json")
	if err := os.WriteFile(bundleFile, f.Info().JWTBundle, 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, _ := json.Marshal(map[string]any{
		"spiffe": map[string]any{"trust_domains": map[string]any{"example.org": map[string]any{"bundle_file": bundleFile}}},
		"clients": []map[string]any{{"client_id": "ml-agent", "spiffe_id": "spiffe://example.org/agents/*",
			"allowed_scopes": []string{"read:data"}, "audiences": []string{"https://api.example"},
			"grant_types": []string{"client_credentials", "urn:ietf:params:oauth:grant-type:jwt-bearer"}}},
	})
	s, err := StartLocalServer(string(cfg))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	api := newTestVerifier(t, s)
	token := func(grant string) (*Token, error) {
		c, err := NewClientCredentials(ClientConfig{TokenURL: s.TokenEndpoint, AuthMethod: "spiffe_jwt", SPIFFEAudience: s.Issuer,
			SPIFFEEndpointSocket: ep, SPIFFEGrant: grant, Scopes: []string{"read:data"}})
		if err != nil {
			return nil, err
		}
		defer c.Close()
		return c.Token(ctx(t))
	}
	for _, grant := range []string{"client_assertion", "jwt_bearer"} {
		tok, err := token(grant)
		if err != nil {
			t.Fatalf("%s: %v", grant, err)
		}
		claims, err := api.Verify(ctx(t), tok.AccessToken, RequireScopes("read:data"))
		if err != nil || claims.ClientID() != "ml-agent" {
			t.Fatalf("%s: the access token: %v %v", grant, claims, err)
		}
	}
	// A workload outside agents/* is no client of this server.
	f.Control("set_spiffe_id", "spiffe://example.org/billing")
	if _, err := token("client_assertion"); !errors.Is(err, ErrInvalidClient) {
		t.Fatalf("an unregistered SPIFFE ID: %v", err)
	}
	f.Control("set_spiffe_id", "spiffe://example.org/agents/ml-training")
	// Rotation: the new key signs; the bundle file gets the new bundle; tokens keep coming.
	f.Control("rotate_jwt_key", "")
	if err := os.WriteFile(bundleFile, f.Info().JWTBundle, 0o600); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, err := token("client_assertion")
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no token after the rotation: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// ClientConfig's SPIFFE fields reach the core, which checks them.
func TestSPIFFEClientConfig(t *testing.T) {
	no := false
	cfg := ClientConfig{TokenURL: "http://127.0.0.1:9/t", AuthMethod: "spiffe_jwt", SPIFFEEndpointSocket: "unix:///tmp/x.sock",
		SPIFFEID: "spiffe://example.org/a", SPIFFEAudience: "https://as", SPIFFEReuseSVID: &no, SPIFFEGrant: "jwt_bearer"}
	m := cfg.settings()
	for k, want := range map[string]any{"spiffe_endpoint_socket": "unix:///tmp/x.sock", "spiffe_id": "spiffe://example.org/a",
		"spiffe_audience": "https://as", "spiffe_reuse_svid": false, "spiffe_grant": "jwt_bearer"} {
		if m[k] != want {
			t.Errorf("%s: %v, want %v", k, m[k], want)
		}
	}
	if s := fmt.Sprintf("%+v", cfg); !strings.Contains(s, "SPIFFEID:spiffe://example.org/a") {
		t.Errorf("fmt: %s", s)
	}
	c, err := NewClientCredentials(cfg)
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
	for _, bad := range []ClientConfig{
		{TokenURL: cfg.TokenURL, AuthMethod: "spiffe_jwt", SPIFFEID: "not-an-id"},
		{TokenURL: cfg.TokenURL, ClientID: "x", ClientSecret: "s", SPIFFEID: "spiffe://example.org/a"},
		{TokenURL: cfg.TokenURL, AuthMethod: "spiffe_jwt", ClientSecret: "s"},
	} {
		if _, err := NewClientCredentials(bad); !errors.Is(err, ErrConfigError) {
			t.Errorf("%+v: %v", bad, err)
		}
	}
}
