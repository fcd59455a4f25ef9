package verify

import (
	"encoding/json"
	"errors"
	"os"
	"sync"
	"testing"
	"time"
)

// validVectors are the shared vectors' valid tokens (RS256, ES256, EdDSA) and their key set.
func validVectors(t *testing.T) (tokens []string, jwks []byte) {
	t.Helper()
	raw, err := os.ReadFile("../../tests/vectors/verify_algorithms.json")
	if err != nil {
		t.Fatal(err)
	}
	var vf struct {
		JWKS  map[string]json.RawMessage `json:"jwks"`
		Cases []struct {
			Name  string `json:"name"`
			Token string `json:"token"`
		} `json:"cases"`
	}
	if err := json.Unmarshal(raw, &vf); err != nil {
		t.Fatal(err)
	}
	for _, c := range vf.Cases {
		switch c.Name {
		case "rs256_valid", "es256_valid", "eddsa_valid":
			tokens = append(tokens, c.Token)
		}
	}
	if len(tokens) != 3 {
		t.Fatalf("found %d valid vectors", len(tokens))
	}
	return tokens, vf.JWKS["main"]
}

// vectorNow is a time at which the shared vectors' valid tokens are valid.
const vectorNow = 1700000000

func vectorVerifier(t *testing.T, jwks []byte, cacheSize int) *Verifier {
	t.Helper()
	cfg := Config{Issuer: "https://issuer.example", Audience: []string{"https://api.example"}, JWKS: string(jwks),
		Clock: NewManualClock(time.Unix(vectorNow, 0))}
	if cacheSize >= 0 {
		cfg = cfg.withOption("verified_cache_size", cacheSize)
	}
	v, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { v.Close() })
	return v
}

// Repeated verifies share one decoding; the core still checks scopes on every call.
func TestMemoizedClaimsStillCheckScopesInTheCore(t *testing.T) {
	tokens, jwks := validVectors(t)
	v := vectorVerifier(t, jwks, -1)
	first, err := v.Verify(ctx(t), tokens[0], RequireScopes("read:data"))
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 10; i++ {
		again, err := v.Verify(ctx(t), tokens[0], RequireScopes("read:data"))
		if err != nil || again != first {
			t.Fatalf("repeat %d: %v, same decoding: %v", i, err, again == first)
		}
	}
	_, err = v.Verify(ctx(t), tokens[0], RequireScopes("admin:everything"))
	var e *Error
	if !errors.Is(err, ErrInsufficientScope) || !errors.As(err, &e) || len(e.MissingScopes) != 1 {
		t.Fatalf("a memoized token must still fail the core's scope check: %v", err)
	}
	if _, err := v.Verify(ctx(t), tokens[0]+"x"); err == nil {
		t.Fatal("a tampered token verified")
	}
	if core, memo := v.pinnedCount(); core != 1 || memo != 1 {
		t.Fatalf("pinned %d in the core, %d memoized", core, memo)
	}
}

// The memo is bounded, and what it evicts is unpinned in the core.
func TestMemoIsBoundedAndEvictionUnpins(t *testing.T) {
	tokens, jwks := validVectors(t)
	v := vectorVerifier(t, jwks, -1)
	v.memo.cap = 2
	want := map[string]string{}
	for round := 0; round < 3; round++ {
		for _, tok := range tokens {
			c, err := v.Verify(ctx(t), tok)
			if err != nil {
				t.Fatal(err)
			}
			if round == 0 {
				want[tok] = c.Map()["jti"].(string) + c.Subject()
			} else if got := c.Map()["jti"].(string) + c.Subject(); got != want[tok] {
				t.Fatalf("round %d: claims of another token: %q != %q", round, got, want[tok])
			}
		}
	}
	if core, memo := v.pinnedCount(); core != 2 || memo != 2 {
		t.Fatalf("pinned %d in the core, %d memoized; want 2 and 2", core, memo)
	}
}

// With the core's verified-token cache off nothing is pinned or memoized.
func TestNoMemoWithoutTheCoresCache(t *testing.T) {
	tokens, jwks := validVectors(t)
	v := vectorVerifier(t, jwks, 0)
	for i := 0; i < 5; i++ {
		if _, err := v.Verify(ctx(t), tokens[1], RequireScopes("read:data")); err != nil {
			t.Fatal(err)
		}
	}
	if core, memo := v.pinnedCount(); core != 0 || memo != 0 {
		t.Fatalf("pinned %d in the core, %d memoized", core, memo)
	}
}

// Concurrent first sight of one token: every goroutine gets the same claims.
func TestMemoUnderConcurrency(t *testing.T) {
	tokens, jwks := validVectors(t)
	v := vectorVerifier(t, jwks, -1)
	v.memo.cap = 1
	var wg sync.WaitGroup
	errs := make(chan error, 300)
	for i := 0; i < 300; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			tok := tokens[i%3]
			c, err := v.Verify(ctx(t), tok, RequireScopes("read:data"))
			if err != nil {
				errs <- err
				return
			}
			if len(c.Scopes()) == 0 || c.Issuer() != "https://issuer.example" {
				errs <- errors.New("bad claims")
			}
		}(i)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if core, memo := v.pinnedCount(); core != 1 || memo != 1 {
		t.Fatalf("pinned %d in the core, %d memoized; want 1 and 1", core, memo)
	}
}
