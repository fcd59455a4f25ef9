package authsec

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// TestSPIRE runs against a real SPIRE server and agent (tests/spire). Skipped unless
// AUTHSEC_SPIRE_DIR is set; failing without it when AUTHSEC_REQUIRE_SPIRE=1. From the repository
// root, after bindings-go/build.sh:
//
//	AUTHSEC_REQUIRE_SPIRE=1 tests/spire/run.sh sh -c 'cd bindings-go && go test -count=1 -run TestSPIRE -v .'
func TestSPIRE(t *testing.T) {
	if os.Getenv("AUTHSEC_SPIRE_DIR") == "" {
		if os.Getenv("AUTHSEC_REQUIRE_SPIRE") == "1" {
			t.Fatal("AUTHSEC_REQUIRE_SPIRE=1 but AUTHSEC_SPIRE_DIR is not set: run under tests/spire/run.sh")
		}
		t.Skip("no SPIRE: run under tests/spire/run.sh")
	}
	id := os.Getenv("AUTHSEC_SPIRE_SPIFFE_ID")
	td := os.Getenv("AUTHSEC_SPIRE_TRUST_DOMAIN")
	wl := newWorkloadClient(t, "") // SPIFFE_ENDPOINT_SOCKET

	// Fetch and verify, on the agent's watched bundles and on the bundle file.
	aud := "https://api.example.test/" + randomSuffix()
	svid, err := wl.FetchJWTSVID(ctx(t), aud, "")
	if err != nil || svid.SPIFFEID != id {
		t.Fatalf("fetch: %v %v", svid, err)
	}
	watched := newSVIDVerifier(t, JWTSVIDOptions{Audience: []string{aud}, WorkloadAPI: WorkloadAPIFromEnv,
		AllowedIDs: []string{"spiffe://" + td + "/agents/*"}})
	got, err := watched.Verify(ctx(t), svid.Token)
	if err != nil || got.SPIFFEID != id || got.TrustDomain != td || got.Alg != "ES256" {
		t.Fatalf("verify on the Workload API's bundles: %+v %v", got, err)
	}
	fromFile := newSVIDVerifier(t, JWTSVIDOptions{Audience: []string{aud},
		TrustDomains: map[string]TrustDomainBundle{td: {BundleFile: os.Getenv("AUTHSEC_SPIRE_BUNDLE_FILE")}}})
	if _, err := fromFile.Verify(ctx(t), svid.Token); err != nil {
		t.Fatalf("verify on the bundle file: %v", err)
	}
	bundles, err := wl.FetchJWTBundles(ctx(t))
	if err != nil || len(bundles[td]) == 0 {
		t.Fatalf("bundles: %v %v", bundles, err)
	}
	x, err := wl.FetchX509SVID(ctx(t))
	if err != nil || x.SPIFFEID != id {
		t.Fatalf("X.509-SVID: %v %v", x, err)
	}
	if _, err := x.TLSCertificate(); err != nil {
		t.Fatal(err)
	}

	// A token with no secret from the local server, which trusts the harness's bundle file
	// (ctl.sh rewrites it on every key change; the server reads it again).
	cfg, _ := json.Marshal(map[string]any{
		"spiffe": map[string]any{"trust_domains": map[string]any{td: map[string]any{"bundle_file": os.Getenv("AUTHSEC_SPIRE_BUNDLE_FILE")}}},
		"clients": []map[string]any{{"client_id": "ml-agent", "spiffe_id": "spiffe://" + td + "/agents/*",
			"allowed_scopes": []string{"read:data"}, "audiences": []string{"https://api.example"}}},
	})
	s, err := StartLocalServer(string(cfg))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	api := newTestVerifier(t, s)
	token := func() error {
		c, err := NewClientCredentials(ClientConfig{TokenURL: s.TokenEndpoint, AuthMethod: "spiffe_jwt", SPIFFEAudience: s.Issuer,
			Scopes: []string{"read:data"}})
		if err != nil {
			return err
		}
		defer c.Close()
		tok, err := c.Token(ctx(t))
		if err != nil {
			return err
		}
		claims, err := api.Verify(ctx(t), tok.AccessToken, RequireScopes("read:data"))
		if err == nil && claims.ClientID() != "ml-agent" {
			err = fmt.Errorf("client_id %q", claims.ClientID())
		}
		return err
	}
	if err := token(); err != nil {
		t.Fatalf("secretless token: %v", err)
	}

	// Rotate: the agent signs with a new key; the same verifier accepts it without a restart.
	newKid := ctl(t, "rotate")
	aud2 := "https://api.example.test/" + randomSuffix() // a fresh audience: the agent caches per audience
	svid2, err := wl.FetchJWTSVID(ctx(t), aud2, "")
	if err != nil {
		t.Fatal(err)
	}
	rotated := newSVIDVerifier(t, JWTSVIDOptions{Audience: []string{aud2}, WorkloadAPI: WorkloadAPIFromEnv})
	deadline := time.Now().Add(20 * time.Second)
	for {
		got, err = rotated.Verify(ctx(t), svid2.Token)
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the rotated key (%s) never verified: %v", newKid, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if got.KeyID != newKid {
		t.Fatalf("kid %s, the rotation printed %s", got.KeyID, newKid)
	}
	// The old key is tainted, then revoked: tokens keep coming (the agent re-signs).
	ctl(t, "taint")
	ctl(t, "revoke")
	deadline = time.Now().Add(20 * time.Second)
	for {
		err := token()
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no token after the revocation: %v", err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// ctl runs tests/spire/ctl.sh and returns the last line it printed.
func ctl(t *testing.T, args ...string) string {
	t.Helper()
	c, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	out, err := exec.CommandContext(c, "../tests/spire/ctl.sh", args...).Output()
	if err != nil {
		t.Fatalf("ctl.sh %v: %v", args, err)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	return strings.TrimSpace(lines[len(lines)-1])
}

func randomSuffix() string { return time.Now().Format("150405.000000000") }
