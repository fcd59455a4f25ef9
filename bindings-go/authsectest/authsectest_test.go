package authsectest_test

import (
	"context"
	"errors"
	"testing"
	"time"

	authsec "github.com/authsec/authsec/bindings-go"
	"github.com/authsec/authsec/bindings-go/authsectest"
)

// The helpers give a working client, verifier and token, and the shared test clock moves the
// server, the client and the verifier together.
func TestServerHelpersAndClock(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	clk := authsectest.NewClock(t)
	srv := authsectest.New(t, authsectest.Options{TokenLifetime: 60, Clock: clk})
	client, err := srv.Client(authsec.ClientConfig{Scopes: []string{"read:data"}})
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	verifier, err := srv.Verifier(authsec.VerifierConfig{Leeway: authsec.NoLeeway})
	if err != nil {
		t.Fatal(err)
	}
	defer verifier.Close()
	tok, err := client.Token(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got := tok.Expiry.Sub(clk.Now()); got != 60*time.Second {
		t.Fatalf("the token lasts %v on the test clock, want 60s", got)
	}
	claims, err := verifier.Verify(ctx, tok.AccessToken, authsec.RequireScopes("read:data"))
	if err != nil || claims.ClientID() != authsectest.DefaultClientID {
		t.Fatalf("verify: %v %v", claims, err)
	}
	raw, err := srv.Token(ctx, "", "write:data")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := verifier.Verify(ctx, raw, authsec.RequireScopes("write:data")); err != nil {
		t.Fatal(err)
	}
	clk.Advance(61 * time.Second)
	_, err = verifier.Verify(ctx, tok.AccessToken)
	var ae *authsec.Error
	if !errors.Is(err, authsec.ErrTokenExpired) || !errors.As(err, &ae) || ae.Category() != authsec.CategoryInvalidToken || ae.Retryable() {
		t.Fatalf("after the clock passed exp: %v", err)
	}
	again, err := client.Token(ctx)
	if err != nil || again.AccessToken == tok.AccessToken {
		t.Fatalf("the client did not refresh on the test clock: %v", err)
	}
}

// A bad config is a config error naming the problem.
func TestStartErrors(t *testing.T) {
	_, err := authsectest.Start(authsectest.Options{SigningAlg: "PS256"})
	if !errors.Is(err, authsec.ErrConfigError) {
		t.Fatalf("want a config error, got %v", err)
	}
	s, err := authsectest.StartLocalServer("")
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	s.Close()
}
