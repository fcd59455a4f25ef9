package authsec

import (
	"context"
	"errors"
	"runtime"
	"testing"
	"time"
)

func TestCloseIsIdempotentAndCallsAfterCloseFail(t *testing.T) {
	s := startServer(t, 300)
	c := newTestClient(t, s, testSecret)
	v := newTestVerifier(t, s)
	c.Close()
	c.Close()
	v.Close()
	v.Close()
	if _, err := c.Token(context.Background()); !errors.Is(err, ErrConfigError) {
		t.Fatalf("token after close: %v", err)
	}
	if _, err := v.Verify(context.Background(), "x.y.z"); !errors.Is(err, ErrConfigError) {
		t.Fatalf("verify after close: %v", err)
	}
}

func TestFinalizersFreeUnclosedObjects(t *testing.T) {
	for i := 0; i < 100; i++ {
		if _, err := NewClientCredentials(ClientConfig{TokenURL: "http://127.0.0.1:1/token", ClientID: "a", ClientSecret: "b"}); err != nil {
			t.Fatal(err)
		}
	}
	runtime.GC()
	runtime.GC()
}

func TestConfigErrorsAreTyped(t *testing.T) {
	_, err := NewClientCredentials(ClientConfig{ClientID: "a"})
	if !errors.Is(err, ErrConfigError) {
		t.Fatalf("want config_error, got %v", err)
	}
	_, err = NewVerifier(VerifierConfig{Issuer: "https://i.example", JWKS: `{"keys":[]}`, JWKSURI: "https://i.example/jwks"})
	if !errors.Is(err, ErrConfigError) {
		t.Fatalf("want config_error, got %v", err)
	}
}

func TestVerifyHonoursContext(t *testing.T) {
	// A JWKS endpoint that never answers: the first verification must give up with ctx.
	s := startServer(t, 300)
	tok, err := newTestClient(t, s, testSecret).Token(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	hang := make(chan struct{})
	defer close(hang)
	srv := newHangingServer(t, hang)
	v, err := NewVerifier(VerifierConfig{Issuer: s.Issuer, Audience: []string{"https://api.example"}, JWKSURI: srv + "/jwks"})
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	cx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err = v.Verify(cx, tok.AccessToken)
	if err == nil || time.Since(start) > 3*time.Second {
		t.Fatalf("verify did not give up: %v after %v", err, time.Since(start))
	}
}
