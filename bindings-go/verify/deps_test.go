package verify

import (
	"os/exec"
	"strings"
	"testing"
)

// Package verify is what a program that only verifies tokens imports instead of package authsec:
// it must not bring in the network stack, whose package inits alone add about 1.8 MB to every
// program (scripts/package.sh holds such a program to its 10 MB budget). The JWKS fetch is the
// core's.
func TestImportsNoNetworkStack(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	deps := strings.Fields(string(out))
	if len(deps) < 10 {
		t.Fatalf("go list -deps listed %d packages: %q", len(deps), out)
	}
	for _, p := range deps {
		if p == "net" || strings.HasPrefix(p, "net/") || p == "crypto/tls" || p == "crypto/x509" {
			t.Errorf("package verify depends on %s", p)
		}
	}
}
