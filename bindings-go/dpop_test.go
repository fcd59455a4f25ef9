package authsec

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// testIssuer signs access tokens in the test (ES256) and publishes its key, for what the local
// server cannot do (yet): DPoP-bound and certificate-bound tokens, and a DPoP downgrade.
type testIssuer struct {
	key  *ecdsa.PrivateKey
	jwks string
}

const testIssuerURL = "https://issuer.test"

func newTestIssuer(t *testing.T) *testIssuer {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := key.PublicKey.ECDH()
	if err != nil {
		t.Fatal(err)
	}
	p := pub.Bytes() // 0x04 || X || Y
	jwks, _ := json.Marshal(map[string]any{"keys": []any{map[string]any{"kty": "EC", "crv": "P-256", "kid": "k1",
		"alg": "ES256", "use": "sig", "x": b64(p[1:33]), "y": b64(p[33:])}}})
	return &testIssuer{key: key, jwks: string(jwks)}
}

// token is an RFC 9068 access token for https://api.example with scope read:data, issued at now,
// bound as cnf says (nil: a plain Bearer token).
func (is *testIssuer) token(t *testing.T, now time.Time, cnf map[string]any) string {
	t.Helper()
	claims := map[string]any{"iss": testIssuerURL, "aud": "https://api.example", "sub": "agent", "client_id": "agent",
		"iat": now.Unix(), "exp": now.Add(5 * time.Minute).Unix(), "scope": "read:data"}
	if cnf != nil {
		claims["cnf"] = cnf
	}
	h, _ := json.Marshal(map[string]any{"alg": "ES256", "typ": "at+jwt", "kid": "k1"})
	c, _ := json.Marshal(claims)
	input := b64(h) + "." + b64(c)
	digest := sha256.Sum256([]byte(input))
	r, s, err := ecdsa.Sign(rand.Reader, is.key, digest[:])
	if err != nil {
		t.Fatal(err)
	}
	sig := make([]byte, 64)
	r.FillBytes(sig[:32])
	s.FillBytes(sig[32:])
	return input + "." + b64(sig)
}

func (is *testIssuer) verifier(t *testing.T, clk *ManualClock) *Verifier {
	t.Helper()
	v, err := NewVerifier(VerifierConfig{Issuer: testIssuerURL, Audience: []string{"https://api.example"}, JWKS: is.jwks, Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { v.Close() })
	return v
}

// tokenEndpoint is a token endpoint on 127.0.0.1 that issues the client's DPoP-bound tokens (cnf.jkt
// is the thumbprint client() names), or, with tokenType "Bearer", answers a DPoP request with a
// Bearer token (a downgrade). It counts the token requests that carried a DPoP proof.
func (is *testIssuer) tokenEndpoint(t *testing.T, tokenType string, client *atomic.Pointer[ClientCredentials], proofs *atomic.Int32) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("DPoP") != "" {
			proofs.Add(1)
		}
		tok := is.token(t, time.Now(), map[string]any{"jkt": client.Load().DPoPThumbprint()})
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"access_token": tok, "token_type": tokenType, "expires_in": 300, "scope": "read:data"})
	}))
	t.Cleanup(srv.Close)
	return srv.URL + "/oauth/token"
}

// dpopClient is a DPoP client of the test issuer's token endpoint.
func (is *testIssuer) dpopClient(t *testing.T, tokenType string, proofs *atomic.Int32) *ClientCredentials {
	t.Helper()
	var p atomic.Pointer[ClientCredentials]
	c, err := NewClientCredentials(ClientConfig{TokenURL: is.tokenEndpoint(t, tokenType, &p, proofs), ClientID: "agent",
		ClientSecret: "agent-secret", Scopes: []string{"read:data"}, DPoP: true})
	if err != nil {
		t.Fatal(err)
	}
	p.Store(c)
	t.Cleanup(func() { c.Close() })
	return c
}

// api is a protected API behind Middleware: it answers the accepted scheme, DPoP thumbprint and
// certificate thumbprint, and counts the requests that reached the middleware.
func api(t *testing.T, v *Verifier, ro RequestOptions, calls *atomic.Int32) *httptest.Server {
	t.Helper()
	m, err := NewMiddleware(v, MiddlewareOptions{RequiredScopes: []string{"read:data"}, Request: ro})
	if err != nil {
		t.Fatal(err)
	}
	h := m(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a, ok := AcceptedFromContext(r.Context())
		c, _ := ClaimsFromContext(r.Context())
		if !ok || c != a.Claims || c.Subject() == "" {
			http.Error(w, "no claims", 500)
			return
		}
		io.WriteString(w, a.Scheme+" "+a.DPoPThumbprint+" "+a.CertificateThumbprint)
	}))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls != nil {
			calls.Add(1)
		}
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// recorder is a RoundTripper that keeps what each attempt sent and got.
type recorder struct {
	mu     sync.Mutex
	sent   []http.Header
	status []int
	got    []http.Header
}

func (rec *recorder) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := http.DefaultTransport.RoundTrip(r)
	rec.mu.Lock()
	defer rec.mu.Unlock()
	rec.sent = append(rec.sent, r.Header.Clone())
	if err == nil {
		rec.status = append(rec.status, resp.StatusCode)
		rec.got = append(rec.got, resp.Header.Clone())
	}
	return resp, err
}

type answer struct {
	status     int
	body       string
	challenges []string
	header     http.Header
}

func call(t *testing.T, hc *http.Client, method, url string, header http.Header) answer {
	t.Helper()
	req, _ := http.NewRequest(method, url, nil)
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return answer{resp.StatusCode, strings.TrimSpace(string(b)), resp.Header.Values("WWW-Authenticate"), resp.Header}
}

// An agent gets a DPoP-bound token from the local server and calls a protected API through
// Transport and Middleware; the proof cannot be replayed, and the token is worthless without the
// key (as Bearer, or with a proof by another key).
func TestDPoPAgentAndAPI(t *testing.T) {
	s := startDPoPServer(t, false)
	c := dpopClientOf(t, s)
	srv := api(t, newTestVerifier(t, s), RequestOptions{}, nil)
	jkt := c.DPoPThumbprint()
	if len(jkt) != 43 {
		t.Fatalf("thumbprint %q", jkt)
	}

	rec := &recorder{}
	a := call(t, c.HTTPClient(rec), "GET", srv.URL+"/data?x=1", nil)
	if a.status != 200 || a.body != "DPoP "+jkt {
		t.Fatalf("agent: %d %q", a.status, a.body)
	}
	tok, err := c.Token(ctx(t))
	if err != nil || tok.TokenType != "DPoP" || !strings.HasPrefix(tok.Authorization, "DPoP ") || c.RequestCount() != 1 {
		t.Fatalf("token %+v, %v; %d token requests", tok, err, c.RequestCount())
	}
	sent := rec.sent[0]
	if sent.Get("Authorization") != tok.Authorization || sent.Get("DPoP") == "" {
		t.Fatalf("sent %v", sent)
	}
	// Each attempt gets a fresh proof.
	if call(t, c.HTTPClient(rec), "GET", srv.URL+"/data", nil).status != 200 || rec.sent[1].Get("DPoP") == sent.Get("DPoP") {
		t.Fatal("a second request reused the proof")
	}

	// The same proof again: a replay.
	a = call(t, http.DefaultClient, "GET", srv.URL+"/data?x=1", sent)
	if a.status != 401 || !strings.Contains(strings.Join(a.challenges, "\n"), `error="invalid_dpop_proof"`) || a.body != `{"error":"invalid_dpop_proof"}` {
		t.Fatalf("replay: %d %q %s", a.status, a.challenges, a.body)
	}

	// The stolen token as Bearer: refused (RFC 9449 §7.2), with both challenges.
	a = call(t, http.DefaultClient, "GET", srv.URL+"/data", http.Header{"Authorization": {"Bearer " + tok.AccessToken}})
	if a.status != 401 || len(a.challenges) != 2 || !strings.HasPrefix(a.challenges[0], `Bearer error="invalid_token"`) ||
		!strings.Contains(a.challenges[0], "DPoP-bound") || !strings.HasPrefix(a.challenges[1], "DPoP algs=") {
		t.Fatalf("as Bearer: %d %q", a.status, a.challenges)
	}
	// The stolen token with a proof by the thief's own key.
	thief, err := NewClientCredentials(ClientConfig{TokenURL: "http://127.0.0.1:9/token", ClientID: "thief", ClientSecret: "x", DPoP: true})
	if err != nil {
		t.Fatal(err)
	}
	defer thief.Close()
	h, err := thief.Authorize(tok, "GET", srv.URL+"/data")
	if err != nil || h.Get("Authorization") != tok.Authorization || h.Get("DPoP") == "" {
		t.Fatalf("thief's headers %v, %v", h, err)
	}
	a = call(t, http.DefaultClient, "GET", srv.URL+"/data", h)
	if a.status != 401 || !strings.Contains(a.challenges[1], `error="invalid_dpop_proof"`) || !strings.Contains(a.challenges[1], "cnf.jkt") {
		t.Fatalf("thief's key: %d %q", a.status, a.challenges)
	}
	if a.body != `{"error":"invalid_dpop_proof"}` {
		t.Fatalf("body %q", a.body)
	}

	// No credential: a challenge per scheme, Bearer first, no error.
	a = call(t, http.DefaultClient, "GET", srv.URL+"/data", nil)
	if a.status != 401 || len(a.challenges) != 2 || a.challenges[0] != `Bearer scope="read:data"` ||
		!strings.HasPrefix(a.challenges[1], `DPoP algs="`) || strings.Contains(a.challenges[1], "error") {
		t.Fatalf("no credential: %d %q", a.status, a.challenges)
	}
}

// The token endpoint and the resource require their nonces: the token request is answered 400
// use_dpop_nonce and the core's one retry gets the token; the first resource attempt gets 401
// use_dpop_nonce with a DPoP-Nonce, the Transport's one retry (same token, fresh proof with the
// nonce) succeeds, and the next request uses the nonce from the start.
func TestDPoPNonceDance(t *testing.T) {
	s := startDPoPServer(t, true)
	c := dpopClientOf(t, s)
	var calls atomic.Int32
	srv := api(t, newTestVerifier(t, s), RequestOptions{DPoPNonce: true, DPoP: DPoPRequired}, &calls)
	rec := &recorder{}
	a := call(t, c.HTTPClient(rec), "POST", srv.URL+"/data", nil)
	if a.status != 200 || calls.Load() != 2 || len(rec.status) != 2 || rec.status[0] != 401 {
		t.Fatalf("nonce dance: %d %q, %d calls, statuses %v", a.status, a.body, calls.Load(), rec.status)
	}
	first := rec.got[0]
	if first.Get("DPoP-Nonce") == "" || len(first.Values("WWW-Authenticate")) != 1 ||
		!strings.Contains(first.Get("WWW-Authenticate"), `error="use_dpop_nonce"`) {
		t.Fatalf("the nonce challenge: %v", first)
	}
	if rec.sent[0].Get("Authorization") != rec.sent[1].Get("Authorization") || rec.sent[0].Get("DPoP") == rec.sent[1].Get("DPoP") {
		t.Fatal("the retry must carry the same token and a fresh proof")
	}
	if a := call(t, c.HTTPClient(rec), "POST", srv.URL+"/data", nil); a.status != 200 || calls.Load() != 3 {
		t.Fatalf("with the nonce known: %d, %d calls", a.status, calls.Load())
	}
	if c.RequestCount() != 2 {
		t.Fatalf("%d token requests, want 2 (the token endpoint's nonce dance)", c.RequestCount())
	}
}

// A token endpoint that answers a DPoP request with a Bearer token is refused by the client.
func TestDPoPDowngradeRefused(t *testing.T) {
	is := newTestIssuer(t)
	var proofs atomic.Int32
	c := is.dpopClient(t, "Bearer", &proofs)
	if _, err := c.Token(ctx(t)); !errors.Is(err, ErrInvalidResponse) || !strings.Contains(err.Error(), "downgrade") {
		t.Fatalf("downgrade: %v", err)
	}
	srv := api(t, is.verifier(t, nil), RequestOptions{}, nil)
	if _, err := c.HTTPClient(nil).Get(srv.URL); !errors.Is(err, ErrInvalidResponse) {
		t.Fatalf("through the Transport: %v", err)
	}
}

// testCert is a self-signed client certificate and its RFC 8705 x5t#S256.
func testCert(t *testing.T) (tls.Certificate, string) {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "agent"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(der)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, b64(sum[:])
}

// A certificate-bound token (cnf x5t#S256) through a TLS-terminating proxy's header: the
// certificate's hash must match, and only a trusted proxy's header counts.
func TestCertificateBoundTokenThroughProxyHeader(t *testing.T) {
	is := newTestIssuer(t)
	cert, x5t := testCert(t)
	other, _ := testCert(t)
	tok := is.token(t, time.Now(), map[string]any{"x5t#S256": x5t})
	hash := func(c tls.Certificate) string { s := sha256.Sum256(c.Certificate[0]); return hex.EncodeToString(s[:]) }
	ro := RequestOptions{ClientCertHeader: "x-forwarded-client-cert", TrustedProxies: []string{"127.0.0.1"}}
	srv := api(t, is.verifier(t, nil), ro, nil)
	with := func(xfcc string) answer {
		h := http.Header{"Authorization": {"Bearer " + tok}}
		if xfcc != "" {
			h.Set("X-Forwarded-Client-Cert", xfcc)
		}
		return call(t, http.DefaultClient, "GET", srv.URL+"/data", h)
	}
	if a := with("By=spiffe://proxy;Hash=" + hash(cert) + ";Subject=\"CN=agent\""); a.status != 200 || a.body != "Bearer  "+x5t {
		t.Fatalf("the bound certificate: %d %q", a.status, a.body)
	}
	for _, xfcc := range []string{"Hash=" + hash(other), ""} {
		if a := with(xfcc); a.status != 401 || !strings.Contains(a.challenges[0], `error="invalid_token"`) {
			t.Fatalf("%q: %d %q", xfcc, a.status, a.challenges)
		}
	}
	// The header from a peer that is not a trusted proxy is ignored.
	untrusted := api(t, is.verifier(t, nil), RequestOptions{ClientCertHeader: "x-forwarded-client-cert",
		TrustedProxies: []string{"10.0.0.0/8"}}, nil)
	h := http.Header{"Authorization": {"Bearer " + tok}, "X-Forwarded-Client-Cert": {"Hash=" + hash(cert)}}
	if a := call(t, http.DefaultClient, "GET", untrusted.URL, h); a.status != 401 {
		t.Fatalf("untrusted proxy: %d", a.status)
	}
	// Invalid request options fail NewMiddleware (and make Middleware panic).
	if _, err := NewMiddleware(is.verifier(t, nil), MiddlewareOptions{Request: RequestOptions{ClientCertHeaderFormat: "pem"}}); !errors.Is(err, ErrConfigError) {
		t.Fatalf("a format without a header: %v", err)
	}
}

// A certificate-bound token over TLS: the middleware reads the client certificate from r.TLS.
func TestCertificateBoundTokenOverTLS(t *testing.T) {
	is := newTestIssuer(t)
	cert, x5t := testCert(t)
	tok := is.token(t, time.Now(), map[string]any{"x5t#S256": x5t})
	m := Middleware(is.verifier(t, nil), MiddlewareOptions{RequiredScopes: []string{"read:data"}})
	srv := httptest.NewUnstartedServer(m(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a, _ := AcceptedFromContext(r.Context())
		io.WriteString(w, a.CertificateThumbprint)
	})))
	srv.TLS = &tls.Config{ClientAuth: tls.RequestClientCert}
	srv.StartTLS()
	defer srv.Close()
	h := http.Header{"Authorization": {"Bearer " + tok}}
	if a := call(t, srv.Client(), "GET", srv.URL, h); a.status != 401 {
		t.Fatalf("without the certificate: %d", a.status)
	}
	tr := srv.Client().Transport.(*http.Transport).Clone() // new connections, with the certificate
	tr.TLSClientConfig.Certificates = []tls.Certificate{cert}
	hc := &http.Client{Transport: tr}
	defer tr.CloseIdleConnections()
	if a := call(t, hc, "GET", srv.URL, h); a.status != 200 || a.body != x5t {
		t.Fatalf("with the certificate: %d %q %q", a.status, a.body, a.challenges)
	}
}

// RequestVerifier without net/http: the accepted result and the refusal, on the verifier's clock.
func TestRequestVerifierDirect(t *testing.T) {
	is := newTestIssuer(t)
	clk := NewManualClock(time.Date(2021, 3, 1, 12, 0, 0, 0, time.UTC))
	defer clk.Close()
	v := is.verifier(t, clk)
	rv, err := NewRequestVerifier(v, RequestOptions{DPoP: DPoPRequired, Realm: "api"})
	if err != nil {
		t.Fatal(err)
	}
	defer rv.Close()
	c, err := NewClientCredentials(ClientConfig{TokenURL: "http://127.0.0.1:9/token", ClientID: "agent", ClientSecret: "x",
		DPoP: true, Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	tok := &Token{AccessToken: is.token(t, clk.Now(), map[string]any{"jkt": c.DPoPThumbprint()}), TokenType: "DPoP"}
	parts := func() RequestParts {
		h, err := c.Authorize(tok, "PUT", "https://api.example/items/1")
		if err != nil {
			t.Fatal(err)
		}
		h.Set("Host", "api.example")
		return RequestParts{Method: "PUT", Target: "/items/1", Scheme: "https", Header: h, Peer: "192.0.2.1"}
	}
	a, err := rv.Verify(ctx(t), parts(), RequireScopes("read:data"))
	if err != nil || a.Scheme != "DPoP" || a.DPoPThumbprint != c.DPoPThumbprint() || a.Claims.Subject() != "agent" || a.Token != tok.AccessToken {
		t.Fatalf("accepted %+v, %v", a, err)
	}
	// Ten minutes later on the verifier's clock the token has expired (the proof is fresh).
	clk.Advance(10 * time.Minute)
	_, err = rv.Verify(ctx(t), parts())
	var r *Refusal
	if !errors.As(err, &r) || !errors.Is(err, ErrTokenExpired) || r.Status != 401 || r.OAuthError != "invalid_token" ||
		len(r.Header.Values("WWW-Authenticate")) != 1 || !strings.HasPrefix(r.Header.Get("WWW-Authenticate"), `DPoP algs="`) {
		t.Fatalf("expired: %v %+v", err, r)
	}
	// No credential: a refusal without an error.
	_, err = rv.Verify(ctx(t), RequestParts{Method: "GET", Target: "/", Scheme: "https", Header: http.Header{"Host": {"api.example"}}})
	if !errors.As(err, &r) || r.Err != nil || r.Status != 401 || r.OAuthError != "" || !strings.Contains(r.Header.Get("WWW-Authenticate"), `realm="api"`) {
		t.Fatalf("no credential: %v %+v", err, r)
	}
	if _, err := NewRequestVerifier(v, RequestOptions{DPoP: "sometimes"}); !errors.Is(err, ErrConfigError) {
		t.Fatalf("dpop sometimes: %v", err)
	}
	// A Bearer client has no DPoP key; its Authorize gives the Bearer header only.
	b, err := NewClientCredentials(ClientConfig{TokenURL: "http://127.0.0.1:9/token", ClientID: "agent", ClientSecret: "x"})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if h, err := b.Authorize(&Token{AccessToken: "t", TokenType: "Bearer"}, "GET", "https://api.example/"); b.DPoPThumbprint() != "" ||
		err != nil || len(h) != 1 || h.Get("Authorization") != "Bearer t" {
		t.Fatalf("bearer: %v %v", h, err)
	}
	if _, err := b.Authorize(tok, "GET", "https://api.example/"); !errors.Is(err, ErrConfigError) {
		t.Fatalf("a DPoP token without a key: %v", err)
	}
}

// startDPoPServer starts the local server with a client ("svc", like startServer's) that must get
// DPoP-bound tokens; nonce makes the token endpoint demand its DPoP nonces.
func startDPoPServer(t *testing.T, nonce bool) *LocalServer {
	t.Helper()
	cfg, _ := json.Marshal(map[string]any{"token_lifetime": 300, "dpop": map[string]any{"nonce": nonce},
		"clients": []any{map[string]any{"client_id": "svc", "client_secret": testSecret, "allowed_scopes": []string{"read:data"},
			"audiences": []string{"https://api.example"}, "dpop_bound_access_tokens": true}}})
	s, err := StartLocalServer(string(cfg))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// dpopClientOf is a DPoP client of the local server.
func dpopClientOf(t *testing.T, s *LocalServer) *ClientCredentials {
	t.Helper()
	c, err := NewClientCredentials(ClientConfig{TokenURL: s.TokenEndpoint, ClientID: "svc", ClientSecret: testSecret,
		Scopes: []string{"read:data"}, Audience: "https://api.example", DPoP: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}
