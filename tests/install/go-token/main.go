// The Go module as a user installs it (tests/install/run.sh): starts the local authorization
// server (package authsectest, the testing library), gets a token with client credentials, and
// verifies it; then runs the verify-only program (its path the first argument) on the same token,
// against the same server.
package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"

	authsec "github.com/authsec/authsec/bindings-go"
	"github.com/authsec/authsec/bindings-go/authsectest"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: go-token <verify-only program>")
		os.Exit(2)
	}
	if err := run(os.Args[1]); err != nil {
		fmt.Fprintln(os.Stderr, "go-token:", err)
		os.Exit(1)
	}
}

func run(verifyOnly string) error {
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
	out, err := exec.Command(verifyOnly, srv.Issuer, srv.Audience, srv.JWKSURI, tok.AccessToken).CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s: %v: %s", verifyOnly, err, out)
	}
	want := "verified: sub=" + claims.Subject() + " scopes=[read:data]"
	if got := strings.TrimSpace(string(out)); got != want {
		return fmt.Errorf("verify-only printed %q, want %q", got, want)
	}
	fmt.Println("go: the verify-only program verified it too")
	return nil
}
