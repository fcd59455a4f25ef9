package verify

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	gojwt "github.com/golang-jwt/jwt/v5"
)

// How the claims cross from the core (claims_wire: a length-prefixed layout written into a stack
// buffer, or a heap buffer when larger) and how Go reads them (accessors from the layout, Map and
// Get decoding the JSON on first use), with tokens signed here.

type signer struct {
	key  ed25519.PrivateKey
	jwks string
}

func newSigner(t *testing.T) signer {
	t.Helper()
	pub, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	jwks := fmt.Sprintf(`{"keys": [{"kty": "OKP", "crv": "Ed25519", "kid": "k1", "alg": "EdDSA", "use": "sig", "x": %q}]}`,
		base64.RawURLEncoding.EncodeToString(pub))
	return signer{key, jwks}
}

func (s signer) token(t *testing.T, extra map[string]any) string {
	t.Helper()
	now := time.Now().Unix()
	claims := gojwt.MapClaims{"iss": "https://issuer.example", "aud": "https://api.example", "sub": "user-1",
		"client_id": "agent-1", "iat": now, "exp": now + 600, "jti": fmt.Sprint(time.Now().UnixNano())}
	for k, v := range extra {
		claims[k] = v
	}
	tok := gojwt.NewWithClaims(gojwt.SigningMethodEdDSA, claims)
	tok.Header["kid"] = "k1"
	out, err := tok.SignedString(s.key)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func (s signer) verifier(t *testing.T, cacheSize int) *Verifier {
	t.Helper()
	v, err := New(Config{Issuer: "https://issuer.example", Audience: []string{"https://api.example"},
		JWKS: s.jwks, VerifiedCacheSize: cacheSize})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { v.Close() })
	return v
}

// Claims larger than the stack buffer come through the core's heap buffer; strings with escapes
// and non-ASCII text, numbers and nested objects come through Map as encoding/json reads them.
func TestClaimsAcrossTheBoundary(t *testing.T) {
	s := newSigner(t)
	big := strings.Repeat("é0123456789", 300) // > claimsBufSize bytes
	for _, size := range []struct {
		name  string
		extra map[string]any
	}{
		{"small", nil},
		{"large", map[string]any{"big": big}},
	} {
		extra := map[string]any{"scope": "read:data write:logs read:data", "name": "Zoë \"quoted\" \\ \u0001 \u2028 😀",
			"n": 12.5, "nested": map[string]any{"a": []any{1, "x", true, nil}}}
		for k, v := range size.extra {
			extra[k] = v
		}
		tok := s.token(t, extra)
		for _, cache := range []int{0, NoVerifiedCache} {
			t.Run(fmt.Sprintf("%s/cache=%d", size.name, cache), func(t *testing.T) {
				v := s.verifier(t, cache)
				for i := 0; i < 2; i++ {
					c, err := v.Verify(ctx(t), tok, RequireScopes("read:data"))
					if err != nil {
						t.Fatal(err)
					}
					if c.Issuer() != "https://issuer.example" || c.Subject() != "user-1" || c.ClientID() != "agent-1" {
						t.Fatalf("iss %q sub %q client_id %q", c.Issuer(), c.Subject(), c.ClientID())
					}
					if !reflect.DeepEqual(c.Scopes(), []string{"read:data", "write:logs"}) {
						t.Fatalf("scopes %q", c.Scopes())
					}
					if _, ok := c.Actor(); ok || c.Delegation() != nil {
						t.Fatal("not a delegated token")
					}
					m := c.Map()
					if m["name"] != extra["name"] || m["n"] != 12.5 || m["sub"] != "user-1" {
						t.Fatalf("map: name %q n %v", m["name"], m["n"])
					}
					if got, _ := c.Get("big"); size.extra != nil && got != big {
						t.Fatal("the large claim changed on the way")
					}
					want := map[string]any{"a": []any{1.0, "x", true, nil}}
					if got, ok := c.Get("nested"); !ok || !reflect.DeepEqual(got, want) {
						t.Fatalf("nested %#v", got)
					}
					if _, ok := c.Get("absent"); ok {
						t.Fatal("absent claim found")
					}
				}
			})
		}
	}
}

// A claim that is not a string leaves its accessor empty (Map still has it).
func TestNonStringClaimsLeaveAccessorsEmpty(t *testing.T) {
	s := newSigner(t)
	v := s.verifier(t, 0)
	c, err := v.Verify(ctx(t), s.token(t, map[string]any{"client_id": 7}))
	if err != nil {
		t.Fatal(err)
	}
	if c.ClientID() != "" || c.Map()["client_id"] != 7.0 || len(c.Scopes()) != 0 || c.Scopes() == nil {
		t.Fatalf("client_id %q, map %v, scopes %#v", c.ClientID(), c.Map()["client_id"], c.Scopes())
	}
}

// Memoized claims are shared by every Verify of the token: the first Map decodes once for all
// (clean under -race).
func TestSharedClaimsDecodeOnceConcurrently(t *testing.T) {
	s := newSigner(t)
	v := s.verifier(t, 0) // the core's default cache
	tok := s.token(t, map[string]any{"tenant": "t-1"})
	first, err := v.Verify(ctx(t), tok) // pinned and memoized, not decoded yet
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	got := make([]*Claims, 16)
	for i := range got {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := v.Verify(ctx(t), tok)
			if err != nil {
				t.Error(err)
				return
			}
			if tenant, _ := c.Get("tenant"); tenant != "t-1" {
				t.Errorf("tenant %v", tenant)
			}
			got[i] = c
		}()
	}
	wg.Wait()
	for _, c := range got {
		if c != first {
			t.Fatal("the memo handed out two decodings of one pinned claims object")
		}
	}
}

// Scope requirements reach the core as json.Marshal would write them, plain or not.
func TestScopeRequirementJSON(t *testing.T) {
	for _, r := range []scopeReq{
		{},
		{AllOf: []string{"read:data"}},
		{AnyOf: []string{"a", "b"}},
		{AllOf: []string{"a", "b:c/d"}, AnyOf: []string{"x"}},
		{AllOf: []string{`q"uote`, `back\slash`, "<tag>&", "é", "\x01", "a b"}},
		{AllOf: []string{""}},
	} {
		want, _ := json.Marshal(r)
		if got := r.appendJSON(nil); string(got) != string(want) {
			t.Errorf("%#v: %s, want %s", r, got, want)
		}
	}
	// RequireScopes never writes into the caller's slice.
	scopes := make([]string, 1, 4)
	scopes[0] = "a"
	var r scopeReq
	RequireScopes(scopes...)(&r)
	RequireScopes("b")(&r)
	if more := scopes[:2]; more[1] != "" || !reflect.DeepEqual(r.AllOf, []string{"a", "b"}) {
		t.Fatalf("caller's array %q, all_of %q", more, r.AllOf)
	}

	s := newSigner(t)
	v := s.verifier(t, 0)
	tok := s.token(t, map[string]any{"scp": []string{`q"uote`, "é"}})
	if _, err := v.Verify(ctx(t), tok, RequireScopes(`q"uote`), RequireAnyScope("none", "é")); err != nil {
		t.Fatal(err)
	}
	_, err := v.Verify(ctx(t), tok, RequireScopes(`q"uote`, `back\slash`))
	var e *Error
	if !errors.Is(err, ErrInsufficientScope) || !errors.As(err, &e) || !reflect.DeepEqual(e.MissingScopes, []string{`back\slash`}) {
		t.Fatalf("want insufficient_scope missing back\\slash, got %v", err)
	}
}
