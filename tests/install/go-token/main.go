// The Go module as a user installs it (tests/install/run.sh): starts the local authorization
// server (package authsectest, the testing library), gets a token with client credentials, and
// verifies it; then runs each verify-only program (their paths the arguments: the program as go
// build links it, and linked with --gc-sections) on the same token, against the same server.
package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	authsec "github.com/authsec/authsec/bindings-go"
	"github.com/authsec/authsec/bindings-go/authsectest"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: go-token <verify-only program>...")
		os.Exit(2)
	}
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "go-token:", err)
		os.Exit(1)
	}
}

func run(verifyOnly []string) error {
	srv, err := authsectest.Start(authsectest.Options{})
	if err != nil {
		return err
	}
	defer srv.Close()
	client, err := srv.Client(authsec.ClientConfig{Scopes: []string{"read:data"}})
	if err != nil {
		return err
	}
	defer client.Close()
	tok, err := client.Token(context.Background())
	if err != nil {
		return err
	}
	v, err := srv.Verifier(authsec.VerifierConfig{})
	if err != nil {
		return err
	}
	defer v.Close()
	claims, err := v.Verify(context.Background(), tok.AccessToken, authsec.RequireScopes("read:data"))
	if err != nil {
		return err
	}
	fmt.Printf("go: token for %s verified, scopes %v\n", claims.Subject(), claims.Scopes())
	want := "verified: sub=" + claims.Subject() + " scopes=[read:data]"
	for _, program := range verifyOnly {
		out, err := exec.Command(program, srv.Issuer, srv.Audience, srv.JWKSURI, tok.AccessToken).CombinedOutput()
		if err != nil {
			return fmt.Errorf("%s: %v: %s", program, err, out)
		}
		if got := strings.TrimSpace(string(out)); got != want {
			return fmt.Errorf("%s printed %q, want %q", program, got, want)
		}
		fmt.Printf("go: %s verified it too\n", filepath.Base(program))
	}
	return nil
}
