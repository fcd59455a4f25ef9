package authsec

import (
	"context"
	"encoding/json"
	"os"
	"testing"
	"time"

	gojwt "github.com/golang-jwt/jwt/v5"
	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jwk"
	"github.com/lestrrat-go/jwx/v3/jws"
	jwxjwt "github.com/lestrrat-go/jwx/v3/jwt"
	"golang.org/x/oauth2/clientcredentials"
)

const benchNow = 1700000000

// benchCase loads a valid token and the key set it verifies with from the shared vectors.
func benchCase(b *testing.B, name string) (token string, jwks []byte) {
	raw, err := os.ReadFile("../tests/vectors/verify_algorithms.json")
	if err != nil {
		b.Fatal(err)
	}
	var vf vectorFile
	if err := json.Unmarshal(raw, &vf); err != nil {
		b.Fatal(err)
	}
	for _, c := range vf.Cases {
		if c.Name == name {
			return c.Token, vf.JWKS["main"]
		}
	}
	b.Fatalf("no case %s", name)
	return "", nil
}

func benchAuthsec(b *testing.B, name string, cacheSize int) {
	token, jwks := benchCase(b, name)
	cfg := VerifierConfig{Issuer: "https://issuer.example", Audience: []string{"https://api.example"}, JWKS: string(jwks),
		Clock: NewManualClock(time.Unix(benchNow, 0))}
	if cacheSize >= 0 {
		cfg = withExtra(cfg, "verified_cache_size", cacheSize)
	}
	v, err := NewVerifier(cfg)
	if err != nil {
		b.Fatal(err)
	}
	defer v.Close()
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := v.Verify(ctx, token, RequireScopes("read:data")); err != nil {
			b.Fatal(err)
		}
	}
}

func benchGolangJWT(b *testing.B, name string) {
	token, jwks := benchCase(b, name)
	set, err := jwk.Parse(jwks)
	if err != nil {
		b.Fatal(err)
	}
	keys := map[string]any{}
	for i := 0; i < set.Len(); i++ {
		k, _ := set.Key(i)
		kid, _ := k.KeyID()
		var raw any
		if err := jwk.Export(k, &raw); err != nil {
			b.Fatal(err)
		}
		keys[kid] = raw
	}
	p := gojwt.NewParser(
		gojwt.WithValidMethods([]string{"RS256", "ES256", "EdDSA"}),
		gojwt.WithIssuer("https://issuer.example"), gojwt.WithAudience("https://api.example"),
		gojwt.WithExpirationRequired(), gojwt.WithTimeFunc(func() time.Time { return time.Unix(benchNow, 0) }),
	)
	keyfunc := func(t *gojwt.Token) (any, error) { return keys[t.Header["kid"].(string)], nil }
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := p.Parse(token, keyfunc); err != nil {
			b.Fatal(err)
		}
	}
}

func benchJWX(b *testing.B, name string) {
	token, jwks := benchCase(b, name)
	set, err := jwk.Parse(jwks)
	if err != nil {
		b.Fatal(err)
	}
	_ = jwa.RS256
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := jwxjwt.Parse([]byte(token), jwxjwt.WithKeySet(set, jws.WithInferAlgorithmFromKey(true)), jwxjwt.WithValidate(true),
			jwxjwt.WithIssuer("https://issuer.example"), jwxjwt.WithAudience("https://api.example"),
			jwxjwt.WithClock(jwxjwt.ClockFunc(func() time.Time { return time.Unix(benchNow, 0) }))); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerify(b *testing.B) {
	for _, name := range []string{"rs256_valid", "es256_valid", "eddsa_valid"} {
		b.Run(name+"/authsec_cached", func(b *testing.B) { benchAuthsec(b, name, -1) })
		b.Run(name+"/authsec_uncached", func(b *testing.B) { benchAuthsec(b, name, 0) })
		b.Run(name+"/golang-jwt", func(b *testing.B) { benchGolangJWT(b, name) })
		b.Run(name+"/jwx", func(b *testing.B) { benchJWX(b, name) })
	}
}

// BenchmarkCgoCall is the floor every binding call pays: one cgo crossing into the C library.
func BenchmarkCgoCall(b *testing.B) {
	for b.Loop() {
		cgoNoop()
	}
}

// BenchmarkTokenCached is a cache hit of a token: fetched once from the local authorization
// server, then served from the cache. authsec's Token(ctx) against x/oauth2's clientcredentials
// TokenSource (a ReuseTokenSource: a mutex and an expiry check in Go).
func BenchmarkTokenCached(b *testing.B) {
	s, err := StartLocalServer(`{"clients": [{"client_id": "bench", "client_secret": "bench-secret", "allowed_scopes": ["read:data"]}]}`)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	b.Run("authsec", func(b *testing.B) {
		c, err := NewClientCredentials(ClientConfig{TokenURL: s.TokenEndpoint, ClientID: "bench", ClientSecret: "bench-secret", Scopes: []string{"read:data"}})
		if err != nil {
			b.Fatal(err)
		}
		defer c.Close()
		if _, err := c.Token(ctx); err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		for b.Loop() {
			if _, err := c.Token(ctx); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("x-oauth2", func(b *testing.B) {
		ts := (&clientcredentials.Config{ClientID: "bench", ClientSecret: "bench-secret", TokenURL: s.TokenEndpoint, Scopes: []string{"read:data"}}).TokenSource(ctx)
		if _, err := ts.Token(); err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		for b.Loop() {
			if _, err := ts.Token(); err != nil {
				b.Fatal(err)
			}
		}
	})
}
