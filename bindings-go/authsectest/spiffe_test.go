package authsectest_test

import (
	"context"
	"testing"
	"time"

	authsec "github.com/authsec/authsec/bindings-go"
	"github.com/authsec/authsec/bindings-go/authsectest"
)

func TestFakeWorkloadAPI(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	wl := authsectest.NewFakeWorkloadAPI(t)
	if err := wl.SetSPIFFEID("spiffe://example.org/agents/a"); err != nil {
		t.Fatal(err)
	}
	c, err := authsec.NewWorkloadAPIClient(wl.Endpoint)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	s, err := c.FetchJWTSVID(ctx, "https://api.example.test", "")
	if err != nil {
		t.Fatal(err)
	}
	v, err := authsec.NewJWTSVIDVerifier(ctx, authsec.JWTSVIDOptions{Audience: []string{"https://api.example.test"},
		TrustDomains: map[string]authsec.TrustDomainBundle{wl.TrustDomain: {Bundle: wl.JWTBundle()}}})
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	got, err := v.Verify(ctx, s.Token)
	if err != nil || got.SPIFFEID != wl.SPIFFEID() || got.KeyID != wl.JWTKeyID() || wl.Calls() == 0 {
		t.Fatalf("%+v %v", got, err)
	}
}
