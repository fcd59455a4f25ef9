// Package verify verifies JWT access tokens with the authsec core: signature, claims, delegation
// chains, the verified-token cache and scopes, against a JWKS the core fetches and caches. It also
// holds the error taxonomy (Code, Error, the Err* sentinels) and the test clock, which the rest of
// the binding shares.
//
// Package authsec offers all of it under its old names (authsec.NewVerifier is New,
// authsec.VerifierConfig is Config, authsec.Error is Error, ...) next to the client, the HTTP
// middleware, MCP and SPIFFE. Import this package instead when a program only verifies tokens: it
// imports neither net/http nor crypto/tls, so such a program links about 1.8 MB less (8.9 MB
// with -ldflags "-s -w" on linux/amd64).
//
//	v, err := verify.New(verify.Config{Issuer: issuer, Audience: []string{audience}, JWKSURI: jwksURI})
//	claims, err := v.Verify(ctx, token, verify.RequireScopes("read:data"))
//	errors.Is(err, verify.ErrTokenExpired)
//
// It links the C library: on linux/amd64 and linux/arm64 from the prebuilt module of its
// platform (prebuilt_linux_amd64.go), elsewhere from ../lib/<GOOS>_<GOARCH> (../build.sh).
package verify
