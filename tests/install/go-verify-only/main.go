// A service that only verifies access tokens, as small as such a program gets: it imports package
// verify (no net/http, no crypto/tls), not the root package. scripts/package.sh builds it against
// the packaged Go module (-ldflags "-s -w") and holds its size to the budget, and
// tests/install/run.sh runs it on a token from the local server.
//
//	verify-only <issuer> <audience> <jwks_uri> <token>   prints the token's subject and scopes
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/authsec/authsec/bindings-go/verify"
)

func main() {
	if len(os.Args) != 5 {
		fmt.Fprintln(os.Stderr, "usage: verify-only <issuer> <audience> <jwks_uri> <token>")
		os.Exit(2)
	}
	v, err := verify.New(verify.Config{
		Issuer: os.Args[1], Audience: []string{os.Args[2]}, JWKSURI: os.Args[3], AllowInsecureHTTP: true,
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	defer v.Close()
	claims, err := v.Verify(context.Background(), os.Args[4])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Printf("verified: sub=%s scopes=%v\n", claims.Subject(), claims.Scopes())
}
